"""The Approve dialog's reason fields show their hint whole ("why (required wit…" was cut)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLineEdit, QStyle, QStyleOptionFrame
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog


def _text_room_px(edit: QLineEdit) -> int:
    """The width a line edit draws its text (or placeholder) in, as Qt lays it out."""
    option = QStyleOptionFrame()
    edit.initStyleOption(option)
    contents = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, edit)
    margins = edit.textMargins()
    return contents.width() - margins.left() - margins.right() - 4  # Qt's 2 px a side


@pytest.mark.parametrize("width_px", [None, 700])
def test_the_override_reason_shows_its_whole_hint(
    qtbot: QtBot, planning_case: tuple[PlanningService, int], width_px: int | None
) -> None:
    service, case_pk = planning_case
    proposal = service.propose(case_pk)
    assert len(proposal.sessions) == 2
    dialog = ApprovePlanDialog(proposal, None)
    qtbot.addWidget(dialog)
    if width_px is not None:  # the user makes it narrower: the reasons keep their room
        dialog.resize(width_px, dialog.height())
    dialog.show()
    qtbot.waitExposed(dialog)
    assert set(dialog.reason_edits) == {"session1", "session2"}
    for key, edit in dialog.reason_edits.items():
        hint = edit.placeholderText()
        assert hint.startswith("why")
        assert _text_room_px(edit) >= edit.fontMetrics().horizontalAdvance(hint), key
