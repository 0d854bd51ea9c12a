"""Tumour burden F = V_mts / V_liv × 100 % (clinical-reference §9.1) and Couinaud lobes (§7)."""

from __future__ import annotations

import math

import pytest

from tace_planner.domain.burden import (
    FocusVolume,
    lobe_of,
    tumour_burden,
)
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Advisory, Explanation
from tace_planner.domain.measurements import measure_volume
from tace_planner.imaging.phantom import phantom_truth
from tace_planner.imaging.phantom_truth import truth_masks


def test_worked_example() -> None:
    foci = [
        FocusVolume("F1", 40.0, "VIII"),
        FocusVolume("F2", 10.0, "II"),
        FocusVolume("F3", 5.0, "I"),
        FocusVolume("F4", 5.0, "IVa"),
    ]
    result = tumour_burden(foci, 1500.0)
    assert result.tumour_volume_cm3 == 60.0
    assert result.burden_percent == pytest.approx(4.0)
    assert result.non_tumour_liver_cm3 == 1440.0
    assert result.burden_vs_non_tumour_percent == pytest.approx(60.0 / 1440.0 * 100)
    assert dict(result.lobe_volumes_cm3) == {
        "right": 40.0,
        "left": 15.0,
        "caudate": 5.0,
        "unassigned": 0.0,
    }
    # Sub-segments of IV count in IV, as in the planner's per-segment totals.
    assert dict(result.segment_volumes_cm3) == {"I": 5.0, "II": 10.0, "IV": 5.0, "VIII": 40.0}
    assert result.focus_count == 4
    assert "F = V_mts / V_liv" in result.explanation.formula
    assert result.explanation.inputs["V_mts"] == "60.00 cm³"
    assert result.advisories == ()


@pytest.mark.parametrize(
    ("segment", "lobe"),
    [("I", "caudate"), ("ii", "left"), ("IV", "left"), ("IVb", "left"), ("V", "right"),
     ("VIII", "right"), ("7", "right"), ("1", "caudate"), (None, "unassigned"),
     ("X", "unassigned")],
)  # fmt: skip
def test_lobe_from_couinaud_segment(segment: str | None, lobe: str) -> None:
    assert lobe_of(segment) == lobe


@pytest.mark.parametrize("spelling", ["Segment 6", "VI", "6", "vi", "S6", "seg. VI"])
def test_every_spelling_of_a_segment_counts_in_one_segment_and_lobe(spelling: str) -> None:
    from tace_planner.domain.dosing import BurdenInputs, TumourFocus

    result = tumour_burden([FocusVolume("F1", 8.0, spelling)], 1500.0)
    assert dict(result.segment_volumes_cm3) == {"VI": 8.0}
    assert result.lobe_volumes_cm3["right"] == 8.0
    planner = BurdenInputs(1500.0, (TumourFocus("F1", spelling, 8.0),))
    assert planner.by_segment() == {"VI": 8.0}
    assert planner.by_lobe() == {"right": 8.0, "left": 0.0, "caudate": 0.0}
    assert planner.burden_percent == result.burden_percent


@pytest.mark.parametrize("spelling", ["IVa", "IVA", "iva", "4a", "Segment IVa"])
def test_sub_segment_iva_has_one_code(spelling: str) -> None:
    from tace_planner.domain.anatomy import canonical_segment, lobe_of_segment, segment_of

    assert canonical_segment(spelling) == "IVa"
    assert segment_of(spelling) == "IV"
    assert lobe_of_segment(spelling) == "left"
    assert lobe_of(spelling) == "left"


def test_no_foci_gives_zero() -> None:
    result = tumour_burden([], 1500.0)
    assert result.burden_percent == 0.0
    assert result.advisories == ()


def test_advisories_for_an_implausible_liver_and_questionable_geometry() -> None:
    result = tumour_burden([FocusVolume("F1", 400.0, "V")], 500.0)
    assert result.advisories == ()  # no range given, none checked
    result = tumour_burden([FocusVolume("F1", 400.0, "V")], 500.0, liver_range_cm3=(600, 2300))
    assert [a.code for a in result.advisories] == ["burden.liver_volume_implausible"]
    result = tumour_burden([FocusVolume("F1", 8.0, "V")], 1500.0, trust="warning")
    assert [(a.code, a.severity) for a in result.advisories] == [
        ("burden.geometry_warning", "warning")
    ]


def test_explanation_round_trips_through_json() -> None:
    result = tumour_burden([FocusVolume("F1", 8.0, "V")], 1500.0)
    data = result.explanation.to_json()
    assert Explanation.from_json(data) == result.explanation
    assert data["inputs"]["V F1 (V)"] == "8.00 cm³"
    advisory = Advisory("x.y", "warning", "text", "src")
    assert Advisory.from_json(advisory.to_json()) == advisory
    with pytest.raises(ValueError, match="severity"):
        Advisory("x.y", "loud", "text")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("foci", "liver", "match"),
    [
        ([FocusVolume("F1", 10.0)], 0.0, "liver volume"),
        ([FocusVolume("F1", -1.0)], 100.0, "F1"),
        ([FocusVolume("F1", 1.0), FocusVolume("F1", 2.0)], 100.0, "share a name"),
        ([FocusVolume("F1", 150.0)], 100.0, "exceed"),
    ],
)
def test_invalid_inputs_are_refused(foci, liver: float, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        tumour_burden(foci, liver)


def test_phantom_burden_from_truth_masks_matches_the_analytic_burden() -> None:
    """F from voxel-counted truth masks on the full CT grid within 0.5 points of analytic F."""
    truth = phantom_truth("full", seed=0)
    baseline = truth.timepoint("baseline")
    grid = baseline.series_by_folder("CT_venous").grid
    masks = truth_masks(truth, grid, "baseline")
    analytic_mts = sum(f.volume_cm3 for f in baseline.foci)
    analytic_f = 100.0 * analytic_mts / truth.liver_volume_cm3
    measured = [
        FocusVolume(f.name, measure_volume(masks[f.name], grid.index_to_lps).volume_cm3,
                    f.couinaud_segment)
        for f in baseline.foci
    ]  # fmt: skip
    liver = measure_volume(masks["liver"], grid.index_to_lps).volume_cm3
    result = tumour_burden(measured, liver)
    assert math.isclose(result.burden_percent, analytic_f, abs_tol=0.5)
    assert result.burden_percent == pytest.approx(analytic_f, abs=0.05)
    right = sum(
        f.volume_cm3 for f in baseline.foci if f.couinaud_segment in {"V", "VI", "VII", "VIII"}
    )
    assert result.lobe_volumes_cm3["right"] == pytest.approx(right, rel=0.01)
