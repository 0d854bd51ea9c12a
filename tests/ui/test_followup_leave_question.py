"""Choosing another follow-up with checked proposals not confirmed: the Follow-up box
shows the follow-up asked about while the question is open, and what *Confirm* stored is
still said on the next follow-up (pytest-qt, offscreen).

Seen in review: the box already showed TACE 1 follow-up 2 while the question asked about
the proposals of TACE 1 follow-up 1, and after *Confirm* the "stored" message was replaced
at once by follow-up 2's, so the user never read that the proposals were stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from test_followup_unconfirmed import VISIT, _Confirming
from test_followup_unconfirmed import _proposed as _proposed_at_one

from tace_planner.domain.progress import Progress, Task
from tace_planner.services.followup_dto import FollowupChoiceItem

SECOND = FollowupChoiceItem(3, "follow-up 2", "done", "ready", imaged_on=dt.date(2026, 8, 16),
                            tace_number=1, followup_number=2)  # fmt: skip


def _proposed(qtbot: Any, propagation: _Confirming | None = None) -> Any:
    """Seven proposals at follow-up 1, chosen, of a case with follow-up 2 in the box too."""
    page = _proposed_at_one(qtbot, propagation)
    first = page.chosen_choice()
    page._choices = lambda _case: [first, SECOND]
    page.refresh_choices()  # follow-up 2 imaged meanwhile: the box offers it
    assert [page.timepoints.itemText(i) for i in range(2)] == [VISIT, SECOND.visit_name]
    assert page.chosen_label() == "follow-up 1"
    assert page.review.unconfirmed() == [f"F{n}" for n in range(1, 8)]
    return page


def _answering(page: Any, answer: str) -> list[tuple[str, str]]:
    """Answer the question with ``answer``; record the box's text and label when asked."""
    seen: list[tuple[str, str]] = []

    def ask(_question: str) -> str:
        seen.append((page.timepoints.currentText(), page.chosen_label()))
        return answer

    page.ask_unconfirmed = ask
    return seen


@pytest.mark.parametrize("answer", ["cancel", "discard", "confirm"])
def test_the_box_shows_the_follow_up_asked_about_until_the_answer(qtbot: Any, answer: str) -> None:
    page = _proposed(qtbot)
    seen = _answering(page, answer)
    changes: list[int] = []
    page.timepoints.currentIndexChanged.connect(changes.append)
    page.timepoints.setCurrentIndex(1)  # the user chooses TACE 1 follow-up 2
    assert seen == [(VISIT, "follow-up 1")]  # the follow-up the question is about
    assert changes == [1]  # its going back and forth sends no other signal
    if answer == "cancel":  # it stays on the follow-up proposed, its proposals kept
        assert page.chosen_label() == "follow-up 1"
        assert page.timepoints.currentText() == VISIT
        assert page.review.unconfirmed() == [f"F{n}" for n in range(1, 8)]
    else:  # the answer lets it go: the follow-up chosen is shown
        assert page.chosen_label() == "follow-up 2"
        assert page.timepoints.currentText() == SECOND.visit_name
        assert page.review.item is None


def test_a_worklist_row_keeps_the_box_on_the_follow_up_asked_about(qtbot: Any) -> None:
    page = _proposed(qtbot)
    seen = _answering(page, "cancel")
    assert page.choose_follow_up(SECOND.pk) == ""
    assert seen == [(VISIT, "follow-up 1")]
    assert page.timepoints.currentText() == VISIT


def _nothing_stored(*_args: Any) -> Task[Any]:
    yield Progress(0, 1, "Reading the stored contours")
    return None


def test_what_confirm_stored_is_still_said_on_the_next_follow_up(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tace_planner.ui.workspaces import followup_page

    monkeypatch.setattr(followup_page, "stored_review_task", _nothing_stored)
    monkeypatch.setattr(followup_page, "stored_contour_versions", lambda *_a: frozenset())
    propagation = _Confirming()
    page = _proposed(qtbot, propagation)
    page._contouring = object()  # the stored contours of the next follow-up are read
    page.review.table.item(4, 0).setCheckState(page.review.table.item(4, 0).checkState().Unchecked)
    _answering(page, "confirm")
    page.timepoints.setCurrentIndex(1)
    assert propagation.confirmed == [["F1", "F2", "F3", "F4", "F6", "F7"]]
    stored = f"6 proposals of {VISIT} stored."
    assert page.message.text().startswith(stored)  # while follow-up 2 is read
    page._tasks.finish()  # follow-up 2's stored contours read: none
    message = page.message.text()
    assert message.startswith(stored), message
    assert f"No contour stored at {SECOND.visit_name} yet" in message
    page.timepoints.setCurrentIndex(0)  # another follow-up chosen: said no more
    page._tasks.finish()
    assert stored not in page.message.text()
