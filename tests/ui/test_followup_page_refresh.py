"""The Follow-up review shows contours drawn elsewhere (the Plan workspace) when it is shown
again or the case's course changes; it reads nothing when they did not change and never
replaces a proposal on screen (pytest-qt, offscreen, fake services)."""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QObject, Signal

from tace_planner.domain.progress import Progress, Task, run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.followup_dto import FollowupChoiceItem
from tace_planner.services.propagation import CaseCourse, FollowUpTimepoint

D = dt.date
CASE = 1
BASELINE, FOLLOW_UP = 10, 11
SHAPE = (4, 16, 16)


class _Handle(QObject):
    """A task's handle as the runner gives it; nothing runs in the background here."""

    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.cancel_requested = threading.Event()

    def cancel(self) -> None:
        self.cancel_requested.set()


class _HeldTasks:
    """A task runner that runs nothing until :meth:`finish`; it counts what was submitted."""

    def __init__(self) -> None:
        self.titles: list[str] = []
        self._waiting: list[tuple[Any, Any, _Handle]] = []

    def submit(self, task: Any, *, title: str, on_result: Any, **_options: Any) -> _Handle:
        handle = _Handle()
        self.titles.append(title)
        self._waiting.append((task, on_result, handle))
        return handle

    def finish(self) -> None:
        waiting, self._waiting = self._waiting, []
        for task, on_result, handle in waiting:
            on_result(run_sync(task))
            handle.finished.emit()


