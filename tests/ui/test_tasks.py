"""The task runner: order, throttled progress, cancel, errors and shutdown."""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from tace_planner.domain.progress import Progress, Task
from tace_planner.ui.tasks import MAX_PROGRESS_PER_S, TaskRunner

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def counting(steps: int, result: object = "done", pause_s: float = 0.0) -> Task[object]:
    for done in range(1, steps + 1):
        if pause_s:
            time.sleep(pause_s)
        yield Progress(done, steps, "counting")
    return result


def endless(started: threading.Event, cleaned_up: threading.Event) -> Task[str]:
    try:
        done = 0
        while True:
            done += 1
            yield Progress(done, 0, "working")
            started.set()
            time.sleep(0.005)
    finally:
        cleaned_up.set()


def failing() -> Task[None]:
    yield Progress(1, 2, "about to fail")
    raise ValueError("series 1.2.3: gaps vary from 2.5 to 5.0 mm")


def test_progress_is_delivered_before_the_result(qtbot: QtBot, task_runner: TaskRunner) -> None:
    events: list[tuple[str, object]] = []
    handle = task_runner.submit(
        counting(3, result=42),
        title="count",
        on_result=lambda value: events.append(("result", value)),
        on_progress=lambda step: events.append(("progress", step)),
        on_error=lambda error: events.append(("error", error)),
    )
    with qtbot.waitSignal(handle.finished, timeout=5_000):
        pass

    assert events[-1] == ("result", 42)
    assert [kind for kind, _ in events[:-1]] == ["progress"] * (len(events) - 1)
    assert events[-2] == ("progress", Progress(3, 3, "counting"))  # the last one is never dropped
    assert handle.is_finished


def test_progress_is_throttled_but_the_last_step_arrives(
    qtbot: QtBot, task_runner: TaskRunner
) -> None:
    steps = 2_000
    delivered: list[Progress] = []
    results: list[object] = []
    started_s = time.monotonic()
    handle = task_runner.submit(
        counting(steps, pause_s=0.0002),
        title="many steps",
        on_result=results.append,
        on_progress=delivered.append,
    )
    with qtbot.waitSignal(handle.finished, timeout=10_000):
        pass
    elapsed_s = time.monotonic() - started_s

    assert results == ["done"]
    assert delivered[-1] == Progress(steps, steps, "counting")
    # One immediate delivery, then at most one per interval, plus the final flush.
    assert len(delivered) <= elapsed_s * MAX_PROGRESS_PER_S + 3
    assert [step.done for step in delivered] == sorted(step.done for step in delivered)


def test_cancel_closes_the_generator_and_skips_the_result(
    qtbot: QtBot, task_runner: TaskRunner
) -> None:
    started, cleaned_up = threading.Event(), threading.Event()
    results: list[object] = []
    errors: list[BaseException] = []
    handle = task_runner.submit(
        endless(started, cleaned_up),
        title="endless",
        on_result=results.append,
        on_error=errors.append,
    )
    qtbot.waitUntil(started.is_set, timeout=5_000)

    with qtbot.waitSignal(handle.finished, timeout=5_000):
        handle.cancel()

    qtbot.waitUntil(cleaned_up.is_set, timeout=1_000)
    assert results == []
    assert errors == []
    assert task_runner.active_count == 0


def test_cancel_before_the_task_starts_never_runs_its_body(
    qtbot: QtBot, task_runner: TaskRunner
) -> None:
    blockers = [threading.Event(), threading.Event()]
    released = threading.Event()

    def blocking(started: threading.Event) -> Task[None]:
        started.set()
        while not released.is_set():
            yield Progress(0, 0, "blocking")
            time.sleep(0.005)

    body_ran = threading.Event()

    def queued() -> Task[None]:
        body_ran.set()
        yield Progress(1, 1)

    for started in blockers:  # occupy both pool threads
        task_runner.submit(blocking(started), title="blocker", on_result=lambda _: None)
    qtbot.waitUntil(lambda: all(event.is_set() for event in blockers), timeout=5_000)
    handle = task_runner.submit(queued(), title="queued", on_result=lambda _: None)
    handle.cancel()
    with qtbot.waitSignal(handle.finished, timeout=5_000):
        released.set()

    assert not body_ran.is_set()


