"""The service approves an overridden bead volume above the per-session maximum (up to
twice it) only with its warning acknowledged: the same rule as the Approve dialog, for
every caller. More than twice is refused (test_approve_bead_plausibility.py)."""

from __future__ import annotations

from typing import Any

import pytest

from planning_seed import PATIENT_INPUTS, seed_case
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.planning import PlanningService

pytestmark = pytest.mark.db

RAISED = "override.beads.above_session_maximum.s2"


@pytest.fixture
def draft(services: Any) -> tuple[PlanningService, Any]:
    planning = PlanningService(services.session_factory, "dr test", protocol=services.protocol)
    case_pk = seed_case(services)
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    return planning, planning.save_plan(planning.propose(case_pk))


def test_a_bead_volume_above_the_maximum_needs_its_acknowledgement(
    draft: tuple[PlanningService, Any],
) -> None:
    planning, plan = draft
    needed = [a.code for a in planning.warnings_to_acknowledge(plan.pk)]
    assert not any("above_session_maximum" in code for code in needed)
    _, shown = planning.preview_overrides(plan.pk, {"session2.beads_ml": (4.0, "second vial")})
    assert not any("above_session_maximum" in a.code for a in shown)  # up to it: nothing
    overrides = {"session2.beads_ml": (6.0, "large feeder, tumour board")}
    sessions, shown = planning.preview_overrides(plan.pk, overrides)
    (advisory,) = [a for a in shown if a.code == RAISED]
    assert advisory.severity == "warning"
    assert advisory.message.startswith(
        "Session 2 bead volume: 6 mL is above the per-session maximum of 4 mL ("
    )
    assert sessions[1].beads_ml == 6.0

    with pytest.raises(InvalidInputError, match="above_session_maximum") as caught:
        planning.approve(plan.pk, needed, overrides)
    assert caught.value.field == "acknowledged_warnings"
    assert planning.get_plan(plan.pk).status == "draft"  # nothing saved

    others = [a.code for a in shown if a.severity in ("warning", "strong_warning")]
    approved = planning.approve(plan.pk, others, overrides)
    assert approved.status == "approved"
    assert approved.sessions[1].beads_ml == 6.0
    assert RAISED in {a.code for a in approved.advisories}
