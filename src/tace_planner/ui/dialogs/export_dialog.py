"""Export dialog: a case or the cohort, in a format, optionally de-identified, off the GUI thread.

The formats are the command line's (``tace-planner export --format``); the export runs as
a task (:func:`tace_planner.services.export.runner.export_task`) on the window's task
runner, with progress and *Cancel* (a cancelled export leaves the output folder as it
found it). A refusal or failure is one line in the dialog, naming the dialog's fields
("Output folder", "Mapping file") where the command line names its options (``OUT``,
``--mapping``): :func:`dialog_message` translates; the app keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import InvalidInputError, TacePlannerError
from tace_planner.domain.progress import Progress
from tace_planner.ui.errors import message_for
from tace_planner.ui.tasks import TaskHandle, TaskRunner

FORMATS = (
    ("csv", "Tidy CSV for R, with a data dictionary"),
    ("json", "JSON case record (versioned schema)"),
    ("pdf", "PDF case report"),
    ("seg", "DICOM SEG per timepoint"),
    ("redcap", "REDCap data dictionary and records"),
    ("sdtm", "CDISC SDTM DM, TU, TR and RS"),
)
"""The command line's formats (``export --format``) and what each writes."""
log = logging.getLogger(__name__)

DEIDENTIFY_TEXT = "De-identify: pseudonyms instead of names and IDs"
"""True of every format; what else de-identification does is :data:`DEIDENTIFY_NOTE`."""
DEIDENTIFY_NOTE = (
    "De-identified, CSV, JSON, REDCap and PDF give days from the first TACE instead of "
    "dates; SDTM and DICOM SEG need calendar dates: they keep them, each patient's moved "
    "back by the same number of days, so intervals stay true. DICOM SEG also follows the "
    "DICOM basic application level confidentiality profile (PS3.15)."
)
"""What de-identification does with dates, format by format (as the export runner does),
and the DICOM profile SEG files follow."""
FOLDER_HINT = "a new or empty folder; missing folders are made"

DIALOG_FIELDS = {
    "OUT": "Output folder",
    "--mapping": "Mapping file",
    "--format": "Format",
    "--deidentify": "De-identify",
    "--all": "Export",
}
"""The command line's option (an export refusal's field) → the dialog's field."""
DIALOG_WORDS = (
    ("inside OUT", "inside the output folder"),
    ("goes with --deidentify", "needs De-identify ticked"),
)
"""Command-line words inside a refusal → the dialog's words (the CLI keeps its text)."""


def dialog_message(error: BaseException) -> str:
    """The line the dialog shows for ``error``: an export refusal names the dialog's field."""
    if not isinstance(error, InvalidInputError) or error.field not in DIALOG_FIELDS:
        return message_for(error)
    reason = error.reason
    for cli, words in DIALOG_WORDS:
        reason = reason.replace(cli, words)
    return f"{DIALOG_FIELDS[error.field]}: {reason}"


