"""The "why?" of a lobe's tumour volume lists that lobe's foci, and they add up to it.

The reviewer's box for "left lobe (II–IV)" listed all seven foci (114.3 cm³ together)
and then said "= 4.3 cm³". Hand arithmetic on the phantom's baseline truth:
left = F4 (IV) 4.059 + F5 (III) 0.18 = 4.239 cm³; right = F1 82.448 + F2 12.667 +
F6 4.849 + F7 7.037 = 107.001 cm³; caudate = F3 (I) 2.572 cm³.
"""

from __future__ import annotations

import importlib.resources
import json

import pytest

from tace_planner.domain.body import PatientInputs
from tace_planner.domain.catalogue import BeadCatalogue
from tace_planner.domain.dosing import BurdenInputs, TumourFocus, propose_plan
from tace_planner.domain.dosing_inputs import UnmeasuredFocus
from tace_planner.domain.dosing_parameters import PlanningParameters

FOCI = (
    TumourFocus("F1", "VIII", 82.448),
    TumourFocus("F2", "VI", 12.667),
    TumourFocus("F3", "I", 2.572),
    TumourFocus("F4", "IV", 4.059),
    TumourFocus("F5", "III", 0.18),
    TumourFocus("F6", "VII", 4.849),
    TumourFocus("F7", "V", 7.037),
)
PATIENT = PatientInputs(height_cm=175, weight_kg=70, bilirubin_mg_dl=0.8, ecog=1)


def _resource(name: str) -> dict[str, object]:
    folder = importlib.resources.files("tace_planner.resources") / "parameters"
    return json.loads((folder / name).read_text(encoding="utf-8"))


PARAMS = PlanningParameters.from_dict(_resource("planning.json"))
DC_BEAD = BeadCatalogue.from_dict(_resource("bead_catalogue.json")).product("dc_bead")


def _cm3(text: str) -> float:
    return float(text.split(" ")[0])


@pytest.mark.parametrize(
    ("lobe", "foci", "total_cm3"),
    [
        ("left", ["F4 (IV)", "F5 (III)"], 4.239),
        ("right", ["F1 (VIII)", "F2 (VI)", "F6 (VII)", "F7 (V)"], 107.001),
        ("caudate", ["F3 (I)"], 2.572),
    ],
)
def test_a_lobes_why_lists_only_its_foci_and_their_sum(
    lobe: str, foci: list[str], total_cm3: float
) -> None:
    result = propose_plan(PATIENT, BurdenInputs(1572.703, FOCI), DC_BEAD, PARAMS)
    why = result.explanations[f"tumour_volume_cm3.{lobe}"]
    assert list(why.inputs) == foci
    assert sum(_cm3(v) for v in why.inputs.values()) == pytest.approx(total_cm3, abs=0.01)
    assert result.figures[f"tumour_volume_cm3.{lobe}"] == pytest.approx(total_cm3)
    assert why.result == f"{total_cm3:.1f} cm³"
    # the total still lists every focus
    assert len(result.explanations["tumour_volume_cm3"].inputs) == len(FOCI)


def test_an_unmeasured_focus_is_named_in_its_lobe_one_without_segment_apart() -> None:
    burden = BurdenInputs(
        1572.703,
        (*FOCI, TumourFocus("F8", "", 1.5)),
        unmeasured=(UnmeasuredFocus("F9", "II", "no contour at baseline"),),
    )
    result = propose_plan(PATIENT, burden, DC_BEAD, PARAMS)
    left = result.explanations["tumour_volume_cm3.left"].inputs
    assert left["F9 (II)"] == "not measured: no contour at baseline"
    assert "F8 (?)" not in left
    unassigned = result.explanations["tumour_volume_cm3.unassigned"]
    assert dict(unassigned.inputs) == {"F8 (?)": "1.50 cm³"}
    assert "Couinaud" in unassigned.summary
