"""File → Export case… and Export cohort…: the export dialog on the window's task runner.

The export task comes from the composition root (``app.window_export_task``), because the
window reaches no service module beyond the services it is given; without it the actions
are hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from tace_planner.ui.dialogs.export_dialog import ExportDialog
from tace_planner.ui.tasks import TaskRunner


class ExportActions(QObject):
    """The two menu actions and the dialog they open (``dialog``, the last one opened)."""

    def __init__(
        self, window: Any, tasks: TaskRunner, make_task: Callable[..., Any] | None
    ) -> None:
        super().__init__(window)
        self._window: Any = window  # the MainWindow (not imported: it imports this module)
        self._tasks = tasks
        self._make_task = make_task
        self.dialog: ExportDialog | None = None
        self.case_action = QAction("&Export case…", window)
        self.case_action.setToolTip("Export the current case: CSV, JSON, PDF, SEG, REDCap, SDTM")
        self.case_action.triggered.connect(self.export_case)
        self.cohort_action = QAction("Export c&ohort…", window)
        self.cohort_action.setToolTip("Export every case of the registry")
        self.cohort_action.triggered.connect(self.export_cohort)
        for action in (self.case_action, self.cohort_action):
            action.setVisible(make_task is not None)

    def export_case(self) -> ExportDialog | None:
        """Open the dialog for the case chosen in the case list (None without one)."""
        context = self._window.context
        if context.case is None:
            self._window.statusBar().showMessage(
                "Choose a case in the case list, then File → Export case…", 10_000
            )
            return None
        what = f"{context.patient_label} · {context.case.title}"
        return self._open(context.case.pk, what)

    def export_cohort(self) -> ExportDialog | None:
        """Open the dialog for every case."""
        return self._open(None, "every case of the registry")

    def _open(self, case_pk: int | None, what: str) -> ExportDialog | None:
        if self._make_task is None:
            return None
        if self.dialog is not None and self.dialog.running:
            self.dialog.raise_()
            return self.dialog
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = ExportDialog(self._make_task, self._tasks, case_pk, what, self._window)
        self.dialog.show()
        return self.dialog
