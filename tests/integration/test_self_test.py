"""``tace-planner --self-test``: every step on a small phantom; a failure is named, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tace_planner import cli
from tace_planner.services import self_test

pytestmark = [pytest.mark.db, pytest.mark.dicom, pytest.mark.slow]

STEPS = [
    "open a new database",
    "generate a small phantom",
    "import the phantom",
    "create the case",
    "contour the liver",
    "contour a focus",
    "measure the tumour burden",
    "propose a plan",
    "write the plan sheet PDF",
    "DICOM SEG export and import",
]


def test_self_test_passes_every_step_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(self_test.tempfile, "tempdir", str(tmp_path))
    from tace_planner.app import main

    assert main(["--self-test"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("TACE Planner ")
    assert "self-test (Python install" in out[0]
    assert all(line.startswith("  ok   ") for line in out[1:-1])
    assert [line[7:35].strip() for line in out[1:-1]] == STEPS
    assert out[-1].startswith("self-test passed: 10 steps")
    assert "F1 read back with the same volumes" in out[-2]
    assert len(out) <= 24  # one screen
    assert list(tmp_path.iterdir()) == []  # the temporary folder is removed


def test_without_qt_the_pdf_step_fails_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(self_test.tempfile, "tempdir", str(tmp_path))
    assert cli.main(["--self-test"]) == 1  # no PDF renderer injected: the CLI without Qt
    captured = capsys.readouterr()
    assert "  FAIL write the plan sheet PDF" in captured.out
    assert "DICOM SEG" not in captured.out  # the run stops at the first failure
    assert captured.err.strip() == (
        "error: self-test failed at step 'write the plan sheet PDF': "
        "the PDF plan sheet needs Qt (install tace-planner[gui])"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_failing_step_stops_the_run_and_keep_leaves_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A liver click in the air beside the body: contouring refuses it or finds no liver.
    monkeypatch.setattr(self_test, "LIVER_SEED_LPS", (-400.0, -400.0, 20.0))
    report = self_test.run_self_test(None, work_dir=tmp_path, keep=True)
    assert not report.ok
    assert report.failed is not None
    assert report.failed.name == "contour the liver"
    assert [step.name for step in report.steps] == STEPS[:5]
    assert report.lines()[-1].startswith("self-test failed at step 'contour the liver': ")
    assert report.work_dir is not None
    assert report.work_dir.parent == tmp_path
    assert (report.work_dir / "data").is_dir()
