"""A gathered case record as plain values (no database): :class:`CaseRecord`, the days
from its first TACE, and its de-identified copy. :mod:`.records` fills it from the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class CaseRecord:
    """One case's values, one list of rows per level (dates as ``datetime.date``).

    ``record_id`` is what identifies the patient in the export: the Patient ID, or a
    pseudonym once de-identified. ``anchor_on`` is the first TACE (or, without one, the
    planned TACE, else the baseline imaging date): every ``*_day`` value counts from it.
    """

    record_id: str
    case_pk: int
    patient_id: str
    patient_name: str
    birth_on: dt.date | None
    anchor_on: dt.date | None
    anchor: str
    case: Row
    lesions: list[Row]
    procedures: list[Row]
    therapy_lines: list[Row]
    ttp: list[Row]
    study_uids: tuple[str, ...] = ()
    deidentified: bool = False


def day_of(record: CaseRecord, on: dt.date | None) -> int | None:
    """Days from the record's anchor (first TACE) to ``on``; None when either is unknown."""
    if on is None or record.anchor_on is None:
        return None
    return (on - record.anchor_on).days


def deidentified(record: CaseRecord, pseudonym: str) -> CaseRecord:
    """The record without names, IDs, birth date or free text: ``record_id`` = ``pseudonym``.

    Dates stay in the values (writers turn them into days from the first TACE and never
    print them when ``deidentified`` is set); a timepoint's label (which may hold a study
    date, e.g. an unscheduled one) becomes its visit name: baseline, follow-up k.
    """
    case = dict(record.case)
    return replace(
        record,
        record_id=pseudonym,
        patient_id="",
        patient_name="",
        birth_on=None,
        case=case,
        lesions=[{**r, "timepoint": r["visit"]} for r in record.lesions],
        deidentified=True,
    )
