"""Which patient an imported series is filed under, and what a user must know about it.

A series is filed into a study by its (0020,000D) *Study Instance UID*, under the
patient named by the (0010,0020) *Patient ID* of its files: the first file that has
one, so that one file without it does not send the whole series to the placeholder
patient. The rules, as a PACS keeps patients apart (dcm4chee's "patient mismatch",
OsiriX filing a study by Study Instance UID *and* patient):

- a series whose Patient ID differs from that of the stored study with its Study
  Instance UID (a different patient, or the placeholder of files without one) is not
  imported: :func:`patient_conflict` says why, naming the file, both Patient IDs and
  the Study Instance UID — images of one patient are never shown in another's study;
- a series without any Patient ID joins the stored study of its Study Instance UID,
  and its warning names that study's patient (:func:`identity_warnings`);
- files of one series that disagree on the Patient ID, or of which only some have
  one, are filed under the first ID found, with a warning naming the IDs.

A stored study with no series and no link to a case or time point (its series were
removed) holds no images: it is given to the patient of the next series filed in it
(:func:`adoptable`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tace_planner.domain.person_name import readable_person_name
from tace_planner.imaging.dicom.scan import InstanceHeader
from tace_planner.services.dto import NO_PATIENT_ID
from tace_planner.store import repositories
from tace_planner.store.models import PatientRow, StudyRow

_CHECK = "check whose images these are before contouring or planning"


def filing_header(headers: Sequence[InstanceHeader]) -> InstanceHeader:
    """The file whose patient a series is filed under: the first with a Patient ID."""
    return next((h for h in headers if h.patient_id.strip()), headers[0])


def has_patient_id(headers: Sequence[InstanceHeader]) -> bool:
    """Whether any file of the series has a (0010,0020) *Patient ID*."""
    return any(h.patient_id.strip() for h in headers)


def _patient_label(patient: PatientRow) -> str:
    if patient.patient_id in ("", NO_PATIENT_ID):
        return "the placeholder patient of files without a Patient ID"
    name = readable_person_name(patient.name) or "(no name)"
    issuer = f" (issuer {patient.issuer})" if patient.issuer else ""
    return f"{name} · Patient ID {patient.patient_id}{issuer}"


def _mixed_warnings(headers: Sequence[InstanceHeader]) -> list[str]:
    """Warnings for a series whose files disagree on, or partly lack, the Patient ID."""
    by_id: dict[str, list[InstanceHeader]] = {}
    for header in headers:
        if header.patient_id.strip():
            by_id.setdefault(header.patient_id.strip(), []).append(header)
    chosen = filing_header(headers)
    warnings = []
    if len(by_id) > 1:
        listed = "; ".join(
            f"{pid!r} in {len(files)} file(s), e.g. {files[0].path.name}"
            for pid, files in by_id.items()
        )
        warnings.append(
            f"files of this series carry different Patient IDs (0010,0020): {listed}; "
            f"filed under Patient ID {chosen.patient_id.strip()!r} of {chosen.path.name}, "
            f"the first found; {_CHECK}"
        )
    missing = [h for h in headers if not h.patient_id.strip()]
    if missing:
        warnings.append(
            f"{len(missing)} of {len(headers)} files of this series have no Patient ID "
            f"(0010,0020), e.g. {missing[0].path.name}; filed under Patient ID "
            f"{chosen.patient_id.strip()!r} of {chosen.path.name}; {_CHECK}"
        )
    return warnings


def identity_warnings(
    headers: Sequence[InstanceHeader], filed_with: PatientRow | None = None
) -> list[str]:
    """What is missing from a series' identifiers that a user must know before planning.

    ``filed_with`` is the patient of the study the series is stored in: a series without
    a Patient ID whose Study Instance UID is that of a study already stored under a real
    patient joins that study, and the warning says so (naming the patient) rather than
    that it was filed under the placeholder. A series of which only some files have a
    Patient ID, or whose files disagree on it, is warned of too (naming the IDs).
    """
    if has_patient_id(headers):
        return _mixed_warnings(headers)
    if filed_with is not None and filed_with.patient_id not in ("", NO_PATIENT_ID):
        name = readable_person_name(filed_with.name) or "(no name)"
        return [
            f"no Patient ID (0010,0020): joined the study of {name} · Patient ID "
            f"{filed_with.patient_id}, stored with the same Study Instance UID "
            f"(0020,000D); check that these images are this patient's before contouring "
            "or planning"
        ]
    return [
        f"no Patient ID (0010,0020): filed under the placeholder patient {NO_PATIENT_ID!r}, "
        f"shared by every file imported without one; {_CHECK}"
    ]


def adoptable(study: StudyRow) -> bool:
    """Whether a stored study holds nothing a patient owns (no series, case or time point)."""
    return not study.series and study.case_pk is None and study.timepoint_pk is None


def patient_conflict(session: Session, headers: Sequence[InstanceHeader]) -> str | None:
    """Why a series must not be filed where its UIDs point, or None when it may.

    The series is refused when it has a Patient ID and the stored series with its
    Series Instance UID, or else the stored study with its Study Instance UID, belongs
    to another patient (or to the placeholder of files without a Patient ID).
    """
    own = filing_header(headers)
    patient_id = own.patient_id.strip()
    if not patient_id:
        return None
    series = repositories.find_series(session, own.series_uid)
    study = series.study if series is not None else repositories.find_study(session, own.study_uid)
    if study is None or (series is None and adoptable(study)):
        return None
    stored = study.patient
    if stored.patient_id == patient_id and (stored.issuer or "") == own.issuer:
        return None
    issuer = f" (issuer {own.issuer})" if own.issuer else ""
    what = "series" if series is not None else "study"
    uid = (
        f"Series Instance UID (0020,000E) {own.series_uid}"
        if series is not None
        else f"Study Instance UID (0020,000D) {own.study_uid}"
    )
    return (
        f"Patient ID {patient_id}{issuer} of this series differs from the stored {what} with "
        f"the same {uid}, which belongs to {_patient_label(stored)}; the {len(headers)} "
        "file(s) of this series were not imported, so that one patient's images are not "
        "shown in another's study — check the files' Patient ID (0010,0020) at their source"
        + (
            " (if these images are that study's, remove its series without a Patient ID "
            "and import again)"
            if stored.patient_id == NO_PATIENT_ID
            else ""
        )
    )


def filed_identity_warnings(session: Session, headers: Sequence[InstanceHeader]) -> list[str]:
    """:func:`identity_warnings` of a series as it is stored (none when it was not stored)."""
    row = repositories.find_series(session, headers[0].series_uid)
    return [] if row is None else identity_warnings(headers, row.study.patient)