class ExportDialog(QDialog):
    """Exports one case (``case_pk``) or every case (None).

    ``make_task(out, fmt, case, deidentify, mapping)`` returns the export task; ``what``
    names what is exported ("Ivanova · DEBIRI course", "every case of the registry").
    """

    def __init__(
        self,
        make_task: Callable[..., Any],
        tasks: TaskRunner,
        case_pk: int | None,
        what: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export case" if case_pk is not None else "Export cohort")
        self.setObjectName("export_dialog")
        self.resize(640, 250)
        self._make_task = make_task
        self._tasks = tasks
        self._case_pk = case_pk
        self._handle: TaskHandle | None = None
        self.result: Any = None
        self.format_box = QComboBox()
        for key, label in FORMATS:
            self.format_box.addItem(f"{label} ({key})", key)
        self.deidentify_box = QCheckBox(DEIDENTIFY_TEXT)
        self.deidentify_note = QLabel(DEIDENTIFY_NOTE)
        self.deidentify_note.setObjectName("deidentify_note")
        self.deidentify_note.setWordWrap(True)
        self.mapping_edit = QLineEdit()
        self.mapping_edit.setPlaceholderText("optional: pseudonym → patient list, kept apart")
        self.mapping_button = QPushButton("Choose…")
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText(FOLDER_HINT)
        self.folder_button = QPushButton("Choose…")
        mapping_row = QHBoxLayout()
        mapping_row.addWidget(self.mapping_edit, stretch=1)
        mapping_row.addWidget(self.mapping_button)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, stretch=1)
        folder_row.addWidget(self.folder_button)
        form = QFormLayout()
        form.addRow("Export:", QLabel(what))
        form.addRow("Format:", self.format_box)
        form.addRow("", self.deidentify_box)
        form.addRow("", self.deidentify_note)
        form.addRow("Mapping file:", mapping_row)
        form.addRow("Output folder:", folder_row)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.status_label = QLabel("")
        self.status_label.setObjectName("export_status")
        self.status_label.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.setVisible(False)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.deidentify_box.toggled.connect(self._on_deidentify_toggled)
        self.mapping_button.clicked.connect(self._on_mapping_button_clicked)
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        self.format_box.currentIndexChanged.connect(self._clear_result)
        self.deidentify_box.toggled.connect(self._clear_result)
        self.mapping_edit.textChanged.connect(self._clear_result)
        self.folder_edit.textChanged.connect(self._clear_result)
        self._on_deidentify_toggled(False)

    @property
    def running(self) -> bool:
        """True while the export runs."""
        return self._handle is not None

    def start(self) -> TaskHandle | None:
        """Start the export with the dialog's choices (None when a field is missing)."""
        if self._handle is not None:
            return None
        folder = self.folder_edit.text().strip()
        if not folder:
            self.status_label.setText(f"Choose an output folder ({FOLDER_HINT}).")
            return None
        mapping_text = self.mapping_edit.text().strip()
        mapping = Path(mapping_text) if mapping_text and self.deidentify_box.isChecked() else None
        fmt = str(self.format_box.currentData())
        try:
            task = self._make_task(
                Path(folder), fmt, self._case_pk, self.deidentify_box.isChecked(), mapping
            )
        except Exception as error:  # noqa: BLE001 - one line in the dialog, app keeps running
            self._on_error(error)
            return None
        self.result = None
        self._set_running(True)
        self.status_label.setText(f"Exporting ({fmt})…")
        self._handle = self._tasks.submit(
            task,
            title="Exporting",
            on_result=self._on_result,
            on_progress=self._on_progress,
            on_error=self._on_error,
        )
        self._handle.finished.connect(self._on_finished)
        return self._handle

    def cancel(self) -> None:
        """Stop the export; what it wrote is removed."""
        if self._handle is not None:
            self._handle.cancel()
            self.status_label.setText("Cancelling: removing what was written…")

    def reject(self) -> None:
        """Close, cancelling a running export first."""
        self.cancel()
        super().reject()

    def _set_running(self, running: bool) -> None:
        self.progress_bar.setVisible(running)
        self.progress_bar.setValue(0)
        self.cancel_button.setVisible(running)
        self.export_button.setEnabled(not running)
        for widget in (self.format_box, self.deidentify_box, self.folder_edit,
                       self.folder_button):  # fmt: skip
            widget.setEnabled(not running)
        self.mapping_edit.setEnabled(not running and self.deidentify_box.isChecked())
        self.mapping_button.setEnabled(not running and self.deidentify_box.isChecked())

    def _on_progress(self, step: Progress) -> None:
        if step.total:
            self.progress_bar.setRange(0, 100)
            self.progress_bar.setValue(int(step.fraction * 100))
        else:
            self.progress_bar.setRange(0, 0)
        self.status_label.setText(f"Exporting: {step.message}…")

    def _on_result(self, result: Any) -> None:
        self.result = result
        lines = [f"{len(result.files)} file(s) written to {result.folder}"]
        lines += [f"Note: {note}" for note in result.notes]
        if result.mapping is not None:
            lines.append(f"Pseudonym mapping written to {result.mapping}; keep it apart.")
        self.status_label.setText("\n".join(lines))

    def _on_error(self, error: BaseException) -> None:
        if not isinstance(error, TacePlannerError):
            log.error("export failed", exc_info=error)
        self.status_label.setText(f"Not exported: {dialog_message(error)}")

    def _on_finished(self) -> None:
        handle, self._handle = self._handle, None
        self._set_running(False)
        if handle is not None and handle.cancel_requested.is_set() and self.result is None:
            self.status_label.setText("Export cancelled; the output folder was left as it was.")

    def _clear_result(self, *_args: Any) -> None:
        """A changed form: the last export's result or refusal no longer describes it."""
        if self._handle is None:
            self.result = None
            self.status_label.setText("")

    def _on_deidentify_toggled(self, checked: bool) -> None:
        self.mapping_edit.setEnabled(checked)
        self.mapping_button.setEnabled(checked)

    def _on_mapping_button_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Pseudonym mapping file (kept apart from the export)", "", "CSV (*.csv)"
        )
        if path:
            self.mapping_edit.setText(path)

    def _on_folder_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into (a new or empty folder)")
        if folder:
            self.folder_edit.setText(folder)
