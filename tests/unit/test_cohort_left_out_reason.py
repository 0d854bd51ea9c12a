"""A patient left out of the cohort Kaplan–Meier is named with the reason its row carries.

The registry's rows (:func:`cohort_row`) say why the first TACE course has no TTP, in the
words of :mod:`tace_planner.domain.ttp`; the cohort tables use a row's reason whatever the
data's source is called, and fall back to "the cells are empty" for a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

from tace_planner.domain.schedule import TaceDate
from tace_planner.domain.ttp import NOT_EVALUABLE, case_ttp
from tace_planner.services.cohort import cohort_tables
from tace_planner.services.cohort_csv import (
    DERIVED_COLUMNS,
    REQUIRED_COLUMNS,
    TTP_MISSING_REASON,
    CohortData,
    CohortRow,
)
from tace_planner.services.export.cohort_registry import TREATMENT_COLUMNS, cohort_row
from tace_planner.services.export.record import CaseRecord

FIRST_TACE = dt.date(2026, 1, 5)


def _tace_rows(days: int | None, event: bool, note: str) -> list[dict[str, Any]]:
    return [
        {"after": "tace", "start": "TACE 1", "scope": scope, "start_on": FIRST_TACE,
         "days": days, "event": None if days is None else int(event), "note": note}
        for scope in ("anywhere", "liver")
    ]  # fmt: skip


def _record(pk: int, ttp: list[dict[str, Any]], days: float | None = None) -> CaseRecord:
    signed = [{"delivered_mg": 100.0, "ae_max_ctcae_grade": None}] if ttp else []
    case = {
        "first_tace_on": FIRST_TACE if ttp else None,
        "metastases_timing": "synchronous",
        "tace_sequence": "immediate",
        "primary_site": "small_intestine",
        "grade": "G2",
        "ttp_after_tace_days": days,
        "progression_event": None if days is None else 1,
    }
    return CaseRecord(
        record_id=f"P{pk}", case_pk=pk, patient_id=f"P{pk}", patient_name="", birth_on=None,
        anchor_on=case["first_tace_on"], anchor="first TACE", case=case, lesions=[],
        procedures=signed, therapy_lines=[], ttp=ttp,
    )  # fmt: skip


def _data(source: str, rows: list[dict[str, Any]]) -> CohortData:
    columns = (*REQUIRED_COLUMNS, *DERIVED_COLUMNS, *TREATMENT_COLUMNS)
    return CohortData(
        source,
        columns,
        tuple(CohortRow(n, MappingProxyType(v)) for n, v in enumerate(rows, start=2)),
        (),
    )


def _domain_reason() -> str:
    """What :func:`case_ttp` says of a TACE without any assessed follow-up."""
    report = case_ttp(
        taces=[TaceDate(1, FIRST_TACE)], lines=[], assessments=[], end=None,
        today=dt.date(2026, 6, 1), course_gap_days=60,
    )  # fmt: skip
    first = report.after_tace[0]
    assert first.days is None
    return first.explanation.result


def test_a_registry_row_says_why_it_has_no_time_to_progression() -> None:
    reason = _domain_reason()
    assert reason == NOT_EVALUABLE
    unread = cohort_row(_record(1, _tace_rows(None, False, reason)), "TP001", "tace_sequence")
    no_tace = cohort_row(_record(2, []), "TP002", "tace_sequence")
    read = cohort_row(_record(3, _tace_rows(120, True, ""), days=120.0), "TP003", "tace_sequence")
    assert unread[TTP_MISSING_REASON] == f"time to progression after TACE {NOT_EVALUABLE}"
    assert no_tace[TTP_MISSING_REASON] == "no signed TACE procedure"
    assert read[TTP_MISSING_REASON] is None
    # carried on the row only: the cohort data's column list is unchanged
    assert TTP_MISSING_REASON not in (*REQUIRED_COLUMNS, *DERIVED_COLUMNS, *TREATMENT_COLUMNS)


def test_the_rows_reason_comes_from_the_domain_not_a_fixed_text() -> None:
    other = "not evaluable: the only follow-up was never read"
    row = cohort_row(_record(1, _tace_rows(None, False, other)), "TP001", "tace_sequence")
    assert row[TTP_MISSING_REASON] == f"time to progression after TACE {other}"


def test_the_kaplan_meier_notes_use_the_rows_reason_whatever_the_source_is_called() -> None:
    rows = [
        cohort_row(_record(1, _tace_rows(None, False, NOT_EVALUABLE)), "TP001", "tace_sequence"),
        cohort_row(_record(2, []), "TP002", "tace_sequence"),
        cohort_row(_record(3, _tace_rows(120, True, ""), days=120.0), "TP003", "tace_sequence"),
    ]
    for source in ("registry", "cohort of 2026", "cases.csv"):
        tables = cohort_tables(_data(source, rows), "group")
        assert sorted(tables.survival.notes) == sorted([
            f"immediate: 1 patient(s) left out of the Kaplan–Meier: time to progression "
            f"after TACE {NOT_EVALUABLE}",
            "immediate: 1 patient(s) left out of the Kaplan–Meier: no signed TACE procedure",
        ]), source  # fmt: skip
        fit = tables.survival.groups["immediate"]
        assert (fit.n, fit.events) == (1, 1)


def test_a_row_without_a_reason_says_only_that_the_cells_are_empty() -> None:
    # a registry-named source no longer decides the wording: only the row's own reason
    row = {**cohort_row(_record(1, []), "TP001", "tace_sequence"), TTP_MISSING_REASON: None}
    (note,) = cohort_tables(_data("registry", [row]), "group").survival.notes
    assert note == (
        "immediate: 1 patient(s) left out of the Kaplan–Meier: "
        "no ttp_after_tace_days or progression_event in the spreadsheet"
    )
