"""The Approve dialog lists the warnings of what is typed now, and each check box reads whole.

A reviewer on the demo case: after clearing an overridden 40 mL but keeping the reason,
the box still showed "WARNING (raised by the override): Session 1 bead volume: 40 mL is
above the per-session maximum…" though nothing was overridden; and the first time that
three-line warning appeared its check box was cut top and bottom ("of beads." half cut).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog


def _over_maximum(dialog: ApprovePlanDialog) -> str:
    """The code of the one override warning shown (the bead volume above the maximum)."""
    codes = [code for code in dialog.acknowledge_boxes if code.startswith("override.")]
    assert len(codes) == 1, codes
    return codes[0]


@pytest.fixture
def dialog(
    qtbot: QtBot, planning_case: tuple[PlanningService, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ApprovePlanDialog]:
    """The shown dialog for the case's saved draft (session 1: 4 mL in 2 vials, 100 mg).

    As on the demo case, bilirubin and ECOG are not recorded: two warnings are shown
    from the start, so an override's warning is added to a group already on screen.
    """
    monkeypatch.setattr(ApprovePlanDialog, "ask_discard", lambda self: True, raising=False)
    service, case_pk = planning_case
    service.set_clinical_inputs(case_pk, bilirubin_mg_dl=None, ecog=None)
    draft = service.save_plan(service.propose(case_pk))
    assert draft.sessions[0].beads_ml == 4.0
    shown = ApprovePlanDialog(
        draft, preview=lambda overrides: service.preview_overrides(draft.pk, overrides)
    )
    shown.resize(906, shown.sizeHint().height())  # the width of the reviewer's screenshots
    shown.show()
    qtbot.waitExposed(shown)
    yield shown
    shown.done(QDialog.Rejected)  # not qtbot's close: that would ask to discard
    shown.deleteLater()


def _override_boxes(dialog: ApprovePlanDialog) -> dict[str, str]:
    """The override warnings' check boxes shown: code → text on one line."""
    return {
        code: " ".join(box.text().split())
        for code, box in dialog.acknowledge_boxes.items()
        if code.startswith("override.")
    }


def _own_codes(dialog: ApprovePlanDialog) -> list[str]:
    return [code for code in dialog.acknowledge_boxes if not code.startswith("override.")]


# 6 mL: above the maximum of 4 mL (a warning), not so far above that it is refused
REASON = "large dominant lesion, IR consensus"


def test_a_cleared_override_takes_its_warning_away(dialog: ApprovePlanDialog) -> None:
    own = _own_codes(dialog)
    assert len(own) == 2  # bilirubin and ECOG not recorded
    assert _override_boxes(dialog) == {}
    dialog.value_edits["session1.beads_ml"].setText("6")
    dialog.reason_edits["session1"].setText(REASON)
    assert "6 mL is above" in _override_boxes(dialog)[_over_maximum(dialog)]
    grown_px = dialog.height()

    dialog.value_edits["session1.beads_ml"].setText("")  # the reason stays: a problem
    assert "no value is overridden" in dialog.problem_label.text()
    assert _override_boxes(dialog) == {}  # nothing is overridden: no override warning
    assert _own_codes(dialog) == own
    assert "raised by the override" not in " ".join(
        box.text() for box in dialog.acknowledge_boxes.values()
    )
    assert not dialog.buttons.button(QDialogButtonBox.Ok).isEnabled()
    assert dialog.height() < grown_px  # no gaps where the warning and its line were


def test_a_value_without_its_reason_says_its_warnings_are_still_to_come(
    dialog: ApprovePlanDialog,
) -> None:
    own = _own_codes(dialog)
    dialog.value_edits["session1.beads_ml"].setText("6")  # no reason yet: a problem
    assert dialog.problem_label.text().startswith("Session 1 reason for the override: required")
    assert _own_codes(dialog) == own  # the plan's own warnings, without the override
    assert _override_boxes(dialog) == {}
    note = dialog.preview_label.text()
    assert dialog.preview_label.isVisible()
    assert "without the overrides" in note
    assert "once the problem below is fixed" in note

    dialog.reason_edits["session1"].setText(REASON)
    assert "6 mL is above" in _override_boxes(dialog)[_over_maximum(dialog)]  # now judged
    assert dialog.preview_label.text().startswith("With the overrides: session 1: 6.00 mL")


def test_a_changed_value_changes_its_warning_and_wants_a_new_tick(
    dialog: ApprovePlanDialog,
) -> None:
    """6 then 7 mL (as 40 then 400 typed key by key): the same warning's box kept the
    first number and its tick."""
    dialog.reason_edits["session1"].setText(REASON)
    dialog.value_edits["session1.beads_ml"].setText("6")
    dialog.acknowledge_boxes[_over_maximum(dialog)].setChecked(True)
    dialog.value_edits["session1.beads_ml"].setText("7")
    assert "7 mL is above" in _override_boxes(dialog)[_over_maximum(dialog)]
    assert not dialog.acknowledge_boxes[_over_maximum(dialog)].isChecked()  # 6 was, not 7
    own = _own_codes(dialog)
    dialog.acknowledge_boxes[own[0]].setChecked(True)
    dialog.value_edits["session1.beads_ml"].setText("6")
    assert dialog.acknowledge_boxes[own[0]].isChecked()  # its words did not change: kept


def test_a_value_that_is_no_number_shows_no_earlier_override_warning(
    dialog: ApprovePlanDialog,
) -> None:
    own = _own_codes(dialog)
    dialog.reason_edits["session1"].setText(REASON)
    dialog.value_edits["session1.beads_ml"].setText("6")
    assert _override_boxes(dialog) != {}
    dialog.value_edits["session1.beads_ml"].setText("6x")
    assert "'6x' is not a number" in dialog.problem_label.text()
    assert _own_codes(dialog) == own
    assert _override_boxes(dialog) == {}  # 6 mL's warning is not what is typed now
    assert "without the overrides" in dialog.preview_label.text()


def test_the_first_override_warning_reads_whole(qtbot: QtBot, dialog: ApprovePlanDialog) -> None:
    dialog.value_edits["session1.beads_ml"].setText("6")
    dialog.reason_edits["session1"].setText(REASON)
    box = dialog.acknowledge_boxes[_over_maximum(dialog)]
    assert box.text().count("\n") >= 1  # wrapped: two lines or more
    assert box.isVisible()  # at once, not when Qt gets round to showing it
    assert dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width())
    qtbot.wait(100)  # what Qt does after the change (the new box is shown then)
    assert box.isVisible()
    assert box.height() >= box.sizeHint().height()
    layout = dialog.layout()
    assert dialog.height() >= layout.totalHeightForWidth(dialog.width())
    for code, other in dialog.acknowledge_boxes.items():
        assert other.height() >= other.sizeHint().height(), code
