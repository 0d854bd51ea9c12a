"""The approval service refuses a bead volume more than twice the per-session maximum.

400 mL typed for 4.0 was previewed as a warning and, once ticked, approved. The service now
refuses it — preview, approval of a saved draft and approval of an unsaved proposal alike —
with the field the Approve dialog marks ("Session 2 bead volume (mL)", "Session 2 vials"),
and saves nothing. Up to twice the maximum (8 mL) it stays a warning to acknowledge.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_approve_bead_maximum import draft  # noqa: F401 - the fixture

from tace_planner.domain.dosing_overrides import field_label
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.planning import PlanningService

pytestmark = pytest.mark.db

RAISED = "override.beads.above_session_maximum.s2"
TAIL = (
    "more than twice the per-session maximum of 4 mL — not a plausible volume for one "
    "session (institutional default); check the value"
)


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("session2.beads_ml", 400.0, f"Session 2 bead volume (mL): 400 mL is {TAIL}"),
        ("session2.beads_ml", 8.5, f"Session 2 bead volume (mL): 8.5 mL is {TAIL}"),
        ("session2.vials", 200, f"Session 2 vials: 200 vials hold 400 mL of beads, {TAIL}"),
        ("session2.vials", 5, f"Session 2 vials: 5 vials hold 10 mL of beads, {TAIL}"),
    ],
)
def test_an_implausible_bead_volume_is_refused_naming_the_field(
    draft: tuple[PlanningService, Any],  # noqa: F811 - the fixture imported above
    key: str,
    value: float,
    line: str,
) -> None:
    planning, plan = draft
    overrides = {key: (value, "large feeder, tumour board")}
    with pytest.raises(InvalidInputError) as previewed:
        planning.preview_overrides(plan.pk, overrides)
    assert str(previewed.value) == line
    assert previewed.value.field == field_label(key)  # what the dialog matches to its field

    # every warning ticked, the one the override raised at twice the maximum too: refused
    at_twice = {key: (8.0 if key.endswith("beads_ml") else 4, "large feeder, tumour board")}
    sessions, shown = planning.preview_overrides(plan.pk, at_twice)
    assert sessions[1].prepared_beads_ml == 8.0
    ticked = [a.code for a in shown if a.severity in ("warning", "strong_warning")]
    assert RAISED in ticked
    with pytest.raises(InvalidInputError) as approving:
        planning.approve(plan.pk, ticked, overrides)
    assert str(approving.value) == line
    assert planning.get_plan(plan.pk).status == "draft"  # nothing saved


def test_an_unsaved_proposal_is_refused_and_nothing_saved(
    draft: tuple[PlanningService, Any],  # noqa: F811 - the fixture imported above
) -> None:
    planning, plan = draft
    proposal = plan.proposal
    overrides = {"session2.beads_ml": (400.0, "large feeder")}
    with pytest.raises(InvalidInputError) as previewed:
        planning.preview_proposal(proposal, overrides)
    assert previewed.value.field == "Session 2 bead volume (mL)"
    saved = [(p.plan_version, p.status) for p in planning.list_plans(proposal.case.case_pk)]
    with pytest.raises(InvalidInputError, match="not a plausible volume"):
        planning.approve_proposal(proposal, [], overrides)
    assert [(p.plan_version, p.status) for p in planning.list_plans(proposal.case.case_pk)] == (
        saved
    )
