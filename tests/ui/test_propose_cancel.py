"""Proposing follow-up contours shows the app's progress and *Cancel*; cancelling stops it
between steps, and closing the window during a step that cannot be interrupted (the
registration) returns at once (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tace_planner.domain.progress import Progress, run_sync
from tace_planner.services.followup_dto import FollowupChoiceItem
from tace_planner.services.propagation import CaseCourse, FollowUpTimepoint

D = dt.date
READY = FollowupChoiceItem(2, "follow-up 1", "done", "ready", imaged_on=D(2026, 5, 11))


class _SlowPropagation:
    """Proposes in ``steps`` steps of ``step_s`` seconds each; says when it was closed."""

    def __init__(self, steps: int, step_s: float) -> None:
        self.steps, self.step_s = steps, step_s
        self.closed = threading.Event()
        self.in_step = threading.Event()
        self.finished_steps = 0

    def timepoints(self, case_pk: int) -> list[FollowUpTimepoint]:
        return [
            FollowUpTimepoint(1, "baseline", "baseline", D(2026, 3, 2)),
            FollowUpTimepoint(2, "follow-up 1", "follow_up", D(2026, 5, 11)),
        ]

    def course(self, case_pk: int) -> CaseCourse:
        return CaseCourse(case_pk, (), (), ())

    def best_changes(self, case_pks: list[int]) -> list[Any]:
        return []

    def propose_task(self, case_pk: int, label: str, *, cancelled: Any = None) -> Any:
        try:
            for n in range(self.steps):
                yield Progress(n, self.steps, f"Step {n + 1}")
                self.in_step.set()
                time.sleep(self.step_s)  # e.g. the registration: not interruptible
                self.finished_steps += 1
        finally:
            self.closed.set()
        raise AssertionError("never reached in these tests")

    def propose(self, case_pk: int, label: str) -> Any:
        return run_sync(self.propose_task(case_pk, label))


@pytest.fixture
def window(qtbot: Any, services: Any) -> Any:
    """The main window on an empty database; its Follow-up page proposes from a fake."""
    from tace_planner.ui.main_window import MainWindow

    main = MainWindow(services)
    qtbot.addWidget(main)
    main.resize(1600, 1000)
    main.show()
    main.enter_workspace("follow_up")
    yield main
    main.close()


def _start(window: Any, qtbot: Any, propagation: _SlowPropagation) -> Any:
    review = window._page_widgets["follow_up"].review
    review._propagation = propagation
    review._choices = lambda case_pk: [READY]
    review._contouring = None  # nothing stored to show
    review.set_case(7)
    review.propose()
    qtbot.waitUntil(lambda: window.progress_bar.isVisible(), timeout=5_000)
    return review


def test_propose_shows_progress_and_the_windows_cancel_stops_it(qtbot: Any, window: Any) -> None:
    propagation = _SlowPropagation(steps=200, step_s=0.02)
    review = _start(window, qtbot, propagation)
    assert window.cancel_button.isVisible()
    assert review.cancel_button.isVisible()
    assert not review.propose_button.isEnabled()
    qtbot.waitUntil(lambda: window.progress_bar.value() > 0, timeout=5_000)
    assert review.message.text().startswith("Step ")
    window.cancel_button.click()
    assert propagation.closed.wait(2.0), "the proposal was not closed between two steps"
    assert propagation.finished_steps < propagation.steps
    assert review.message.text() == "Cancelled: nothing was proposed."
    assert not window.progress_bar.isVisible()
    assert not window.cancel_button.isVisible()
    assert review.propose_button.isEnabled()
    qtbot.wait(100)
    assert review.review.item is None  # nothing arrives after the cancel


def test_closing_the_window_during_a_long_step_returns_at_once(qtbot: Any, window: Any) -> None:
    propagation = _SlowPropagation(steps=2, step_s=4.0)
    _start(window, qtbot, propagation)
    assert propagation.in_step.wait(5.0)  # inside the first step, as in a registration
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 1.5, "closing waited for the registration step"
    # the step ends on its own; the task is closed before its next one
    assert propagation.closed.wait(6.0)
    assert propagation.finished_steps == 1
