"""Hand a study filed under the placeholder patient to the patient whose images it holds.

Series imported without a (0010,0020) *Patient ID* are filed under the placeholder
patient :data:`~tace_planner.services.dto.NO_PATIENT_ID` (see
:mod:`tace_planner.services.import_identity`). Once a user knows whose images they
are, :meth:`StudyReassignService.reassign` moves the study — its series, their image
records, contours and measurements, which all hang on the study — to a named patient
already stored, or to a new patient given a Patient ID and a name, in one audited
transaction.

Only a placeholder study is handed over: moving a study between two named patients
corrects a wrong-patient filing, a riskier action (the images may already have been
measured and planned under the wrong person) that this service refuses.

Files on disk are not moved: the image store is keyed by Study and Series Instance
UIDs (``<study hash>/<series hash>/<SOP Instance UID>.dcm``,
:class:`~tace_planner.services.image_store.ImageStore`), not by patient, so the stored
paths stay valid. The files themselves keep their empty Patient ID; the series'
identity warning says that the study was assigned by hand.

When the placeholder patient's last study is handed over and no case is its, the
placeholder itself is removed in the same transaction (audited): only studies and cases
refer to a patient row, and the next import without a Patient ID files a new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.person_name import readable_person_name
from tace_planner.services.cases import CaseService
from tace_planner.services.dto import (
    NO_PATIENT_ID,
    PLACEHOLDER_PATIENT_WORDS,
    PatientItem,
    PatientNameMismatchError,
    patient_list_label,
)
from tace_planner.store import repositories
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    CaseRow,
    InstanceRow,
    PatientRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)
from tace_planner.store.unit_of_work import UnitOfWork

MAX_PATIENT_ID_CHARACTERS = 64
"""(0010,0020) *Patient ID* is a DICOM LO value: at most 64 characters (PS3.5 §6.2)."""
MAX_PATIENT_NAME_CHARACTERS = 64
"""One component group of a DICOM PN value: at most 64 characters (PS3.5 §6.2)."""
_PLACEHOLDER_IDS = ("", NO_PATIENT_ID)


@dataclass(frozen=True, slots=True)
class StudyReassigned:
    """A study handed from the placeholder patient to a named patient."""

    study_uid: str
    study_description: str
    series_count: int
    image_count: int
    from_patient_id: str
    to_patient_pk: int
    to_patient_id: str
    to_patient_name: str
    created_patient: bool
    case_title: str
    """The case the study is linked to ("" when none); it is the new patient's."""
    series_warnings: dict[str, tuple[str, ...]]
    """Series Instance UID → its identity warnings as stored now."""
    placeholder_removed: bool = False
    """Whether the placeholder patient, left with no study and no case, was removed."""
    to_patient_issuer: str = ""
    """The new patient's (0010,0021) *Issuer of Patient ID* ("" when none is stored)."""

    @property
    def patient_label(self) -> str:
        """The patient as the case list shows it: "DOE, Jane [TACE-017]"."""
        return patient_list_label(self.to_patient_name, self.to_patient_id, self.to_patient_issuer)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        data = asdict(self)
        data["series_warnings"] = {uid: list(w) for uid, w in self.series_warnings.items()}
        return data


def _label(patient: PatientRow) -> str:
    """The patient as the case list writes it, or the placeholder named in words."""
    if is_placeholder(patient):
        return PLACEHOLDER_PATIENT_WORDS
    return patient_list_label(patient.name, patient.patient_id, patient.issuer)


def is_placeholder(patient: PatientRow) -> bool:
    """Whether a patient is the placeholder of files imported without a Patient ID."""
    return patient.patient_id in _PLACEHOLDER_IDS


def _checked_id(patient_id: str) -> str:
    text = patient_id.strip()
    if not text:
        raise InvalidInputError("Patient ID", "enter the patient's Patient ID")
    if text in _PLACEHOLDER_IDS:
        raise InvalidInputError(
            "Patient ID", f"{text!r} is the placeholder of files without a Patient ID"
        )
    if len(text) > MAX_PATIENT_ID_CHARACTERS:
        raise InvalidInputError(
            "Patient ID", f"at most {MAX_PATIENT_ID_CHARACTERS} characters (it has {len(text)})"
        )
    if "\\" in text or any(ord(c) < 32 for c in text):
        raise InvalidInputError("Patient ID", "must not contain a backslash or control character")
    return text


def _checked_name(name: str) -> str:
    text = name.strip()
    if len(text) > MAX_PATIENT_NAME_CHARACTERS:
        raise InvalidInputError(
            "Patient name",
            f"at most {MAX_PATIENT_NAME_CHARACTERS} characters (it has {len(text)})",
        )
    if "\\" in text or "=" in text or any(ord(c) < 32 for c in text):
        raise InvalidInputError(
            "Patient name", "must not contain a backslash, '=' or a control character"
        )
    return text


