"""The approval service refuses an override without a reason in the Approve dialog's words.

It said "Session 1 bead volume (mL): give a reason" — another field and other words than
the dialog's "Session 1 reason for the override: required when the bead volume is
overridden". Every caller (the dialog, the command line, a script) now reads one line.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_approve_bead_maximum import draft  # noqa: F401 - the fixture

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.planning import PlanningService

pytestmark = pytest.mark.db


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (
            {"session1.beads_ml": (3.0, "  ")},
            "Session 1 reason for the override: required when the bead volume is overridden",
        ),
        (
            {"session2.vials": (2, "second vial"), "session2.beads_ml": (1.0, "")},
            "Session 2 reason for the override: required when the bead volume is overridden",
        ),
        (
            {"session1.irinotecan_loaded_mg": (80.0, None)},
            "Session 1 reason for the override: required when the irinotecan loaded is overridden",
        ),
    ],
)
def test_a_blank_reason_is_refused_in_the_dialogs_words(
    draft: tuple[PlanningService, Any],  # noqa: F811 - the fixture imported above
    overrides: dict[str, Any],
    line: str,
) -> None:
    planning, plan = draft
    needed = [a.code for a in planning.warnings_to_acknowledge(plan.pk)]
    with pytest.raises(InvalidInputError) as previewed:
        planning.preview_overrides(plan.pk, overrides)
    assert str(previewed.value) == line
    with pytest.raises(InvalidInputError) as approving:
        planning.approve(plan.pk, needed, overrides)
    assert str(approving.value) == line
    assert approving.value.field == line.partition(":")[0]
    assert planning.get_plan(plan.pk).status == "draft"  # nothing saved
