"""Queries on patients and the imaging index; they return ORM rows to services only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tace_planner.domain.errors import ConcurrentEditError
from tace_planner.store.models import InstanceRow, PatientRow, SeriesRow, StudyRow

IN_CLAUSE_CHUNK = 500
"""Most values bound in one ``IN (…)``; below every SQLite build's variable limit."""


def get_or_create_patient(
    session: Session, patient_id: str, issuer: str, **fields: Any
) -> tuple[PatientRow, bool]:
    """Return the patient with this DICOM identity, creating it if needed.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    patient_id : str
        (0010,0020) *Patient ID*.
    issuer : str
        (0010,0021) *Issuer of Patient ID*; ``""`` when absent.
    **fields
        Other :class:`PatientRow` columns (``name``, ``birth_on``, ``sex``), used only
        when the patient is created; an existing patient is returned unchanged.

    Returns
    -------
    tuple of (PatientRow, bool)
        The row (flushed, so it has its ``id``) and True if it was created.

    Raises
    ------
    ConcurrentEditError
        If another workstation created the same patient at the same moment; the unit
        of work must be rolled back and the action repeated.
    """
    existing = session.scalar(
        select(PatientRow).where(PatientRow.patient_id == patient_id, PatientRow.issuer == issuer)
    )
    if existing is not None:
        return existing, False
    patient = PatientRow(patient_id=patient_id, issuer=issuer, **fields)
    session.add(patient)
    try:
        session.flush()
    except IntegrityError as exc:
        if not _is_unique_violation(exc):
            raise
        raise ConcurrentEditError(
            f"patient {patient_id!r} (issuer {issuer!r}) was just created on another "
            "workstation — try again"
        ) from exc
    return patient, True


def _is_unique_violation(exc: IntegrityError) -> bool:
    """Tell a duplicate key (SQLite or PostgreSQL) from other integrity errors."""
    orig = exc.orig
    if getattr(orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE":
        return True
    return "23505" in (getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None))


def find_study(session: Session, study_uid: str) -> StudyRow | None:
    """Return the study with this (0020,000D) *Study Instance UID*, or None."""
    return session.scalar(select(StudyRow).where(StudyRow.study_uid == study_uid))


def find_series(session: Session, series_uid: str) -> SeriesRow | None:
    """Return the series with this (0020,000E) *Series Instance UID*, or None."""
    return session.scalar(select(SeriesRow).where(SeriesRow.series_uid == series_uid))


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_sop_uids(session: Session, uids: Iterable[str]) -> set[str]:
    """Return which of these (0008,0018) *SOP Instance UIDs* are already stored.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    uids : iterable of str
        Any number of UIDs; duplicates are fine. Queried in chunks of
        :data:`IN_CLAUSE_CHUNK`.

    Returns
    -------
    set of str
        The subset of ``uids`` that has an :class:`InstanceRow`.
    """
    unique = list(dict.fromkeys(uids))
    found: set[str] = set()
    for chunk in _chunks(unique, IN_CLAUSE_CHUNK):
        found.update(
            session.scalars(
                select(InstanceRow.sop_instance_uid).where(InstanceRow.sop_instance_uid.in_(chunk))
            )
        )
    return found


def list_patients_with_cases(session: Session) -> list[PatientRow]:
    """Return every patient, with ``cases`` loaded, ordered by name then Patient ID.

    Patients without a case are included (a study may be imported before a case is
    opened). The cases are loaded eagerly so that they can be read after the session
    closes.

    Parameters
    ----------
    session : sqlalchemy.orm.Session

    Returns
    -------
    list of PatientRow
    """
    statement = (
        select(PatientRow)
        .options(selectinload(PatientRow.cases))
        .order_by(PatientRow.name, PatientRow.patient_id, PatientRow.issuer)
    )
    return list(session.scalars(statement))
