"""The export dialog drops the last result when the form changes, and its de-identify box
says what is true of every format (the DICOM profile is the SEG note's)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from pytestqt.qtbot import QtBot

from tace_planner.domain.errors import InvalidInputError
from tace_planner.ui.dialogs.export_dialog import ExportDialog
from tace_planner.ui.tasks import TaskRunner


def _never(*_args: Any) -> Any:
    raise AssertionError("no export is started here")


def _dialog(qtbot: QtBot, task_runner: TaskRunner) -> ExportDialog:
    dialog = ExportDialog(_never, task_runner, None, "every case of the registry")
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText("/tmp/x/exports/p4/seg_id")
    result = SimpleNamespace(files=(Path("a"), Path("b")), folder=Path("/tmp/seg_id"),
                             notes=(), mapping=None)  # fmt: skip
    dialog._on_result(result)
    assert "2 file(s) written" in dialog.status_label.text()
    return dialog


@pytest.mark.parametrize("change", ["format", "folder", "deidentify", "mapping"])
def test_a_changed_form_clears_the_last_result(
    qtbot: QtBot, task_runner: TaskRunner, change: str
) -> None:
    dialog = _dialog(qtbot, task_runner)
    if change == "format":
        dialog.format_box.setCurrentIndex(dialog.format_box.findData("pdf"))
    elif change == "folder":
        dialog.folder_edit.setText("/tmp/elsewhere")
    elif change == "deidentify":
        dialog.deidentify_box.setChecked(True)
    else:
        dialog.deidentify_box.setChecked(True)
        dialog._on_result(SimpleNamespace(files=(), folder=Path("/t"), notes=(), mapping=None))
        dialog.mapping_edit.setText("/tmp/keep/m.csv")
    assert "written" not in dialog.status_label.text()
    assert dialog.result is None


def test_a_changed_form_clears_a_refusal(qtbot: QtBot, task_runner: TaskRunner) -> None:
    dialog = _dialog(qtbot, task_runner)
    dialog._on_error(InvalidInputError("--mapping", "/tmp/m is a file"))
    assert dialog.status_label.text().startswith("Not exported: Mapping file:")
    dialog.folder_edit.setText("/tmp/other")
    assert dialog.status_label.text() == ""


def test_the_deidentify_box_is_true_for_every_format(qtbot: QtBot, task_runner: TaskRunner) -> None:
    dialog = _dialog(qtbot, task_runner)
    box = dialog.deidentify_box.text()
    assert "pseudonyms" in box
    assert "DICOM" not in box  # not true of CSV, JSON, PDF, REDCap or SDTM
    note = dialog.deidentify_note.text()
    assert "DICOM SEG also follows the DICOM basic application level confidentiality" in note
