"""Classification dialog: the user corrects a series' CT phase or MR sequence and plane."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.vocabulary import CT_PHASES, MR_SEQUENCES, PLANES


@dataclass(frozen=True, slots=True)
class ClassificationChoice:
    """The corrected values ("" = unchanged) and the reason given."""

    phase: str
    sequence: str
    plane: str
    reason: str


class ClassificationDialog(QDialog):
    """Asks for a CT phase, or an MR sequence and plane, and why the app's guess was wrong."""

    def __init__(
        self,
        description: str,
        modality: str,
        current: tuple[str, str, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Classification — {description}")
        self.modality = modality
        phase, sequence, plane = current
        self.phase_box = self._combo(CT_PHASES, phase)
        self.sequence_box = self._combo(MR_SEQUENCES, sequence)
        self.plane_box = self._combo(PLANES, plane)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("e.g. bolus tracking failed; description is wrong")
        form = QFormLayout()
        if modality == "CT":
            form.addRow("Phase", self.phase_box)
        else:
            form.addRow("Sequence", self.sequence_box)
        form.addRow("Plane", self.plane_box)
        form.addRow("Reason", self.reason_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    @staticmethod
    def _combo(values: tuple[str, ...] | list[str], current: str) -> QComboBox:
        box = QComboBox()
        box.addItems(list(values))
        if current in values:
            box.setCurrentText(current)
        return box

    def choice(self) -> ClassificationChoice:
        """The values currently chosen."""
        return ClassificationChoice(
            phase=self.phase_box.currentText() if self.modality == "CT" else "",
            sequence=self.sequence_box.currentText() if self.modality == "MR" else "",
            plane=self.plane_box.currentText(),
            reason=self.reason_edit.text().strip(),
        )

    @classmethod
    def ask(
        cls,
        description: str,
        modality: str,
        current: tuple[str, str, str],
        parent: QWidget | None = None,
    ) -> ClassificationChoice | None:
        """Show the dialog; return the choice, or None when cancelled."""
        dialog = cls(description, modality, current, parent)
        return dialog.choice() if dialog.exec() == QDialog.Accepted else None