def _same_name(typed: str, stored: str) -> bool:
    return readable_person_name(typed).casefold() == readable_person_name(stored).casefold()


class StudyReassignService:
    """Hands placeholder studies to named patients (audited).

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions; each hand-over is one unit of work.
    user : str
        Written into audit events.
    """

    def __init__(self, session_factory: sessionmaker[Session], user: str) -> None:
        self._sessions = session_factory
        self._user = user

    def placeholder_patient_pk(self) -> int | None:
        """The key of the placeholder patient, or None when no file lacked a Patient ID."""
        with self._sessions() as session:
            return session.scalar(
                select(PatientRow.id).where(PatientRow.patient_id.in_(_PLACEHOLDER_IDS)).limit(1)
            )

    def accession_number(self, study_uid: str) -> str:
        """The study's (0008,0050) *Accession Number* ("" when none, or no such study)."""
        with self._sessions() as session:
            study = repositories.find_study(session, study_uid.strip())
            return study.accession_number.strip() if study is not None else ""

    def named_patients(self) -> list[PatientItem]:
        """Every patient a study can be handed to (not the placeholder), by name."""
        patients = CaseService(self._sessions, self._user).list_patients()
        return [p for p in patients if p.patient_id not in _PLACEHOLDER_IDS]

    def reassign(
        self,
        study_uid: str,
        *,
        patient_pk: int | None = None,
        patient_id: str = "",
        patient_name: str = "",
    ) -> StudyReassigned:
        """Move a placeholder study to a stored patient (``patient_pk`` or ``patient_id``),
        or to a new patient (``patient_id`` not stored yet, with ``patient_name``).

        A name given with the Patient ID of a stored patient must be that patient's
        name, so that a mistyped ID does not hand the images to someone else.

        Raises
        ------
        NotFoundError
            No such study, or no patient with ``patient_pk``.
        InvalidInputError
            The study is already that patient's; it is not the placeholder patient's;
            it (or a contour on it) is linked to a case of another patient; the target
            patient already has a study with its Study Instance UID; the Patient ID is
            empty or ambiguous, the name missing for a new patient or not the stored
            patient's. Nothing is changed.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            study = repositories.find_study(session, study_uid.strip())
            if study is None:
                raise NotFoundError(f"study {study_uid} is not in the database")
            target, created = self._target(uow, patient_pk, patient_id, patient_name)
            source = study.patient
            _refuse(session, study, source, target)
            case_title = _case_title(session, study)
            before = {
                "study_uid": study.study_uid,
                "patient_pk": source.id,
                "patient_id": source.patient_id,
                "patient_name": source.name,
            }
            study.patient = target
            warnings = self._note_assignment(study, target)
            instances = session.scalar(
                select(func.count())
                .select_from(InstanceRow)
                .join(SeriesRow)
                .where(SeriesRow.study_pk == study.id)
            )
            uow.audit(
                action="reassign_study",
                entity="study",
                entity_pk=study.id,
                before=before,
                after={
                    "study_uid": study.study_uid,
                    "patient_pk": target.id,
                    "patient_id": target.patient_id,
                    "patient_name": target.name,
                    "created_patient": created,
                    "series": len(study.series),
                    "images": int(instances or 0),
                },
                summary=(
                    f"study {study.description or study.study_uid!r} (Study Instance UID "
                    f"{study.study_uid}) handed from the placeholder patient "
                    f"{source.patient_id!r} to {_label(target)}"
                ),
            )
            removed = _remove_if_empty_placeholder(uow, source, study)
            uow.commit()
            return StudyReassigned(
                study_uid=study.study_uid,
                study_description=study.description,
                series_count=len(study.series),
                image_count=int(instances or 0),
                from_patient_id=source.patient_id,
                to_patient_pk=target.id,
                to_patient_id=target.patient_id,
                to_patient_name=target.name,
                created_patient=created,
                case_title=case_title,
                series_warnings=warnings,
                placeholder_removed=removed,
                to_patient_issuer=target.issuer or "",
            )

    def _target(
        self, uow: UnitOfWork, patient_pk: int | None, patient_id: str, patient_name: str
    ) -> tuple[PatientRow, bool]:
        """The patient to hand the study to, created (and audited) when new."""
        session = uow.session
        name = _checked_name(patient_name)
        if patient_pk is not None:
            found = session.get(PatientRow, patient_pk)
            if found is None:
                raise NotFoundError("the chosen patient is no longer in the database")
            return found, False
        wanted = _checked_id(patient_id)
        matches = session.scalars(
            select(PatientRow).where(PatientRow.patient_id == wanted).order_by(PatientRow.id)
        ).all()
        if len(matches) > 1:
            issuers = ", ".join(repr(m.issuer) for m in matches)
            raise InvalidInputError(
                "Patient ID",
                f"{wanted!r} is stored for {len(matches)} patients of different issuers "
                f"({issuers}); choose the patient from the list instead",
            )
        if matches:
            found = matches[0]
            if name and not _same_name(name, found.name):
                raise PatientNameMismatchError(
                    wanted, _label(found), readable_person_name(name) or name
                )
            return found, False
        if not name:
            raise InvalidInputError(
                "Patient name", f"no patient has Patient ID {wanted}; enter a name to create one"
            )
        patient, created = repositories.get_or_create_patient(session, wanted, "", name=name)
        if created:
            uow.audit(
                action="create_patient",
                entity="patient",
                entity_pk=patient,
                before=None,
                after=row_snapshot(patient),
                summary=f"created patient {_label(patient)} to receive a study",
            )
        return patient, created

    def _note_assignment(self, study: StudyRow, target: PatientRow) -> dict[str, tuple[str, ...]]:
        """Replace the series' "filed under the placeholder" warning with who assigned it."""
        day = dt.datetime.now(dt.UTC).date().isoformat()
        note = (
            f"no Patient ID (0010,0020) in the files: assigned by hand to "
            f"{_label(target)} ({self._user}, {day}); the files "
            "keep no Patient ID — check that these images are this patient's before "
            "contouring or planning"
        )
        warnings: dict[str, tuple[str, ...]] = {}
        for series in study.series:
            report = dict(series.geometry_report or {})
            old = list(report.get("identity_warnings", ()))
            kept = [w for w in old if NO_PATIENT_ID not in w and "placeholder" not in w]
            if len(kept) != len(old) or not old:
                report["identity_warnings"] = [*kept, note]
                series.geometry_report = report
            warnings[series.series_uid] = tuple(report.get("identity_warnings", ()))
        return warnings


