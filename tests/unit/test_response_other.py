"""mRECIST, EASL, Choi, volumetric engines, growth edge cases and the parameter file."""

from __future__ import annotations

import copy
import importlib.resources
import json
import math

import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.response.growth import lesion_growth, total_growth
from tace_planner.domain.response.other import (
    choi_response,
    easl_response,
    mrecist_response,
    volumetric_response,
)
from tace_planner.domain.response.parameters import ResponseParameters
from tace_planner.services.response_parameters import RESPONSE_FILE, load_response_parameters


@pytest.mark.parametrize(
    ("baseline", "now", "earlier", "expected"),
    [
        (50.0, 0.0, (), "CR"),
        (50.0, 35.0, (), "PR"),  # −30 % exactly
        (50.0, 35.1, (), "SD"),
        (50.0, 42.0, (35.0,), "PD"),  # +20 % over nadir 35, only +7 mm
        (10.0, 12.0, (), "PD"),  # no 5 mm clause in mRECIST
        (50.0, None, (), "NE"),
    ],
)
def test_mrecist(baseline, now, earlier, expected):
    result = mrecist_response(baseline, now, earlier)
    assert result.category == expected
    assert "hepatocellular" in result.validated_for


def test_mrecist_new_lesion_is_pd():
    assert mrecist_response(50.0, 10.0, new_lesions=True).category == "PD"


@pytest.mark.parametrize(
    ("baseline", "now", "earlier", "expected"),
    [
        (400.0, 0.0, (), "CR"),
        (400.0, 200.0, (), "PR"),  # −50 %
        (400.0, 201.0, (), "SD"),
        (400.0, 250.0, (200.0,), "PD"),  # +25 % over nadir
        (400.0, 249.0, (200.0,), "SD"),
    ],
)
def test_easl(baseline, now, earlier, expected):
    result = easl_response(baseline, now, earlier)
    assert result.category == expected
    assert "Bruix" in result.explanation.source


@pytest.mark.parametrize(
    ("size", "hu", "modified", "expected"),
    [
        (0.0, 0.0, False, "CR"),
        (90.0, 100.0, False, "PR"),  # size −10 %
        (100.0, 85.0, False, "PR"),  # density −15 %
        (100.0, 85.0, True, "SD"),  # modified Choi needs both
        (90.0, 85.0, True, "PR"),
        (95.0, 90.0, False, "SD"),
        (110.0, 100.0, False, "PD"),  # +10 % without the density response
        (110.0, 80.0, False, "PR"),  # size up, density down 20 %: not PD (Choi)
        (95.0, None, False, "NE"),
    ],
)
def test_choi(size, hu, modified, expected):
    result = choi_response(100.0, size, 100.0, hu, modified=modified)
    assert result.category == expected
    assert "gastrointestinal stromal" in result.validated_for


@pytest.mark.parametrize(
    ("baseline", "now", "earlier", "expected"),
    [
        (20.0, 0.0, (), "CR"),
        (20.0, 7.0, (), "PR"),  # −65 %
        (20.0, 7.1, (), "SD"),
        (20.0, 17.3, (10.0,), "PD"),  # +73 % over nadir
        (20.0, 17.2, (10.0,), "SD"),
    ],
)
def test_volumetric(baseline, now, earlier, expected):
    result = volumetric_response(baseline, now, earlier)
    assert result.category == expected
    assert "not validated for metastases" in result.validated_for


def test_growth_edge_cases_each_defined():
    growing = lesion_growth("T01", 10.0, 20.0, 30.0)
    assert growing.doubling_time_days == pytest.approx(30.0)
    assert growing.sgr_per_day == pytest.approx(math.log(2) / 30)
    shrinking = lesion_growth("T01", 20.0, 10.0, 30.0)
    assert shrinking.sgr_per_day == pytest.approx(-growing.sgr_per_day)  # symmetric
    assert shrinking.doubling_time_days == pytest.approx(-30.0)
    same = lesion_growth("T01", 10.0, 10.0, 30.0)
    assert (same.doubling_time_days, same.sgr_per_day, same.flag) == (None, 0.0, "no_change")
    new = lesion_growth("N01", 0.0, 2.0, 30.0)
    assert (new.doubling_time_days, new.sgr_per_day, new.flag) == (None, None, "new_lesion")
    gone = lesion_growth("T02", 3.0, 0.0, 30.0)
    assert (gone.sgr_per_day, gone.flag) == (None, "disappeared")
    assert "disappeared" in gone.explanation.summary
    assert lesion_growth("T03", 0.0, 0.0, 30.0).flag == "absent"
    assert lesion_growth("T03", 1.0, 2.0, 0.0).flag == "invalid"
    total = total_growth([10.0, 0.0], [15.0, 5.0], 30.0)
    assert total.doubling_time_days == pytest.approx(30.0)


def test_parameter_file_is_read_and_checked(tmp_path):
    shipped = load_response_parameters()
    assert shipped == ResponseParameters()  # the shipped values are the defaults
    assert "Eisenhauer" in shipped.source("recist_pr_decrease_percent")
    shipped_file = importlib.resources.files("tace_planner.resources") / "parameters"
    data = json.loads((shipped_file / RESPONSE_FILE).read_text(encoding="utf-8"))
    broken = copy.deepcopy(data)
    broken["values"]["volume_pd_increase_percent"]["value"] = "73"
    (tmp_path / RESPONSE_FILE).write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"values\.volume_pd_increase_percent"):
        load_response_parameters(tmp_path)
    changed = copy.deepcopy(data)
    changed["values"]["sd_min_days"]["value"] = 56
    (tmp_path / RESPONSE_FILE).write_text(json.dumps(changed), encoding="utf-8")
    assert load_response_parameters(tmp_path).sd_min_days == 56
