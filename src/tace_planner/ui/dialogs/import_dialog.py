"""Import dialog: folder, DICOMDIR or zip, imported with progress and cancel, then a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.progress import Progress
from tace_planner.ui.errors import message_for
from tace_planner.ui.tasks import TaskHandle, TaskRunner


class ImportDialog(QDialog):
    """Imports DICOM from a folder, a CD (DICOMDIR) or a zip archive.

    The import (``StudyService.import_paths``) runs on the task runner: the
    dialog shows its progress and file count, *Cancel* stops it (whole series
    already stored stay stored), and the end report lists every series touched
    and every file that failed with its reason. ``imported`` is emitted after a
    successful import so the main window can refresh, with ``studies_imported`` naming the
    studies the import touched (Study Instance UIDs: the follow-up worklist matches them).
    """

    imported = Signal()
    studies_imported = Signal(list)

    def __init__(self, studies: Any, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import DICOM")
        self.resize(760, 520)
        self._studies = studies
        self._tasks = tasks
        self._handle: TaskHandle | None = None
        self.folder_button = QPushButton("Folder…")
        self.dicomdir_button = QPushButton("CD / DICOMDIR…")
        self.zip_button = QPushButton("Zip archive…")
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        self.dicomdir_button.clicked.connect(self._on_dicomdir_button_clicked)
        self.zip_button.clicked.connect(self._on_zip_button_clicked)
        choose = QHBoxLayout()
        for button in (self.folder_button, self.dicomdir_button, self.zip_button):
            choose.addWidget(button)
        choose.addStretch(1)
        self.status_label = QLabel("Choose what to import. Files are copied into the image store.")
        self.status_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.report = QTreeWidget()
        self.report.setHeaderLabels(["Result", "Modality", "Phase / sequence", "Images"])
        self.report.setRootIsDecorated(True)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.cancel_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.status_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.report, stretch=1)
        layout.addLayout(bottom)

    # ----------------------------------------------------------------- choosing
    def _on_folder_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with DICOM files")
        if folder:
            self.start([Path(folder)])

    def _on_dicomdir_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "DICOMDIR of a CD", "", "DICOMDIR (DICOMDIR)")
        if path:
            self.start([Path(path).parent])

    def _on_zip_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Zip archive", "", "Zip archives (*.zip)")
        if path:
            self.start([Path(path)])

    # ----------------------------------------------------------------- running
    @property
    def is_running(self) -> bool:
        """True while an import runs."""
        return self._handle is not None

    def start(self, paths: list[Path]) -> None:
        """Import ``paths`` in the background."""
        if self._handle is not None:
            return
        self.report.clear()
        self._set_running(True)
        self.status_label.setText(f"Importing {', '.join(str(p) for p in paths)}…")
        handle = self._tasks.submit(
            self._studies.import_paths(paths),
            title="Importing DICOM",
            on_result=self._on_import_done,
            on_progress=self._on_import_progress,
            on_error=self._on_import_failed,
        )
        handle.finished.connect(self._on_import_finished)
        self._handle = handle

    def cancel(self) -> None:
        """Stop the running import after the series being copied is rolled back."""
        if self._handle is not None:
            self._handle.cancel()
            self.status_label.setText("Import cancelled: series already stored were kept.")

    def _set_running(self, running: bool) -> None:
        self.progress_bar.setVisible(running)
        self.progress_bar.setValue(0)
        self.cancel_button.setVisible(running)
        for button in (self.folder_button, self.dicomdir_button, self.zip_button):
            button.setEnabled(not running)

    def _on_import_progress(self, step: Progress) -> None:
        self.progress_bar.setValue(int(step.fraction * 100))
        self.progress_bar.setFormat(f"{step.done} / {step.total} files")
        self.status_label.setText(step.message)

    def _on_import_done(self, report: Any) -> None:
        warnings = getattr(report, "warnings", ())
        text = (
            f"{report.new_instances} new file(s) imported, {report.known_instances} already "
            f"stored, {len(report.errors)} failed."
        )
        if warnings:
            text += f" {len(warnings)} warning(s): see below."
        self.status_label.setText(text)
        if warnings:  # first, expanded: a missing Patient ID must not go unnoticed
            warned = QTreeWidgetItem([f"Warnings ({len(warnings)})", "", "", ""])
            warned.setIcon(0, self.style().standardIcon(QStyle.SP_MessageBoxWarning))
            self.report.addTopLevelItem(warned)
            for entry in warnings:
                line = QTreeWidgetItem([f"{entry.path}: {entry.reason}", "", "", ""])
                line.setToolTip(0, f"{entry.path}:\n{entry.reason}")
                warned.addChild(line)
                line.setFirstColumnSpanned(True)
            warned.setExpanded(True)
        series = QTreeWidgetItem([f"Series ({len(report.series)})", "", "", ""])
        self.report.addTopLevelItem(series)
        for item in report.series:
            child = QTreeWidgetItem(
                [
                    getattr(item, "label", "") or item.description or item.series_uid,
                    item.modality,
                    item.classification or ("—" if item.is_volume else "not a volume"),
                    str(item.image_count),
                ]
            )
            if item.warnings:
                child.setToolTip(0, "\n".join(item.warnings))
            series.addChild(child)
        if report.errors:
            failed = QTreeWidgetItem([f"Files that failed ({len(report.errors)})", "", "", ""])
            self.report.addTopLevelItem(failed)
            for error in report.errors:
                failed.addChild(QTreeWidgetItem([f"{error.path}: {error.reason}", "", "", ""]))
        if report.skipped:
            skipped = QTreeWidgetItem([f"Skipped ({len(report.skipped)})", "", "", ""])
            self.report.addTopLevelItem(skipped)
            for entry in report.skipped:
                skipped.addChild(QTreeWidgetItem([f"{entry.path}: {entry.reason}", "", "", ""]))
            skipped.setExpanded(False)
        remapped = getattr(report, "remapped", ())
        if remapped:
            label = f"Imported with replaced UIDs ({len(remapped)})"
            replaced = QTreeWidgetItem([label, "", "", ""])
            self.report.addTopLevelItem(replaced)
            for entry in remapped:
                replaced.addChild(QTreeWidgetItem([f"{entry.path}: {entry.reason}", "", "", ""]))
            replaced.setExpanded(False)
        series.setExpanded(True)
        self.report.resizeColumnToContents(0)
        # long file lines (tool tips hold them whole) must not push the series columns away
        self.report.setColumnWidth(0, min(self.report.columnWidth(0), 440))
        self.imported.emit()
        self.studies_imported.emit(list(dict.fromkeys(item.study_uid for item in report.series)))

    def _on_import_failed(self, error: BaseException) -> None:
        self.status_label.setText(f"Import failed: {message_for(error)}")

    def _on_import_finished(self) -> None:
        self._handle = None
        self._set_running(False)

    def reject(self) -> None:
        """Closing the dialog while importing cancels the import."""
        self.cancel()
        super().reject()
