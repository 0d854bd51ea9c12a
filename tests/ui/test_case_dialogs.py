"""New-case and settings dialogs (pytest-qt, offscreen): refuse what cannot be saved, say why."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from tace_planner.ui.dialogs.new_case_dialog import NewCaseDialog


def test_new_case_refuses_an_empty_title_and_names_the_field(qtbot: QtBot) -> None:
    dialog = NewCaseDialog("Test^Patient [P-1]")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.title_edit.setText("   ")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.result() != QDialog.Accepted
    assert dialog.isVisible()
    assert "Title" in dialog.error_label.text()
    assert dialog.error_label.isVisible()
    dialog.title_edit.setText("Right lobe DEBIRI")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.result() == QDialog.Accepted
    assert dialog.choice().title == "Right lobe DEBIRI"


def test_new_case_title_field_shows_the_whole_default_title(qtbot: QtBot) -> None:
    dialog = NewCaseDialog("Test^Patient [P-1]")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    edit = dialog.title_edit
    needed = edit.fontMetrics().horizontalAdvance(edit.text())
    assert edit.width() > needed + 10, (edit.width(), needed)
