"""Import dialog: folder, DICOMDIR or zip, imported with progress and cancel, then a report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPalette, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.progress import Progress
from tace_planner.ui.errors import message_for
from tace_planner.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tace_planner.imaging.dicom.scan_result import DicomdirUse, FileError
    from tace_planner.services.dto import SeriesItem
    from tace_planner.services.import_report import ImportReport


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
        self.report.setHeaderLabels(["Result", "Series", "Modality", "Phase / sequence", "Images"])
        self.report.setRootIsDecorated(True)
        # room for patient > study > series; failed files and warnings wrap (_WrappedLines)
        self.report.setColumnWidth(0, 400)
        self.report.setItemDelegateForColumn(0, _WrappedLines(self.report))
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

    def _on_import_done(self, report: ImportReport) -> None:
        warnings, studies = report.warnings, report.studies
        failed_count, failed = _failed_words(report)
        text = (
            f"{report.new_instances} new file(s) imported, {report.known_instances} already "
            f"stored, {failed_count}."
        )
        if studies:
            patients = {(s.patient_name, s.patient_id) for s in studies}
            text += f" {len(report.series)} series of {_count(len(patients), 'patient')}."
        if warnings:
            text += f" {len(warnings)} warning(s): see below."
        self.status_label.setText(text)
        # What went wrong comes first and open: a failed file or a missing Patient ID
        # must not go unnoticed below a long list of series.
        critical, warning = QStyle.SP_MessageBoxCritical, QStyle.SP_MessageBoxWarning
        self._add_file_list(failed, report.errors, critical, expanded=True, whole=True)
        warned = f"Warnings ({len(warnings)})"
        self._add_file_list(warned, warnings, warning, expanded=True, whole=True)
        for use in report.dicomdirs:
            self._add_dicomdir_line(use, several=len(report.dicomdirs) > 1)
        self._add_series(report)
        skipped = report.skipped_files
        self._add_file_list(f"Skipped ({len(skipped)})", skipped, None, expanded=False)
        label = f"Imported with replaced UIDs ({len(report.remapped)})"
        self._add_file_list(label, report.remapped, None, expanded=False)
        for column in range(1, self.report.columnCount()):
            self.report.resizeColumnToContents(column)
        self.imported.emit()
        self.studies_imported.emit(list(dict.fromkeys(item.study_uid for item in report.series)))

    def _add_file_list(
        self,
        title: str,
        entries: Sequence[FileError],
        icon: QStyle.StandardPixmap | None,
        *,
        expanded: bool,
        whole: bool = False,
    ) -> None:
        """A top-level row ``title`` with one line per file and its reason (none when empty).

        With ``whole`` the lines wrap at the tree's width, so a long reason (a refused
        series names both patients and the stored study) reads whole, not only in its
        tool tip; other lists (skipped files, replaced UIDs) keep one line per file.
        """
        if not entries:
            return
        group = QTreeWidgetItem([title])
        if icon is not None:
            group.setIcon(0, self.style().standardIcon(icon))
        self.report.addTopLevelItem(group)
        for entry in entries:
            line = QTreeWidgetItem([f"{entry.path}: {entry.reason}"])
            line.setToolTip(0, f"{entry.path}:\n{entry.reason}")
            line.setData(0, _WRAPPED, whole)
            group.addChild(line)
            line.setFirstColumnSpanned(True)
        group.setExpanded(expanded)

    def _add_dicomdir_line(self, use: DicomdirUse, *, several: bool) -> None:
        """One line saying a CD's index was read, and how many files it lists."""
        where = f" in {use.path.parent.name or use.path.parent}" if several else ""
        text = (
            f"Read from the CD's index (DICOMDIR){where}: {_count(use.listed_files, 'file')} listed"
        )
        if use.note:
            text += f"; {use.note}"
        line = QTreeWidgetItem([text])
        line.setIcon(0, self.style().standardIcon(QStyle.SP_DriveCDIcon))
        line.setToolTip(0, str(use.path))
        self.report.addTopLevelItem(line)
        line.setFirstColumnSpanned(True)

    def _add_series(self, report: ImportReport) -> None:
        """The imported series, grouped by patient, then study (date, description)."""
        studies = report.studies
        title = f"Imported series ({len(report.series)})"
        if studies:
            patients = {(s.patient_name, s.patient_id) for s in studies}
            title += f" of {_count(len(patients), 'patient')}, {_count(len(studies), 'study')}"
        group = QTreeWidgetItem([title])
        self.report.addTopLevelItem(group)
        group.setFirstColumnSpanned(True)
        placed: set[str] = set()
        patient_rows: dict[tuple[str, str], QTreeWidgetItem] = {}
        for study in studies:
            key = (study.patient_name, study.patient_id)
            patient = patient_rows.get(key)
            if patient is None:
                patient = patient_rows[key] = _heading(group, study.patient_label)
            series = report.series_of(study)
            study_row = _heading(patient, f"{study.study_label} ({_count(len(series), 'series')})")
            for item in series:
                study_row.addChild(_series_row(item))
                placed.add(item.series_uid)
        for item in report.series:  # a report without studies (or a series it lacks)
            if item.series_uid not in placed:
                group.addChild(_series_row(item))
        group.setExpanded(True)

    def _on_import_failed(self, error: BaseException) -> None:
        self.status_label.setText(f"Import failed: {message_for(error)}")

    def _on_import_finished(self) -> None:
        self._handle = None
        self._set_running(False)

    def reject(self) -> None:
        """Closing the dialog while importing cancels the import."""
        self.cancel()
        super().reject()


