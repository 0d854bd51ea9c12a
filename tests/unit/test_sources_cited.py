"""Every source a clinician reads cites a publication (with its year) or says
"institutional default".

An explanation's ``source`` joins several sources with "; ": each part must carry its
own citation, or a part reads as an uncited claim (the volumetric thresholds once ended
"… a 20 % diameter increase is a 73 % volume increase (1.2³ − 1)" with the citation in
the next part).
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import numpy as np
import pytest

import tace_planner.domain as domain
from tace_planner.domain import anatomy, burden
from tace_planner.domain.burden import FocusVolume, tumour_burden
from tace_planner.domain.response.best import TimepointResponse, best_overall_response
from tace_planner.domain.response.other import THRESHOLD_CRITERIA, threshold_response
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters
from tace_planner.domain.statistics import kruskal_wallis, mann_whitney
from tace_planner.services.response_parameters import load_response_parameters

YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def uncited(source: str) -> list[str]:
    """The "; "-separated parts of ``source`` with neither a year nor "institutional
    default"."""
    parts = [part.strip() for part in source.split("; ")]
    return [
        part
        for part in parts
        if not YEAR.search(part) and "institutional default" not in part.casefold()
    ]


def _domain_source_constants() -> dict[str, str]:
    found = {}
    for info in pkgutil.walk_packages(domain.__path__, prefix="tace_planner.domain."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.endswith("SOURCE") and isinstance(value, str):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_source_constant_of_the_domain_is_cited() -> None:
    # the checker catches what it should
    assert uncited("Eisenhauer, Eur J Cancer 2009") == []
    assert uncited("institutional default: voxel count × voxel volume") == []
    assert uncited("a 73 % volume increase (1.2³ − 1); RECIST (Eisenhauer 2009)") == [
        "a 73 % volume increase (1.2³ − 1)"
    ]
    constants = _domain_source_constants()
    assert "tace_planner.domain.burden.F_DEFINITION_SOURCE" in constants
    assert {name: text for name, text in constants.items() if uncited(text)} == {}


def test_tumour_burden_f_says_it_is_an_institutional_definition() -> None:
    assert burden.F_DEFINITION_SOURCE.startswith("institutional default")
    result = tumour_burden([FocusVolume("F1", 50.0, "VI")], 1500.0)
    assert uncited(result.explanation.source) == []


def test_couinaud_segments_name_an_author_and_a_year() -> None:
    assert "Couinaud, " in anatomy.COUINAUD_SOURCE  # the author, not only the eponym
    assert uncited(anatomy.COUINAUD_SOURCE) == []


@pytest.mark.parametrize(
    "parameters",
    [pytest.param(DEFAULT_RESPONSE, id="built-in"), pytest.param(None, id="shipped-file")],
)
def test_threshold_response_sources_are_cited_part_by_part(
    parameters: ResponseParameters | None,
) -> None:
    params = load_response_parameters() if parameters is None else parameters
    found = {
        (criterion, current): uncited(
            threshold_response(criterion, 100.0, current, parameters=params).explanation.source
        )
        for criterion in sorted(THRESHOLD_CRITERIA)
        for current in (10.0, 100.0, 300.0, None)
    }
    assert {key: parts for key, parts in found.items() if parts} == {}


@pytest.mark.parametrize(
    "parameters",
    [pytest.param(DEFAULT_RESPONSE, id="built-in"), pytest.param(None, id="shipped-file")],
)
def test_every_response_threshold_source_is_cited(parameters: ResponseParameters | None) -> None:
    params = load_response_parameters() if parameters is None else parameters
    for name in ResponseParameters.names():
        assert uncited(params.source(name)) == [], name
    best = best_overall_response([TimepointResponse(56, "PR")], parameters=params)
    assert uncited(best.explanation.source) == []


def test_statistical_tests_cite_their_publication() -> None:
    x, y = [1.0, 2.0, 3.5, 4.0], [5.0, 6.5, 7.0, 8.0, 9.0]
    sources = [
        mann_whitney(x, y).explanation.source,
        kruskal_wallis({"a": x, "b": y, "c": [2.5, 10.0, 11.0]}).explanation.source,
    ]
    assert [uncited(s) for s in sources] == [[], []]
    assert all("::" not in s for s in sources)  # no function names of a language


def test_a_measured_volume_says_its_method_is_the_institutions() -> None:
    from tace_planner.domain.measurements import measure_volume
    from tace_planner.domain.volume import ImageVolume

    grid = ImageVolume(np.zeros((3, 4, 4), np.float32), np.diag([0.8, 0.8, 2.5, 1.0]), "1.2.3")
    mask = np.zeros((3, 4, 4), bool)
    mask[1, 1:3, 1:3] = True
    assert uncited(measure_volume(mask, grid).explanation.source) == []