class _Contouring:
    """Stored foci of one case; ``draw`` stores (or edits) one as the Plan workspace does."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, int], int] = {("F1", BASELINE): 1}  # -> version
        self.queries = 0
        self.masks = SimpleNamespace(segmentations_of_case=self._segmentations)

    def draw(self, name: str, timepoint_pk: int) -> None:
        key = (name, timepoint_pk)
        self.stored[key] = self.stored.get(key, 0) + 1

    def _segmentations(self, case_pk: int) -> list[tuple[Any, Any]]:
        self.queries += 1
        out = []
        for pk, ((name, timepoint_pk), version) in enumerate(sorted(self.stored.items())):
            lesion = SimpleNamespace(pk=int(name[1:]), name=name, is_liver=False)
            uid = f"1.2.{timepoint_pk}"
            seg = SimpleNamespace(pk=pk, timepoint_pk=timepoint_pk, series_uid=uid, part=None,
                                  is_empty=False, version=version)  # fmt: skip
            out.append((lesion, seg))
        return out

    def volume(self, uid: str, part: Any) -> ImageVolume:
        return ImageVolume(np.zeros(SHAPE, np.float32), np.eye(4))

    def load_mask(self, lesion_pk: int, timepoint_pk: int) -> Any:
        mask = np.zeros(SHAPE, bool)
        mask[1:3, 4:8, 4:8] = True
        return SimpleNamespace(lesion=SimpleNamespace(name=f"F{lesion_pk}"), mask=mask)


class _Propagation:
    def timepoints(self, case_pk: int) -> list[FollowUpTimepoint]:
        return [
            FollowUpTimepoint(BASELINE, "baseline", "baseline", D(2026, 3, 2)),
            FollowUpTimepoint(FOLLOW_UP, "follow-up 1", "follow_up", D(2026, 5, 11)),
        ]

    def course(self, case_pk: int) -> CaseCourse:
        return CaseCourse(case_pk, (), (), ())

    def propose_task(self, case_pk: int, label: str, *, cancelled: Any = None) -> Task[Any]:
        yield Progress(0, 1, f"Registering {label} to the baseline")
        follow_up = TimepointChoice(FOLLOW_UP, label, "follow_up", D(2026, 5, 11))
        return SimpleNamespace(
            case_pk=case_pk,
            follow_up=follow_up,
            registration=SimpleNamespace(ok=True, message="Registered (test)"),
            proposals=(),
            baseline_image=None,
            follow_up_image=None,
        )


@pytest.fixture
def setup(qtbot: Any) -> Any:
    """The review page in a stack beside another page (as the window's workspaces), on the
    case, its follow-up 1 read once (nothing stored there yet)."""
    from PySide6.QtWidgets import QLabel, QStackedWidget

    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    tasks, contouring = _HeldTasks(), _Contouring()
    ready = FollowupChoiceItem(FOLLOW_UP, "follow-up 1", "done", "ready", imaged_on=D(2026, 5, 11))
    page = FollowupReviewPage(
        _Propagation(), tasks, choices=lambda _case: [ready], contouring=contouring
    )
    stack = QStackedWidget()
    plan = QLabel("the Plan workspace")
    stack.addWidget(plan)
    stack.addWidget(page)
    qtbot.addWidget(stack)
    stack.setCurrentWidget(page)
    stack.show()
    page.set_case(CASE)
    tasks.finish()
    return SimpleNamespace(page=page, stack=stack, plan=plan, tasks=tasks, contouring=contouring)


def test_contours_drawn_in_the_plan_workspace_show_when_the_page_is_shown_again(
    setup: Any,
) -> None:
    from tace_planner.ui.followup_review import StoredReview

    page, stack, tasks, contouring = setup.page, setup.stack, setup.tasks, setup.contouring
    assert page.review.item is None
    assert page.message.text().startswith("No contour stored at follow-up 1 yet")
    assert "Plan workspace" in page.message.text()  # there is no Contour workspace
    assert "Contour workspace" not in page.message.text()
    readings = len(tasks.titles)
    stack.setCurrentWidget(setup.plan)  # to the Plan workspace: F1 contoured at follow-up 1
    contouring.draw("F1", FOLLOW_UP)
    stack.setCurrentWidget(page)  # back to the Follow-up workspace
    assert len(tasks.titles) == readings + 1
    tasks.finish()
    assert isinstance(page.review.item, StoredReview)
    assert [name for name, _ in page.review.item.follow_up_masks] == ["F1"]
    assert page.message.text() == "Follow-up 1: the stored contours."
    assert not page.review.follow_up.hint.isVisible()
    # away and back with nothing changed: one cheap query, no reading
    queries = contouring.queries
    stack.setCurrentWidget(setup.plan)
    stack.setCurrentWidget(page)
    assert len(tasks.titles) == readings + 1
    assert contouring.queries == queries + 1
    # F1 edited at follow-up 1 (a new version): read again
    stack.setCurrentWidget(setup.plan)
    contouring.draw("F1", FOLLOW_UP)
    stack.setCurrentWidget(page)
    assert len(tasks.titles) == readings + 2


def test_a_course_change_reads_new_contours_but_never_replaces_a_proposal(setup: Any) -> None:
    from tace_planner.ui.followup_review import StoredReview

    page, tasks, contouring = setup.page, setup.tasks, setup.contouring
    readings = len(tasks.titles)
    page.course_changed.emit(CASE)  # nothing changed: nothing read
    assert len(tasks.titles) == readings
    contouring.draw("F1", FOLLOW_UP)
    page.course_changed.emit(CASE + 1)  # another case's course: not this one's
    assert len(tasks.titles) == readings
    page.course_changed.emit(CASE)  # e.g. after assessing
    assert len(tasks.titles) == readings + 1
    tasks.finish()
    assert isinstance(page.review.item, StoredReview)
    # a proposal on screen stays there, whatever is stored meanwhile
    page.propose()
    tasks.finish()
    proposal = page.review.item
    assert not isinstance(proposal, StoredReview)
    readings = len(tasks.titles)
    contouring.draw("F1", FOLLOW_UP)
    page.course_changed.emit(CASE)
    setup.stack.setCurrentWidget(setup.plan)
    setup.stack.setCurrentWidget(page)
    assert len(tasks.titles) == readings
    assert page.review.item is proposal


@pytest.mark.db
def test_the_window_shows_contours_stored_while_in_the_plan_workspace(
    qtbot: Any, open_window: Any, contoured_demo_copy: Any
) -> None:
    """The reviewer's path: Follow-up, then contours stored at follow-up 1 while in the
    Plan workspace, then Follow-up again (the demo case, the real window)."""
    from tace_planner.ui.followup_review import StoredReview

    window = open_window(contoured_demo_copy)
    services = window._test_services
    case = services.cases.list_cases()[0].pk
    review = window._page_widgets["follow_up"].review
    window.enter_workspace("follow_up")
    window.select_case(case)
    assert review.chosen_label() == "follow-up 1"
    qtbot.waitUntil(lambda: review.message.text().startswith("No contour stored"), timeout=30_000)
    window.enter_workspace("plan")
    item = services.propagation.propose(case, "follow-up 1", lesions=["F1", "F2"])
    services.propagation.confirm(item)  # F1 and F2 contoured there
    window.enter_workspace("follow_up")
    qtbot.waitUntil(lambda: isinstance(review.review.item, StoredReview), timeout=30_000)
    assert [name for name, _ in review.review.item.follow_up_masks] == ["F1", "F2"]
    assert not review.review.follow_up.hint.isVisible()
