"""A follow-up imaged by MR only: chosen and viewed, Propose refused before the click with
the reason (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tace_planner.services.followup_dto import FollowupChoiceItem
from tace_planner.services.propagation import CaseCourse, FollowUpTimepoint

D = dt.date
NOTE = (
    "has imaging (MR only) but no CT series to register to the baseline — link its CT study first"
)


class _Tasks:
    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, task: Any, *, title: str, **_options: Any) -> None:
        self.submitted.append(title)
        task.close()


class _Propagation:
    def timepoints(self, case_pk: int) -> list[FollowUpTimepoint]:
        return [
            FollowUpTimepoint(1, "baseline", "baseline", D(2026, 3, 2)),
            FollowUpTimepoint(2, "follow-up 1", "follow_up", D(2026, 5, 11), NOTE),
        ]

    def course(self, case_pk: int) -> CaseCourse:
        return CaseCourse(case_pk, (), (), ())

    def propose_task(self, *_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("Propose ran for a follow-up without a CT volume")


def test_an_mr_only_follow_up_is_chosen_but_not_proposed(qtbot: Any) -> None:
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    tasks = _Tasks()
    ready = FollowupChoiceItem(2, "follow-up 1", "done", "ready", imaged_on=D(2026, 5, 11))
    page = FollowupReviewPage(_Propagation(), tasks, choices=lambda _case: [ready])
    qtbot.addWidget(page)
    page.set_case(7)

    assert page.chosen_label() == "follow-up 1"  # chosen: viewed and contoured by hand
    assert not page.propose_button.isEnabled()
    assert page.propose_button.toolTip() == f"Follow-up 1 {NOTE}."
    page.propose()  # a click that reaches it anyway says why, and runs nothing
    assert page.message.text() == f"Follow-up 1 {NOTE}."
    assert not any("Propos" in title for title in tasks.submitted)
