"""A bead volume above the per-session maximum is a warning the approver acknowledges.

No publication gives a maximum bead volume per session (studies used one 2 mL vial of
beads, about 100 mg, per session); the 4 mL maximum is the institution's parameter. So
an overridden 6 mL is not refused but judged: a warning naming the session's bead volume
field, citing the parameter's source, that the overrides raise anew. Up to twice the
maximum (8 mL) it is a warning; above it, a slip (40 or 400 mL typed for 4.0), it is
refused (test_bead_plausibility.py).
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

import pytest

from planning_seed import PATIENT_INPUTS
from tace_planner.domain.body import PatientInputs
from tace_planner.domain.catalogue import BeadCatalogue
from tace_planner.domain.dosing import BurdenInputs, CourseHistory, TumourFocus, propose_plan
from tace_planner.domain.dosing_advisories import dose_advisories
from tace_planner.domain.dosing_overrides import override_session, rejudge
from tace_planner.domain.dosing_parameters import PlanningParameters

PATIENT = PatientInputs(**PATIENT_INPUTS)
# right lobe (session 1, 107 cm³ → clamped to 4 mL) and left lobe (session 2, 4 cm³ → 0.5 mL)
BURDEN = BurdenInputs(
    1572.7,
    (TumourFocus("F1", "VIII", 82.4), TumourFocus("F2", "VI", 24.6), TumourFocus("F4", "IV", 4.1)),
)


def _resource(name: str) -> dict[str, Any]:
    folder = importlib.resources.files("tace_planner.resources") / "parameters"
    return json.loads((folder / name).read_text(encoding="utf-8"))


PARAMS = PlanningParameters.from_dict(_resource("planning.json"))
DC_BEAD = BeadCatalogue.from_dict(_resource("bead_catalogue.json")).product("dc_bead")
CODE = "beads.above_session_maximum.s2"


def _overridden(beads_ml: float, params: PlanningParameters = PARAMS) -> Any:
    plan = propose_plan(PATIENT, BURDEN, DC_BEAD, params)
    first, second = plan.sessions
    changed = override_session(
        second, DC_BEAD, params, "burden", {"beads_ml": beads_ml}, reason="large feeder", by="dr"
    )
    return plan, (first, changed)


def _above_maximum(sessions: Any, params: PlanningParameters = PARAMS) -> list[Any]:
    judged = dose_advisories(sessions, DC_BEAD, params, CourseHistory())
    return [a for a in judged if "above_session_maximum" in a.code]


@pytest.mark.parametrize("beads_ml", [4.5, 6.0, 8.0])
def test_an_override_above_the_maximum_is_a_warning_naming_the_field(beads_ml: float) -> None:
    plan = propose_plan(PATIENT, BURDEN, DC_BEAD, PARAMS)
    assert [s.beads_ml for s in plan.sessions] == [4.0, 0.5]  # clamped to the maximum
    assert _above_maximum(plan.sessions) == []
    for within in (4.0, 3.0):  # up to the maximum (strictly above fires)
        assert _above_maximum(_overridden(within)[1]) == []

    _, sessions = _overridden(beads_ml)
    assert sessions[1].beads_ml == beads_ml  # judged, not refused
    (advisory,) = _above_maximum(sessions)
    assert advisory.code == CODE
    assert advisory.severity == "warning"
    assert advisory.message.startswith(
        f"Session 2 bead volume: {beads_ml:g} mL is above the per-session maximum of 4 mL ("
    )
    assert "\n" not in advisory.message
    # no publication gives the maximum: the text says whose value it is
    assert "institutional default" in advisory.message
    assert "institutional default" in advisory.source


def test_the_overrides_raise_it_anew_for_its_own_acknowledgement() -> None:
    plan, sessions = _overridden(6.0)
    judged = rejudge(plan.advisories, sessions, DC_BEAD, PARAMS, CourseHistory())
    raised = {a.code: a.severity for a in judged if a.code.endswith(CODE)}
    assert raised == {"override." + CODE: "warning"}


def test_the_institutions_maximum_is_the_limit() -> None:
    wider = PARAMS.with_values(max_beads_per_session_ml=6.0)
    assert _above_maximum(_overridden(5.0, wider)[1], wider) == []
    (advisory,) = _above_maximum(_overridden(7.0, wider)[1], wider)
    assert "maximum of 6 mL" in advisory.message
    assert "institution" in advisory.source
