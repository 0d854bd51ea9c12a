"""The case report names a visit as the worklist does (services/export/case_report.py).

Seen: a CT linked by hand as "follow-up 2" and placed in the schedule's slot "TACE 1
follow-up 1" read "TACE 1 follow-up 1" in the worklist but "follow-up 2" in the case
report (its lesion table, key images, response table and timeline). The report now uses
the visit name; the exports (tidy CSV, JSON, REDCap, SDTM) keep their columns and values:
"timepoint" as recorded and "visit" = "follow-up k" by imaging order.
"""

from __future__ import annotations

from typing import Any

import pytest

from visit_seed import PLACED, placed_response_course

pytestmark = pytest.mark.db


@pytest.fixture
def placed(services: Any) -> tuple[int, int]:
    return placed_response_course(services, "VN-1")


def _report(services: Any, case: int, pseudonym: str = "") -> Any:
    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.record import deidentified
    from tace_planner.services.export.records import gather_case

    record = gather_case(services, case)
    if pseudonym:
        record = deidentified(record, pseudonym)
    return build_case_report(services, record, 1)


def test_the_report_names_the_placed_visit_by_its_slot(
    services: Any, placed: tuple[int, int]
) -> None:
    from tace_planner.services.export.records import gather_case
    from tace_planner.services.export.tables import level_rows

    case, pk = placed
    report = _report(services, case)
    names = {row["timepoint"] for row in report.record.lesions if row["_timepoint_pk"] == pk}
    assert names == {PLACED}
    assert "follow-up 2" not in {row["timepoint"] for row in report.record.lesions}
    assert {r.timepoint for r in report.responses if r.timepoint_pk == pk} == {PLACED}
    assert "follow-up 2" not in {r.timepoint for r in report.responses}
    assert report.timeline is not None
    points = [point.label for point in report.timeline.points]
    assert PLACED in points
    assert "follow-up 2" not in points
    assert all(not label.startswith("follow-up 2") for label, _ in report.key_images)
    assert all(not note.startswith("follow-up 2:") for note in report.notes)

    # the exports keep their columns and values: the report names its own copy
    record = gather_case(services, case)
    before = level_rows([record], "lesion_timepoint")
    _report(services, case)  # the report names its own copy
    header, rows = level_rows([record], "lesion_timepoint")
    assert (header, rows) == before
    assert "visit_name" not in header
    mine = [row for row in record.lesions if row["_timepoint_pk"] == pk]
    assert {(row["timepoint"], row["visit"]) for row in mine} == {("follow-up 2", "follow-up 1")}

    # de-identified: the visit by imaging order, as in the exports
    report = _report(services, case, "TP077")
    names = {row["timepoint"] for row in report.record.lesions if row["_timepoint_pk"] == pk}
    assert names == {"follow-up 1"}
    assert all(PLACED not in label for label, _ in report.key_images)
