"""The stored responses of one case: a row per timepoint, a column per criterion.

Each cell is the category stored by ``assess`` (the current one; a re-assessment
supersedes the older, which stays in the audit trail); its tooltip gives the rule that
decided, who assessed and when, and the parameter version. *Assess* asks the page to
assess the chosen follow-up again. The panel computes nothing: it shows
:class:`~tace_planner.services.assessment_records.StoredAssessment` items.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = (
    ("recist", "RECIST 1.1"),
    ("mrecist", "mRECIST"),
    ("easl", "EASL"),
    ("choi", "Choi"),
    ("volume", "volumetric"),
)
VALIDATION_NOTE = (
    "mRECIST and EASL were validated for hepatocellular carcinoma (Lencioni and Llovet, "
    "Semin Liver Dis 2010; Bruix et al., J Hepatol 2001), Choi for gastrointestinal stromal "
    "tumours (Choi et al., J Clin Oncol 2007): for liver metastases they are extrapolations."
)


class ResponseTable(QWidget):
    """Stored responses per timepoint (see module)."""

    assess_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _, title in COLUMNS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.assess_button = QPushButton("Assess the chosen follow-up")
        self.assess_button.setToolTip(
            "Computes every criterion and stores it; an earlier assessment of that follow-up "
            "is superseded (kept in the audit trail)."
        )
        self.assess_button.clicked.connect(self.assess_requested)
        self.note = QLabel("No stored assessment yet.")
        self.note.setWordWrap(True)
        validation = QLabel(VALIDATION_NOTE)
        validation.setWordWrap(True)
        validation.setStyleSheet("color: #555555")
        bar = QHBoxLayout()
        bar.addWidget(self.assess_button)
        bar.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(validation)
        self._cells: dict[tuple[str, str], str] = {}
        self.problem = ""
        """Why no assessment can be shown (e.g. a broken parameter file); "" when none."""

    def show_stored(self, stored: Sequence[Any]) -> None:
        """Show the current stored assessments (ordered by imaging date, as given)."""
        rows = list(dict.fromkeys(item.timepoint for item in stored))
        self._cells = {}
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels(rows)
        keys = [key for key, _ in COLUMNS]
        for row in range(len(rows)):
            for column in range(len(keys)):
                self.table.setItem(row, column, QTableWidgetItem("—"))
        for item in stored:
            if item.criterion not in keys:
                continue
            cell = QTableWidgetItem(item.category)
            cell.setToolTip(
                f"{item.rule}\nassessed by {item.created_by or 'unknown'} on "
                f"{item.created_at:%Y-%m-%d %H:%M} UTC, parameters version "
                f"{item.parameters_version}"
            )
            self.table.setItem(rows.index(item.timepoint), keys.index(item.criterion), cell)
            self._cells[(item.timepoint, item.criterion)] = item.category
        self.table.resizeColumnsToContents()
        self.note.setText(
            self.problem
            or (
                f"Stored responses at {len(rows)} timepoint(s); hover a cell for the rule."
                if rows
                else "No stored assessment yet: choose a follow-up and assess it."
            )
        )

    def category(self, timepoint: str, criterion: str) -> str:
        """The category shown for ``criterion`` at ``timepoint`` ("" when none)."""
        return self._cells.get((timepoint, criterion), "")
