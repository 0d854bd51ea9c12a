"""Approve with an impossible override: one line names the field and why, the field is
marked, and the dialog stays open (Enter, the Approve button or accept() alike)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog


@pytest.fixture
def dialog(
    qtbot: QtBot, planning_case: tuple[PlanningService, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ApprovePlanDialog]:
    """The shown dialog for the case's saved draft (session 1: 4 mL in 2 vials, 100 mg).

    Nothing here may ask to discard: Enter on an impossible override is no Cancel.
    """

    def no_question(self: ApprovePlanDialog) -> bool:
        raise AssertionError("the dialog asked to discard")

    monkeypatch.setattr(ApprovePlanDialog, "ask_discard", no_question, raising=False)
    service, case_pk = planning_case
    draft = service.save_plan(service.propose(case_pk))
    assert (draft.sessions[0].beads_ml, draft.sessions[0].vials) == (4.0, 2)
    shown = ApprovePlanDialog(
        draft, preview=lambda overrides: service.preview_overrides(draft.pk, overrides)
    )
    shown.show()
    qtbot.waitExposed(shown)
    yield shown
    shown.done(QDialog.Rejected)  # not qtbot's close: that would ask to discard
    shown.deleteLater()


# key typed, value, reason, the field the line names, why, the field marked
CASES = [
    ("vials", "2.5", "x", "Session 1 vials", "must be a whole number", "vials"),
    ("vials", "1", "x", "Session 1 vials", "less than the 4 mL planned", "vials"),
    ("vials", "0", "x", "Session 1 vials", "must be a positive number", "vials"),
    ("vials", "1e999", "x", "Session 1 vials", "'1e999' is not a number", "vials"),
    ("beads_ml", "nan", "x", "Session 1 bead volume (mL)", "'nan' is not a number", "beads_ml"),
    ("beads_ml", "abc", "x", "Session 1 bead volume (mL)", "'abc' is not a number", "beads_ml"),
    ("beads_ml", "-1", "x", "Session 1 bead volume (mL)", "must be a positive number", "beads_ml"),
    (
        "irinotecan_loaded_mg",
        "5000",
        "x",
        "Session 1 irinotecan loaded (mg)",
        "exceeds what 2 vial(s) of 2 mL take up",
        "irinotecan_loaded_mg",
    ),
    (
        "beads_ml",
        "3",
        "  ",
        "Session 1 reason for the override",
        "required when the bead volume is overridden",
        "reason",
    ),
]


@pytest.mark.parametrize(("name", "value", "reason", "field", "why", "marked"), CASES)
def test_an_impossible_override_is_named_and_the_dialog_stays_open(
    qtbot: QtBot,
    dialog: ApprovePlanDialog,
    name: str,
    value: str,
    reason: str,
    field: str,
    why: str,
    marked: str,
) -> None:
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    assert approve.isEnabled()  # the proposal as it is can be approved
    edit = dialog.value_edits[f"session1.{name}"]
    dialog.reason_edits["session1"].setText(reason)
    edit.setText(value)
    line = dialog.problem_label.text()
    assert line.startswith(f"{field}: ")
    assert why in line
    assert "\n" not in line
    assert not approve.isEnabled()

    qtbot.keyClick(edit, Qt.Key_Return)  # Enter in the field
    qtbot.mouseClick(approve, Qt.LeftButton)  # the disabled button
    dialog.accept()  # and any other way to accept
    assert dialog.isVisible()
    assert dialog.result() != QDialog.Accepted
    assert dialog.problem_label.text() == line

    at_fault = dialog.findChild(QLineEdit, f"session1.{marked}")
    assert dialog.focusWidget() is at_fault  # the approver is taken to the field
    assert at_fault.property("invalid") is True
    assert line in at_fault.toolTip()
    others = [*dialog.value_edits.values(), *dialog.reason_edits.values()]
    assert [e.objectName() for e in others if e.property("invalid")] == [f"session1.{marked}"]

    # mended: the mark goes, Approve accepts with the override
    edit.setText("3" if name == "beads_ml" else "2" if name == "vials" else "150")
    dialog.reason_edits["session1"].setText("tumour board")
    for box in dialog.acknowledge_boxes.values():
        box.setChecked(True)
    assert dialog.problem_label.text() == ""
    assert not any(e.property("invalid") for e in others)
    assert approve.isEnabled()
    qtbot.mouseClick(approve, Qt.LeftButton)
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.Accepted
    assert f"session1.{name}" in dialog.choice().overrides
