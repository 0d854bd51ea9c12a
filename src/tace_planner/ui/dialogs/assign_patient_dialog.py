"""Assign-to-patient dialog: whose images a study imported without a Patient ID holds."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import InvalidInputError, TacePlannerError
from tace_planner.services.dto import PatientItem, PatientNameMismatchError
from tace_planner.ui.dialogs.dialog_parts import add_error_and_buttons, show_problem
from tace_planner.ui.errors import message_for

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AssignPatientChoice:
    """A stored patient (``patient_pk``), or a new one (``patient_id`` and ``patient_name``)."""

    patient_pk: int | None
    patient_id: str = ""
    patient_name: str = ""


def patient_label(patient: PatientItem) -> str:
    """ "DOE, Jane [TACE-017] · 2 studies": the patient as the case list writes it
    (:attr:`PatientItem.list_label`) with its number of studies."""
    studies = "study" if patient.study_count == 1 else "studies"
    return f"{patient.list_label} · {patient.study_count} {studies}"


class AssignPatientDialog(QDialog, Generic[T]):
    """Choose a stored patient, or enter the Patient ID and name of a new one.

    *OK* with a field missing keeps the dialog open and names the field. Given
    ``assign``, *OK* then calls it with the choice: a refusal is shown on the error line
    and the dialog stays open with what was typed; only success closes it, and
    :attr:`outcome` holds what ``assign`` returned.
    """

    def __init__(
        self,
        study_label: str,
        patients: Sequence[PatientItem],
        parent: QWidget | None = None,
        *,
        assign: Callable[[AssignPatientChoice], T] | None = None,
    ) -> None:
        super().__init__(parent)
        self._assign = assign
        self.outcome: T | None = None
        self.setWindowTitle("Assign to patient")
        intro = QLabel(
            f"{study_label} was imported without a Patient ID. Choose whose images these "
            "are; the study, its series, contours and measurements go to that patient "
            "(kept in the audit trail). Check the images against the request first."
        )
        intro.setWordWrap(True)
        self.existing = QRadioButton("Stored patient")
        self.patient_combo = QComboBox()
        self.patient_combo.setObjectName("patient_combo")
        for patient in patients:
            self.patient_combo.addItem(patient_label(patient), patient.pk)
        self.new = QRadioButton("New patient")
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("patient_id")
        self.id_edit.setPlaceholderText("Patient ID, as on the request or in the hospital system")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("patient_name")
        self.name_edit.setPlaceholderText("Family^Given, e.g. Doe^Jane")
        form = QFormLayout()
        form.addRow(self.existing, self.patient_combo)
        form.addRow(self.new)
        form.addRow("Patient ID", self.id_edit)
        form.addRow("Patient name", self.name_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        self.error_label, self.buttons = add_error_and_buttons(self, layout)
        self.existing.toggled.connect(self._on_mode_toggled)
        self.existing.setEnabled(bool(patients))
        (self.existing if patients else self.new).setChecked(True)
        self._on_mode_toggled(bool(patients))

    def _on_mode_toggled(self, existing: bool) -> None:
        self.patient_combo.setEnabled(existing)
        self.id_edit.setEnabled(not existing)
        self.name_edit.setEnabled(not existing)
        self.error_label.hide()

    def problem(self) -> str:
        """Which field is missing ("" when the choice is complete)."""
        if self.existing.isChecked():
            return "" if self.patient_combo.currentIndex() >= 0 else "Patient: choose a patient."
        if not self.id_edit.text().strip():
            return "Patient ID: enter the patient's Patient ID."
        if not self.name_edit.text().strip():
            return "Patient name: enter the name of the new patient."
        return ""

    def accept(self) -> None:
        """Close with *OK* only when the choice is complete and ``assign`` (if any) did
        it; otherwise name the field or show the refusal, keeping the input."""
        if show_problem(self.error_label, self.problem()):
            return
        if self._assign is not None:
            try:
                self.outcome = self._assign(self.choice())
            except Exception as error:  # noqa: BLE001 - shown on the error line, input kept
                self._show_refusal(error)
                return
        super().accept()

    def _show_refusal(self, error: Exception) -> None:
        if isinstance(error, TacePlannerError):
            log.warning("Cannot assign the study: %s", error)
        else:
            log.error("Cannot assign the study", exc_info=error)
        message = message_for(error)
        if isinstance(error, PatientNameMismatchError) and self.existing.isEnabled():
            message += ", or choose that patient under Stored patient"
        show_problem(self.error_label, message)
        field = error.field if isinstance(error, InvalidInputError) else ""
        editor = {"Patient ID": self.id_edit, "Patient name": self.name_edit}.get(field)
        if editor is not None and editor.isEnabled():
            editor.setFocus()
            editor.selectAll()

    def choice(self) -> AssignPatientChoice:
        """The patient currently chosen or entered."""
        if self.existing.isChecked():
            return AssignPatientChoice(patient_pk=self.patient_combo.currentData())
        return AssignPatientChoice(
            patient_pk=None,
            patient_id=self.id_edit.text().strip(),
            patient_name=self.name_edit.text().strip(),
        )

    @classmethod
    def ask(
        cls,
        study_label: str,
        patients: Sequence[PatientItem],
        assign: Callable[[AssignPatientChoice], T],
        parent: QWidget | None = None,
    ) -> T | None:
        """Show the dialog; *OK* runs ``assign`` with the choice and closes only when it
        succeeds. Return what it returned, or None when cancelled."""
        dialog: AssignPatientDialog[T] = cls(study_label, patients, parent, assign=assign)
        return dialog.outcome if dialog.exec() == QDialog.Accepted else None
