"""An override's bead volume more than twice the per-session maximum is refused, not warned of.

A reviewer typed 400 mL of beads for one session (a slip for 4.0): the override was judged
like a considered 5 or 6 mL — a warning to tick — and after ticking the warnings the plan
could be approved. Up to twice the maximum (8 mL at the 4 mL default) an override stays a
warning to acknowledge; above it the planned volume, or the vials overridden (prepared
volume = vials × the product's bead volume per vial), are refused as impossible values, in
one line naming the field (institutional default: no publication gives the maximum).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_bead_volume_maximum import BURDEN, DC_BEAD, PARAMS, PATIENT

from tace_planner.domain.dosing import CourseHistory, propose_plan
from tace_planner.domain.dosing_advisories import dose_advisories
from tace_planner.domain.dosing_overrides import override_session
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import InvalidInputError

TAIL = (
    "more than twice the per-session maximum of 4 mL — not a plausible volume for one "
    "session (institutional default); check the value"
)


def _session1(changes: dict[str, float], params: PlanningParameters = PARAMS) -> Any:
    """Session 1 (4 mL in two 2 mL vials proposed) with ``changes``."""
    first = propose_plan(PATIENT, BURDEN, DC_BEAD, PARAMS).sessions[0]
    assert (first.beads_ml, first.vials) == (4.0, 2)
    return override_session(first, DC_BEAD, params, "burden", changes, reason="x", by="dr")


def _refusal(changes: dict[str, float], params: PlanningParameters = PARAMS) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        _session1(changes, params)
    return caught.value


def _warned(session: Any, params: PlanningParameters = PARAMS) -> list[str]:
    judged = dose_advisories((session,), DC_BEAD, params, CourseHistory())
    return [a.severity for a in judged if a.code.startswith("beads.above_session_maximum")]


def test_twice_the_maximum_is_a_warning_and_more_is_refused_naming_the_bead_volume() -> None:
    at_twice = _session1({"beads_ml": 8.0})
    assert (at_twice.beads_ml, at_twice.vials) == (8.0, 4)
    assert _warned(at_twice) == ["warning"]  # judged, to acknowledge

    error = _refusal({"beads_ml": 400.0})
    assert error.field == "Session 1 bead volume (mL)"
    assert str(error) == f"Session 1 bead volume (mL): 400 mL is {TAIL}"
    assert "\n" not in str(error)

    error = _refusal({"beads_ml": 8.5})
    assert error.field == "Session 1 bead volume (mL)"
    assert str(error) == f"Session 1 bead volume (mL): 8.5 mL is {TAIL}"


def test_vials_that_hold_more_than_twice_the_maximum_are_refused_naming_the_vials() -> None:
    four = _session1({"vials": 4})  # 8 mL prepared: twice the maximum, a warning
    assert four.prepared_beads_ml == 8.0
    assert _warned(four) == ["warning"]

    error = _refusal({"vials": 200})
    assert error.field == "Session 1 vials"
    assert str(error) == f"Session 1 vials: 200 vials hold 400 mL of beads, {TAIL}"

    error = _refusal({"vials": 5})
    assert str(error) == f"Session 1 vials: 5 vials hold 10 mL of beads, {TAIL}"

    # a plausible planned volume does not excuse the vials typed beside it
    assert _refusal({"beads_ml": 3.0, "vials": 5}).field == "Session 1 vials"
    # nor plausible vials an implausible volume: the bead volume is named first
    assert _refusal({"beads_ml": 40.0, "vials": 4}).field == "Session 1 bead volume (mL)"


def test_the_limit_follows_the_institutions_maximum() -> None:
    wider = PARAMS.with_values(max_beads_per_session_ml=6.0)
    assert _warned(_session1({"beads_ml": 12.0}, wider), wider) == ["warning"]
    assert _warned(_session1({"vials": 6}, wider), wider) == ["warning"]  # 12 mL
    error = _refusal({"beads_ml": 12.5}, wider)
    assert str(error).startswith("Session 1 bead volume (mL): 12.5 mL is more than twice the ")
    assert "maximum of 6 mL" in str(error)
    assert _refusal({"vials": 7}, wider).field == "Session 1 vials"

    # at the smallest maximum (0.5 mL) one whole 2 mL vial is still no slip
    narrow = PARAMS.with_values(min_beads_per_session_ml=0.5, max_beads_per_session_ml=0.5)
    one = _session1({"beads_ml": 1.0, "vials": 1}, narrow)
    assert (one.beads_ml, one.vials, one.prepared_beads_ml) == (1.0, 1, 2.0)
    assert _refusal({"vials": 2}, narrow).field == "Session 1 vials"
    assert _refusal({"beads_ml": 1.5}, narrow).field == "Session 1 bead volume (mL)"


def test_an_override_of_the_dose_is_not_refused_for_the_beads_it_kept() -> None:
    """Only the numbers overridden are refused: the proposal's beads are not re-judged."""
    narrow = PARAMS.with_values(min_beads_per_session_ml=0.5, max_beads_per_session_ml=1.0)
    kept = _session1({"irinotecan_loaded_mg": 80.0}, narrow)  # 4 mL: above twice 1 mL
    assert kept.beads_ml == 4.0
    assert _refusal({"beads_ml": 4.0}, narrow).field == "Session 1 bead volume (mL)"
