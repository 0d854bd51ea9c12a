"""Choosing another follow-up of the case asks about the proposals not confirmed, as the
case change does (pytest-qt, offscreen).

The reviewer proposed seven contours at TACE 1 follow-up 1, left them ticked and chose
TACE 1 follow-up 2 in the Follow-up box (or its worklist row, or linked a study that
chose it): the proposals went without a question. Now Confirm / Discard / Cancel is
asked; on *Cancel* the box goes back to follow-up 1, its proposals still shown.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from test_followup_page_links_and_rows import _HeldTasks
from test_followup_unconfirmed import VISIT, _Confirming
from unsaved_questions import answer

from tace_planner.services.followup_dto import FollowupChoiceItem

FIRST = FollowupChoiceItem(2, "follow-up 1", "done", "ready", imaged_on=dt.date(2026, 5, 11),
                           tace_number=1, followup_number=1)  # fmt: skip
SECOND = FollowupChoiceItem(3, "follow-up 2", "done", "ready", imaged_on=dt.date(2026, 8, 16),
                            tace_number=1, followup_number=2)  # fmt: skip


def _proposed(qtbot: Any, propagation: _Confirming | None = None) -> Any:
    """Proposals at follow-up 1 of a case with two follow-ups, follow-up 1 chosen."""
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    tasks = _HeldTasks()
    page = FollowupReviewPage(
        propagation or _Confirming(), tasks, choices=lambda _case: [FIRST, SECOND]
    )
    qtbot.addWidget(page)
    page.set_case(7)
    assert page.chosen_label() == "follow-up 1"
    page.propose()
    tasks.finish()
    assert page.review.table.rowCount() == 7
    return page


def _kept(page: Any) -> None:
    assert page.chosen_label() == "follow-up 1"
    assert page.timepoints.currentText() == VISIT
    assert page.review.item is not None
    assert page.review.item.follow_up.label == "follow-up 1"
    assert page.review.unconfirmed() == [f"F{n}" for n in range(1, 8)]


def test_cancel_puts_the_box_back_on_the_follow_up_proposed(qtbot: Any) -> None:
    page = _proposed(qtbot)
    asked = answer(page, "cancel", "ask_unconfirmed")
    changes: list[int] = []
    page.timepoints.currentIndexChanged.connect(changes.append)
    page.timepoints.setCurrentIndex(1)  # the user chooses follow-up 2 in the box
    assert len(asked) == 1  # asked once: putting the box back asks nothing again
    assert asked[0].startswith(f"7 contour proposals at {VISIT} are not confirmed")
    assert changes == [1]  # the box went back without a signal
    _kept(page)
    assert page.propose_button.isEnabled()


def test_discard_shows_the_other_follow_up(qtbot: Any) -> None:
    page = _proposed(qtbot)
    asked = answer(page, "discard", "ask_unconfirmed")
    page.timepoints.setCurrentIndex(1)
    assert len(asked) == 1
    assert page.chosen_label() == "follow-up 2"
    assert page.review.item is None
    assert page.review.table.rowCount() == 0


def test_confirm_stores_them_then_shows_the_other_follow_up(qtbot: Any) -> None:
    propagation = _Confirming()
    page = _proposed(qtbot, propagation)
    asked = answer(page, "confirm", "ask_unconfirmed")
    page.timepoints.setCurrentIndex(1)
    assert len(asked) == 1
    assert propagation.confirmed == [[f"F{n}" for n in range(1, 8)]]
    assert page.chosen_label() == "follow-up 2"
    assert page.review.item is None


def test_a_worklist_row_of_the_case_asks_and_cancel_keeps(qtbot: Any) -> None:
    page = _proposed(qtbot)
    asked = answer(page, "cancel", "ask_unconfirmed")
    assert page.choose_follow_up(SECOND.pk) == ""
    assert len(asked) == 1
    _kept(page)


def test_a_study_linked_that_chooses_another_follow_up_asks(qtbot: Any) -> None:
    page = _proposed(qtbot)
    asked = answer(page, "cancel", "ask_unconfirmed")
    page.refresh_choices(SECOND.pk)  # the worklist's row of follow-up 2 got its study
    assert len(asked) == 1
    _kept(page)
    page.refresh_choices(FIRST.pk)  # the follow-up proposed stays chosen: nothing asked
    assert len(asked) == 1
    _kept(page)


def test_the_worklist_row_is_unselected_when_the_proposals_are_kept(qtbot: Any) -> None:
    from tace_planner.ui.workspaces.followup_page import FollowupPage

    page = _proposed(qtbot)
    asked = answer(page, "cancel", "ask_unconfirmed")
    cleared: list[bool] = []
    row = SimpleNamespace(case_pk=7, pk=SECOND.pk)
    host = SimpleNamespace(
        _case_list=SimpleNamespace(select_case=lambda _pk: None),
        review=page,
        worklist=SimpleNamespace(
            selected_item=lambda: row,
            table=SimpleNamespace(clearSelection=lambda: cleared.append(True)),
        ),
    )
    FollowupPage._on_worklist_case_selected(host, 7)  # type: ignore[arg-type]
    assert len(asked) == 1
    assert cleared == [True]  # the row of follow-up 2 does not stay chosen
    _kept(page)
    page.ask_unconfirmed = lambda question: "discard"
    FollowupPage._on_worklist_case_selected(host, 7)  # type: ignore[arg-type]
    assert page.chosen_label() == "follow-up 2"
    assert cleared == [True]
