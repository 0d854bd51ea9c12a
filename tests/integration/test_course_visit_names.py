"""The course's visits carry their names at the source: the timepoint choices of
:meth:`LesionService.timepoints` (hence the spider plot's course) and the stored
assessments (``visit_name``).

Seen: the Follow-up page renamed the course and the stored responses itself from its
Follow-up box's names; every other reader (and a view drawn before those names were known)
had the stored label ("follow-up 2") of a visit the worklist calls "TACE 1 follow-up 1".
"""

from __future__ import annotations

from typing import Any

import pytest
from test_visit_names import PLACED_SLOT, _placed_case

from visit_seed import PLACED, placed_response_course

pytestmark = pytest.mark.db


def test_timepoint_choices_carry_the_slot_name(services: Any) -> None:
    case, _ = _placed_case(services)
    points = {point.label: point for point in services.contouring.lesions.timepoints(case)}
    assert points["follow-up 2"].name == PLACED_SLOT  # placed in the slot: its name
    assert points["baseline"].name == "baseline"  # the baseline keeps its label
    unscheduled = points["unscheduled 2026-07-03"]
    assert unscheduled.name == unscheduled.label  # no slot: its label
    names = [point.name for point in points.values()]
    assert len(names) == len(set(names))


def test_a_slot_laid_out_again_leaves_the_choice_its_label(services: Any) -> None:
    case, followups = _placed_case(services)
    followups.set_preset(case, "society")
    followups.sync_case(case)
    points = services.contouring.lesions.timepoints(case)
    relaid = next(point for point in points if point.label == "follow-up 2")
    assert relaid.name == "follow-up 2"
    names = [point.name for point in points]
    assert names.count(PLACED_SLOT) == 1  # the slot laid out again, by its own label
    assert len(names) == len(set(names))


def test_the_course_and_the_stored_assessments_carry_the_slot_name(services: Any) -> None:
    case, pk = placed_response_course(services, "CV1")
    course = services.propagation.course(case)
    placed = next(point for point in course.timepoints if point.pk == pk)
    assert (placed.label, placed.name) == ("follow-up 2", PLACED)

    stored = services.assessments.stored(case)
    at_placed = [item for item in stored if item.timepoint_pk == pk]
    assert at_placed  # every criterion assessed there
    assert {(item.timepoint, item.visit_name) for item in at_placed} == {("follow-up 2", PLACED)}
    others = [item for item in stored if item.timepoint_pk != pk]
    assert others
    assert all(item.visit_name == item.timepoint for item in others)  # named by their slots
    data = at_placed[0].to_json()
    assert (data["timepoint"], data["visit_name"]) == ("follow-up 2", PLACED)  # a key added

    every = services.assessments.stored(case, include_superseded=True)
    assert all(item.visit_name == PLACED for item in every if item.timepoint_pk == pk)
