"""The Approve dialog refuses 400 mL of beads for one session; ticking the warnings is no way out.

A reviewer typed 400 mL (a slip for 4.0) with a reason: the dialog listed a third warning,
"Session 1 bead volume: 400 mL is above the per-session maximum of 4 mL", and once the three
were ticked the plan could be approved. More than twice the per-session maximum is now an
impossible value: one line names the field, the field is marked, no warning is offered for
it, and Approve stays disabled whatever is ticked. 8 mL (twice the maximum) stays a warning.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot
from test_approve_dialog_invalid_override import dialog  # noqa: F401 - the fixture

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog

REASON = "large dominant lesion, IR consensus"
TAIL = (
    "more than twice the per-session maximum of 4 mL — not a plausible volume for one "
    "session (institutional default); check the value"
)


@pytest.fixture
def planning_case(planning_case: tuple[PlanningService, int]) -> tuple[PlanningService, int]:
    """The case with bilirubin and ECOG not recorded, as on the demo case of the screenshot:
    two warnings to tick from the start (``dialog`` then shows its draft)."""
    service, case_pk = planning_case
    service.set_clinical_inputs(case_pk, bilirubin_mg_dl=None, ecog=None)
    return service, case_pk


def _marked(shown: ApprovePlanDialog) -> list[str]:
    editors = [*shown.value_edits.values(), *shown.reason_edits.values()]
    return [e.objectName() for e in editors if e.property("invalid")]


def _tick_all(shown: ApprovePlanDialog) -> None:
    for box in shown.acknowledge_boxes.values():
        box.setChecked(True)


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("session1.beads_ml", "400", f"Session 1 bead volume (mL): 400 mL is {TAIL}"),
        ("session1.vials", "200", f"Session 1 vials: 200 vials hold 400 mL of beads, {TAIL}"),
    ],
)
def test_an_implausible_bead_volume_is_refused_and_approve_stays_disabled(
    qtbot: QtBot,
    dialog: ApprovePlanDialog,  # noqa: F811 - the fixture imported above
    key: str,
    value: str,
    line: str,
) -> None:
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    dialog.reason_edits["session1"].setText(REASON)
    dialog.value_edits[key].setText(value)
    assert dialog.problem_label.text() == line
    assert "\n" not in line
    assert _marked(dialog) == [key]  # the number, not the reason
    assert line in dialog.value_edits[key].toolTip()
    assert not any(code.startswith("override.") for code in dialog.acknowledge_boxes)
    _tick_all(dialog)  # the plan's own warnings (bilirubin, ECOG): still refused
    assert dialog.acknowledge_boxes
    assert dialog.problem_label.text() == line
    assert not approve.isEnabled()
    qtbot.mouseClick(approve, Qt.LeftButton)
    dialog.accept()  # Enter or a shortcut alike
    assert dialog.isVisible()
    assert dialog.result() != QDialog.Accepted


def test_twice_the_maximum_is_a_warning_to_tick_and_the_slip_is_not(
    dialog: ApprovePlanDialog,  # noqa: F811 - the fixture imported above
) -> None:
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    dialog.reason_edits["session1"].setText(REASON)
    dialog.value_edits["session1.beads_ml"].setText("8")  # twice the maximum: judged
    raised = [code for code in dialog.acknowledge_boxes if code.startswith("override.")]
    assert raised == ["override.beads.above_session_maximum.s1"]
    assert dialog.problem_label.text().startswith("Acknowledge ")
    _tick_all(dialog)
    assert approve.isEnabled()

    dialog.value_edits["session1.beads_ml"].setText("400")  # one more key: a slip
    assert dialog.problem_label.text() == f"Session 1 bead volume (mL): 400 mL is {TAIL}"
    assert not approve.isEnabled()
    assert _marked(dialog) == ["session1.beads_ml"]

    dialog.value_edits["session1.beads_ml"].setText("4.0")  # what was meant
    assert dialog.problem_label.text() == ""
    assert _marked(dialog) == []
    assert approve.isEnabled()
    assert dialog.choice().overrides == {"session1.beads_ml": (4.0, REASON)}
