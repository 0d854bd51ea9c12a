"""The dosing model: worked examples by hand, thresholds, blocks and Hypothesis properties.

Hand arithmetic uses the packaged parameters (planning.json v2): k = 0.05 mL/cm³,
beads 0.5–4 mL per session, 2 mL vials (DC Bead IFU), 50 mg/mL loading
(Taylor 2007), warning > 100 mg (Martin 2010), session limit 100 mg (common practice).
Focus volumes are the phantom's exact baseline volumes (imaging.phantom truth).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.resources
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tace_planner.domain.anatomy import lobe_of_segment
from tace_planner.domain.body import PatientInputs
from tace_planner.domain.catalogue import BeadCatalogue, BeadProduct, Sourced
from tace_planner.domain.dosing import (
    BaselineImaging,
    BurdenInputs,
    CourseHistory,
    PlanOptions,
    PlanResult,
    SessionPlan,
    TumourFocus,
    propose_plan,
)
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import InvalidInputError

LIVER_CM3 = 1572.703
RIGHT_FOCI = (
    TumourFocus("F1", "VIII", 82.448),
    TumourFocus("F2", "VI", 12.667),
    TumourFocus("F6", "VII", 4.849),
    TumourFocus("F7", "V", 7.037),
)
OTHER_FOCI = (
    TumourFocus("F3", "I", 2.572),
    TumourFocus("F4", "IV", 4.059),
    TumourFocus("F5", "III", 0.18),
)
PATIENT = PatientInputs(
    height_cm=175,
    weight_kg=70,
    bilirubin_mg_dl=0.8,
    ecog=1,
    ugt1a1_status="normal",
    extrahepatic_disease=False,
    ia_lidocaine_planned=True,
)


def _resource(name: str) -> dict[str, Any]:
    folder = importlib.resources.files("tace_planner.resources") / "parameters"
    return json.loads((folder / name).read_text(encoding="utf-8"))


PARAMS = PlanningParameters.from_dict(_resource("planning.json"))
CATALOGUE = BeadCatalogue.from_dict(_resource("bead_catalogue.json"))
DC_BEAD = CATALOGUE.product("dc_bead")


def _codes(result: PlanResult) -> set[str]:
    return {a.code for a in result.advisories}


def _severity(result: PlanResult, code: str) -> str | None:
    for advisory in result.advisories:
        if advisory.code == code:
            return advisory.severity
    return None


def _product(
    capacity: float | None = 50.0, vial_ml: float | None = 2.0, label: str = "yes"
) -> BeadProduct:
    return dataclasses.replace(
        DC_BEAD,
        code="test",
        name="Test bead",
        irinotecan_capacity_mg_per_ml=Sourced(
            capacity, "test", "user" if capacity else "no source"
        ),
        vial_bead_volume_ml=Sourced(vial_ml, "test", "user" if vial_ml else "no source"),
        irinotecan_label=Sourced(label, "test", "user"),
    )


def _one_focus(volume_cm3: float, segment: str = "VI", liver: float = LIVER_CM3) -> BurdenInputs:
    return BurdenInputs(liver, (TumourFocus("F", segment, volume_cm3),))


# ---------------------------------------------------------------------------
# Worked examples (hand arithmetic)
# ---------------------------------------------------------------------------


def test_phantom_volumes_match_the_phantom_truth() -> None:
    from tace_planner.imaging.phantom import phantom_truth

    truth = phantom_truth("full", 0).to_json()
    baseline = truth["timepoints"][0]
    assert truth["liver_volume_cm3"] == pytest.approx(LIVER_CM3, abs=1e-3)
    volumes = {f["name"]: (f["couinaud_segment"], f["volume_cm3"]) for f in baseline["foci"]}
    for focus in RIGHT_FOCI + OTHER_FOCI:
        segment, volume = volumes[focus.name]
        assert segment == focus.couinaud_segment
        assert volume == pytest.approx(focus.volume_cm3, abs=1e-3)


def test_unilobar_phantom_case_by_hand() -> None:
    # V_right = 82.448 + 12.667 + 4.849 + 7.037 = 107.001 cm³; F = 107.001 / 1572.703 = 6.80 %.
    # beads = clamp(107.001 × 0.05 = 5.350, 0.5, 4) = 4.0 mL; vials = ⌈4 / 2⌉ = 2;
    # the vials could take 2 × 2 mL × 50 mg/mL = 200 mg, held at the 100 mg session limit:
    # vial 1 100 mg, vial 2 unloaded; 4 mL injected → 100 mg delivered.
    result = propose_plan(PATIENT, BurdenInputs(LIVER_CM3, RIGHT_FOCI), DC_BEAD, PARAMS)
    assert result.figures["tumour_volume_cm3.right"] == pytest.approx(107.001)
    assert result.figures["burden_percent"] == pytest.approx(107.001 / 1572.703 * 100)
    assert result.figures["burden_percent"] == pytest.approx(6.80, abs=0.005)
    assert result.figures["bsa_m2"] == pytest.approx(1.8447, abs=1e-4)
    assert result.figures["standard_liver_volume_cm3"] == pytest.approx(
        706.2 * 1.84466 + 2.4, abs=0.1
    )
    (session,) = result.sessions
    assert session.territory == "right"
    assert session.segments == ("V", "VI", "VII", "VIII")
    assert session.beads_ml == pytest.approx(4.0)
    assert session.vials == 2
    assert session.prepared_beads_ml == pytest.approx(4.0)
    assert session.irinotecan_loaded_mg == pytest.approx(100.0)
    assert session.vial_loads_mg == pytest.approx((100.0, 0.0))
    assert session.irinotecan_expected_delivered_mg == pytest.approx(100.0)
    assert session.limited_by == ("max_beads", "session_cap")
    assert _severity(result, "dose.session_limit.s1") == "info"
    # The default plan never contradicts its own evidence: nothing above 100 mg.
    assert not any("above_warning" in code for code in _codes(result))
    assert "caudate.focus" not in _codes(result)
    assert not result.blocked


def test_bilobar_phantom_case_by_hand() -> None:
    # Right 107.001 + caudate 2.572 = 109.573 cm³ (first, larger); left 4.059 + 0.18 = 4.239 cm³.
    # Session 1: 109.573 × 0.05 = 5.479 → 4.0 mL → 2 vials → 100 mg loaded (session limit),
    #   100 mg delivered. Session 2 (day 21): 4.239 × 0.05 = 0.212 → 0.5 mL → 1 vial →
    #   100 mg loaded, delivered = 0.5 / 2 × 100 = 25 mg. Course: 200 mg loaded, 2 sessions.
    burden = BurdenInputs(LIVER_CM3, RIGHT_FOCI + OTHER_FOCI)
    result = propose_plan(PATIENT, burden, DC_BEAD, PARAMS)
    assert result.figures["tumour_volume_cm3"] == pytest.approx(113.812)
    assert result.figures["burden_percent"] == pytest.approx(113.812 / 1572.703 * 100)
    first, second = result.sessions
    assert (first.territory, first.day) == ("right+caudate", 0)
    assert first.tumour_volume_cm3 == pytest.approx(109.573)
    assert (first.beads_ml, first.vials, first.irinotecan_loaded_mg) == pytest.approx(
        (4.0, 2, 100.0)
    )
    assert first.irinotecan_expected_delivered_mg == pytest.approx(100.0)
    assert (second.territory, second.day) == ("left", 21)
    assert second.tumour_volume_cm3 == pytest.approx(4.239)
    assert second.beads_ml == pytest.approx(0.5)
    assert second.vials == 1
    assert second.irinotecan_loaded_mg == pytest.approx(100.0)
    assert second.irinotecan_expected_delivered_mg == pytest.approx(25.0)
    assert result.total_loaded_mg == pytest.approx(200.0)
    assert _severity(result, "caudate.focus") == "info"
    assert "course.cumulative_dose" not in _codes(result)  # 200 ≤ 400 mg
    assert "course.session_count" not in _codes(result)  # 2 < 3


def test_caudate_note_cites_the_listed_publication() -> None:
    """The caudate note cited "World J Surg Oncol 2015;13:136" with neither author nor a
    source to check it by: volume and article number appear nowhere in the reference list,
    which gives the paper as World J Surg Oncol 2015 with its DOI and no first author (none
    is invented here)."""
    burden = BurdenInputs(LIVER_CM3, RIGHT_FOCI + OTHER_FOCI)
    (note,) = (a for a in propose_plan(PATIENT, burden, DC_BEAD, PARAMS).advisories
               if a.code == "caudate.focus")  # fmt: skip
    assert "World J Surg Oncol 2015" in note.source
    assert "doi:10.1186/s12957-015-0551-4" in note.source
    assert "13:136" not in note.source


def test_unclamped_session_loaded_differs_from_delivered() -> None:
    # An institution that raised its session limit to 200 mg:
    # 60 cm³ × 0.05 = 3.0 mL → 2 vials (4 mL) → 200 mg loaded; 3 mL injected → 150 mg.
    params = PARAMS.with_values(per_session_cap_mg=200.0)
    result = propose_plan(PATIENT, _one_focus(60.0), DC_BEAD, params)
    (session,) = result.sessions
    assert session.beads_ml == pytest.approx(3.0)
    assert session.vials == 2
    assert session.irinotecan_loaded_mg == pytest.approx(200.0)
    assert session.irinotecan_expected_delivered_mg == pytest.approx(150.0)
    assert session.limited_by == ("whole_vial_step",)
    # Both the loaded and the expected delivered dose are judged.
    assert _severity(result, "dose.loaded_above_warning.s1") == "warning"
    assert _severity(result, "dose.delivered_above_warning.s1") == "warning"
    assert _severity(result, "dose.whole_vial_step.s1") == "info"
    why = session.explanations["beads_ml"]
    assert why.inputs["V_territory"] == "60.0 cm³"
    assert why.inputs["k"] == "0.05 mL/cm³"
    assert why.result == "3 mL"
    assert "institutional default" in why.source


def test_fixed_dose_model_gives_100_mg_in_one_vial_per_session() -> None:
    burden = BurdenInputs(LIVER_CM3, RIGHT_FOCI + OTHER_FOCI)
    result = propose_plan(PATIENT, burden, DC_BEAD, PARAMS, PlanOptions(model="fixed"))
    assert result.model == "fixed"
    assert [(s.beads_ml, s.vials, s.irinotecan_loaded_mg) for s in result.sessions] == [
        (2.0, 1, 100.0),
        (2.0, 1, 100.0),
    ]
    assert all(s.irinotecan_expected_delivered_mg == pytest.approx(100.0) for s in result.sessions)
    assert not any(code.startswith("dose.above_warning") for code in _codes(result))


def test_single_session_for_bilobar_disease() -> None:
    burden = BurdenInputs(LIVER_CM3, RIGHT_FOCI + OTHER_FOCI)
    result = propose_plan(PATIENT, burden, DC_BEAD, PARAMS, PlanOptions(schedule="single"))
    (session,) = result.sessions
    assert session.territory == "right+left+caudate"
    assert session.tumour_volume_cm3 == pytest.approx(113.812)
    assert session.beads_ml == pytest.approx(4.0)


def test_segmental_delivery_treats_only_the_chosen_segments() -> None:
    # Segment VI: 12.667 × 0.05 = 0.633 mL → 1 vial → 100 mg loaded; 0.633 × 50 = 31.7 mg.
    burden = BurdenInputs(LIVER_CM3, RIGHT_FOCI + OTHER_FOCI)
    options = PlanOptions(delivery="segmental", segments=("6",))
    result = propose_plan(PATIENT, burden, DC_BEAD, PARAMS, options)
    (session,) = result.sessions
    assert session.territory == "segments:VI"
    assert session.beads_ml == pytest.approx(0.63335)
    assert session.irinotecan_loaded_mg == pytest.approx(100.0)
    assert session.irinotecan_expected_delivered_mg == pytest.approx(31.6675)
    assert _severity(result, "segments.untreated") == "info"


def test_interval_and_dates_follow_the_options() -> None:
    import datetime as dt

    burden = BurdenInputs(LIVER_CM3, RIGHT_FOCI + OTHER_FOCI)
    options = PlanOptions(interval_days=28, first_session_on=dt.date(2026, 3, 16))
    result = propose_plan(PATIENT, burden, DC_BEAD, PARAMS, options)
    assert [(s.day, s.on) for s in result.sessions] == [
        (0, dt.date(2026, 3, 16)),
        (28, dt.date(2026, 4, 13)),
    ]


# ---------------------------------------------------------------------------
# Products that cannot be dosed
# ---------------------------------------------------------------------------


def test_hepasphere_without_capacity_is_refused_with_the_reason() -> None:
    result = propose_plan(
        PATIENT, BurdenInputs(LIVER_CM3, RIGHT_FOCI), CATALOGUE.product("hepasphere"), PARAMS
    )
    assert result.blocked
    assert result.sessions == ()
    refusal = next(a for a in result.advisories if a.code == "product.no_capacity")
    assert refusal.severity == "block"
    assert "no irinotecan loading capacity" in refusal.message
    assert "not found" in refusal.source
    assert _severity(result, "product.off_label") == "strong_warning"


def test_hepasphere_with_user_entered_values_is_planned_but_off_label() -> None:
    options = PlanOptions(capacity_mg_per_ml=25.0, vial_bead_volume_ml=2.0)
    result = propose_plan(
        PATIENT,
        BurdenInputs(LIVER_CM3, RIGHT_FOCI),
        CATALOGUE.product("hepasphere"),
        PARAMS,
        options,
    )
    assert not result.blocked
    (session,) = result.sessions
    # 2 vials × 2 mL × min(50, 25) mg/mL = 100 mg; capacity limited the loading.
    assert session.irinotecan_loaded_mg == pytest.approx(100.0)
    assert "capacity" in session.limited_by
    assert "user" in session.explanations["irinotecan_loaded_mg"].source
    assert _severity(result, "product.off_label") == "strong_warning"


@pytest.mark.parametrize("code", ["lifepearl", "dc_bead_lumi"])
def test_products_missing_values_are_refused(code: str) -> None:
    result = propose_plan(
        PATIENT, BurdenInputs(LIVER_CM3, RIGHT_FOCI), CATALOGUE.product(code), PARAMS
    )
    assert result.blocked
    assert "product.no_capacity" in _codes(result)


def test_no_tumour_blocks() -> None:
    result = propose_plan(PATIENT, BurdenInputs(LIVER_CM3, ()), DC_BEAD, PARAMS)
    assert result.blocked
    assert "burden.no_tumour" in _codes(result)


def test_tumour_larger_than_liver_blocks() -> None:
    result = propose_plan(PATIENT, _one_focus(700.0, liver=600.0), DC_BEAD, PARAMS)
    assert _severity(result, "burden.tumour_exceeds_liver") == "block"


def test_missing_liver_contour_needs_an_override_but_doses() -> None:
    result = propose_plan(PATIENT, _one_focus(40.0, liver=None), DC_BEAD, PARAMS)  # type: ignore[arg-type]
    # F is unknown, so the F > 60 % contraindication cannot be checked.
    assert _severity(result, "burden.no_liver_volume") == "contraindication"
    assert result.figures["burden_percent"] is None
    assert len(result.sessions) == 1


# ---------------------------------------------------------------------------
# Each warning fires above its threshold and not at it
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("burden_percent", "expected"),
    [
        (50.0, set()),
        (50.01, {"burden.above_threshold"}),
        (60.0, {"burden.above_threshold"}),
        (60.01, {"burden.above_consensus_limit"}),
    ],
)
def test_burden_thresholds(burden_percent: float, expected: set[str]) -> None:
    liver = 1500.0
    burden = _one_focus(liver * burden_percent / 100, liver=liver)
    codes = {
        c for c in _codes(propose_plan(PATIENT, burden, DC_BEAD, PARAMS)) if c.startswith("burden.")
    }
    assert codes == expected


@pytest.mark.parametrize(
    ("bilirubin", "burden_percent", "expected"),
    [
        (2.0, 55.0, None),
        (2.01, 10.0, ("bilirubin.high", "strong_warning")),
        (2.01, 50.0, ("bilirubin.high", "strong_warning")),
        (2.01, 50.01, ("bilirubin.with_burden", "contraindication")),
    ],
)
def test_bilirubin_thresholds(
    bilirubin: float, burden_percent: float, expected: tuple[str, str] | None
) -> None:
    liver = 1500.0
    patient = dataclasses.replace(PATIENT, bilirubin_mg_dl=bilirubin)
    result = propose_plan(
        patient, _one_focus(liver * burden_percent / 100, liver=liver), DC_BEAD, PARAMS
    )
    found = [(a.code, a.severity) for a in result.advisories if a.code.startswith("bilirubin.")]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(("ecog", "fires"), [(2, False), (3, True)])
def test_ecog_threshold(ecog: int, fires: bool) -> None:
    result = propose_plan(
        dataclasses.replace(PATIENT, ecog=ecog), _one_focus(40.0), DC_BEAD, PARAMS
    )
    assert ("ecog.above_limit" in _codes(result)) is fires


def test_missing_labs_and_ecog_warn() -> None:
    patient = dataclasses.replace(PATIENT, bilirubin_mg_dl=None, ecog=None)
    result = propose_plan(patient, _one_focus(40.0), DC_BEAD, PARAMS)
    assert _severity(result, "inputs.missing_bilirubin") == "warning"
    assert _severity(result, "inputs.missing_ecog") == "warning"


@pytest.mark.parametrize(("fixed_mg", "fires"), [(100.0, False), (100.5, True)])
def test_per_session_warning_threshold(fixed_mg: float, fires: bool) -> None:
    params = PARAMS.with_values(fixed_dose_mg=fixed_mg, per_session_cap_mg=200.0)
    options = PlanOptions(model="fixed", loading_mg_per_ml=100.0)
    result = propose_plan(PATIENT, _one_focus(40.0), _product(capacity=100.0), params, options)
    assert result.sessions[0].irinotecan_loaded_mg == pytest.approx(fixed_mg)
    assert ("dose.loaded_above_warning.s1" in _codes(result)) is fires
    assert ("dose.delivered_above_warning.s1" in _codes(result)) is fires


@pytest.mark.parametrize(("fixed_mg", "fires"), [(100.0, False), (100.5, True)])
def test_per_session_cap_threshold(fixed_mg: float, fires: bool) -> None:
    params = PARAMS.with_values(fixed_dose_mg=fixed_mg)
    options = PlanOptions(model="fixed", loading_mg_per_ml=200.0)
    result = propose_plan(PATIENT, _one_focus(40.0), _product(capacity=200.0), params, options)
    (session,) = result.sessions
    assert session.irinotecan_loaded_mg == pytest.approx(min(fixed_mg, 100.0))
    assert ("dose.session_limit.s1" in _codes(result)) is fires
    assert ("session_cap" in session.limited_by) is fires
    assert not any("above" in code for code in _codes(result) if code.startswith("dose."))


@pytest.mark.parametrize(("loading", "fires"), [(50.0, False), (50.5, True)])
def test_product_capacity_threshold(loading: float, fires: bool) -> None:
    result = propose_plan(
        PATIENT, _one_focus(40.0), DC_BEAD, PARAMS, PlanOptions(loading_mg_per_ml=loading)
    )
    (session,) = result.sessions
    assert session.irinotecan_loaded_mg == pytest.approx(100.0)  # 2 mL × min(loading, 50)
    assert ("dose.capacity_exceeded.s1" in _codes(result)) is fires


@pytest.mark.parametrize(("prior_mg", "fires"), [(300.0, False), (300.5, True)])
def test_cumulative_course_dose_threshold(prior_mg: float, fires: bool) -> None:
    # This plan loads 100 mg (40 cm³ → 2 mL → 1 vial); the course limit is 400 mg.
    course = CourseHistory(delivered_mg=prior_mg, procedures=1)
    result = propose_plan(PATIENT, _one_focus(40.0), DC_BEAD, PARAMS, course=course)
    assert ("course.cumulative_dose" in _codes(result)) is fires


@pytest.mark.parametrize(("prior_sessions", "fires"), [(1, False), (2, True)])
def test_session_count_threshold(prior_sessions: int, fires: bool) -> None:
    course = CourseHistory(procedures=prior_sessions)
    result = propose_plan(PATIENT, _one_focus(40.0), DC_BEAD, PARAMS, course=course)
    assert ("course.session_count" in _codes(result)) is fires


@pytest.mark.parametrize(
    ("liver", "fires"), [(600.0, False), (599.9, True), (2300.0, False), (2300.1, True)]
)
def test_liver_volume_plausibility_threshold(liver: float, fires: bool) -> None:
    patient = dataclasses.replace(PATIENT, height_cm=None, weight_kg=None)
    result = propose_plan(patient, _one_focus(10.0, liver=liver), DC_BEAD, PARAMS)
    assert ("liver.volume_implausible" in _codes(result)) is fires


def test_liver_volume_against_standard_liver_volume() -> None:
    slv = 706.2 * math.sqrt(175 * 70 / 3600) + 2.4
    at_limit = propose_plan(PATIENT, _one_focus(10.0, liver=slv * 1.3 - 1e-6), DC_BEAD, PARAMS)
    above = propose_plan(PATIENT, _one_focus(10.0, liver=slv * 1.3 + 0.5), DC_BEAD, PARAMS)
    assert "liver.differs_from_standard" not in _codes(at_limit)
    assert _severity(above, "liver.differs_from_standard") == "warning"


def test_other_advisories_of_section_9_2() -> None:
    patient = dataclasses.replace(
        PATIENT, ugt1a1_status="reduced", extrahepatic_disease=True, ia_lidocaine_planned=False
    )
    burden = BurdenInputs(LIVER_CM3, (*RIGHT_FOCI, TumourFocus("F9", "", 3.0)))
    baseline = BaselineImaging("fail", "CT of 2026-01-02 is 73 day(s) before the TACE", 28)
    result = propose_plan(patient, burden, DC_BEAD, PARAMS, baseline=baseline)
    assert _severity(result, "ugt1a1.reduced") == "warning"
    assert _severity(result, "eligibility.extrahepatic") == "warning"
    assert _severity(result, "premedication.no_ia_lidocaine") == "warning"
    assert _severity(result, "imaging.baseline_too_old") == "warning"
    assert _severity(result, "burden.unassigned_segment") == "warning"
    assert result.figures["tumour_volume_cm3.unassigned"] == pytest.approx(3.0)
    assert result.sessions[0].tumour_volume_cm3 == pytest.approx(107.001)  # F9 in no territory
    assert _severity(result, "product.label_unknown") is None  # DC Bead is labelled


def test_advisories_are_ranked_block_first() -> None:
    result = propose_plan(
        PATIENT, BurdenInputs(LIVER_CM3, RIGHT_FOCI), CATALOGUE.product("hepasphere"), PARAMS
    )
    order = ["block", "strong_warning", "warning", "info"]
    ranks = [order.index(a.severity) for a in result.advisories]
    assert ranks == sorted(ranks)


# ---------------------------------------------------------------------------
# Options and parameters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (PlanOptions(model="double"), "model"),  # type: ignore[arg-type]
        (PlanOptions(delivery="systemic"), "delivery"),  # type: ignore[arg-type]
        (PlanOptions(segments=("IX",)), "segments"),
        (PlanOptions(interval_days=0), "interval_days"),
        (PlanOptions(loading_mg_per_ml=-50.0), "loading_mg_per_ml"),
        (PlanOptions(bsa_formula="haycock"), "bsa_formula"),  # type: ignore[arg-type]
    ],
)
def test_invalid_options_name_the_field(options: PlanOptions, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        propose_plan(PATIENT, _one_focus(40.0), DC_BEAD, PARAMS, options)
    assert caught.value.field == field


def test_every_parameter_has_a_source_and_evidence_tag() -> None:
    for name, item in PARAMS.values.items():
        assert item.source.strip(), name
        assert item.evidence in {"G", "M", "S", "D", "institutional"}, name
    # The session limit is the sourced 100 mg; k has no publication and says so.
    assert PARAMS.value("per_session_cap_mg") == 100.0
    assert "Martin" in PARAMS.cite("per_session_cap_mg")
    assert PARAMS.values["embolic_capacity_ml_per_cm3"].evidence == "institutional"
    assert PARAMS.cite("embolic_capacity_ml_per_cm3").startswith("institutional default")
    assert "Martin" in PARAMS.cite("per_session_warning_mg")
    for name in PARAMS.values:  # text a clinician reads never names internal documents
        for word in ("clinical-reference", "§", "NOT FOUND", "[D]", "product brief"):
            assert word not in PARAMS.cite(name), (name, word)
    assert "Lencioni" in PARAMS.cite("burden_strong_warning_percent")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda v: v.pop("loading_mg_per_ml"), "planning: values.loading_mg_per_ml"),
        (lambda v: v["per_session_cap_mg"].update(value=-1), "planning: values.per_session_cap_mg"),
        (
            lambda v: v["per_session_cap_mg"].update(source=""),
            "planning: values.per_session_cap_mg.source",
        ),
        (lambda v: v["default_model"].update(value="magic"), "planning: values.default_model"),
        (
            lambda v: v["min_beads_per_session_ml"].update(value=9.0),
            "planning: values.min_beads_per_session_ml",
        ),
        (
            lambda v: v["per_session_warning_mg"].update(value=300.0),
            "planning: values.per_session_warning_mg",
        ),
        (
            lambda v: v.update(surprise={"value": 1, "source": "x", "evidence": "D"}),
            "planning: values",
        ),
    ],
)
def test_invalid_parameters_name_the_field(change: Any, field: str) -> None:
    data = copy.deepcopy(_resource("planning.json"))
    change(data["values"])
    with pytest.raises(InvalidInputError) as caught:
        PlanningParameters.from_dict(data)
    assert caught.value.field == field


def test_segment_spellings() -> None:
    assert lobe_of_segment("IVa") == "left"
    assert lobe_of_segment("segment 7") == "right"
    assert lobe_of_segment("I") == "caudate"
    assert lobe_of_segment("") is None


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

volumes = st.floats(0.01, 800.0, allow_nan=False)
segments = st.sampled_from(["I", "II", "III", "IV", "V", "VI", "VII", "VIII"])
foci = st.lists(
    st.builds(TumourFocus, st.sampled_from(["A", "B", "C", "D"]), segments, volumes),
    min_size=1,
    max_size=6,
)
parameter_changes = st.fixed_dictionaries(
    {
        "embolic_capacity_ml_per_cm3": st.floats(0.005, 0.5),
        "max_beads_per_session_ml": st.floats(2.0, 12.0),
        "per_session_cap_mg": st.floats(100.0, 400.0),
        "loading_mg_per_ml": st.floats(10.0, 100.0),
    }
)
products = st.builds(_product, capacity=st.floats(5.0, 150.0), vial_ml=st.floats(0.5, 4.0))


@settings(max_examples=200, deadline=None)
@given(foci, st.sampled_from(["burden", "fixed"]), st.sampled_from(["sequential", "single"]))
def test_same_inputs_give_the_same_plan(
    focus_list: list[TumourFocus], model: str, schedule: str
) -> None:
    burden = BurdenInputs(2000.0, tuple(focus_list))
    options = PlanOptions(model=model, schedule=schedule)  # type: ignore[arg-type]
    first = propose_plan(PATIENT, burden, DC_BEAD, PARAMS, options)
    second = propose_plan(PATIENT, copy.deepcopy(burden), DC_BEAD, PARAMS, options)
    assert first == second


@settings(max_examples=300, deadline=None)
@given(volumes, volumes, parameter_changes, products)
def test_more_burden_never_gives_less(
    v1: float, v2: float, changes: dict[str, float], product: BeadProduct
) -> None:
    params = PARAMS.with_values(**changes)
    low, high = sorted((v1, v2))
    small = propose_plan(PATIENT, _one_focus(low, liver=5000.0), product, params).sessions[0]
    large = propose_plan(PATIENT, _one_focus(high, liver=5000.0), product, params).sessions[0]
    assert large.beads_ml >= small.beads_ml
    assert large.vials >= small.vials
    assert large.irinotecan_loaded_mg >= small.irinotecan_loaded_mg - 1e-9
    assert large.irinotecan_expected_delivered_mg >= small.irinotecan_expected_delivered_mg - 1e-9


@settings(max_examples=300, deadline=None)
@given(foci, parameter_changes, products, st.sampled_from(["burden", "fixed"]))
def test_caps_are_never_exceeded(
    focus_list: list[TumourFocus], changes: dict[str, float], product: BeadProduct, model: str
) -> None:
    params = PARAMS.with_values(**changes)
    burden = BurdenInputs(5000.0, tuple(focus_list))
    result = propose_plan(PATIENT, burden, product, params, PlanOptions(model=model))  # type: ignore[arg-type]
    vial_ml = product.vial_bead_volume_ml.value
    capacity = product.irinotecan_capacity_mg_per_ml.value
    assert vial_ml is not None
    assert capacity is not None
    for session in result.sessions:
        assert session.irinotecan_loaded_mg <= params.value("per_session_cap_mg") + 1e-9
        assert all(load <= vial_ml * capacity + 1e-9 for load in session.vial_loads_mg)
        assert session.irinotecan_expected_delivered_mg <= session.irinotecan_loaded_mg + 1e-9
        assert session.beads_ml <= session.prepared_beads_ml + 1e-9
        assert session.prepared_beads_ml - session.beads_ml < vial_ml + 1e-9
        if model == "burden":
            assert session.beads_ml <= params.value("max_beads_per_session_ml") + 1e-9
            assert session.beads_ml >= params.value("min_beads_per_session_ml") - 1e-9


@settings(max_examples=200, deadline=None)
@given(foci)
def test_every_tumour_bearing_lobe_is_treated_once(focus_list: list[TumourFocus]) -> None:
    result = propose_plan(PATIENT, BurdenInputs(5000.0, tuple(focus_list)), DC_BEAD, PARAMS)
    treated = [s for session in result.sessions for s in session.segments]
    assert len(treated) == len(set(treated))
    expected = {f.segment for f in focus_list}
    assert set(treated) == expected
    total = sum(s.tumour_volume_cm3 for s in result.sessions)
    assert total == pytest.approx(sum(f.volume_cm3 for f in focus_list))
    lobes = {lobe_of_segment(f.couinaud_segment) for f in focus_list} - {"caudate"}
    assert len(result.sessions) == max(1, len(lobes))


@settings(max_examples=100, deadline=None)
@given(foci, st.sampled_from(["burden", "fixed"]))
def test_session_json_round_trip(focus_list: list[TumourFocus], model: str) -> None:
    burden = BurdenInputs(5000.0, tuple(focus_list))
    options = PlanOptions(model=model)  # type: ignore[arg-type]
    result = propose_plan(PATIENT, burden, DC_BEAD, PARAMS, options)
    for session in result.sessions:
        assert SessionPlan.from_json(json.loads(json.dumps(session.to_json()))) == session
    assert BurdenInputs.from_json(json.loads(json.dumps(burden.to_json()))) == burden
    assert PlanOptions.from_json(json.loads(json.dumps(result.options.to_json()))) == result.options
