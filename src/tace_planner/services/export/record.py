"""A gathered case record as plain values (no database): :class:`CaseRecord`, the days
from its first TACE, and its de-identified copy. :mod:`.records` fills it from the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from tace_planner.domain.vocabulary import STANDARD_LESION_NAME

Row = dict[str, Any]

RESPONSE_WORDS = ("CR", "PR", "SD", "PD", "NE", "non-CR/non-PD")
"""A therapy line's best response kept in a de-identified export (any other text is not)."""


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
    lesion_codes: tuple[tuple[str, str], ...] = ()
    """De-identified only: (name as entered, code shown) for each lesion whose name was free
    text, for the key images drawn from the store; never written to an export."""


def day_of(record: CaseRecord, on: dt.date | None) -> int | None:
    """Days from the record's anchor (first TACE) to ``on``; None when either is unknown."""
    if on is None or record.anchor_on is None:
        return None
    return (on - record.anchor_on).days


def deidentified(record: CaseRecord, pseudonym: str) -> CaseRecord:
    """The record without names, IDs, birth date or free text: ``record_id`` = ``pseudonym``.

    Dates stay in the values (writers turn them into days from the first TACE and never
    print them when ``deidentified`` is set); a timepoint's label (which may hold a study
    date, e.g. an unscheduled one) becomes its visit name: baseline, follow-up k. Free
    text typed by users may name people or dates, and no rule can tell that it does not
    (HIPAA Safe Harbor asks for it to be removed): a lesion named other than F1, F2 … or
    Liver becomes L1, L2 … (in order of its name); the primary site and a therapy line's
    drug are left out; a best response is kept only as one of :data:`RESPONSE_WORDS`; a
    time to progression starts at "therapy line k", not at its drug.
    """
    free = sorted(
        {r["lesion"] for r in record.lesions if not STANDARD_LESION_NAME.fullmatch(r["lesion"])}
    )
    codes = {name: f"L{k}" for k, name in enumerate(free, start=1)}
    case = {**record.case, "primary_site": None}
    return replace(
        record,
        record_id=pseudonym,
        patient_id="",
        patient_name="",
        birth_on=None,
        case=case,
        lesions=[
            {**r, "timepoint": r["visit"], "lesion": codes.get(r["lesion"], r["lesion"])}
            for r in record.lesions
        ],
        therapy_lines=[
            {**r, "drug": None, "best_response": _response_word(r.get("best_response"))}
            for r in record.therapy_lines
        ],
        ttp=[{**r, "start": str(r["start"]).split(" (", 1)[0]} for r in record.ttp],
        deidentified=True,
        lesion_codes=tuple(codes.items()),
    )


def _response_word(text: str | None) -> str | None:
    """``text`` as one of :data:`RESPONSE_WORDS` (case and spaces ignored), else None."""
    if not text:
        return None
    wanted = text.strip().replace(" ", "").casefold()
    return next((w for w in RESPONSE_WORDS if w.replace(" ", "").casefold() == wanted), None)
