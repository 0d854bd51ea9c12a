"""The per-session bead maximum judges the beads prepared, not only those planned.

Overriding the number of vials alone (4 vials of 2 mL → 8 mL of beads prepared and
loaded) left the planned injection at 0.5 mL and raised no bead warning. The rule now
judges both volumes, with one warning per session: when both are above the maximum
(an overridden 8 mL needs 4 vials) the one warning names both. More than twice the
maximum is refused, not warned of (test_bead_plausibility.py).
"""

from __future__ import annotations

from typing import Any

from test_bead_volume_maximum import BURDEN, DC_BEAD, PARAMS, PATIENT

from tace_planner.domain.dosing import CourseHistory, propose_plan
from tace_planner.domain.dosing_advisories import dose_advisories
from tace_planner.domain.dosing_overrides import override_session, rejudge
from tace_planner.domain.dosing_parameters import PlanningParameters

CODE = "beads.above_session_maximum.s2"
SOURCE = PARAMS.cite("max_beads_per_session_ml")


def _session2(changes: dict[str, float], params: PlanningParameters = PARAMS) -> Any:
    """The plan and its sessions with session 2 (0.5 mL, 1 vial proposed) overridden."""
    plan = propose_plan(PATIENT, BURDEN, DC_BEAD, params)
    first, second = plan.sessions
    assert (second.beads_ml, second.vials, second.prepared_beads_ml) == (0.5, 1, 2.0)
    changed = override_session(second, DC_BEAD, params, "burden", changes, reason="x", by="dr")
    return plan, (first, changed)


def _bead_advisories(sessions: Any, params: PlanningParameters = PARAMS) -> list[Any]:
    judged = dose_advisories(sessions, DC_BEAD, params, CourseHistory())
    return [a for a in judged if a.code.startswith("beads.above_session_maximum")]


def test_vials_alone_above_the_maximum_are_a_warning_naming_the_vials() -> None:
    for at_most in ({"vials": 2}, {"beads_ml": 4.0}, {"beads_ml": 3.0, "vials": 2}):
        _, sessions = _session2(at_most)  # 4 mL prepared: at the maximum, nothing raised
        assert max(s.prepared_beads_ml for s in sessions) == 4.0
        assert _bead_advisories(sessions) == [], at_most

    _, sessions = _session2({"vials": 4})
    assert sessions[1].beads_ml == 0.5  # the planned injection is unchanged …
    assert sessions[1].prepared_beads_ml == 8.0  # … but 8 mL of beads are prepared
    (advisory,) = _bead_advisories(sessions)
    assert advisory.code == CODE
    assert advisory.severity == "warning"
    assert advisory.message == (
        "Session 2 vials: 4 vials (8 mL of beads) prepared is above the per-session "
        f"maximum of 4 mL ({SOURCE})."
    )
    assert "institutional default" in advisory.message
    assert advisory.source == SOURCE


def test_the_overrides_raise_the_vials_warning_for_its_own_acknowledgement() -> None:
    plan, sessions = _session2({"vials": 3})
    judged = rejudge(plan.advisories, sessions, DC_BEAD, PARAMS, CourseHistory())
    raised = {a.code: a.severity for a in judged if a.code.endswith(CODE)}
    assert raised == {"override." + CODE: "warning"}


def test_planned_and_prepared_above_are_one_warning_naming_both() -> None:
    for changes, planned, held in (
        ({"beads_ml": 8.0}, "8 mL", "the 4 vials prepared for it hold 8 mL of beads"),
        ({"beads_ml": 4.5}, "4.5 mL", "the 3 vials prepared for it hold 6 mL of beads"),
        ({"beads_ml": 5.0, "vials": 4}, "5 mL", "the 4 vials prepared for it hold 8 mL"),
    ):
        _, sessions = _session2(changes)
        (advisory,) = _bead_advisories(sessions)  # one cause, one acknowledgement
        assert advisory.code == CODE
        assert advisory.message.startswith(
            f"Session 2 bead volume: {planned} is above the per-session maximum of 4 mL ("
        )
        assert held in advisory.message
        assert advisory.message.count("per-session maximum") == 1
        assert "\n" not in advisory.message


def test_the_institutions_maximum_judges_the_vials_too() -> None:
    wider = PARAMS.with_values(max_beads_per_session_ml=6.0)
    assert _bead_advisories(_session2({"vials": 3}, wider)[1], wider) == []  # 6 mL
    (advisory,) = _bead_advisories(_session2({"vials": 4}, wider)[1], wider)
    assert advisory.message.startswith(
        "Session 2 vials: 4 vials (8 mL of beads) prepared is above the per-session maximum "
        "of 6 mL ("
    )
