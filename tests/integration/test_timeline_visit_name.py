"""The case timeline's points carry their visit name at the source (services/therapy_lines.py).

Seen: every view of the timeline (the Follow-up page, the case report) named the points
itself from the Follow-up box's names; a view drawn before those names were known showed
the stored label ("follow-up 2") of a visit the worklist calls "TACE 1 follow-up 1". Now
:meth:`TherapyService.timeline` names each point by the rule of
:mod:`tace_planner.services.visit_names` and the views read ``point.name``.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_visit_names import PLACED_SLOT, _placed_case

from visit_seed import PLACED, placed_response_course

pytestmark = pytest.mark.db


def test_a_point_placed_in_a_slot_carries_the_slot_name(services: Any) -> None:
    case, _ = _placed_case(services)
    points = {point.label: point for point in services.therapy.timeline(case).points}
    assert points["follow-up 2"].name == PLACED_SLOT  # placed in the slot: its name
    assert points["baseline"].name == "baseline"  # the baseline keeps its label
    unscheduled = points["unscheduled 2026-07-03"]
    assert unscheduled.name == unscheduled.label  # no slot: its label

    rows = {row["label"]: row for row in services.therapy.timeline(case).to_json()["points"]}
    assert rows["follow-up 2"]["name"] == PLACED_SLOT  # added; the keys that were stay
    assert {"label", "on", "status", "response"} <= set(rows["follow-up 2"])


def test_a_slot_laid_out_again_leaves_the_point_its_label(services: Any) -> None:
    """A new preset lays "TACE 1 follow-up 1" out again for another timepoint: the CT
    placed there before is named by its label on the timeline too (no two visits share a
    name)."""
    case, followups = _placed_case(services)
    followups.set_preset(case, "society")
    followups.sync_case(case)
    timeline = services.therapy.timeline(case)
    names = [point.name for point in timeline.points]
    assert "follow-up 2" in names
    assert PLACED_SLOT not in names
    assert len(names) == len(set(names))


def test_an_assessed_course_names_its_placed_visit_on_the_timeline(services: Any) -> None:
    case, _ = placed_response_course(services, "TN1")
    timeline = services.therapy.timeline(case)
    placed = next(point for point in timeline.points if point.label == "follow-up 2")
    assert placed.name == PLACED
    assert placed.response  # the stored RECIST 1.1 response is still there
    assert [point.name for point in timeline.points].count(PLACED) == 1
