"""The timeline panel shows each visit by the name its data carries (pytest-qt, offscreen).

A point's ``name`` (its schedule slot, "TACE 1 follow-up 1") is what people read; the
stored label ("follow-up 2") only where no name was given. A due follow-up reads by its
visit name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tace_planner.services.followup_dto import TimelineData, TimelinePoint, TimepointItem

D = dt.date


def _due(label: str, on: dt.date) -> TimepointItem:
    return TimepointItem(
        pk=9, case_pk=1, patient_id="P", patient_name="", case_title="course",
        tace_number=1, tace_on=D(2026, 3, 16), label=label, followup_number=3,
        due_on=on, window_start_on=on - dt.timedelta(days=14),
        window_end_on=on + dt.timedelta(days=14), status="scheduled", category="upcoming",
    )  # fmt: skip


def test_points_and_due_follow_ups_read_by_their_visit_name(qtbot: Any) -> None:
    from tace_planner.ui.panels.timeline_panel import TimelinePanel

    data = TimelineData(
        case_pk=1,
        title="course — P",
        points=(
            TimelinePoint("baseline", D(2026, 3, 2), "imaged"),  # no name: its label
            TimelinePoint("follow-up 2", D(2026, 5, 11), "done", name="TACE 1 follow-up 1"),
        ),
        due=(_due("TACE 1 follow-up 3", D(2026, 11, 9)),),
    )
    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.show_timeline(data)
    assert panel.hover_text(D(2026, 5, 11)) == "TACE 1 follow-up 1 imaged 2026-05-11"
    assert panel.hover_text(D(2026, 3, 2)) == "baseline imaged 2026-03-02"
    assert panel.hover_text(D(2026, 11, 9)).startswith("TACE 1 follow-up 3 due 2026-11-09")
    assert not any("follow-up 2" in text for _, text in panel._texts)
