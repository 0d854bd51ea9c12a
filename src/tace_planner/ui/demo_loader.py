"""The demo case prepared from the window: off the GUI thread, with progress and Cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from tace_planner.domain.progress import Progress
from tace_planner.ui.errors import show_error
from tace_planner.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tace_planner.domain.progress import Task
    from tace_planner.services.demo import DemoReport


class DemoLoader(QObject):
    """Runs the demo task in the window's task runner and reports on its status bar.

    The first start generates the phantom (several seconds) before importing
    and contouring it: the progress bar, the step's message and *Cancel* show
    meanwhile, and *File → Open the demo case* is disabled. When it is ready
    the window lists the cases and opens the demo case. ``make_task(size)``
    comes from the composition root (``app.demo_task``); without it the
    action is hidden.
    """

    def __init__(
        self,
        window: Any,
        tasks: TaskRunner,
        make_task: Callable[[str], Task[DemoReport]] | None,
    ) -> None:
        super().__init__(window)
        self._window: Any = window  # the MainWindow (not imported: it imports this module)
        self._tasks = tasks
        self._make_task = make_task
        self._handle: TaskHandle | None = None
        self.action = QAction("Open the &demo case", window)
        self.action.setToolTip("Generate (the first time) and open the synthetic demo patient")
        self.action.triggered.connect(self._on_action_triggered)
        self.action.setVisible(make_task is not None)

    @property
    def running(self) -> bool:
        """True while the demo is being prepared."""
        return self._handle is not None

    def load(self, size: str = "full") -> TaskHandle | None:
        """Start preparing the demo; None when it runs already or no task was given."""
        if self._handle is not None or self._make_task is None:
            return None
        task = self._make_task(size)
        window = self._window
        self.action.setEnabled(False)
        window.progress_bar.setValue(0)
        window.progress_bar.setVisible(True)
        window.cancel_button.setVisible(True)
        window.statusBar().showMessage("Preparing the demo case…")
        self._handle = self._tasks.submit(
            task,
            title="Preparing the demo case",
            on_result=self._on_result,
            on_progress=self._on_progress,
            on_error=self._on_error,
        )
        return self._handle

    def cancel(self) -> bool:
        """Stop preparing the demo; False when it was not running."""
        if self._handle is None:
            return False
        self._handle.cancel()
        self._finish("Demo case cancelled")
        return True

    def _on_action_triggered(self) -> None:
        self.load()

    def _on_progress(self, step: Progress) -> None:
        bar = self._window.progress_bar
        if step.total:
            bar.setRange(0, 100)
            bar.setValue(int(step.fraction * 100))
        else:
            bar.setRange(0, 0)  # busy: this step's length is unknown
        detail = f": {step.message}" if step.message else "…"
        self._window.statusBar().showMessage(f"Preparing the demo case{detail}")

    def _on_result(self, report: DemoReport) -> None:
        # a re-run over a case the user changed says what it left as it was
        note = f" — {report.note}" if report.note else ""
        self._finish(f"Demo case ready: {report.case.title}{note}")
        self._window.refresh_cases()
        self._window.select_case(report.case.pk)

    def _on_error(self, error: BaseException) -> None:
        self._finish("The demo case could not be prepared")
        show_error(self._window, "Cannot prepare the demo case", error)

    def _finish(self, message: str) -> None:
        self._handle = None
        self.action.setEnabled(True)
        window = self._window
        window.progress_bar.setRange(0, 100)
        window.progress_bar.setVisible(False)
        window.cancel_button.setVisible(False)
        window.statusBar().showMessage(message, 10_000)
