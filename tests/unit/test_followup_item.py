"""The worklist's fast read-model builder gives exactly what the constructor gives."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tace_planner.services.followup_dto import TimepointItem, categorise
from tace_planner.services.followup_records import timepoint_item

D = dt.date
TODAY, SUNDAY = D(2026, 12, 2), D(2026, 12, 6)


def _row(status: str, due: dt.date, study: str | None = None) -> tuple[object, ...]:
    return (7, 3, "P1", "Doe^Jane", "DEBIRI", 1, D(2026, 3, 16), "TACE 1 follow-up 2", 2,
            due, due - dt.timedelta(days=14), due + dt.timedelta(days=14), status, "CT",
            "Dr A", study, D(2026, 8, 10) if study else None, "", D(2026, 8, 10), 11)  # fmt: skip


@pytest.mark.parametrize(
    ("row", "proposal"),
    [
        (_row("scheduled", D(2026, 12, 1)), None),
        (_row("scheduled", D(2026, 12, 1)), ("1.2.3", D(2026, 12, 2))),
        (_row("scheduled", D(2026, 10, 1)), None),
        (_row("done", D(2026, 8, 11), "1.2.9"), None),
        (_row("unscheduled", D(2026, 8, 11)), None),
    ],
)
def test_timepoint_item_equals_the_constructed_item(
    row: tuple[object, ...], proposal: tuple[str, dt.date] | None
) -> None:
    expected = TimepointItem(
        pk=7, case_pk=3, patient_id="P1", patient_name="Doe^Jane", case_title="DEBIRI",
        tace_number=1, tace_on=D(2026, 3, 16), label="TACE 1 follow-up 2", followup_number=2,
        due_on=row[9], window_start_on=row[10], window_end_on=row[11], status=row[12],
        category=categorise(row[12], row[9], row[11], TODAY, SUNDAY), modality="CT",
        radiologist="Dr A", study_uid=row[15] or "",
        study_on=row[16] or (row[18] if row[12] in ("done", "unscheduled") else None),
        proposed_study_uid=proposal[0] if proposal else "",
        proposed_study_on=proposal[1] if proposal else None, progression_site="",
    )  # fmt: skip
    item = timepoint_item(row, TODAY, proposal, SUNDAY)
    assert item == expected
    assert dataclasses.asdict(item) == dataclasses.asdict(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.status = "done"  # type: ignore[misc]
