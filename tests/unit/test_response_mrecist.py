"""mRECIST non-target response, new lesions and overall response (Lencioni and Llovet 2010)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tace_planner.domain.response.mrecist import (
    IR_SD,
    NON_TARGET_STATES,
    MrecistNonTarget,
    NewLesionObservation,
    new_lesion_status,
    non_target_response,
    overall_response,
)
from tace_planner.domain.response.other import mrecist_response
from tace_planner.domain.response.parameters import ResponseParameters


@pytest.mark.parametrize(
    ("lesion", "expected"),
    [
        (NewLesionObservation("N1", 10.0, True, washout=True), "unequivocal"),  # 1 cm exactly
        (NewLesionObservation("N1", 9.9, True, washout=True), "equivocal"),  # under 1 cm
        (NewLesionObservation("N1", 15.0, True), "unequivocal"),  # washout not assessed
        (NewLesionObservation("N1", 15.0, True, washout=False), "equivocal"),  # atypical
        (NewLesionObservation("N1", 15.0, False, interval_growth_mm=10.0), "unequivocal"),
        (NewLesionObservation("N1", 15.0, False, interval_growth_mm=9.9), "equivocal"),
        (NewLesionObservation("N1", 9.0, False, interval_growth_mm=12.0), "equivocal"),
        (NewLesionObservation("N1", None, True, washout=True), "equivocal"),  # not measured
    ],
)
def test_new_lesion_rules(lesion, expected):
    result = new_lesion_status([lesion])
    assert result.category == expected
    assert "N1" in result.explanation.inputs
    assert "Lencioni" in result.explanation.source


def test_new_lesions_none_and_one_proven_among_equivocal():
    assert new_lesion_status([]).category == "none"
    result = new_lesion_status(
        [NewLesionObservation("N1", 6.0, True), NewLesionObservation("N2", 12.0, True)]
    )
    assert result.category == "unequivocal"
    assert "N2" in result.rule
    assert "N1" not in result.rule


def test_new_lesion_threshold_comes_from_the_parameters():
    strict = ResponseParameters(mrecist_new_lesion_min_mm=Decimal(20))
    assert new_lesion_status([NewLesionObservation("N1", 15.0, True)], strict).category == (
        "equivocal"
    )


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (("not_enhancing", "not_enhancing"), "CR"),
        (("not_enhancing", "enhancing"), IR_SD),
        (("enhancing", "unequivocal_progression"), "PD"),
        (("enhancing", "not_evaluated"), "NE"),
        (("unequivocal_progression", "not_evaluated"), "PD"),
    ],
)
def test_non_target_response(states, expected):
    lesions = [MrecistNonTarget(f"NT{n}", s) for n, s in enumerate(states, start=1)]
    result = non_target_response(lesions)
    assert result is not None
    assert result.category == expected
    assert result.criterion == "mRECIST"


def test_effusion_progresses_only_with_cytology():
    growing = MrecistNonTarget("ascites", "unequivocal_progression", effusion=True)
    result = non_target_response([growing])
    assert result is not None
    assert result.category == IR_SD
    assert "cytological" in result.explanation.inputs["ascites"]
    proven = MrecistNonTarget(
        "ascites", "unequivocal_progression", effusion=True, cytology_confirmed=True
    )
    assert non_target_response([proven]).category == "PD"  # type: ignore[union-attr]
    assert non_target_response([]) is None


@pytest.mark.parametrize(
    ("target", "non_target", "new", "expected"),
    [
        # The rows of the published overall response table.
        ("CR", "CR", "none", "CR"),
        ("CR", IR_SD, "none", "PR"),
        ("PR", IR_SD, "none", "PR"),
        ("PR", "CR", "none", "PR"),
        ("SD", IR_SD, "none", "SD"),
        ("SD", "CR", "none", "SD"),
        ("PD", "CR", "none", "PD"),
        ("CR", "PD", "none", "PD"),
        ("CR", "CR", "unequivocal", "PD"),
        # Choices written down in the module.
        ("CR", "CR", "equivocal", "PR"),
        ("SD", IR_SD, "equivocal", "SD"),
        ("CR", None, "none", "CR"),
        ("CR", "NE", "none", "PR"),
        ("PR", "NE", "none", "PR"),
        ("NE", IR_SD, "none", "NE"),
        ("NE", IR_SD, "unequivocal", "PD"),
        (None, "CR", "none", "CR"),
        (None, "CR", "equivocal", IR_SD),
        (None, IR_SD, "none", IR_SD),
        (None, None, "none", "NE"),
    ],
)
def test_overall_response_table(target, non_target, new, expected):
    result = overall_response(target, non_target, new)
    assert result.category == expected
    assert result.explanation.inputs["new lesions"] == new
    assert "hepatocellular" in result.validated_for


def test_overall_pd_exactly_when_a_column_progresses():
    for target, non_target, new in itertools.product(
        ("CR", "PR", "SD", "PD", "NE", None),
        ("CR", IR_SD, "PD", "NE", None),
        ("none", "equivocal", "unequivocal"),
    ):
        progressed = "PD" in (target, non_target) or new == "unequivocal"
        assert (overall_response(target, non_target, new).category == "PD") is progressed


def test_overall_refuses_an_unknown_new_lesion_state():
    with pytest.raises(ValueError, match="new_lesions"):
        overall_response("CR", "CR", "maybe")  # type: ignore[arg-type]


def test_worked_case_viable_target_gone_enhancing_non_target_is_pr():
    """Chemoembolised HCC: viable sum 52 → 0 mm, one non-target still enhancing."""
    target = mrecist_response(52.0, 0.0)
    non_target = non_target_response([MrecistNonTarget("NT1", "enhancing")])
    new = new_lesion_status([NewLesionObservation("N1", 8.0, True, washout=True)])
    assert (target.category, non_target.category, new.category) == ("CR", IR_SD, "equivocal")  # type: ignore[union-attr]
    result = overall_response(target.category, non_target.category, new.category)  # type: ignore[union-attr, arg-type]
    assert result.category == "PR"
    assert "target CR with non-target IR/SD" in result.rule


@given(
    st.lists(st.sampled_from(NON_TARGET_STATES), min_size=1, max_size=6),
    st.lists(
        st.tuples(
            st.floats(0, 40, allow_nan=False), st.booleans(), st.sampled_from([None, True, False])
        ),
        max_size=4,
    ),
    st.randoms(use_true_random=False),
)
def test_result_does_not_depend_on_lesion_order(states, new, rng):
    non_targets = [MrecistNonTarget(f"NT{n}", s) for n, s in enumerate(states)]
    news = [NewLesionObservation(f"N{n}", d, a, w) for n, (d, a, w) in enumerate(new)]
    shuffled_nt, shuffled_new = non_targets[:], news[:]
    rng.shuffle(shuffled_nt)
    rng.shuffle(shuffled_new)
    assert non_target_response(non_targets).category == non_target_response(shuffled_nt).category  # type: ignore[union-attr]
    assert new_lesion_status(news).category == new_lesion_status(shuffled_new).category


def test_a_version_1_parameter_file_keeps_the_new_lesion_defaults(tmp_path):
    import importlib.resources
    import json

    from tace_planner.services.response_parameters import RESPONSE_FILE, load_response_parameters

    shipped = importlib.resources.files("tace_planner.resources") / "parameters" / RESPONSE_FILE
    data = json.loads(shipped.read_text(encoding="utf-8"))
    data["version"] = "1"
    del data["values"]["mrecist_new_lesion_min_mm"]
    del data["values"]["mrecist_new_lesion_growth_mm"]
    data["values"]["mrecist_pd_increase_percent"]["value"] = 25  # an institution's change
    (tmp_path / RESPONSE_FILE).write_text(json.dumps(data), encoding="utf-8")
    old = load_response_parameters(tmp_path)
    assert old.version == "1"
    assert old.mrecist_pd_increase_percent == Decimal(25)
    assert old.mrecist_new_lesion_min_mm == Decimal(10)
    assert new_lesion_status([NewLesionObservation("N1", 10.0, True)], old).category == (
        "unequivocal"
    )
