"""One delivery model for the plan's expected delivered dose and the procedure's delivered dose.

Worked example by hand (two 2 mL vials, vials injected in the order prepared):

- loaded 100 + 0 mg, 60 % of the 4 mL injected = 2.4 mL = 1.2 vials:
  vial 1 whole (1 × 100 mg) + 20 % of vial 2 (0.2 × 0 mg) = 100 mg;
- loaded 50 + 50 mg, the same 60 %: 1 × 50 + 0.2 × 50 = 60 mg (= 100 mg × 0.6);
- loaded 100 + 100 mg, 30 % = 0.6 vial: 0.6 × 100 = 60 mg (= 200 mg × 0.3).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tace_planner.domain.dosing_kernel import DELIVERY_ASSUMPTION, load_vials
from tace_planner.domain.procedure_dose import (
    DELIVERED_DOSE_RULE,
    delivered_dose_mg,
    delivered_explanation,
)
from tace_planner.domain.procedure_plan import (
    PlannedSession,
    delivery_against_plan,
    prefill_from_session,
)
from tace_planner.domain.procedure_record import record_from_json

VIAL_ML = 2.0


def _plan(loads: tuple[float, ...], fraction: float) -> tuple[PlannedSession, float]:
    """The plan's session for these vial loads, and its expected delivered dose when
    ``fraction`` of the prepared suspension is injected (the plan's own kernel)."""
    vials = len(loads)
    loading = load_vials(
        beads_ml=fraction * vials * VIAL_ML,
        vial_ml=VIAL_ML,
        loading_mg_per_ml=max(loads) / VIAL_ML,
        capacity_mg_per_ml=max(loads) / VIAL_ML,  # the first vial is full
        session_limit_mg=None,
        vials=vials,
        dose_mg=sum(loads),
    )
    assert loading.loads_mg == loads  # the plan fills the vials in this order
    session = PlannedSession(
        plan_pk=1,
        plan_version=2,
        number=1,
        territory_label="right lobe",
        segments=("VI",),
        product_code="dc_bead",
        product_name="DC Bead",
        vials=vials,
        vial_loads_mg=loading.loads_mg,
        loaded_mg=loading.loaded_mg,
        expected_delivered_mg=loading.expected_delivered_mg,
    )
    return session, loading.expected_delivered_mg


@pytest.mark.parametrize(
    ("loads", "fraction", "by_hand_mg"),
    [
        ((100.0, 0.0), 0.6, 100.0),
        ((50.0, 50.0), 0.6, 60.0),
        ((100.0, 100.0), 0.3, 60.0),
        ((100.0, 50.0, 0.0), 0.5, 100.0 + 0.5 * 50.0),
    ],
)
def test_plan_and_procedure_count_the_same_dose_as_worked_by_hand(
    loads: tuple[float, ...], fraction: float, by_hand_mg: float
) -> None:
    session, expected = _plan(loads, fraction)
    record = prefill_from_session(session, delivered_fraction=fraction)
    assert expected == pytest.approx(by_hand_mg)
    assert delivered_dose_mg(record) == pytest.approx(expected, rel=1e-12)


@given(
    vials=st.integers(1, 4),
    dose_share=st.floats(0.05, 1.0, allow_nan=False),
    fraction=st.floats(0.01, 1.0, allow_nan=False),
)
def test_the_same_vials_and_fraction_give_one_answer(
    vials: int, dose_share: float, fraction: float
) -> None:
    """Whatever loads the plan's kernel gives (full vials, a partial one, empty ones)."""
    loads = load_vials(
        beads_ml=vials * VIAL_ML,
        vial_ml=VIAL_ML,
        loading_mg_per_ml=50.0,
        capacity_mg_per_ml=50.0,
        session_limit_mg=None,
        vials=vials,
        dose_mg=dose_share * vials * 100.0,
    ).loads_mg
    session, expected = _plan(loads, fraction)
    record = prefill_from_session(session, delivered_fraction=fraction)
    assert delivered_dose_mg(record) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_the_reviewers_record_counts_the_first_vial_whole() -> None:
    """Session 1 loaded 100 + 0 mg, fraction 0.6: 100 mg delivered, not 60 mg."""
    record = record_from_json(
        {"vials": 2, "loaded_per_vial_mg": [100, 0], "loaded_mg": 100, "delivered_fraction": 0.6}
    )
    assert delivered_dose_mg(record) == pytest.approx(100.0)
    explanation = delivered_explanation(record)
    assert explanation["inputs"] == (
        "60 % of 2 vials loaded 100 + 0 mg: vial 1 whole (100 mg) + 20 % of vial 2 (0 mg)"
    )
    assert "in the order prepared" in explanation["source"]
    assert "institutional default" in explanation["source"]


def test_doses_entered_per_vial_still_take_precedence() -> None:
    record = record_from_json(
        {
            "vials": 2,
            "loaded_per_vial_mg": [100, 0],
            "delivered_fraction": 0.6,
            "delivered_per_vial_mg": [70, 0],
        }
    )
    assert delivered_dose_mg(record) == pytest.approx(70.0)


def test_without_per_vial_loads_the_load_is_spread_evenly() -> None:
    record = record_from_json({"vials": 2, "loaded_mg": 100, "delivered_fraction": 0.6})
    assert delivered_dose_mg(record) == pytest.approx(60.0)
    source = delivered_explanation(record)["source"]
    assert "spread evenly" in source
    assert "institutional default" in source


def test_the_delivered_inputs_name_the_loaded_dose_once() -> None:
    inputs = delivered_explanation(record_from_json({"loaded_mg": 50, "delivered_fraction": 1}))[
        "inputs"
    ]
    assert inputs == "loaded 50 mg × fraction 1"
    assert inputs.count("loaded") == 1


def test_both_explanations_say_the_same_assumption_as_an_institutional_default() -> None:
    for text in (DELIVERY_ASSUMPTION, DELIVERED_DOSE_RULE):
        assert "vials injected in the order prepared" in text
        assert "institutional default" in text
        assert "Pereira, Anti-Cancer Drugs 2016" in text
        assert "homogeneous suspension, an assumption of this planner" not in text


def test_a_shortfall_against_the_plan_is_shown_as_information() -> None:
    session, _ = _plan((50.0, 50.0), 1.0)
    record = prefill_from_session(session, delivered_fraction=0.6)
    against = delivery_against_plan(delivered_dose_mg(record), session)
    assert against is not None
    assert against.material
    assert against.text == "Delivered 60 mg of 100 mg expected (60 %)"
    # within the 5 % institutional default it is not material
    near = delivery_against_plan(97.0, session)
    assert near is not None
    assert not near.material
    assert delivery_against_plan(60.0, None) is None
