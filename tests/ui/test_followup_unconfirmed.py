"""Follow-up contour proposals not confirmed are not lost without a question, their pane
names the follow-up as the page does, and at 1366 × 768 the table shows five rows and the
Confirm button (pytest-qt, offscreen).

The reviewer proposed seven contours at TACE 1 follow-up 1, left them ticked and closed
the window: nothing asked. The page now answers the window's case-change guard as the plan
and procedure panels do: Confirm (what *Confirm checked proposals* does) / Discard / Cancel.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from test_followup_page_links_and_rows import _HeldTasks, _Propagation
from unsaved_questions import answer, leave

from tace_planner.services.followup_dto import FollowupChoiceItem
from tace_planner.ui.case_change import CaseChangeGuard

VISIT = "TACE 1 follow-up 1"  # the slot's name of the follow-up stored as "follow-up 1"


class _Confirming(_Propagation):
    """Seven proposals at follow-up 1; records what is confirmed."""

    def __init__(self) -> None:
        super().__init__()
        self.confirmed: list[list[str]] = []

    def confirm(self, item: Any, names: list[str], *, replace: list[str]) -> Any:
        self.confirmed.append(list(names))
        result = super().confirm(item, names, replace=replace)
        stored = {p.name: p for p in result.proposals}
        for name in names:  # what the service does: the proposal knows it is stored
            stored[name].stored = object()
            stored[name].stored_text = "stored contour: proposed and confirmed"
        return result


def _proposed(qtbot: Any, propagation: _Propagation | None = None) -> Any:
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    tasks = _HeldTasks()
    choice = FollowupChoiceItem(2, "follow-up 1", "done", "ready", imaged_on=dt.date(2026, 5, 11),
                                tace_number=1, followup_number=1)  # fmt: skip
    assert choice.visit_name == VISIT
    page = FollowupReviewPage(propagation or _Confirming(), tasks, choices=lambda _case: [choice])
    qtbot.addWidget(page)
    page.set_case(7)
    page.propose()
    tasks.finish()
    assert page.review.table.rowCount() == 7
    return page


def test_cancel_keeps_the_case_and_the_ticked_proposals(qtbot: Any) -> None:
    page = _proposed(qtbot)
    asked = answer(page, "cancel", "ask_unconfirmed")
    assert not leave(page)
    assert len(asked) == 1
    assert asked[0].startswith(f"7 contour proposals at {VISIT} are not confirmed")
    assert page.review.table.rowCount() == 7
    assert page.review.unconfirmed() == [f"F{n}" for n in range(1, 8)]


def test_confirm_stores_the_checked_proposals_as_the_button_does(qtbot: Any) -> None:
    propagation = _Confirming()
    page = _proposed(qtbot, propagation)
    page.review.table.item(4, 0).setCheckState(page.review.table.item(4, 0).checkState().Unchecked)
    asked = answer(page, "confirm", "ask_unconfirmed")
    assert leave(page)
    assert len(asked) == 1
    assert asked[0].startswith(f"6 contour proposals at {VISIT}")
    assert propagation.confirmed == [["F1", "F2", "F3", "F4", "F6", "F7"]]
    assert page.review.status.text() == f"Stored 6 contour(s) at {VISIT}."
    assert page.review.unconfirmed() == []  # F5 left unchecked: not asked about again
    assert leave(page)
    assert len(asked) == 1


def test_discard_goes_only_once_every_panel_answered(qtbot: Any) -> None:
    page = _proposed(qtbot)
    asked = answer(page, "discard", "ask_unconfirmed")
    keeps_the_case = type("Cancelling", (), {"resolve_unsaved": lambda self: False})()
    assert not CaseChangeGuard(None, (page, keeps_the_case)).allows_leaving()  # type: ignore[arg-type]
    assert page.review.table.rowCount() == 7  # a later Cancel: the proposals stay
    assert leave(page)
    assert len(asked) == 2
    assert page.review.table.rowCount() == 0  # discarded
    assert page.review.unconfirmed() == []
    assert leave(page)
    assert len(asked) == 2


def test_no_question_without_a_proposal_or_with_none_ticked(qtbot: Any) -> None:
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    page = FollowupReviewPage(_Propagation(), _HeldTasks())
    qtbot.addWidget(page)
    page.ask_unconfirmed = lambda question: pytest.fail(f"asked: {question}")
    assert leave(page)
    page = _proposed(qtbot)
    page.ask_unconfirmed = lambda question: pytest.fail(f"asked: {question}")
    table = page.review.table
    for row in range(table.rowCount()):
        table.item(row, 0).setCheckState(table.item(row, 0).checkState().Unchecked)
    assert leave(page)


def test_the_review_titles_name_the_follow_up_by_its_visit_name(qtbot: Any) -> None:
    page = _proposed(qtbot)
    assert page.review.follow_up.title.text().startswith(f"{VISIT}, proposed contours")


def test_at_1366_by_768_five_proposals_and_the_confirm_button_show(qtbot: Any) -> None:
    """The review's share of a 1366 × 740 window on a 1366 × 768 screen (under the
    worklist, as measured under Xvfb: 1366 × 432), in a scroll area as the page holds it."""
    from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

    page = _proposed(qtbot)
    area = QScrollArea()
    qtbot.addWidget(area)
    area.setWidgetResizable(True)
    holder = QWidget()  # as FollowupPage holds it: a plain box in a resizable scroll area
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(page)
    area.setWidget(holder)
    area.resize(1366, 432)
    area.show()
    qtbot.waitExposed(area)
    qtbot.wait(50)
    review, viewport = page.review, area.viewport()
    table = review.table
    shown = [
        row
        for row in range(table.rowCount())
        if table.visualRect(table.model().index(row, 0)).top() >= 0
        and table.visualRect(table.model().index(row, 0)).bottom() < table.viewport().height()
    ]
    assert len(shown) >= 5
    button = review.confirm_button
    bottom = button.mapTo(viewport, button.rect().bottomLeft()).y()
    assert button.mapTo(viewport, button.rect().topLeft()).y() >= 0
    assert bottom < viewport.height()
    assert review.follow_up.graphics.height() >= 100  # the images keep a readable height
    page.setParent(None)  # closed by qtbot, not deleted with the scroll area
