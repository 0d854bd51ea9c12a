"""``study reassign`` with the name of another person than the stored patient of that
Patient ID: the one-line refusal gives the command line's way out (leave out
``--patient-name``), not the Assign dialog's."""

from __future__ import annotations

from pathlib import Path

import pytest

from reassign_seed import write_series
from tace_planner.cli import main

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def test_a_wrong_name_is_refused_with_advice_for_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    orphan = write_series(tmp_path / "orphan", "", "")
    write_series(tmp_path / "jane", "TACE-017", "Doe^Jane")
    assert _run(data, "import", str(tmp_path / "orphan"), str(tmp_path / "jane")) == 0
    capsys.readouterr()

    code = _run(
        data, "study", "reassign", "--study", orphan, "--patient-id", "TACE-017",
        "--patient-name", "Roe^John",
    )  # fmt: skip

    assert code == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(
        "error: --patient-name: Patient ID TACE-017 is stored for DOE, Jane [TACE-017], not "
    )
    assert "leave out --patient-name" in line
    assert "Stored patient" not in line  # the dialog's advice, not the command line's

    # the advice works: without --patient-name the study goes to the stored patient
    assert _run(data, "study", "reassign", "--study", orphan, "--patient-id", "TACE-017") == 0
    assert "handed to DOE, Jane [TACE-017];" in capsys.readouterr().out
