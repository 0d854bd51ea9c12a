"""New-case dialog: title, planned TACE date and primary tumour of a treatment course."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True, slots=True)
class NewCaseChoice:
    """What the user entered for a new case."""

    title: str
    planned_tace_on: dt.date | None
    primary_site: str


class NewCaseDialog(QDialog):
    """Asks for the title, the planned TACE date (optional) and the primary site of a case."""

    def __init__(self, patient_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"New case — {patient_label}")
        self.title_edit = QLineEdit("Liver metastases — DEBIRI course")
        self.date_known = QCheckBox("planned TACE date")
        self.date_known.setChecked(True)
        self.date_edit = QDateEdit(QDate.currentDate().addDays(14))
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_known.toggled.connect(self.date_edit.setEnabled)
        self.primary_edit = QLineEdit()
        self.primary_edit.setPlaceholderText("e.g. small intestine NET G2")
        form = QFormLayout()
        form.addRow("Title", self.title_edit)
        form.addRow(self.date_known, self.date_edit)
        form.addRow("Primary tumour", self.primary_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def choice(self) -> NewCaseChoice:
        """The values currently entered."""
        date = self.date_edit.date()
        return NewCaseChoice(
            title=self.title_edit.text().strip(),
            planned_tace_on=dt.date(date.year(), date.month(), date.day())
            if self.date_known.isChecked()
            else None,
            primary_site=self.primary_edit.text().strip(),
        )

    @classmethod
    def ask(cls, patient_label: str, parent: QWidget | None = None) -> NewCaseChoice | None:
        """Show the dialog; return the choice, or None when cancelled."""
        dialog = cls(patient_label, parent)
        return dialog.choice() if dialog.exec() == QDialog.Accepted else None
