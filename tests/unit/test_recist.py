"""RECIST 1.1 measurability and target selection (Eisenhauer, Eur J Cancer 2009) and its file."""

from __future__ import annotations

import copy
import importlib.resources
import json

import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.recist import (
    RecistParameters,
    TargetCandidate,
    is_measurable,
    measurable_minimum_mm,
    target_advisories,
)
from tace_planner.services.recist_parameters import load_recist_parameters


def _shipped() -> dict:
    resource = importlib.resources.files("tace_planner.resources") / "parameters" / "recist.json"
    return json.loads(resource.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("thickness", "minimum"),
    [(None, 10.0), (1.0, 10.0), (2.5, 10.0), (5.0, 10.0), (5.5, 11.0), (7.0, 14.0), (8.0, 16.0)],
)
def test_measurable_minimum_is_10_mm_or_twice_a_thick_slice(thickness, minimum) -> None:
    assert measurable_minimum_mm(thickness) == pytest.approx(minimum)


def test_a_12_mm_lesion_is_measurable_on_5_mm_slices_but_not_on_7_mm_slices() -> None:
    assert is_measurable(12.0, 5.0)
    assert not is_measurable(12.0, 7.0)
    assert not is_measurable(9.9, 2.5)
    assert not is_measurable(None, 2.5)
    codes = [a.code for a in target_advisories(TargetCandidate("F1", "liver", 12.0, 7.0), [])]
    assert codes == ["recist.too_small"]
    (advisory,) = target_advisories(TargetCandidate("F1", "liver", 12.0, 7.0), [])
    assert "14 mm" in advisory.message
    assert "Eisenhauer" in advisory.source


def test_at_most_two_per_organ_and_five_in_all() -> None:
    two_liver = [TargetCandidate("F1", "liver", 30.0), TargetCandidate("F2", "liver", 30.0)]
    third = TargetCandidate("F3", "liver", 30.0)
    assert [a.code for a in target_advisories(third, two_liver)] == ["recist.too_many_per_organ"]
    assert target_advisories(third, two_liver[:1]) == ()
    five = [TargetCandidate(f"L{n}", f"organ{n}", 30.0) for n in range(5)]
    sixth = TargetCandidate("F9", "liver", 30.0)
    assert [a.code for a in target_advisories(sixth, five)] == ["recist.too_many_targets"]
    assert all(a.severity == "block" for a in target_advisories(sixth, five))


def test_the_shipped_parameter_file_holds_the_rule_and_says_what_is_institutional() -> None:
    params = load_recist_parameters()
    assert (params.min_longest_diameter_mm, params.thin_slice_limit_mm) == (10.0, 5.0)
    assert (params.slice_thickness_factor, params.max_targets, params.max_targets_per_organ) == (
        2.0,
        5,
        2,
    )
    assert "Eisenhauer" in params.sources["min_longest_diameter_mm"]
    assert params.enhancing_source().startswith("institutional default")
    assert "mRECIST" not in json.dumps(params.sources)


def test_a_local_parameter_file_changes_the_rule(tmp_path) -> None:
    shipped = _shipped()
    local = copy.deepcopy(shipped)
    local["values"]["min_longest_diameter_mm"]["value"] = 15.0
    (tmp_path / "recist.json").write_text(json.dumps(local), encoding="utf-8")
    params = load_recist_parameters(tmp_path)
    assert measurable_minimum_mm(2.5, params) == 15.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d["values"].pop("max_targets"), "values.max_targets"),
        (lambda d: d["values"]["max_targets"].update(value=2.5), "values.max_targets"),
        (lambda d: d["values"]["thin_slice_limit_mm"].update(value=-1), "thin_slice_limit_mm"),
        (lambda d: d["values"]["slice_thickness_factor"].update(source=""), "factor"),
        (lambda d: d["values"].update(extra={"value": 1, "source": "x"}), "unknown"),
    ],
)
def test_a_bad_parameter_file_is_refused_naming_the_field(change, field) -> None:
    data = _shipped()
    change(data)
    with pytest.raises(InvalidInputError, match=field):
        RecistParameters.from_dict(data)