def _failed_words(report: ImportReport) -> tuple[str, str]:
    """The failed files for the summary ("3 failed (1 series)") and their heading.

    A series refused as a whole (another patient's) is one line naming one of its
    files, but counts each of its files: "3 files failed (1 series)", not "(1)".
    """
    files, errors = report.failed_files, report.errors
    series = sum(1 for entry in errors if entry.files > 1)
    if not series:
        return f"{files} failed", f"Files that failed ({files})"
    single = len(errors) - series
    detail = _count(series, "series") + (f", {_count(single, 'single file')}" if single else "")
    return f"{files} failed ({detail})", f"{_count(files, 'file')} failed ({detail})"


_WRAPPED = Qt.ItemDataRole.UserRole + 1
"""Data role marking a report row shown whole, wrapped at the row's width (True)."""


class _WrappedLines(QStyledItemDelegate):
    """Draws the report rows marked :data:`_WRAPPED` whole, wrapped at the row's width.

    Such a row spans every column; its height follows the width of the tree: a
    resized column or dialog lays the rows out again. A word longer than the row
    (a long path) breaks anywhere. Other rows are drawn as usual (elided).
    """

    _MARGIN_PX = 3

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self._tree = tree
        tree.header().sectionResized.connect(lambda *_: tree.scheduleDelayedItemsLayout())

    def _text_width(self, index: QModelIndex | QPersistentModelIndex) -> int:
        """The width of the row's text: the spanned row less its indentation and margins."""
        depth = 0
        parent = index.parent()
        while parent.isValid():
            depth += 1
            parent = parent.parent()
        tree = self._tree
        indent = tree.indentation() * (depth + (1 if tree.rootIsDecorated() else 0))
        return max(tree.header().length() - indent - 2 * self._MARGIN_PX, 80)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        if not index.data(_WRAPPED):
            return super().sizeHint(option, index)
        width = self._text_width(index)
        _, height = _wrapped(str(index.data()), option.font, width)
        return QSize(width, math.ceil(height) + 2 * self._MARGIN_PX)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if not index.data(_WRAPPED):
            super().paint(painter, option, index)
            return
        view = QStyleOptionViewItem(option)
        self.initStyleOption(view, index)
        text, view.text = view.text, ""
        widget = view.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, view, painter, widget)
        margin = self._MARGIN_PX
        rect = view.rect.adjusted(margin, margin, -margin, -margin)
        layout, _ = _wrapped(text, view.font, rect.width())
        selected = bool(view.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(view.palette.color(role))
        layout.draw(painter, QPointF(rect.topLeft()))
        painter.restore()


def _wrapped(text: str, font: QFont, width: int) -> tuple[QTextLayout, float]:
    """``text`` laid out in lines of ``width`` pixels, and the height of those lines."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    height = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0.0, height))
        height += line.height()
    layout.endLayout()
    return layout, height


def _count(n: int, noun: str) -> str:
    """ "1 patient", "2 patients"; "series" is its own plural, "study" → "studies"."""
    if n == 1 or noun == "series":
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _heading(parent: QTreeWidgetItem, text: str) -> QTreeWidgetItem:
    """An expanded row spanning every column (a patient or a study)."""
    row = QTreeWidgetItem([text])
    row.setToolTip(0, text)
    parent.addChild(row)
    row.setFirstColumnSpanned(True)
    row.setExpanded(True)
    return row


def _series_row(item: SeriesItem) -> QTreeWidgetItem:
    """One imported series: description, number, modality, phase or sequence, images."""
    row = QTreeWidgetItem(
        [
            item.label,
            "" if item.series_number is None else str(item.series_number),
            item.modality,
            item.classification or ("—" if item.is_volume else "not a volume"),
            str(item.image_count),
        ]
    )
    row.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if item.warnings:
        row.setToolTip(0, "\n".join(item.warnings))
    return row
