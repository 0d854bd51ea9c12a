"""The propagation service's timepoints carry their visit names, and a follow-up whose
contours cannot be proposed is refused by that name, as the worklist and the Follow-up box
name it.

Seen: ``PropagationService.timepoints`` built its ``FollowUpTimepoint`` without ``name``
(filled by ``LesionService.timepoints``), so the refusal read "follow-up 2 has no CT
series…" for the visit every view calls "TACE 1 follow-up 1".
"""

from __future__ import annotations

from typing import Any

import pytest
from test_visit_names import PLACED_SLOT, _placed_case

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.propagation import propagation_service

pytestmark = pytest.mark.db


def test_the_timepoints_carry_the_slot_name(services: Any) -> None:
    case, _ = _placed_case(services, "PN1")
    points = {point.label: point for point in propagation_service(services).timepoints(case)}
    assert points["follow-up 2"].name == PLACED_SLOT
    assert points["baseline"].name == "baseline"
    unscheduled = points["unscheduled 2026-07-03"]
    assert unscheduled.name == unscheduled.label


def test_the_refusal_names_the_visit_by_its_slot(services: Any) -> None:
    case, _ = _placed_case(services, "PN2")
    propagation = propagation_service(services)
    placed = next(p for p in propagation.timepoints(case) if p.label == "follow-up 2")
    assert not placed.can_propose  # a study without a CT series read as one volume
    assert placed.proposal_refusal == f"{PLACED_SLOT} {placed.proposal_note}"
    assert "follow-up 2" not in placed.proposal_refusal
    with pytest.raises(InvalidInputError) as refused:
        propagation._follow_up_series(placed, "venous")  # what propose refuses with
    assert placed.proposal_refusal in str(refused.value)
