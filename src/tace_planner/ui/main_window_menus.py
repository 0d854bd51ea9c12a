"""The main window's menus and the dialogs they open: import, settings, parameters,
cohort groups, PNG snapshots, the manual, shortcuts and the about box.

:class:`WindowMenusMixin` is a part of :class:`~tace_planner.ui.main_window.MainWindow`
(its only user). The dialogs that bring heavy modules are imported when opened.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from tace_planner import __version__
from tace_planner.services.settings import save_settings
from tace_planner.ui.dialogs.help_dialogs import ManualDialog, ShortcutsDialog, menu_shortcuts
from tace_planner.ui.dialogs.settings_dialog import SettingsDialog
from tace_planner.ui.export_actions import ExportActions
from tace_planner.ui.main_window_layout import DISCLAIMER


class SnapshotDialog:
    """Asks where to save a PNG of the active view; tests patch :meth:`ask`."""

    @classmethod
    def ask(cls, parent: QWidget, suggested: str) -> Path | None:
        """The chosen file, or None when cancelled."""
        path, _ = QFileDialog.getSaveFileName(parent, "Save view as PNG", suggested, "PNG (*.png)")
        if not path:
            return None
        return Path(path if path.lower().endswith(".png") else f"{path}.png")


class WindowMenusMixin:
    """The File, Case and Help menus and their dialogs (a part of ``MainWindow``)."""

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        import_action = QAction("&Import DICOM…", self)
        import_action.setShortcut(QKeySequence("Ctrl+I"))
        import_action.triggered.connect(self._on_import_triggered)
        file_menu.addAction(import_action)
        self.export_actions = ExportActions(self, self._tasks, self._export)
        file_menu.addAction(self.export_actions.case_action)
        file_menu.addAction(self.export_actions.cohort_action)
        self.demo_action = self.demo_loader.action
        file_menu.addAction(self.demo_action)
        settings_action = QAction("&Settings…", self)
        settings_action.triggered.connect(self._on_settings_triggered)
        file_menu.addAction(settings_action)
        file_menu.addSeparator()
        snapshot_action = QAction("Save view as &PNG…", self)
        snapshot_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        snapshot_action.triggered.connect(self._on_snapshot_triggered)
        file_menu.addAction(snapshot_action)
        bare_snapshot_action = QAction("Save view as PNG &without overlays…", self)
        bare_snapshot_action.triggered.connect(self._on_bare_snapshot_triggered)
        file_menu.addAction(bare_snapshot_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        case_menu = self.menuBar().addMenu("&Case")
        self.new_case_action = QAction("&New case for the selected patient…", self)
        self.new_case_action.triggered.connect(self._on_new_case_triggered)
        case_menu.addAction(self.new_case_action)
        parameters_action = QAction("Planning &parameters and bead catalogue…", self)
        parameters_action.triggered.connect(self._on_parameters_triggered)
        case_menu.addAction(parameters_action)
        self.followup_parameters_action = QAction("Follow-up &schedule parameters…", self)
        self.followup_parameters_action.triggered.connect(self._on_followup_parameters_triggered)
        case_menu.addAction(self.followup_parameters_action)
        self.case_groups_action = QAction("&Dates and groups for the cohort…", self)
        self.case_groups_action.triggered.connect(self._on_case_groups_triggered)
        case_menu.addAction(self.case_groups_action)
        self.contour_workbench.build_menu()
        for name in (
            "undo_action",
            "redo_action",
            "contour_options",
            "contour_tool_actions",
            "contour_clean_up_actions",
            "margin_actions",
        ):
            if hasattr(self.contour_workbench, name):
                setattr(self, name, getattr(self.contour_workbench, name))
        help_menu = self.menuBar().addMenu("&Help")
        manual_action = QAction("User &manual", self)
        manual_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        manual_action.triggered.connect(self.show_manual)
        help_menu.addAction(manual_action)
        shortcuts_action = QAction("&Keyboard shortcuts", self)
        shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts_action)
        help_menu.addSeparator()
        about_action = QAction("&About TACE Planner", self)
        about_action.triggered.connect(self._on_about_triggered)
        help_menu.addAction(about_action)

    def save_snapshot(self, path: str | Path, overlays: bool = True) -> Path:
        """Save the active view as a PNG for a report, with or without overlays.

        Raises
        ------
        OSError
            The file cannot be written.
        """
        return self.viewer.save_snapshot(path, overlays)

    def _ask_and_save_snapshot(self, overlays: bool) -> None:
        view = self.viewer.active_view
        if view.volume is None:
            self.statusBar().showMessage("Open a series first", 5_000)
            return
        path = SnapshotDialog.ask(self, f"{view.title or 'view'}.png".replace("/", "-"))
        if path is None:
            return
        try:
            saved = self.save_snapshot(path, overlays)
        except OSError as error:
            self._show_error("Cannot save the picture", error)
            return
        self.statusBar().showMessage(f"Saved {saved}", 8_000)

    def _on_snapshot_triggered(self) -> None:
        self._ask_and_save_snapshot(overlays=True)

    def _on_bare_snapshot_triggered(self) -> None:
        self._ask_and_save_snapshot(overlays=False)

    def _on_import_triggered(self) -> None:
        from tace_planner.ui.dialogs.import_dialog import ImportDialog

        dialog = ImportDialog(self._services.studies, self._tasks, self)
        dialog.imported.connect(self.refresh_cases)
        dialog.studies_imported.connect(self._on_studies_imported)
        dialog.show()

    def _on_studies_imported(self, study_uids: list[str]) -> None:
        """Match new studies to their follow-ups: linked at once or proposed (the setting)."""
        text = self.worklist_panel.studies_imported(study_uids)
        if text:
            self.statusBar().showMessage(text, 15_000)

    def _on_parameters_triggered(self) -> None:
        from tace_planner.ui.dialogs.parameters_dialog import ParametersDialog

        dialog = ParametersDialog(self._services.planning, self)
        dialog.exec()
        self.plan_panel.set_case(self._case_pk)  # recompute with the values now in use

    def _on_followup_parameters_triggered(self) -> None:
        from tace_planner.ui.dialogs.followup_parameters_dialog import FollowupParametersDialog

        dialog = FollowupParametersDialog(self._services.followups, self)
        dialog.exec()
        self.worklist_panel.reload_presets()  # names of the presets may have changed

    def _on_case_groups_triggered(self) -> None:
        if self._case_pk is None:
            self.statusBar().showMessage("Open a case first (Case → New case…)", 5_000)
            return
        from tace_planner.ui.dialogs.case_groups_dialog import CaseGroupsDialog

        case = self._context.case
        label = f"{self._context.patient_label} · {case.title if case else 'case'}"
        dialog = CaseGroupsDialog(self._services.therapy, self._case_pk, label, self)
        dialog.exec()

    def _on_settings_triggered(self) -> None:
        choice = SettingsDialog.ask(self._services.settings, self)
        if choice is None:
            return
        path = save_settings(
            data_dir=Path(choice.data_dir) if choice.data_dir else None,
            db_url=choice.db_url or None,
            link_new_studies=choice.link_new_studies,
        )
        self.worklist_panel.link_at_once = choice.link_new_studies  # at once, not next start
        self.statusBar().showMessage(f"Settings saved to {path}; used at next start", 10_000)

    def about_text(self) -> str:
        """The text of the about box."""
        settings = self._services.settings
        return (
            f"<b>TACE Planner {__version__}</b><br>{DISCLAIMER}<br><br>"
            f"Database: {settings.describe_database()}<br>"
            f"Data folder: {settings.data_dir}<br>User: {settings.user}"
        )

    def _on_about_triggered(self) -> None:
        QMessageBox.about(self, "About TACE Planner", self.about_text())

    def show_manual(self) -> ManualDialog:
        """Open the user manual (modeless)."""
        dialog = ManualDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        """Open the table of keyboard shortcuts (modeless)."""
        dialog = ShortcutsDialog(menu_shortcuts(self), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog
