"""What one import did, as the import dialog and ``tace-planner import`` report it.

The series an import touched are grouped by patient and study
(:class:`ImportedStudy`), so a CD holding several people reads as such; a DICOMDIR
whose listed files were read is said as such (:attr:`ImportReport.dicomdirs`),
not only among the files skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tace_planner.domain.person_name import readable_person_name
from tace_planner.imaging.dicom.scan_result import DicomdirUse, FileError
from tace_planner.services.dto import NO_PATIENT_ID, SeriesItem
from tace_planner.store import repositories
from tace_planner.store.models import SeriesRow


@dataclass(frozen=True, slots=True)
class ImportedStudy:
    """One study an import touched, with its patient as stored (the database's record)."""

    study_uid: str
    study_on: dt.date | None
    description: str
    patient_name: str
    """(0010,0010) *Patient's Name* as stored (DICOM PN, "^" separated)."""
    patient_id: str
    """(0010,0020) *Patient ID*, or the placeholder of files that have none."""
    series_uids: tuple[str, ...] = ()

    @property
    def patient_label(self) -> str:
        """ "DOE, Peter · Patient ID 98890234", saying so when the name or ID is missing."""
        name = readable_person_name(self.patient_name) or "(no name)"
        if self.patient_id == NO_PATIENT_ID or not self.patient_id:
            return f"{name} · no Patient ID"
        return f"{name} · Patient ID {self.patient_id}"

    @property
    def study_label(self) -> str:
        """ "2003-05-05 · Brain", saying so when the date or description is missing."""
        date = self.study_on.isoformat() if self.study_on else "no study date"
        return f"{date} · {self.description.strip() or '(no study description)'}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one import did: series touched, files added, files refused and why."""

    series: tuple[SeriesItem, ...]
    new_instances: int
    known_instances: int
    errors: tuple[FileError, ...] = ()
    skipped: tuple[FileError, ...] = ()
    """Files not imported on purpose, with why; a DICOMDIR that was read is among them
    (its note says how many files it lists): see ``dicomdirs`` and ``skipped_files``."""
    new_series_uids: tuple[str, ...] = field(default_factory=tuple)
    remapped: tuple[FileError, ...] = ()
    """Files whose UIDs were not valid DICOM UIDs and were replaced (each with the reason)."""
    warnings: tuple[FileError, ...] = ()
    """Series imported with a problem the user must know of (no Patient ID), one per series."""
    studies: tuple[ImportedStudy, ...] = ()
    """The studies of ``series``, each with its patient, ordered by patient, then date."""
    dicomdirs: tuple[DicomdirUse, ...] = ()
    """The DICOMDIRs (CD indexes) whose listed files were read."""

    @property
    def failed_files(self) -> int:
        """How many files failed: a series refused as a whole counts each of its files."""
        return sum(entry.files for entry in self.errors)

    @property
    def skipped_files(self) -> tuple[FileError, ...]:
        """``skipped`` without the DICOMDIRs that were read (those were used, not skipped)."""
        used = {use.path for use in self.dicomdirs}
        return tuple(entry for entry in self.skipped if entry.path not in used)

    def series_of(self, study: ImportedStudy) -> list[SeriesItem]:
        """The series of ``study`` in this import, by series number."""
        wanted = set(study.series_uids)
        found = [item for item in self.series if item.series_uid in wanted]
        return sorted(found, key=lambda s: (s.series_number is None, s.series_number or 0))


def imported_studies(session: Session, series_uids: Sequence[str]) -> tuple[ImportedStudy, ...]:
    """The studies (with their patients) of these stored series, ordered by patient, date."""
    if not series_uids:
        return ()
    grouped: dict[str, list[str]] = {}
    studies = {}
    for start in range(0, len(series_uids), repositories.IN_CLAUSE_CHUNK):
        chunk = list(series_uids[start : start + repositories.IN_CLAUSE_CHUNK])
        for row in session.scalars(select(SeriesRow).where(SeriesRow.series_uid.in_(chunk))):
            studies[row.study.study_uid] = row.study
            grouped.setdefault(row.study.study_uid, []).append(row.series_uid)
    found = [
        ImportedStudy(
            study_uid=uid,
            study_on=study.study_on,
            description=study.description or "",
            patient_name=study.patient.name or "",
            patient_id=study.patient.patient_id,
            series_uids=tuple(grouped[uid]),
        )
        for uid, study in studies.items()
    ]
    found.sort(key=lambda s: (s.patient_label, s.study_on or dt.date.min, s.description))
    return tuple(found)
