"""How the Follow-up page runs its tasks: off the GUI thread, with its progress and *Cancel*.

:class:`PageTasks` is a part of
:class:`~tace_planner.ui.workspaces.followup_page.FollowupReviewPage` (which provides
``message``, ``cancel_button``, ``case_pk``, ``_tasks``, ``_failed`` and ``_set_enabled``):
a proposal or a reading of the stored contours shows its progress and *Cancel* on the page
and in the window's status bar, and closing the window does not wait for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QPushButton


class PageTasks:
    """The page's running task (one proposal or stored-contour reading at a time)."""

    message: QLabel
    cancel_button: QPushButton
    _tasks: Any
    _handle: Any
    _handle_kind: str
    _window_cancel: Any

    window: Callable[[], Any]  # the page's (a QWidget)

    def _failed(self, verb: str, error: BaseException, case_pk: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def _set_enabled(self) -> None:  # pragma: no cover - the page's
        raise NotImplementedError

    def _run(
        self,
        button: QPushButton | None,
        message: str,
        task: Any,
        title: str,
        on_result: Callable[[Any], None],
        verb: str,
        case_pk: int,
        *,
        cancellable: bool = False,
    ) -> Any:
        """Submit ``task`` (of case ``case_pk``) off the GUI thread, ``button`` disabled
        until it ends; a failure is said only while that case is still the chosen one.

        A ``cancellable`` task (it writes nothing) shows its progress and *Cancel* here and
        in the window's status bar, and closing the window does not wait for it.
        """
        if button is not None:
            button.setEnabled(False)
        self.message.setText(message)
        extra = {"on_progress": self._progressed, "wait_on_shutdown": False} if cancellable else {}
        handle = self._tasks.submit(
            task,
            title=title,
            on_result=on_result,
            on_error=lambda e: self._failed(verb, e, case_pk),
            **extra,
        )
        if cancellable and handle is not None:
            self._handle = handle
            self._busy(True)
            handle.finished.connect(functools.partial(self._task_ended, handle))
        return handle

    def cancel(self) -> None:
        """Stop the running proposal (or reading of the stored contours); nothing is kept."""
        handle, kind = self._handle, self._handle_kind
        if handle is None:
            return
        handle.cancel()
        self._task_ended(handle)
        if kind == "propose":
            self.message.setText("Cancelled: nothing was proposed.")

    def _task_ended(self, handle: Any) -> None:
        if handle is self._handle:
            self._handle = None
            self._busy(False)
            self._set_enabled()

    def _status_bar_parts(self) -> tuple[Any, Any, Any]:
        """The window's status bar, progress bar and *Cancel* (None without a main window)."""
        window = self.window()
        bar = getattr(window, "progress_bar", None)
        cancel = getattr(window, "cancel_button", None)
        if bar is None or cancel is None or not hasattr(window, "statusBar"):
            return None, None, None
        return window.statusBar(), bar, cancel

    def _busy(self, busy: bool) -> None:
        """Show or hide the progress and the *Cancel* buttons (here and in the status bar)."""
        self.cancel_button.setVisible(busy)
        if self._window_cancel is not None:  # connected while the last task ran
            self._window_cancel.clicked.disconnect(self.cancel)
            self._window_cancel = None
        status, bar, cancel = self._status_bar_parts()
        if bar is None:
            return
        bar.setRange(0, 100)
        bar.setValue(0)
        bar.setVisible(busy)
        cancel.setVisible(busy)
        if busy:
            cancel.clicked.connect(self.cancel)
            self._window_cancel = cancel
        else:
            status.clearMessage()

    def _progressed(self, step: Any) -> None:
        self.message.setText(f"{step.message}…")
        status, bar, _ = self._status_bar_parts()
        if bar is not None:
            bar.setValue(int(step.fraction * 100))
            status.showMessage(f"{step.message}…")
