"""The Approve dialog's override lines name the field they are about.

* A bead volume above the per-session maximum (an institutional default: no publication
  gives one), up to twice it, is a warning raised by the override, acknowledged like the
  others (more than twice is refused: test_approve_dialog_bead_plausibility.py).
* A reason typed without a value is refused at Approve, not dropped: the line names the
  reason field, which is marked.
* A value without a reason names the reason field too, and marks it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog

RAISED = "override.beads.above_session_maximum.s2"


@pytest.fixture
def opened(
    qtbot: QtBot, planning_case: tuple[PlanningService, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ApprovePlanDialog, PlanningService, object]]:
    """The shown dialog for the case's saved draft, its service and the draft."""

    def no_question(self: ApprovePlanDialog) -> bool:
        raise AssertionError("the dialog asked to discard")

    monkeypatch.setattr(ApprovePlanDialog, "ask_discard", no_question, raising=False)
    service, case_pk = planning_case
    draft = service.save_plan(service.propose(case_pk))
    dialog = ApprovePlanDialog(
        draft, preview=lambda overrides: service.preview_overrides(draft.pk, overrides)
    )
    dialog.show()
    qtbot.waitExposed(dialog)
    yield dialog, service, draft
    dialog.done(QDialog.Rejected)  # not qtbot's close: that would ask to discard
    dialog.deleteLater()


def _marked(dialog: ApprovePlanDialog) -> list[str]:
    editors = [*dialog.value_edits.values(), *dialog.reason_edits.values()]
    return [e.objectName() for e in editors if e.property("invalid")]


def _refused_and_open(qtbot: QtBot, dialog: ApprovePlanDialog, line: str) -> None:
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    assert not approve.isEnabled()
    qtbot.mouseClick(approve, Qt.LeftButton)
    dialog.accept()  # Enter or a shortcut alike
    assert dialog.isVisible()
    assert dialog.result() != QDialog.Accepted
    assert dialog.problem_label.text() == line


def test_a_bead_volume_above_the_maximum_is_a_warning_to_acknowledge(
    qtbot: QtBot, opened: tuple[ApprovePlanDialog, PlanningService, object]
) -> None:
    dialog, service, draft = opened
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    dialog.value_edits["session2.beads_ml"].setText("4")  # at the maximum: nothing raised
    dialog.reason_edits["session2"].setText("second vial, large feeder")
    assert not any("above_session_maximum" in code for code in dialog.acknowledge_boxes)
    assert approve.isEnabled()

    dialog.value_edits["session2.beads_ml"].setText("6")
    assert RAISED in dialog.acknowledge_boxes
    box = dialog.acknowledge_boxes[RAISED]
    text = " ".join(box.text().split())
    assert "Session 2 bead volume: 6 mL is above the per-session maximum of 4 mL" in text
    assert "institutional default" in text
    assert "session 2: 6.00 mL, 3 vial(s)" in dialog.preview_label.text()
    assert dialog.problem_label.text().startswith("Acknowledge ")
    _refused_and_open(qtbot, dialog, dialog.problem_label.text())

    for each in dialog.acknowledge_boxes.values():
        each.setChecked(True)
    assert approve.isEnabled()
    qtbot.mouseClick(approve, Qt.LeftButton)
    assert dialog.result() == QDialog.Accepted
    choice = dialog.choice()
    assert RAISED in choice.acknowledged
    assert choice.overrides == {"session2.beads_ml": (6.0, "second vial, large feeder")}
    approved = service.approve(draft.pk, choice.acknowledged, choice.overrides)  # type: ignore[attr-defined]
    assert approved.sessions[1].beads_ml == 6.0


def test_a_reason_without_a_value_is_refused_naming_the_reason_field(
    qtbot: QtBot, opened: tuple[ApprovePlanDialog, PlanningService, object]
) -> None:
    dialog, _, _ = opened
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    assert approve.isEnabled()
    dialog.reason_edits["session1"].setText("small feeder")
    line = dialog.problem_label.text()
    assert line.startswith("Session 1 reason for the override: ")
    assert "a reason is given but no value" in line
    assert "\n" not in line
    _refused_and_open(qtbot, dialog, line)
    reason = dialog.findChild(QLineEdit, "session1.reason")
    assert _marked(dialog) == ["session1.reason"]
    assert line in reason.toolTip()
    assert dialog.focusWidget() is reason  # the approver is taken to the field

    # a value for it: the reason is no longer alone, Approve takes both
    dialog.value_edits["session1.beads_ml"].setText("3")
    assert dialog.problem_label.text() == ""
    assert _marked(dialog) == []
    assert approve.isEnabled()
    assert dialog.choice().overrides == {"session1.beads_ml": (3.0, "small feeder")}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("beads_ml", "3", "the bead volume"),
        ("vials", "3", "the number of vials"),
        ("irinotecan_loaded_mg", "80", "the irinotecan loaded"),
    ],
)
def test_a_value_without_a_reason_names_and_marks_the_reason_field(
    qtbot: QtBot,
    opened: tuple[ApprovePlanDialog, PlanningService, object],
    name: str,
    value: str,
    words: str,
) -> None:
    dialog, _, _ = opened
    dialog.value_edits[f"session1.{name}"].setText(value)
    line = dialog.problem_label.text()
    assert line == f"Session 1 reason for the override: required when {words} is overridden"
    _refused_and_open(qtbot, dialog, line)
    reason = dialog.findChild(QLineEdit, "session1.reason")
    assert _marked(dialog) == ["session1.reason"]  # the reason, not the value
    assert line in reason.toolTip()
    assert dialog.focusWidget() is reason
