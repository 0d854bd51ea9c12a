"""Cancel, Escape and the window's close button of the Approve dialog ask before they drop
the approver's overrides, reasons and acknowledgements; with nothing entered they close."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog

QUESTION = "Discard the approval's overrides and acknowledgements?"


@pytest.fixture
def open_dialog(
    qtbot: QtBot, planning_case: tuple[PlanningService, int]
) -> Iterator[Callable[..., ApprovePlanDialog]]:
    """``open_dialog(**clinical_inputs)``: the shown dialog for the case's saved draft.

    Closed at tear-down without the question, so that a failing test never opens it.
    """
    service, case_pk = planning_case
    opened: list[ApprovePlanDialog] = []

    def open_(**inputs: Any) -> ApprovePlanDialog:
        if inputs:
            service.set_clinical_inputs(case_pk, **inputs)
        draft = service.save_plan(service.propose(case_pk))
        dialog = ApprovePlanDialog(
            draft, preview=lambda overrides: service.preview_overrides(draft.pk, overrides)
        )
        opened.append(dialog)  # not qtbot.addWidget: its close would ask the question
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    yield open_
    for dialog in opened:
        dialog.done(QDialog.Rejected)  # closes without asking, whatever was entered
        dialog.deleteLater()


class Answers:
    """The discard question, replaced: each dialog asked and the reply given.

    It answers Keep editing unless the test queued True in ``replies``.
    """

    def __init__(self) -> None:
        self.asked: list[ApprovePlanDialog] = []
        self.given: list[bool] = []
        self.replies: list[bool] = []

    def __call__(self, dialog: ApprovePlanDialog) -> bool:
        reply = self.replies.pop(0) if self.replies else False
        self.asked.append(dialog)
        self.given.append(reply)
        return reply


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Replaces the question; ``raising=False`` so that the code from before the question
    existed fails on what it does (it closes without asking), not on the patch."""
    fake = Answers()
    monkeypatch.setattr(ApprovePlanDialog, "ask_discard", lambda self: fake(self), raising=False)
    return fake


def _leave(qtbot: QtBot, dialog: ApprovePlanDialog, how: str) -> None:
    if how == "cancel":
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.Cancel), Qt.LeftButton)
    elif how == "escape":
        target = dialog.focusWidget() or dialog
        qtbot.keyClick(target, Qt.Key_Escape)
    else:
        dialog.close()


def _entries(dialog: ApprovePlanDialog) -> dict[str, object]:
    """Everything the approver can type or tick, by field."""
    state: dict[str, object] = {
        edit.objectName(): edit.text() for edit in dialog.findChildren(QLineEdit)
    }
    state.update({box.objectName(): box.isChecked() for box in dialog.findChildren(QCheckBox)})
    state["approve enabled"] = dialog.buttons.button(QDialogButtonBox.Ok).isEnabled()
    state["problem"] = dialog.problem_label.text()
    return state


def _type_override(dialog: ApprovePlanDialog) -> None:
    dialog.value_edits["session1.beads_ml"].setText("3")
    dialog.reason_edits["session1"].setText("small feeder, tumour board")


def _tick_acknowledgement(dialog: ApprovePlanDialog) -> None:
    assert "premedication.no_ia_lidocaine" in dialog.acknowledge_boxes
    dialog.acknowledge_boxes["premedication.no_ia_lidocaine"].setChecked(True)


def _type_contraindication_reason(dialog: ApprovePlanDialog) -> None:
    assert "ecog.above_limit" in dialog.contraindication_edits
    dialog.contraindication_edits["ecog.above_limit"].setText("tumour board 2026-03-10")


def _type_reason_only(dialog: ApprovePlanDialog) -> None:
    dialog.reason_edits["session2"].setText("why not")


ENTRIES = {
    "override": ({}, _type_override),
    "acknowledgement": ({"ia_lidocaine_planned": False}, _tick_acknowledgement),
    "contraindication reason": ({"ecog": 3}, _type_contraindication_reason),
    "reason alone": ({}, _type_reason_only),
}
WAYS = ("cancel", "escape", "close button")


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_keep_editing_returns_to_the_dialog_as_it_was(
    qtbot: QtBot,
    open_dialog: Callable[..., ApprovePlanDialog],
    answers: Answers,
    entry: str,
    how: str,
) -> None:
    inputs, enter = ENTRIES[entry]
    dialog = open_dialog(**inputs)
    enter(dialog)
    before = _entries(dialog)
    _leave(qtbot, dialog, how)
    assert answers.asked == [dialog], "the question was not asked"
    assert dialog.isVisible()
    assert dialog.result() != QDialog.Accepted
    assert _entries(dialog) == before
    answers.replies.append(True)  # asked again, and this time Discard
    _leave(qtbot, dialog, how)
    assert answers.given == [False, True]
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.Rejected


@pytest.mark.parametrize("how", WAYS)
def test_it_asks_only_once_something_is_entered(
    qtbot: QtBot, open_dialog: Callable[..., ApprovePlanDialog], answers: Answers, how: str
) -> None:
    dialog = open_dialog(ia_lidocaine_planned=False)
    dialog.value_edits["session1.vials"].setText("   ")  # blanks are nothing typed
    box = dialog.acknowledge_boxes["premedication.no_ia_lidocaine"]
    box.setChecked(True)
    box.setChecked(False)  # ticked and unticked again: nothing left to lose
    _leave(qtbot, dialog, how)
    assert answers.asked == []  # closed at once, as before
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.Rejected

    dialog.show()
    qtbot.waitExposed(dialog)
    box.setChecked(True)  # now one acknowledgement would be lost
    _leave(qtbot, dialog, how)
    assert answers.asked == [dialog]
    assert dialog.isVisible()
    assert box.isChecked()


@pytest.mark.parametrize(("click", "discards"), [("Discard", True), ("Keep editing", False)])
def test_the_question_names_what_is_dropped_and_offers_keep_editing(
    open_dialog: Callable[..., ApprovePlanDialog],
    monkeypatch: pytest.MonkeyPatch,
    click: str,
    discards: bool,
) -> None:
    dialog = open_dialog()
    shown: list[dict[str, object]] = []

    def exec_(box: QMessageBox) -> int:  # no real modal: read the box, click a button
        buttons = {button.text(): button for button in box.buttons()}
        shown.append(
            {
                "text": box.text(),
                "buttons": sorted(buttons),
                "default": box.defaultButton().text(),
                "escape": box.escapeButton().text(),
            }
        )
        buttons[click].click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    assert dialog.ask_discard() is discards
    assert shown == [
        {
            "text": QUESTION,
            "buttons": ["Discard", "Keep editing"],
            "default": "Keep editing",
            "escape": "Keep editing",
        }
    ]
