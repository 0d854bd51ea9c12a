"""The Approve dialog fits a 1366 × 768 laptop screen's width with long warnings: its
Approve and Cancel buttons were off the right edge (a check box does not wrap)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from tace_planner.domain.explanation import Advisory
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog

# the demo's warning that made the dialog 1,700 px wide (lengthened to be sure)
LONG = (
    "The contours of F1 and F7 overlap by 0.81 cm³: that volume is counted in both foci, "
    "so the tumour volume is overstated by 0.81 cm³, and the tumour burden F with it. "
    "Erase the overlap from one of the two foci before the plan is approved. " * 2
)


def _plan() -> Any:
    session = SimpleNamespace(
        number=1,
        territory_label="right lobe (V–VIII)",
        beads_ml=4.0,
        vials=2,
        irinotecan_loaded_mg=100.0,
    )
    case = SimpleNamespace(patient_name="DEMO^Phantom", patient_id="P1", case_title="course")
    advisories = (
        Advisory("burden.overlap", "warning", LONG, "institutional default"),
        Advisory("course.three", "strong_warning", LONG[:200], "institutional default"),
    )
    return SimpleNamespace(case=case, sessions=(session,), advisories=advisories)


def test_long_warnings_wrap_and_the_buttons_stay_on_a_1366_screen(qtbot: QtBot) -> None:
    dialog = ApprovePlanDialog(_plan())
    qtbot.addWidget(dialog)  # nothing entered: closing asks nothing
    dialog.show()
    qtbot.waitExposed(dialog)
    assert set(dialog.acknowledge_boxes) == {"burden.overlap", "course.three"}
    box = dialog.acknowledge_boxes["burden.overlap"]
    assert " ".join(box.text().split()) == f"WARNING: {' '.join(LONG.split())}"  # all of it
    assert dialog.sizeHint().width() <= 1366 - 40
    assert dialog.minimumSizeHint().width() <= 1366 - 40
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    right = approve.mapTo(dialog, approve.rect().topRight()).x()
    assert right <= 1366 - 40


def test_the_dialog_grows_rather_than_cut_the_warnings(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typing an override adds a wrapped preview line: the shown dialog squeezed the
    warnings' check boxes (their text cut top and bottom) instead of growing."""
    plan = _plan()
    session = SimpleNamespace(**vars(plan.sessions[0]), irinotecan_expected_delivered_mg=90.0)
    many = tuple(session for _ in range(12))  # a preview line that wraps to several lines
    # qtbot closes it at tear-down, what was typed in: answer Discard, never a real question
    monkeypatch.setattr(ApprovePlanDialog, "ask_discard", lambda self: True, raising=False)
    dialog = ApprovePlanDialog(plan, preview=lambda overrides: (many, plan.advisories))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    height_before = dialog.height()
    dialog.value_edits["session1.beads_ml"].setText("3")
    dialog.reason_edits["session1"].setText("small feeder")
    qtbot.wait(50)
    assert dialog.preview_label.text().startswith("With the overrides")
    assert dialog.height() > height_before
    for code, box in dialog.acknowledge_boxes.items():
        assert box.height() >= box.sizeHint().height(), code
