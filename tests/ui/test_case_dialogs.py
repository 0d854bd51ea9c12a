"""New-case and settings dialogs (pytest-qt, offscreen): refuse what cannot be saved, say why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QDate
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
    assert "Set when TACE Planner was started" in dialog.user_note.text()
    assert "log in" in dialog.user_note.text()
    assert "--user" not in dialog.user_note.text()
    assert not hasattr(dialog.choice(), "user")


def _new_case(qtbot: QtBot, planned_on: dt.date, **kwargs: object) -> NewCaseDialog:
    dialog = NewCaseDialog("Test^Patient [P-1]", today=dt.date(2026, 3, 20), **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.date_edit.setDate(QDate(planned_on.year, planned_on.month, planned_on.day))
    return dialog


def test_a_planned_tace_date_years_back_is_confirmed_first(qtbot: QtBot) -> None:
    dialog = _new_case(qtbot, dt.date(2023, 3, 20))
    asked: list[str] = []
    dialog.confirm_date = lambda text: asked.append(text) or False
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.result() != QDialog.Accepted  # "Change the date": the dialog stays open
    assert dialog.isVisible()
    assert "2023-03-20" in asked[0]
    assert "before today" in asked[0]
    dialog.confirm_date = lambda text: True  # "Keep the date"
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.result() == QDialog.Accepted
    assert dialog.choice().planned_tace_on == dt.date(2023, 3, 20)


def test_a_planned_tace_date_before_the_patients_imaging_is_confirmed(qtbot: QtBot) -> None:
    dialog = _new_case(qtbot, dt.date(2026, 2, 1), earliest_imaging_on=dt.date(2026, 3, 2))
    asked: list[str] = []
    dialog.confirm_date = lambda text: asked.append(text) or False
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.result() != QDialog.Accepted
    assert "earliest imaging (2026-03-02)" in asked[0]
    for word in ("timepoint", "study_on", "planned_tace_on", "baseline_on"):
        assert word not in asked[0]  # said for people, no internal terms


def test_a_usual_planned_tace_date_is_not_questioned(qtbot: QtBot) -> None:
    dialog = _new_case(qtbot, dt.date(2026, 4, 2), earliest_imaging_on=dt.date(2026, 3, 2))
    dialog.confirm_date = lambda text: pytest.fail(f"asked: {text}")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.result() == QDialog.Accepted
