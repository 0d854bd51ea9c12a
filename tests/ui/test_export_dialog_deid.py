"""The export dialog says what de-identification does format by format, and what happens
to a missing output folder; it never names a case by its database number."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLabel, QMainWindow
from pytestqt.qtbot import QtBot

from tace_planner.ui.dialogs.export_dialog import ExportDialog
from tace_planner.ui.export_actions import ExportActions
from tace_planner.ui.tasks import TaskRunner

LABELS = {"sdtm": "SDTM", "seg": "DICOM SEG"}
"""The formats that keep (shifted) dates: the runner's ``DATED_FORMATS``, checked in
tests/integration/test_deid_export_dates.py."""


def _never(*_args: Any) -> Any:
    raise AssertionError("no export is started here")


def test_the_dialog_names_the_formats_that_keep_shifted_dates(
    qtbot: QtBot, task_runner: TaskRunner
) -> None:
    dialog = ExportDialog(_never, task_runner, None, "every case of the registry")
    qtbot.addWidget(dialog)
    assert "days from the first TACE" not in dialog.deidentify_box.text()  # said per format
    text = dialog.deidentify_note.text()
    assert "days from the first TACE instead of dates" in text
    for label in LABELS.values():
        assert label in text, label
    assert "same number of days" in text
    assert dialog.deidentify_note.wordWrap()


def test_the_folder_hint_says_missing_folders_are_made(
    qtbot: QtBot, task_runner: TaskRunner
) -> None:
    dialog = ExportDialog(_never, task_runner, None, "every case of the registry")
    qtbot.addWidget(dialog)
    assert "missing folders are made" in dialog.folder_edit.placeholderText()
    dialog.start()  # no folder given: the hint again, nothing started
    assert "missing folders are made" in dialog.status_label.text()
    assert not dialog.running


class _Window(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        case = SimpleNamespace(pk=4711, title="DEBIRI course")
        self.context = SimpleNamespace(case=case, patient_label="Ivanova, Anna")


def test_the_case_is_named_for_people_not_by_its_database_number(
    qtbot: QtBot, task_runner: TaskRunner, tmp_path: Path
) -> None:
    window = _Window()
    qtbot.addWidget(window)
    actions = ExportActions(window, task_runner, _never)
    dialog = actions.export_case()
    assert dialog is not None
    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert "Ivanova, Anna · DEBIRI course" in texts
    assert not any("4711" in text for text in texts)
    dialog.close()
