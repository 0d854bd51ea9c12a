"""An override without a reason is refused in the Approve dialog's words, by every caller.

The dialog said "Session 1 reason for the override: required when the bead volume is
overridden", the dosing domain "Session 1: an override needs a reason" and the approval
service "Session 1 bead volume (mL): give a reason" — three lines, and two field names,
for one mistake. :func:`missing_reason` now gives the one line.
"""

from __future__ import annotations

import pytest
from test_bead_volume_maximum import BURDEN, DC_BEAD, PARAMS, PATIENT

from tace_planner.domain.dosing import propose_plan
from tace_planner.domain.dosing_overrides import override_session
from tace_planner.domain.errors import InvalidInputError

REASON_FIELD = "Session 2 reason for the override"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"beads_ml": 3.0}, "the bead volume"),
        ({"vials": 2}, "the number of vials"),
        ({"irinotecan_loaded_mg": 80.0}, "the irinotecan loaded"),
        # several numbers: the first in the order the dialog shows them
        ({"irinotecan_loaded_mg": 80.0, "vials": 2}, "the number of vials"),
    ],
)
@pytest.mark.parametrize("reason", ["", "   "])
def test_the_domain_refuses_a_blank_reason_in_the_dialogs_words(
    changes: dict[str, float], words: str, reason: str
) -> None:
    second = propose_plan(PATIENT, BURDEN, DC_BEAD, PARAMS).sessions[1]
    with pytest.raises(InvalidInputError) as caught:
        override_session(second, DC_BEAD, PARAMS, "burden", changes, reason=reason, by="dr")
    assert caught.value.field == REASON_FIELD
    assert str(caught.value) == f"{REASON_FIELD}: required when {words} is overridden"


def test_missing_reason_names_the_reason_field() -> None:
    from tace_planner.domain.dosing_overrides import missing_reason

    error = missing_reason(1, ["beads_ml"])
    assert isinstance(error, InvalidInputError)
    assert str(error) == (
        "Session 1 reason for the override: required when the bead volume is overridden"
    )
    assert missing_reason("session3", ["vials"]).field == "Session 3 reason for the override"