def test_error_is_delivered_to_on_error(qtbot: QtBot, task_runner: TaskRunner) -> None:
    results: list[object] = []
    errors: list[BaseException] = []
    handle = task_runner.submit(
        failing(), title="fail", on_result=results.append, on_error=errors.append
    )
    with qtbot.waitSignal(handle.finished, timeout=5_000):
        pass

    assert results == []
    assert len(errors) == 1
    assert isinstance(errors[0], ValueError)
    assert "gaps vary" in str(errors[0])


def test_errors_without_a_handler_are_logged(
    qtbot: QtBot, task_runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    handle = task_runner.submit(failing(), title="fail", on_result=lambda _: None)
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(handle.finished, timeout=5_000):
        pass

    assert any(record.exc_info and record.exc_info[0] is ValueError for record in caplog.records)


def test_task_finished_reports_the_handle(qtbot: QtBot, task_runner: TaskRunner) -> None:
    handle = task_runner.submit(counting(1), title="one", on_result=lambda _: None)
    with qtbot.waitSignal(task_runner.task_finished, timeout=5_000) as blocker:
        pass

    assert blocker.args == [handle]
    handle.cancel()  # harmless after the end, even once the Qt object is gone


def test_shutdown_cancels_and_waits_for_every_task(qtbot: QtBot) -> None:
    runner = TaskRunner(max_threads=2)
    started = [threading.Event() for _ in range(2)]
    cleaned_up = [threading.Event() for _ in range(3)]
    results: list[object] = []
    for index in range(3):  # the third waits in the queue
        started_event = started[index] if index < 2 else threading.Event()
        runner.submit(
            endless(started_event, cleaned_up[index]), title="endless", on_result=results.append
        )
    qtbot.waitUntil(lambda: all(event.is_set() for event in started), timeout=5_000)

    assert runner.shutdown(timeout_ms=5_000)

    # shutdown() returns only after the pool threads are done, so no waiting here.
    assert cleaned_up[0].is_set()
    assert cleaned_up[1].is_set()
    assert not cleaned_up[2].is_set()  # never started, so there was nothing to clean up
    with pytest.raises(RuntimeError, match="shut down"):
        runner.submit(counting(1), title="late", on_result=results.append)
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=5_000)
    assert results == []


def test_dropping_a_runner_with_undelivered_results_is_safe(qtbot: QtBot) -> None:
    # Regression: a lambda connected to each handle's finished kept the runner alive
    # until a handle was deleted, and the runner then died inside that handle's
    # destructor (double delete, segfault at the next event loop turn).
    runner = TaskRunner()
    handles = [
        runner.submit(counting(2), title="quick", on_result=lambda _: None) for _ in range(3)
    ]
    assert runner.shutdown(timeout_ms=5_000)
    destroyed: list[bool] = []
    runner.destroyed.connect(lambda: destroyed.append(True))

    del runner, handles
    gc.collect()
    for _ in range(3):
        QApplication.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)

    assert destroyed == [True]


def test_shutdown_deletes_the_finished_handles_before_the_runner_can_go(qtbot: QtBot) -> None:
    # A finished handle's deletion waited in the event queue after shutdown(); a test
    # that then dropped its runner (the handles' parent) crashed in the next event
    # processing. After shutdown() no deletion of the runner's handles is pending.
    import shiboken6

    runner = TaskRunner()
    results: list[object] = []
    handle = runner.submit(counting(1), title="quick", on_result=results.append)
    deadline = time.monotonic() + 5.0
    while runner.active_count and time.monotonic() < deadline:
        QApplication.processEvents()  # not an event loop: deferred deletions wait
    assert results == ["done"]
    assert shiboken6.isValid(handle)  # finished, its deletion posted, not run yet

    assert runner.shutdown(timeout_ms=5_000)

    assert not shiboken6.isValid(handle)
    del runner
    QApplication.processEvents()
