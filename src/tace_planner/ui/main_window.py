"""Main window: case list, study tree, the image view, status bar and menus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from tace_planner import __version__
from tace_planner.domain.progress import Progress
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.dto import SeriesItem
from tace_planner.services.settings import save_settings
from tace_planner.ui.dialogs.classification_dialog import ClassificationDialog
from tace_planner.ui.dialogs.import_dialog import ImportDialog
from tace_planner.ui.dialogs.new_case_dialog import NewCaseDialog
from tace_planner.ui.dialogs.settings_dialog import SettingsDialog
from tace_planner.ui.errors import show_error
from tace_planner.ui.panels.case_list import CaseListPanel
from tace_planner.ui.panels.study_tree import StudyTreePanel
from tace_planner.ui.tasks import TaskHandle, TaskRunner
from tace_planner.ui.viewer.slice_view import SliceView

DISCLAIMER = (
    "Planning aid for research and clinical decision support — not a prescription. "
    "The physician decides."
)


def percentile_window(volume: ImageVolume) -> tuple[float, float]:
    """A (width, level) window spanning the 1st to 99.5th percentile (MR has no HU scale)."""
    sample = volume.voxels[:: max(1, volume.shape[0] // 16)]
    low, high = np.percentile(sample, [1.0, 99.5])
    width = max(float(high - low), 1.0)
    return width, float(low) + width / 2


class MainWindow(QMainWindow):
    """The application window.

    Left: the case list (``CaseService.list_cases``) above the study tree of the
    selected case (``StudyService.studies_of_case``). Right: the image view,
    which loads the selected series with ``StudyService.load_series`` off the GUI
    thread. The status bar names the database; its progress bar and *Cancel*
    button belong to the running load.
    """

    def __init__(self, services: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._tasks = TaskRunner(self)
        self._load: TaskHandle | None = None
        self._case_pk: int | None = None
        self.setWindowTitle(f"TACE Planner {__version__}")
        self.resize(1400, 860)

        self.case_list = CaseListPanel()
        self.study_tree = StudyTreePanel()
        self.protocol_label = QLabel("")
        self.protocol_label.setObjectName("protocol_label")
        self.protocol_label.setWordWrap(True)
        studies = QWidget()
        studies_layout = QVBoxLayout(studies)
        studies_layout.setContentsMargins(0, 0, 0, 0)
        studies_layout.addWidget(self.protocol_label)
        studies_layout.addWidget(self.study_tree, stretch=1)
        left = QSplitter(Qt.Vertical)
        left.addWidget(self.case_list)
        left.addWidget(studies)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 3)

        self.slice_view = SliceView()
        self.view_title = QLabel("Select a series in the study tree")
        self.view_title.setObjectName("view_title")
        disclaimer = QLabel(DISCLAIMER)
        disclaimer.setObjectName("disclaimer")
        disclaimer.setStyleSheet(
            "background: #fff4ce; color: #5c4400; padding: 4px; border: 1px solid #e0c36a;"
        )
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addWidget(disclaimer)
        right_layout.addWidget(self.view_title)
        right_layout.addWidget(self.slice_view, stretch=1)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([600, 800])
        self.setCentralWidget(splitter)

        self._build_status_bar()
        self._build_menus()
        self.case_list.case_selected.connect(self._on_case_list_case_selected)
        self.case_list.patient_selected.connect(self._on_case_list_patient_selected)
        self.study_tree.series_selected.connect(self._on_study_tree_series_selected)
        self.study_tree.classification_requested.connect(
            self._on_study_tree_classification_requested
        )
        self.refresh_cases()

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

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        import_action = QAction("&Import DICOM…", self)
        import_action.setShortcut(QKeySequence("Ctrl+I"))
        import_action.triggered.connect(self._on_import_triggered)
        file_menu.addAction(import_action)
        settings_action = QAction("&Settings…", self)
        settings_action.triggered.connect(self._on_settings_triggered)
        file_menu.addAction(settings_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        case_menu = self.menuBar().addMenu("&Case")
        self.new_case_action = QAction("&New case for the selected patient…", self)
        self.new_case_action.triggered.connect(self._on_new_case_triggered)
        case_menu.addAction(self.new_case_action)
        help_menu = self.menuBar().addMenu("&Help")
        about_action = QAction("&About TACE Planner", self)
        about_action.triggered.connect(self._on_about_triggered)
        help_menu.addAction(about_action)

    # ----------------------------------------------------------------- cases
    def refresh_cases(self) -> None:
        """Reload the case list from the database."""
        try:
            patients = self._services.cases.list_patients()
            cases = self._services.cases.list_cases()
        except Exception as error:  # noqa: BLE001 - shown to the user, app keeps running
            show_error(self, "Cannot list cases", error)
            return
        self.case_list.show_cases(patients, cases)
        if not patients:
            self.statusBar().showMessage(
                "No case yet: run 'tace-planner demo' or import a study", 10_000
            )

    def select_case(self, case_pk: int) -> None:
        """Select a case and show its studies; its first portal-venous CT (or first CT) opens."""
        if self.case_list.select_case(case_pk):
            self.study_tree.select_first_volume("CT")

    def _on_case_list_patient_selected(self, patient_pk: int) -> None:
        self._case_pk = None
        try:
            studies = self._services.studies.studies_of_patient(patient_pk)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot list studies", error)
            return
        self.study_tree.show_studies(studies)
        self.protocol_label.setText("Open a case to check its baseline against the protocol.")
        self.protocol_label.setStyleSheet("")
        self.protocol_label.setToolTip("")

    def _on_case_list_case_selected(self, case_pk: int) -> None:
        self._case_pk = case_pk
        try:
            studies = self._services.studies.studies_of_case(case_pk)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot list studies", error)
            return
        self.study_tree.show_studies(studies)
        self.show_protocol_status(case_pk)

    def show_protocol_status(self, case_pk: int) -> None:
        """Check the case's baseline against the imaging protocol and show the verdict."""
        try:
            result = self._services.protocol.check_baseline(case_pk)
        except Exception as error:  # noqa: BLE001 - the check is advice; say why it is missing
            self.protocol_label.setText(f"Imaging protocol not checked: {error}")
            self.protocol_label.setStyleSheet("")
            return
        colours = {"pass": "#1e6b2f", "fail": "#a31515", "not_evaluated": "#5c4400"}
        failures = [r for r in result.requirements if r.status != "pass"]
        text = f"Baseline imaging protocol: {result.summary()}"
        if failures:
            text += " — " + "; ".join(r.name for r in failures[:3])
            text += " …" if len(failures) > 3 else ""
        self.protocol_label.setText(text)
        self.protocol_label.setStyleSheet(f"color: {colours.get(result.status, '')};")
        self.protocol_label.setToolTip(
            "\n".join(f"{r.status}: {r.name} — {r.reason}" for r in result.requirements)
        )

    def _on_study_tree_classification_requested(self, series: SeriesItem) -> None:
        choice = ClassificationDialog.ask(
            series.description,
            series.modality,
            (series.phase, series.sequence, series.plane),
            self,
        )
        if choice is None:
            return
        try:
            self._services.protocol.correct_classification(
                series.series_uid,
                phase=choice.phase or None,
                sequence=choice.sequence or None,
                plane=choice.plane or None,
                reason=choice.reason,
            )
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot change the classification", error)
            return
        if self._case_pk is not None:
            self._on_case_list_case_selected(self._case_pk)

    # ----------------------------------------------------------------- series
    def _on_study_tree_series_selected(self, series_uid: str, part: str) -> None:
        if self._load is not None:
            self._load.cancel()
        try:
            task = self._services.studies.load_series(series_uid, part or None)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot open series", error)
            return
        selected = self.study_tree.selectedItems()
        title = selected[0].text(0) if selected else series_uid
        if part and selected and selected[0].parent() is not None:
            title = f"{selected[0].parent().text(0)} — {part}"
        modality = selected[0].text(1) if selected else ""
        self.view_title.setText(f"Loading {title}…")
        handle = self._tasks.submit(
            task,
            title=f"Loading {title}",
            on_result=lambda volume: self._on_volume_loaded(title, modality, volume),
            on_progress=self._on_load_progress,
            on_error=lambda error: self._on_load_failed(title, error),
        )
        handle.finished.connect(self._on_load_finished)
        self._load = handle
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)

    def _on_load_progress(self, step: Progress) -> None:
        self.progress_bar.setValue(int(step.fraction * 100))

    def _on_volume_loaded(self, title: str, modality: str, volume: ImageVolume) -> None:
        window = None if modality == "CT" else percentile_window(volume)
        self.slice_view.set_volume(volume, window)
        self.slice_view.show_slice(volume.shape[0] // 2)
        dz, dy, dx = volume.spacing_mm
        z, y, x = volume.shape
        self.view_title.setText(
            f"{title} — {z} × {y} × {x} voxels, {dz:.2f} × {dy:.2f} × {dx:.2f} mm"
        )

    def _on_load_failed(self, title: str, error: BaseException) -> None:
        self.view_title.setText(f"{title}: could not be loaded")
        show_error(self, f"Cannot load {title}", error)

    @Slot()
    def _on_load_finished(self) -> None:
        # A bound slot with sender(), not a lambda capturing the handle and the window.
        if self._load is self.sender():
            self._load = None
            self.progress_bar.setVisible(False)
            self.cancel_button.setVisible(False)

    def _on_cancel_button_clicked(self) -> None:
        if self._load is not None:
            self._load.cancel()
            self.view_title.setText("Loading cancelled")

    # ----------------------------------------------------------------- dialogs
    def _on_import_triggered(self) -> None:
        dialog = ImportDialog(self._services.studies, self._tasks, self)
        dialog.imported.connect(self.refresh_cases)
        dialog.show()

    def _on_new_case_triggered(self) -> None:
        patient = self.case_list.selected_patient()
        if patient is None:
            self.statusBar().showMessage("Select a patient first", 5_000)
            return
        patient_pk, label = patient
        choice = NewCaseDialog.ask(label, self)
        if choice is None:
            return
        try:
            case = self._services.cases.create_case(
                None,
                choice.title,
                patient_pk=patient_pk,
                planned_tace_on=choice.planned_tace_on,
                primary_site=choice.primary_site,
            )
            if choice.planned_tace_on is not None:
                self._services.cases.link_studies_by_date(case.pk, choice.planned_tace_on)
        except Exception as error:  # noqa: BLE001 - shown to the user
            show_error(self, "Cannot open the case", error)
            return
        self.refresh_cases()
        self.select_case(case.pk)

    def _on_settings_triggered(self) -> None:
        choice = SettingsDialog.ask(self._services.settings, self)
        if choice is None:
            return
        path = save_settings(
            data_dir=Path(choice.data_dir) if choice.data_dir else None,
            db_url=choice.db_url or None,
            user=choice.user or None,
        )
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

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel running work and wait for it before the window goes."""
        self._tasks.shutdown()
        super().closeEvent(event)
