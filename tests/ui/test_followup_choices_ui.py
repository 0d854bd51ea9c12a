"""The Follow-up box offers every follow-up of the case, but only those holding imaging can
be chosen: the others are greyed and say why (not yet due, overdue…) (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt

from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.followup_dto import FollowupChoiceItem
from tace_planner.services.propagation import CaseCourse

D = dt.date
CHOICES = [
    FollowupChoiceItem(2, "follow-up 1", "done", "ready", imaged_on=D(2026, 5, 11)),
    FollowupChoiceItem(3, "follow-up 2", "done", "ready", imaged_on=D(2026, 8, 16)),
    FollowupChoiceItem(
        4, "TACE 1 follow-up 4", "scheduled", "not_yet_due", due_on=D(2027, 2, 11),
        window_start_on=D(2027, 1, 28), window_end_on=D(2027, 2, 25),
    ),
    FollowupChoiceItem(
        5, "TACE 1 follow-up 3", "scheduled", "overdue", due_on=D(2026, 11, 1),
        window_start_on=D(2026, 10, 18), window_end_on=D(2026, 11, 15),
    ),
]  # fmt: skip


class _Tasks:
    """Records the submitted tasks; :meth:`finish` runs them on the calling thread."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Any, Any]] = []

    def submit(self, task: Any, *, title: str, on_result: Any, **_options: Any) -> None:
        self.waiting.append((task, on_result))

    def finish(self) -> None:
        waiting, self.waiting = self.waiting, []
        for task, on_result in waiting:
            on_result(run_sync(task))


class _Propagation:
    def __init__(self) -> None:
        self.proposed: list[str] = []

    def timepoints(self, case_pk: int) -> list[TimepointChoice]:
        return [TimepointChoice(1, "baseline", "baseline", D(2026, 3, 2))]

    def course(self, case_pk: int) -> CaseCourse:
        return CaseCourse(case_pk, (), (), ())

    def propose_task(self, case_pk: int, label: str, *, cancelled: Any = None) -> Task[Any]:
        self.proposed.append(label)
        yield Progress(0, 1, f"Registering {label} to the baseline")
        raise LookupError("not needed here")


def _page(qtbot: Any) -> tuple[Any, _Tasks, _Propagation]:
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    tasks, propagation = _Tasks(), _Propagation()
    page = FollowupReviewPage(propagation, tasks, choices=lambda case_pk: list(CHOICES))
    qtbot.addWidget(page)
    page.set_case(7)
    return page, tasks, propagation


def test_follow_ups_without_imaging_are_greyed_and_say_why(qtbot: Any) -> None:
    page, _, _ = _page(qtbot)
    box = page.timepoints
    assert [box.itemText(i) for i in range(box.count())] == [c.label for c in CHOICES]
    assert [box.model().item(i).isEnabled() for i in range(box.count())] == [
        True, True, False, False,
    ]  # fmt: skip
    assert box.itemData(2, Qt.ItemDataRole.ToolTipRole) == (
        "Not yet due: due 2027-02-11, window opens 2027-01-28"
    )
    assert box.itemData(3, Qt.ItemDataRole.ToolTipRole) == (
        "Overdue: its window closed on 2026-11-15 without a study"
    )
    assert box.itemData(0, Qt.ItemDataRole.ToolTipRole) is None
    assert page.chosen_label() == "follow-up 1"
    assert page.propose_button.isEnabled()


def test_a_follow_up_without_imaging_is_refused_before_any_work(qtbot: Any) -> None:
    page, tasks, _ = _page(qtbot)
    page.timepoints.setCurrentIndex(2)  # chosen anyway (by code): refused, nothing submitted
    assert not page.propose_button.isEnabled()
    assert page.message.text() == (
        "TACE 1 follow-up 4: not yet due: due 2027-02-11, window opens 2027-01-28."
    )
    page.propose()
    page.assess()
    assert tasks.waiting == []


def test_the_label_proposed_is_the_items_not_its_shown_text(qtbot: Any) -> None:
    page, tasks, propagation = _page(qtbot)
    page.timepoints.setCurrentIndex(1)
    page.timepoints.setItemText(1, "Follow-up 2 (2026-08-16)")  # a friendlier shown text
    page.propose()
    assert len(tasks.waiting) == 1
    tasks.waiting[0] = (tasks.waiting[0][0], lambda result: None)
    with pytest.raises(LookupError):
        tasks.finish()
    assert propagation.proposed == ["follow-up 2"]
