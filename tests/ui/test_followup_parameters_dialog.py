"""Follow-up schedule parameters: a form with units, ranges and sources; versions; old
schedules keep their values, new ones use the saved version; unsaved edits ask."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from followup_seed import add_case, sign_tace
from tace_planner.domain.followup_ranges import FILE_SPECS, PRESET_SPECS
from tace_planner.store.followup_rows import FollowupScheduleRow
from tace_planner.store.models import AuditEventRow
from tace_planner.ui.dialogs.followup_parameters_dialog import FollowupParametersDialog

pytestmark = pytest.mark.db
D = dt.date


def _saved(services: Any) -> dict[str, Any]:
    path = services.settings.data_dir / "parameters" / "followup.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def dialog(qtbot: QtBot, services: Any) -> FollowupParametersDialog:
    widget = FollowupParametersDialog(services.followups)
    qtbot.addWidget(widget)
    return widget


def test_every_preset_field_is_a_row_with_unit_range_and_source(
    dialog: FollowupParametersDialog,
) -> None:
    form = dialog.form
    assert "version 1" in dialog.origin_label.text()
    keys = {f"{p}.{s.name}" for p in ("protocol", "society", "months") for s in PRESET_SPECS}
    assert set(form.editors) == keys | {"default_preset"} | {s.name for s in FILE_SPECS}
    assert form.editors["protocol.first_weeks"].text() == "8"
    assert form.editors["protocol.repeat_months"].text() == "3"
    assert form.editors["months.months"].text() == "1, 3, 6, 9, 12"
    assert form.editors["months.first_weeks"].text() == ""
    assert form.range_labels["window_after_days"].text() == "0–42 days"
    assert form.range_labels["first_weeks"].text() == "1–26 weeks"
    assert "Zvezdkina" in form.source_edits["preset_protocol"].text()
    assert "Gaba" in form.source_edits["preset_society"].text()
    assert not dialog.is_dirty()


def test_out_of_range_and_overlapping_windows_are_red_and_refused(
    dialog: FollowupParametersDialog, services: Any
) -> None:
    form = dialog.form
    form.editors["society.window_after_days"].setText("80")
    assert form.is_invalid("society.window_after_days")
    assert dialog.save() is False
    text = dialog.status_label.text()
    assert text.startswith("Not saved: Society guidance")
    assert "Window after the due date: 80 is outside the allowed 0–42 days" in text
    assert "window_after_days" not in text
    form.editors["society.window_after_days"].setText("14")
    form.editors["protocol.repeat_months"].setText("1")  # 14 + 14 days ≥ 1 month apart
    assert dialog.save() is False
    assert "consecutive windows would overlap" in dialog.status_label.text()
    form.editors["protocol.repeat_months"].setText("3")
    form.editors["protocol.window_before_days"].setText("x")
    assert dialog.save() is False
    assert "Window before the due date: 'x' is not a number" in dialog.status_label.text()
    assert not (services.settings.data_dir / "parameters" / "followup.json").exists()


def test_a_saved_change_is_a_new_version_used_by_new_schedules_only(
    dialog: FollowupParametersDialog, services: Any
) -> None:
    factory = services.session_factory
    followups = services.followups
    old_case = add_case(factory, "OLD")
    sign_tace(factory, old_case, D(2026, 3, 16))
    assert followups.sync_case(old_case)[0].due_on == D(2026, 5, 11)  # 8 weeks, version 1

    dialog.form.editors["protocol.first_weeks"].setText("6")
    dialog.form.editors["protocol.window_after_days"].setText("21")
    assert dialog.is_dirty()
    assert dialog.save() is True
    assert "Saved as version 2" in dialog.status_label.text()
    assert "version 2" in dialog.origin_label.text()
    assert not dialog.is_dirty()
    saved = _saved(services)
    assert saved["version"] == "2"
    protocol = saved["values"]["preset_protocol"]
    assert (protocol["value"]["first_weeks"], protocol["value"]["window_after_days"]) == (6, 21)
    assert protocol["evidence"] == "institutional"
    assert protocol["source"].startswith(
        "institutional default: First imaging after the TACE changed from 8 to 6 weeks; "
        "Window after the due date changed from 14 to 21 days by tester on "
    )
    assert dialog.save() is True  # nothing changed: no new version
    assert "Nothing changed" in dialog.status_label.text()
    assert _saved(services)["version"] == "2"

    new_case = add_case(factory, "NEW")
    sign_tace(factory, new_case, D(2026, 3, 16))
    first = followups.sync_case(new_case)[0]
    assert (first.due_on, first.window_end_on) == (D(2026, 4, 27), D(2026, 5, 18))  # 6 weeks
    assert followups.sync_case(old_case)[0].due_on == D(2026, 5, 11)  # kept its values
    with factory() as session:
        versions = {
            row.case_pk: row.parameters["file_version"]
            for row in session.scalars(select(FollowupScheduleRow))
        }
        audit = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "save_parameters")
        ).all()
    assert versions == {old_case: "1", new_case: "2"}
    assert [a.summary for a in audit] == ["followup.json version 2 saved"]


def test_closing_with_unsaved_edits_asks(
    dialog: FollowupParametersDialog, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog.show()
    dialog.form.editors["months.months"].setText("1, 3, 6, 12")
    answers = iter(["cancel", "discard"])
    monkeypatch.setattr(dialog, "ask_unsaved", lambda: next(answers))
    dialog.reject()
    assert dialog.isVisible()  # cancel: stays, the edit kept
    assert dialog.form.editors["months.months"].text() == "1, 3, 6, 12"
    dialog.reject()
    assert not dialog.isVisible()
    assert not (services.settings.data_dir / "parameters" / "followup.json").exists()


def test_a_schedule_window_left_open_does_not_put_back_a_colleagues_version(
    dialog: FollowupParametersDialog, services: Any
) -> None:
    theirs = json.loads(services.followups.parameter_file_text()[1])
    theirs["values"]["preset_protocol"]["value"]["first_weeks"] = 6
    services.followups.save_parameters(theirs, expected_version="1")
    assert _saved(services)["version"] == "2"
    dialog.form.editors["protocol.window_after_days"].setText("21")
    assert dialog.save() is False
    text = dialog.status_label.text()
    assert text.startswith("Not saved: the follow-up schedule parameters were saved as version 2")
    assert "after you opened version 1" in text
    saved = _saved(services)["values"]["preset_protocol"]["value"]
    assert (saved["first_weeks"], saved["window_after_days"]) == (6, 14)
