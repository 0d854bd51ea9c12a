"""Command line: demo twice adds nothing, import JSON, series, cases, version."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tace_planner import __version__
from tace_planner.cli import main

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_demo_twice_adds_nothing(tmp_path: Path, small_phantom: Path) -> None:
    data = tmp_path / "data"
    demo_dir = data / "demo-phantom"
    shutil.copytree(small_phantom, demo_dir)
    (demo_dir / "phantom-parameters.json").write_text(
        '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
    )
    command = [
        sys.executable,
        "-m",
        "tace_planner",
        "--data-dir",
        str(data),
        "demo",
        "--no-gui",
        "--phantom-size",
        "small",
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "arterial" in first.stdout
    assert "venous" in first.stdout
    assert " 0 already stored" in first.stdout
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[1].startswith("0 new file(s)")
    cases = subprocess.run(
        [sys.executable, "-m", "tace_planner", "--data-dir", str(data), "cases", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = json.loads(cases.stdout)
    assert len(listed) == 1
    assert listed[0]["patient_id"] == "TACE-DEMO-001"


def test_import_json_and_exit_codes(
    tmp_path: Path, small_phantom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "import", str(small_phantom / "baseline"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {"volumes", "errors", "skipped"} <= printed.keys()
    phases = sorted(v["phase"] for v in printed["volumes"] if v["modality"] == "CT")
    assert phases == ["arterial", "delayed", "native", "venous"]
    assert all(v["series_uid"] and v["study_uid"] for v in printed["volumes"])

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images", encoding="utf-8")
    assert main([*data, "import", str(empty)]) == 1
    assert main([*data, "import", str(tmp_path / "missing")]) == 2
    capsys.readouterr()

    assert main([*data, "series", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    key = ("series_uid", "part", "shape", "spacing_mm", "geometry_status")
    assert sorted(tuple(str(s.get(k)) for k in key) for s in stored) == sorted(
        tuple(str(v.get(k)) for k in key)
        for v in printed["volumes"] + [{**o, "part": None} for o in printed["other_series"]]
    )
    dwi = [v for v in printed["volumes"] if v.get("sequence") == "dwi"]
    assert sorted(v["part"] for v in dwi) == ["b=50", "b=800"]
    for volume in printed["volumes"]:
        assert volume["geometry_status"] == "ok"
        assert len(volume["shape"]) == 3
        assert volume["slices"] == volume["shape"][0]
        assert volume["spacing_mm"][0] > 0
