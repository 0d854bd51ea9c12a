"""BSA, standard liver volume and patient-input plausibility (clinical-reference §5, §7)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tace_planner.domain.body import (
    PatientInputs,
    body_surface_area_m2,
    check_patient_field,
    check_patient_inputs,
    explain_bsa,
    explain_slv,
    standard_liver_volume_cm3,
)
from tace_planner.domain.errors import InvalidInputError


def test_mosteller_worked_example_175_cm_70_kg() -> None:
    # clinical-reference §5: "175 cm, 70 kg → Mosteller 1.85 m²" [D].
    # By hand: √(175 × 70 / 3600) = √3.40278 = 1.8447 m² (1.845 → 1.85 at two decimals).
    bsa = body_surface_area_m2(175, 70)
    assert bsa == pytest.approx(math.sqrt(12250 / 3600))
    assert bsa == pytest.approx(1.8447, abs=1e-4)
    assert round(bsa, 3) == 1.845
    assert abs(bsa - 1.85) < 0.01


def test_dubois_formula_by_hand() -> None:
    # DuBois & DuBois 1916 (clinical-reference §5): 0.007184 × H^0.725 × W^0.425.
    expected = 0.007184 * 175**0.725 * 70**0.425
    assert body_surface_area_m2(175, 70, "dubois") == pytest.approx(expected)
    assert body_surface_area_m2(175, 70, "dubois") == pytest.approx(1.848, abs=1e-3)


def test_standard_liver_volume_worked_examples() -> None:
    # clinical-reference §7 [D]: for BSA 1.85 m² Urata 1,309 mL and Vauthey 1,550 mL.
    assert standard_liver_volume_cm3(1.85) == pytest.approx(706.2 * 1.85 + 2.4)
    assert round(standard_liver_volume_cm3(1.85, "urata")) == 1309
    assert round(standard_liver_volume_cm3(1.85, "vauthey")) == 1550


def test_explanations_show_the_values_put_in() -> None:
    bsa = explain_bsa(175, 70, "mosteller")
    assert bsa.formula == "BSA = √(H × W / 3600)"
    assert bsa.inputs == {"H": "175 cm", "W": "70 kg"}
    assert bsa.result == "1.845 m²"
    assert "Mosteller" in bsa.source
    slv = explain_slv(1.85, "urata")
    assert slv.result == "1309 cm³"
    assert "Urata" in slv.source


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "formula"),
    [(0, 70, "mosteller"), (175, -1, "mosteller"), (175, 70, "haycock"), (math.nan, 70, "dubois")],
)
def test_bsa_refuses_impossible_input(height_cm: float, weight_kg: float, formula: str) -> None:
    with pytest.raises(InvalidInputError):
        body_surface_area_m2(height_cm, weight_kg, formula)  # type: ignore[arg-type]


def test_vauthey_gives_no_volume_for_a_tiny_bsa() -> None:
    with pytest.raises(InvalidInputError, match="no positive volume"):
        standard_liver_volume_cm3(0.5, "vauthey")


@given(
    st.floats(120, 230),
    st.floats(30, 250),
    st.floats(0.01, 20),
    st.sampled_from(["mosteller", "dubois"]),
)
def test_bsa_grows_with_weight(
    height_cm: float, weight_kg: float, more: float, formula: str
) -> None:
    assert body_surface_area_m2(height_cm, weight_kg + more, formula) > body_surface_area_m2(
        height_cm, weight_kg, formula
    )


@pytest.mark.parametrize(
    ("field", "value", "kind", "words"),
    [
        ("height_cm", -175.0, "impossible", "must be positive"),
        ("height_cm", 0.0, "impossible", "must be positive"),
        ("height_cm", 1750.0, "impossible", "no adult"),
        ("height_cm", 1.75, "implausible", "check the unit"),
        ("height_cm", 69.0, "implausible", "plausible adult range"),
        ("weight_kg", 0.0, "impossible", "must be positive"),
        ("weight_kg", 700.0, "impossible", "no adult"),
        ("weight_kg", 15.0, "implausible", "check the unit"),
        ("weight_kg", "seventy", "impossible", "not a number"),
        ("weight_kg", math.inf, "impossible", "finite"),
        ("bilirubin_mg_dl", -0.1, "impossible", "negative"),
        ("bilirubin_mg_dl", 34.0, "implausible", "µmol/L"),
        ("ecog", 5, "impossible", "0–4"),
        ("ecog", -1, "impossible", "0–4"),
        ("ecog", 1.5, "impossible", "whole number"),
        ("ugt1a1_status", "slow", "impossible", "normal, reduced"),
        ("extrahepatic_disease", "yes", "impossible", "yes, no"),
        ("measured_on", dt.date(2999, 1, 1), "impossible", "future"),
    ],
)
def test_field_problems_name_the_field(field: str, value: object, kind: str, words: str) -> None:
    problem = check_patient_field(field, value, today=dt.date(2026, 3, 1))
    assert problem is not None
    assert problem.field == field
    assert problem.kind == kind
    assert words in problem.message
    error = problem.to_error()
    assert error.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("height_cm", 120.0),
        ("height_cm", 230.0),
        ("weight_kg", 70),
        ("bilirubin_mg_dl", 0.0),
        ("bilirubin_mg_dl", 30.0),
        ("ecog", 0),
        ("ecog", 4),
        ("ugt1a1_status", ""),
        ("ugt1a1_status", "reduced"),
        ("ia_lidocaine_planned", False),
        ("measured_on", dt.date(2026, 3, 1)),
        ("height_cm", None),
    ],
)
def test_acceptable_values_pass(field: str, value: object) -> None:
    assert check_patient_field(field, value, today=dt.date(2026, 3, 1)) is None


def test_unknown_field_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not a patient input"):
        check_patient_field("shoe_size", 42)


def test_check_patient_inputs_lists_impossible_first() -> None:
    problems = check_patient_inputs(PatientInputs(height_cm=1.75, weight_kg=-3))
    assert [(p.field, p.kind) for p in problems] == [
        ("weight_kg", "impossible"),
        ("height_cm", "implausible"),
    ]


def test_patient_inputs_json_round_trip() -> None:
    inputs = PatientInputs(175, 70, 0.8, 1, "reduced", False, True, dt.date(2026, 3, 1))
    assert PatientInputs.from_json(inputs.to_json()) == inputs
