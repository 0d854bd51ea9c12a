"""Planning parameters dialog: view and edit the institution's planning or bead catalogue file."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tace_planner.ui.errors import message_for

KINDS = {"planning": "Planning parameters", "catalogue": "Bead catalogue"}


class ParametersDialog(QDialog):
    """Shows the planning parameters or the bead catalogue in use, as JSON, and saves edits.

    Saving goes through ``PlanningService.save_institution_file``, which validates
    every value (a message names the field at fault and nothing is written),
    audits the change and makes the file the institution's own; every plan made
    afterwards stores the values it used.
    """

    def __init__(self, planning: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Planning parameters")
        self.resize(760, 620)
        self._planning = planning
        self.kind_box = QComboBox()
        for kind, label in KINDS.items():
            self.kind_box.addItem(label, kind)
        self.kind_box.currentIndexChanged.connect(self._on_kind_box_changed)
        self.origin_label = QLabel()
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.status_label = QLabel(
            "Each value carries its source; mark institutional choices as such."
        )
        self.status_label.setWordWrap(True)
        save = QPushButton("Validate and save")
        save.clicked.connect(self.save)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(save)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.kind_box)
        layout.addWidget(self.origin_label)
        layout.addWidget(self.editor, stretch=1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self._on_kind_box_changed()

    @property
    def kind(self) -> str:
        """ "planning" or "catalogue"."""
        return str(self.kind_box.currentData())

    def _on_kind_box_changed(self) -> None:
        origin, text = self._planning.parameter_file_text(self.kind)
        self.origin_label.setText(f"In use: {origin}")
        self.editor.setPlainText(text)

    def save(self) -> bool:
        """Validate the text and save it as the institution's file; say what happened."""
        try:
            data = json.loads(self.editor.toPlainText())
        except ValueError as error:
            self.status_label.setText(f"Not saved: the text is not valid JSON ({error}).")
            return False
        try:
            path = self._planning.save_institution_file(self.kind, data)
        except Exception as error:  # noqa: BLE001 - shown to the user, nothing was written
            self.status_label.setText(f"Not saved: {message_for(error)}")
            return False
        self.origin_label.setText(f"In use: {path}")
        self.status_label.setText(f"Saved to {path}; new plans use these values.")
        return True
