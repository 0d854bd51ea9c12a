"""Run domain tasks off the GUI thread and report on it: the only module that knows threads."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)

from tace_planner.domain.progress import Progress, Task

T = TypeVar("T")
log = logging.getLogger(__name__)

#: At most this many progress reports per second reach ``on_progress``.
MAX_PROGRESS_PER_S = 20.0


def _ignore(_: object) -> None:
    """A callback that does nothing (for released handles)."""


class TaskHandle(QObject):
    """The GUI-thread end of one running task.

    It carries the task's title and its cancel flag, and calls the submitter's
    callbacks on the GUI thread: ``on_progress`` at most ``MAX_PROGRESS_PER_S``
    times a second (the last report before the result or error is always
    delivered), then exactly one of ``on_result`` or ``on_error``, then emits
    ``finished`` however the task ended. After :meth:`cancel`, neither
    ``on_progress`` nor ``on_result`` is called again; ``on_error`` still is if
    the task fails while it is being closed. The runner deletes the handle's Qt
    object soon after ``finished``, so connect to its signals right after
    ``submit``; :meth:`cancel` and :attr:`is_finished` stay safe to call.
    """

    # The worker_* signals are emitted by the pool thread only; the handle lives
    # on the GUI thread, so they arrive as queued calls of the slots below.
    worker_progressed = Signal(object)
    worker_succeeded = Signal(object)
    worker_failed = Signal(object)
    worker_cancelled = Signal()
    finished = Signal()

    def __init__(
        self,
        title: str,
        on_result: Callable[[Any], None],
        on_progress: Callable[[Progress], None] | None,
        on_error: Callable[[BaseException], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.cancel_requested = threading.Event()
        self.worker_done = threading.Event()
        """Set by the pool thread when it has left the task (however it ended)."""
        self.wait_on_shutdown = True
        """False for a task that writes nothing: :meth:`TaskRunner.shutdown` need not wait
        for it (a step that cannot be interrupted, e.g. a registration, ends on its own)."""
        self._on_result, self._on_progress, self._on_error = on_result, on_progress, on_error
        self._finished = False
        self._pending: Progress | None = None
        self._last_progress_s: float | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setTimerType(Qt.TimerType.PreciseTimer)  # coarse may fire 5 % early
        self._progress_timer.timeout.connect(self._flush_progress)
        # Connected before the task starts: a signal with no receiver is lost.
        self.worker_progressed.connect(self._on_worker_progressed)
        self.worker_succeeded.connect(self._on_worker_succeeded)
        self.worker_failed.connect(self._on_worker_failed)
        self.worker_cancelled.connect(self._on_worker_cancelled)

    @property
    def is_finished(self) -> bool:
        """True once ``finished`` has been emitted."""
        return self._finished

    def cancel(self) -> None:
        """Ask the task to stop at its next progress step; its ``finally`` blocks run."""
        self.cancel_requested.set()

    def release(self) -> None:
        """Drop the callbacks: nothing is delivered any more.

        Called by :meth:`TaskRunner.shutdown`. Callbacks are usually bound
        methods of a widget; a handle still holding them after its window closed
        would keep the window's Python wrapper alive past its C++ object.
        """
        self.cancel_requested.set()
        self._on_result = _ignore
        self._on_progress = None
        self._on_error = _ignore

    @Slot(object)
    def _on_worker_progressed(self, step: Progress) -> None:
        self._pending = step
        if self._progress_timer.isActive():
            return  # a delivery is already scheduled and will take the newest step
        min_interval_s = 1.0 / MAX_PROGRESS_PER_S
        elapsed_s = (
            min_interval_s
            if self._last_progress_s is None
            else time.monotonic() - self._last_progress_s
        )
        if elapsed_s >= min_interval_s:
            self._flush_progress()
        else:
            self._progress_timer.start(max(1, math.ceil(1000 * (min_interval_s - elapsed_s))))

    @Slot()
    def _flush_progress(self) -> None:
        step, self._pending = self._pending, None
        if step is None or self._on_progress is None or self.cancel_requested.is_set():
            return
        self._last_progress_s = time.monotonic()
        self._on_progress(step)

    @Slot(object)
    def _on_worker_succeeded(self, value: object) -> None:
        try:
            self._progress_timer.stop()
            self._flush_progress()
            if not self.cancel_requested.is_set():
                self._on_result(value)
        finally:
            self._finish()

    @Slot(object)
    def _on_worker_failed(self, error: BaseException) -> None:
        try:
            self._progress_timer.stop()
            self._flush_progress()
            self._on_error(error)
        finally:
            self._finish()

    @Slot()
    def _on_worker_cancelled(self) -> None:
        self._progress_timer.stop()
        self._pending = None
        self._finish()

    def _finish(self) -> None:
        self._finished = True
        self.finished.emit()


class _Runnable(QRunnable):
    """Drives one task generator on a pool thread."""

    def __init__(self, task: Task[Any], handle: TaskHandle) -> None:
        super().__init__()
        self._task, self._handle = task, handle

    def run(self) -> None:  # pool thread: emit only, never touch a widget
        handle = self._handle
        try:
            while not handle.cancel_requested.is_set():
                try:
                    step = next(self._task)
                except StopIteration as finished:
                    handle.worker_succeeded.emit(finished.value)
                    return
                handle.worker_progressed.emit(step)
            self._task.close()  # raises GeneratorExit inside the task: its finally blocks run
            handle.worker_cancelled.emit()
        except BaseException as error:  # noqa: BLE001 - forwarded to the GUI, never swallowed
            handle.worker_failed.emit(error)
        finally:
            handle.worker_done.set()


class TaskRunner(QObject):
    """Runs domain tasks on a thread pool of its own and reports on the GUI thread.

    Panels submit ``Task`` generators from ``domain``, ``imaging`` or
    ``services`` with callbacks; the runner owns the handles until they finish.
    The main window calls :meth:`shutdown` from its ``closeEvent``; without it,
    deleting the runner waits for running tasks without cancelling them. Create
    it on the GUI thread.
    """

    task_finished = Signal(object)  # the TaskHandle, after its own finished

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._active: set[TaskHandle] = set()
        self._retired: list[TaskHandle] = []
        """Finished handles whose deferred deletion may still be pending."""
        self._closed = False

    @property
    def active_count(self) -> int:
        """Number of submitted tasks whose ``finished`` has not been emitted yet."""
        return len(self._active)

    def submit(
        self,
        task: Task[T],
        *,
        title: str,
        on_result: Callable[[T], None],
        on_progress: Callable[[Progress], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        wait_on_shutdown: bool = True,
    ) -> TaskHandle:
        """Start ``task`` on the pool and return its handle.

        Parameters
        ----------
        task : Task
            A generator that yields Progress and returns its result.
        title : str
            Shown to the user while the task runs.
        on_result, on_progress, on_error : callable
            Called on the GUI thread; ``on_error`` defaults to logging the
            exception with its traceback.
        wait_on_shutdown : bool
            False for a task that writes nothing (a proposal shown for confirmation):
            :meth:`shutdown` cancels it but does not block the closing window until a
            step that cannot be interrupted ends.

        Returns
        -------
        TaskHandle
            Connect to its signals right away; call ``cancel`` to stop the task.

        Raises
        ------
        RuntimeError
            If the runner was shut down.
        """
        if self._closed:
            raise RuntimeError(f"task runner is shut down; cannot start {title!r}")
        handle = TaskHandle(title, on_result, on_progress, on_error or self._log_error, self)
        handle.wait_on_shutdown = wait_on_shutdown
        # A bound slot, not a lambda: a closure over self kept alive by the handle's
        # connection would let the runner die inside a handle's destructor.
        handle.finished.connect(self._on_handle_finished)
        self._active.add(handle)
        self._pool.start(_Runnable(task, handle))
        return handle

    def shutdown(self, timeout_ms: int = 5_000) -> bool:
        """Cancel every task, refuse new ones, wait for the pool threads and delete the
        finished handles (no deletion of a handle is left pending: the runner may go).

        Parameters
        ----------
        timeout_ms : int
            How long to block the GUI thread at most.

        Returns
        -------
        bool
            True if every task stopped in time (a task submitted with
            ``wait_on_shutdown=False`` is cancelled, not waited for).
        """
        self._closed = True
        for handle in self._active:
            handle.cancel()
        stopped = self._wait_for([h for h in self._active if h.wait_on_shutdown], timeout_ms)
        if all(h.worker_done.is_set() for h in self._active):  # the threads are leaving
            stopped = self._pool.waitForDone(timeout_ms) and stopped
        for handle in self._active:
            handle.release()
        # A finished handle's deletion waits in the event queue; a page test that
        # dropped its runner (the handles' parent) first crashed in the next event
        # processing. Run it now.
        for handle in self._retired:
            if shiboken6.isValid(handle):
                QCoreApplication.sendPostedEvents(handle, QEvent.Type.DeferredDelete)
        self._retired = []
        return stopped

    def _wait_for(self, handles: list[TaskHandle], timeout_ms: int) -> bool:
        """Wait until the pool threads of ``handles`` left their tasks; False on timeout.

        Without a task to wait for, nothing is waited. Tasks that need no waiting
        (``wait_on_shutdown`` False) keep their thread until their step ends; the pool
        (the runner's first child) joins them when the runner itself is deleted.
        """
        deadline = time.monotonic() + timeout_ms / 1000.0
        for handle in handles:
            remaining = deadline - time.monotonic()
            if not handle.worker_done.wait(max(0.0, remaining)):
                return False
        return True

    @Slot()
    def _on_handle_finished(self) -> None:
        handle = self.sender()
        if not isinstance(handle, TaskHandle):
            return
        self._active.discard(handle)
        self.task_finished.emit(handle)
        self._retired = [h for h in self._retired if shiboken6.isValid(h)]
        self._retired.append(handle)
        handle.deleteLater()

    @staticmethod
    def _log_error(error: BaseException) -> None:
        log.error("background task failed", exc_info=error)
