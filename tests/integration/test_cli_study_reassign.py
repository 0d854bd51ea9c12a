"""Command line: ``study reassign`` hands a study imported without a Patient ID to its patient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reassign_seed import write_series
from tace_planner.cli import main

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def test_study_reassign_prints_json_and_refuses_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    orphan = write_series(tmp_path / "orphan", "", "")
    assert _run(data, "import", str(tmp_path / "orphan")) == 0
    capsys.readouterr()

    code = _run(
        data, "study", "reassign", "--study", orphan, "--patient-id", "TACE-050",
        "--patient-name", "Poe^Anna", "--json",
    )  # fmt: skip

    assert code == 0
    shown = json.loads(capsys.readouterr().out)
    assert {
        "study_uid",
        "series_count",
        "image_count",
        "from_patient_id",
        "to_patient_id",
        "to_patient_name",
        "created_patient",
        "case_title",
    } <= set(shown)
    assert (shown["study_uid"], shown["to_patient_id"], shown["created_patient"]) == (
        orphan,
        "TACE-050",
        True,
    )
    assert shown["image_count"] == 3
    assert shown["from_patient_id"] == "(no patient id)"

    # the study is now a named patient's: handing it on is refused, in one line
    assert _run(data, "study", "reassign", "--study", orphan, "--patient-id", "TACE-051",
                "--patient-name", "Roe^John") == 1  # fmt: skip
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: Study ")
    assert "belongs to POE, Anna [TACE-050]" in line
    assert "wrong-patient" in line


def test_study_reassign_without_patient_id_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(tmp_path / "data", "study", "reassign", "--study", "1.2.3")
    assert exited.value.code == 2
    assert "--patient-id" in capsys.readouterr().err
