"""An implausible height or weight gives no body surface area (domain/body.py).

The reviewer typed height "1,72": the field said "1.72 cm is outside the plausible
adult range", yet the plan showed BSA 0.180 m² (and a standard liver volume from it).
A BSA now rests only on a height and a weight within the plausible adult range, and
the message suggests the unit the value was probably meant in.
"""

from __future__ import annotations

import pytest

from tace_planner.domain.body import (
    bsa_input_problem,
    check_patient_field,
    explain_bsa,
    plausible_body_surface_area_m2,
)


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "field"),
    [(1.72, 70.0, "height_cm"), (175.0, 300.0, "weight_kg"), (68.0, 70.0, "height_cm")],
)
def test_an_implausible_height_or_weight_gives_no_bsa(
    height_cm: float, weight_kg: float, field: str
) -> None:
    problem = bsa_input_problem(height_cm, weight_kg)
    assert problem is not None
    assert problem.field == field
    assert plausible_body_surface_area_m2(height_cm, weight_kg) is None


def test_plausible_values_give_the_mosteller_bsa() -> None:
    assert bsa_input_problem(175.0, 70.0) is None
    assert plausible_body_surface_area_m2(175.0, 70.0) == pytest.approx(1.8447, abs=1e-4)
    assert plausible_body_surface_area_m2(None, 70.0) is None


def test_the_bsa_explanation_says_why_it_is_not_computed() -> None:
    explanation = explain_bsa(1.72, 70.0, "mosteller")
    assert explanation.result.startswith("not computed")
    assert "1.72 m = 172 cm?" in explanation.result
    assert "m²" not in explanation.result
    assert explain_bsa(175.0, 70.0, "mosteller").result == "1.845 m²"


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("height_cm", 1.72, "1.72 m = 172 cm?"),
        ("height_cm", 68.0, "68 in = 173 cm?"),
        ("weight_kg", 300.0, "300 lb = 136 kg?"),
    ],
)
def test_the_message_suggests_the_unit_meant(name: str, value: float, hint: str) -> None:
    problem = check_patient_field(name, value)
    assert problem is not None
    assert problem.kind == "implausible"
    assert "check the unit" in problem.message
    assert hint in problem.message


def test_no_unit_is_suggested_when_none_fits() -> None:
    problem = check_patient_field("weight_kg", 15.0)
    assert problem is not None
    assert "?" not in problem.message
