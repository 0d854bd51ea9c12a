"""Command line: check-protocol and classify on the imported small phantom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tace_planner.cli import main

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def test_check_protocol_and_correct_a_classification(
    tmp_path: Path, small_phantom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path / "data"), "--user", "dr ct"]
    assert main([*data, "import", str(small_phantom / "baseline"), "--json"]) == 0
    volumes = json.loads(capsys.readouterr().out)["volumes"]
    arterial = next(v for v in volumes if v.get("phase") == "arterial")

    # The small phantom has 5 mm CT slices: the check fails and says so, per series.
    assert (
        main(
            [*data, "check-protocol", arterial["study_uid"], "--tace-date", "2026-03-16", "--json"]
        )
        == 1
    )
    result = json.loads(capsys.readouterr().out)
    failed = [r for r in result["requirements"] if r["status"] == "fail"]
    assert failed
    assert all("5 mm" in r["reason"] for r in failed)
    assert all(r["code"].startswith("ct.slices.") for r in failed)

    assert (
        main(
            [
                *data,
                "classify",
                arterial["series_uid"],
                "--phase",
                "venous",
                "--reason",
                "bolus tracking failed",
            ]
        )
        == 0
    )
    assert "venous" in capsys.readouterr().out
    assert main([*data, "series", "--json"]) == 0
    stored = {s["series_uid"]: s for s in json.loads(capsys.readouterr().out)}
    assert stored[arterial["series_uid"]]["phase"] == "venous"

    assert main([*data, "classify", arterial["series_uid"], "--phase", "portal"]) == 1
    assert "phase" in capsys.readouterr().err
    assert main([*data, "check-protocol", "--case", "999"]) == 1
    assert "999" in capsys.readouterr().err
