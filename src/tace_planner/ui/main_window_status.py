"""The main window's status bar: the database's name, and the progress and *Cancel* of
the running work (series loads, the demo, and the tasks that borrow them).

:class:`StatusBarMixin` is a part of :class:`~tace_planner.ui.main_window.MainWindow`
(its only user). *Cancel* stops the demo or the series loads; a task of another part
(the Follow-up page's proposal) connects its own cancel to the same button, and then the
viewer is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

if TYPE_CHECKING:
    from tace_planner.domain.progress import Progress


class StatusBarMixin:
    """Status bar, progress and *Cancel* of the window (a part of ``MainWindow``)."""

    def _build_status_bar(self) -> None:
        settings = self._services.settings
        self.database_label = QLabel(f"Database: {settings.describe_database()}")
        self.database_label.setObjectName("database_label")
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        bar = self.statusBar()
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.database_label)

    def status_message_room(self) -> int:
        """Pixels the status bar leaves for a message beside its visible permanent widgets."""
        permanent = sum(
            widget.width()
            for widget in (self.database_label, self.progress_bar, self.cancel_button)
            if widget.isVisible()
        )
        return self.statusBar().width() - permanent - 40

    @Slot(bool)
    def _on_loading_busy_changed(self, busy: bool) -> None:
        if busy:
            self.progress_bar.setValue(0)
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def _on_load_progress(self, step: Progress) -> None:
        self.progress_bar.setValue(int(step.fraction * 100))

    @Slot(str)
    def _on_viewer_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8_000)

    def _on_load_failed(self, title: str, error: BaseException) -> None:
        self.view_title.setText(f"{title}: could not be loaded")
        self._show_error(f"Cannot load {title}", error)

    def _on_cancel_button_clicked(self) -> None:
        """The status bar's *Cancel*: the demo, or the series loads. Another task that
        shows this button (the Follow-up page's proposal) connects its own cancel to it."""
        if self.demo_loader.cancel():
            return
        if self.viewer.provider.busy:
            self.viewer.provider.cancel_all()
            self.view_title.setText("Loading cancelled")