def _refuse(session: Session, study: StudyRow, source: PatientRow, target: PatientRow) -> None:
    """Raise when the study must not be handed from ``source`` to ``target``."""
    name = f"Study {study.description or study.study_uid!r}"
    if source.id == target.id:
        raise InvalidInputError(name, f"is already filed under {_label(target)}")
    if not is_placeholder(source):
        raise InvalidInputError(
            name,
            f"belongs to {_label(source)}, not to the placeholder "
            "patient of files without a Patient ID; only such studies can be handed to a "
            "patient — moving a study between two named patients is a wrong-patient "
            "correction that this action does not make",
        )
    for case in _linked_cases(session, study):
        if case.patient_pk != target.id:
            owner = case.patient
            raise InvalidInputError(
                name,
                f"is linked to the case {case.title!r} of {_label(owner)}; "
                "unlink it from that case (or remove its contours there) first",
            )
    clash = session.scalar(
        select(StudyRow.id).where(
            StudyRow.patient_pk == target.id,
            StudyRow.study_uid == study.study_uid,
            StudyRow.id != study.id,
        )
    )
    if clash is not None:
        raise InvalidInputError(
            name,
            f"{_label(target)} already has a study with Study Instance UID {study.study_uid}",
        )


def _remove_if_empty_placeholder(uow: UnitOfWork, source: PatientRow, study: StudyRow) -> bool:
    """Remove (audited) the placeholder patient ``study`` was handed from when it is left
    with no study and no case — the only rows that refer to a patient; whether removed."""
    session = uow.session
    session.flush()
    left = [
        session.scalar(select(func.count()).select_from(row).where(row.patient_pk == source.id))
        for row in (StudyRow, CaseRow)
    ]
    if not is_placeholder(source) or any(left):
        return False
    before = row_snapshot(source)
    uow.audit(
        action="delete_patient",
        entity="patient",
        entity_pk=source.id,
        before=before,
        after=None,
        summary=(
            f"placeholder patient {source.patient_id!r} of files without a Patient ID removed: "
            f"its last study ({study.description or study.study_uid!r}) was handed to "
            f"{_label(study.patient)}"
        ),
    )
    session.delete(source)
    return True


def _linked_cases(session: Session, study: StudyRow) -> list[CaseRow]:
    """The cases the study is linked to, directly or by contours drawn on its series."""
    keys: set[int] = {study.case_pk} if study.case_pk is not None else set()
    keys.update(
        session.scalars(
            select(TimepointRow.case_pk)
            .join(SegmentationRow, SegmentationRow.timepoint_pk == TimepointRow.id)
            .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
            .where(SeriesRow.study_pk == study.id)
        )
    )
    return [case for key in sorted(keys) if (case := session.get(CaseRow, key)) is not None]


def _case_title(session: Session, study: StudyRow) -> str:
    case = session.get(CaseRow, study.case_pk) if study.case_pk is not None else None
    return case.title if case is not None else ""
