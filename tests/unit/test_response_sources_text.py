"""The source texts of the response thresholds: "; " separates sources, never sits inside one.

The shipped ``response.json`` (version 3) words every source without "; "; an
institution's copy of an older version (1 or 2, whose volumetric and lymph-node sources
held "; ") is read with ", " in its place; a file of version 3 or later holding "; "
inside a source is refused with one line naming the file and the field.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.response.other import VOLUMETRIC, threshold_response
from tace_planner.domain.response.parameters import ResponseParameters
from tace_planner.services.response_parameters import RESPONSE_FILE, load_response_parameters

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "parameters" / RESPONSE_FILE
OLD_VOLUME_SOURCE = (
    "volumetric response derived from the RECIST 1.1 progression limit by sphere volume: a "
    "20 % diameter increase is a 73 % volume increase (1.2³ − 1); RECIST's 5 mm rule has no "
    "volumetric counterpart (Eisenhauer, Eur J Cancer 2009)"
)
"""The volumetric source as version 2 of the shipped file worded it."""


def _shipped() -> dict[str, Any]:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def _with_source(version: str, name: str, source: str) -> dict[str, Any]:
    data = copy.deepcopy(_shipped())
    data["version"] = version
    data["values"][name]["source"] = source
    return data


def test_the_shipped_file_shows_each_source_once_as_written() -> None:
    params = load_response_parameters()
    assert params.version == "3"
    written = {name: entry["source"] for name, entry in _shipped()["values"].items()}
    assert {n: s for n, s in written.items() if "; " in s} == {}
    for name in ResponseParameters.names():  # shown as the file words it, not rewritten
        assert params.source(name) == written[name], name
    everything = params.source(*ResponseParameters.names())
    assert everything.split("; ") == list(dict.fromkeys(written.values()))


def test_the_volumetric_explanation_lists_its_two_sources_once_each() -> None:
    params = load_response_parameters()
    source = threshold_response(VOLUMETRIC, 100.0, 200.0, parameters=params).explanation.source
    parts = source.split("; ")
    assert params.sources["volume_pd_increase_percent"] in parts
    assert params.sources["volume_pr_decrease_percent"] in parts
    assert len(parts) == len(set(parts))


@pytest.mark.parametrize("version", ["1", "2"])
def test_an_older_copy_with_a_semicolon_in_a_source_still_reads_as_one_source(
    version: str,
) -> None:
    data = _with_source(version, "volume_pd_increase_percent", OLD_VOLUME_SOURCE)
    if version == "1":  # added in version 2
        for name in ("mrecist_new_lesion_min_mm", "mrecist_new_lesion_growth_mm"):
            del data["values"][name]
    params = ResponseParameters.from_dict(data, origin="response.json")
    assert params.version == version
    stored = params.sources["volume_pd_increase_percent"]
    assert "; " not in stored
    assert stored == OLD_VOLUME_SOURCE.replace("; ", ", ")
    assert params.source("volume_pd_increase_percent") == stored  # one part, cited
    joined = params.source("volume_pr_decrease_percent", "volume_pd_increase_percent")
    assert joined.split("; ")[1] == stored


def test_a_new_file_with_a_semicolon_in_a_source_is_refused_naming_the_field(
    tmp_path: Path,
) -> None:
    data = _with_source("3", "volume_pd_increase_percent", OLD_VOLUME_SOURCE)
    (tmp_path / RESPONSE_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_response_parameters(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.field == (
        f"{tmp_path / RESPONSE_FILE}: values.volume_pd_increase_percent.source"
    )
    assert '"; "' in message
    # the same file worded without "; " is read
    data = _with_source("4", "sd_min_days", "institutional default (Eisenhauer 2009)")
    (tmp_path / RESPONSE_FILE).write_text(json.dumps(data), encoding="utf-8")
    params = load_response_parameters(tmp_path)
    assert params.version == "4"
    assert params.source("sd_min_days") == "institutional default (Eisenhauer 2009)"
