"""New-case and settings dialogs (pytest-qt, offscreen): refuse what cannot be saved, say why."""

from __future__ import annotations

from pathlib import Path

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


def test_settings_show_the_audit_user_read_only_and_how_it_is_set(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from tace_planner.services.settings import USER_FROM_ARGUMENT, AppSettings
    from tace_planner.ui.dialogs.settings_dialog import SettingsDialog

    current = AppSettings(tmp_path, None, "dr who", USER_FROM_ARGUMENT)
    dialog = SettingsDialog(current)
    qtbot.addWidget(dialog)
    assert dialog.user_edit.text() == "dr who"
    assert dialog.user_edit.isReadOnly()
    assert not dialog.user_edit.isEnabled()
    assert "--user on the command line" in dialog.user_note.text()
    assert "log in" in dialog.user_note.text()
    assert not hasattr(dialog.choice(), "user")
