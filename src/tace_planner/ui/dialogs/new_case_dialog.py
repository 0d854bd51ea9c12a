"""New-case dialog: title, planned TACE date and primary tumour of a treatment course."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.case_dates import planned_tace_questions
from tace_planner.ui.dialogs.dialog_parts import add_error_and_buttons, show_problem

TITLE_FIELD_CHARACTERS = 48
"""The title field shows at least this many average characters without scrolling."""


@dataclass(frozen=True, slots=True)
class NewCaseChoice:
    """What the user entered for a new case."""

    title: str
    planned_tace_on: dt.date | None
    primary_site: str


class NewCaseDialog(QDialog):
    """Asks for the title, the planned TACE date (optional) and the primary site of a case.

    *OK* with an empty title keeps the dialog open and says which field to fill; a
    planned TACE date long past or before the patient's earliest imaging
    (``earliest_imaging_on``) is asked about first (:func:`planned_tace_questions`).
    """

    def __init__(
        self,
        patient_label: str,
        parent: QWidget | None = None,
        *,
        earliest_imaging_on: dt.date | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self._earliest_imaging_on = earliest_imaging_on
        self._today = today or dt.date.today()
        self.confirm_date: Callable[[str], bool] = self._ask_keep_date
        self.setWindowTitle(f"New case — {patient_label}")
        self.title_edit = QLineEdit("Liver metastases — DEBIRI course")
        self.title_edit.setObjectName("title")
        metrics = self.title_edit.fontMetrics()
        self.title_edit.setMinimumWidth(
            max(
                metrics.averageCharWidth() * TITLE_FIELD_CHARACTERS,
                metrics.horizontalAdvance(self.title_edit.text()) + 4 * metrics.averageCharWidth(),
            )
        )
        self.title_edit.textChanged.connect(lambda _text: self.error_label.hide())
        self.date_known = QCheckBox("planned TACE date")
        self.date_known.setChecked(True)
        self.date_edit = QDateEdit(QDate.currentDate().addDays(14))
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_known.toggled.connect(self.date_edit.setEnabled)
        self.primary_edit = QLineEdit()
        self.primary_edit.setPlaceholderText("e.g. small intestine NET G2")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Title", self.title_edit)
        form.addRow(self.date_known, self.date_edit)
        form.addRow("Primary tumour", self.primary_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        self.error_label, self.buttons = add_error_and_buttons(self, layout)

    def problem(self) -> str:
        """Why the entered values cannot make a case ("" when they can)."""
        if not self.title_edit.text().strip():
            return "Title: enter a title for the case (e.g. “Liver metastases — DEBIRI course”)."
        return ""

    def date_questions(self) -> list[str]:
        """What to confirm about the planned TACE date entered (empty: nothing)."""
        return planned_tace_questions(
            self.choice().planned_tace_on, self._today, self._earliest_imaging_on
        )

    def accept(self) -> None:
        """Close with *OK* only when the case can be made; otherwise say which field to fix.

        An unusual planned TACE date is kept only when the user confirms it.
        """
        if show_problem(self.error_label, self.problem()):
            self.title_edit.setFocus()
            return
        questions = self.date_questions()
        if questions and not self.confirm_date("\n\n".join(questions)):
            self.date_edit.setFocus()
            return
        super().accept()

    def _ask_keep_date(self, text: str) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Check the planned TACE date",
            f"{text}\n\nKeep this date?",
            QMessageBox.StandardButton.NoButton,
            self,
        )
        keep = box.addButton("Keep the date", QMessageBox.ButtonRole.AcceptRole)
        change = box.addButton("Change the date", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(change)
        box.exec()
        return box.clickedButton() is keep

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
    def ask(
        cls,
        patient_label: str,
        parent: QWidget | None = None,
        *,
        earliest_imaging_on: dt.date | None = None,
    ) -> NewCaseChoice | None:
        """Show the dialog; return the choice, or None when cancelled."""
        dialog = cls(patient_label, parent, earliest_imaging_on=earliest_imaging_on)
        return dialog.choice() if dialog.exec() == QDialog.Accepted else None
