"""Case dates and groups for the cohort tables: primary diagnosis, liver metastases found,
synchronous vs metachronous and TACE immediately vs after chemotherapy.

Each group is either entered here or left to be derived (from the two dates, or from the
therapy lines started before the first TACE); after saving, the dialog shows what each group
now is and the rule that decided it. Saving goes through the therapy service (audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.vocabulary import GROUP_VALUE_LABELS

TIMING_CHOICES = (
    ("", "Derive from the two dates"),
    ("synchronous", "Synchronous (liver metastases at diagnosis)"),
    ("metachronous", "Metachronous (found later)"),
)
SEQUENCE_CHOICES = (
    ("", "Derive from the therapy lines"),
    ("immediate", "TACE immediately"),
    ("after_chemotherapy", "TACE after chemotherapy"),
)
GROUP_LABELS = {
    "metastases_timing": "Liver metastases",
    "tace_sequence": "TACE",
}
VALUE_LABELS = GROUP_VALUE_LABELS


class _DateField(QWidget):
    """A date that may be unknown (checkbox off)."""

    def __init__(self, label: str, value: dt.date | None) -> None:
        super().__init__()
        self.known = QCheckBox(label)
        self.edit = QDateEdit(QDate(value) if value else QDate.currentDate())
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.known.setChecked(value is not None)
        self.edit.setEnabled(value is not None)
        self.known.toggled.connect(self.edit.setEnabled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.known)
        layout.addWidget(self.edit, stretch=1)

    def value(self) -> dt.date | None:
        return self.edit.date().toPython() if self.known.isChecked() else None


class CaseGroupsDialog(QDialog):
    """Edit a case's dates and cohort groups; Save keeps the dialog open and shows the result."""

    def __init__(self, therapy: Any, case_pk: int, case_label: str,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle(f"Dates and groups — {case_label}")
        self._therapy = therapy
        self._case_pk = case_pk
        stored = therapy.case_attributes(case_pk)
        self.diagnosed = _DateField("known", stored["diagnosed_on"])
        self.detected = _DateField("known", stored["liver_metastases_on"])
        self.timing_box = self._combo(TIMING_CHOICES, stored["metastases_timing"])
        self.sequence_box = self._combo(SEQUENCE_CHOICES, stored["tace_sequence"])
        form = QFormLayout()
        form.addRow("Primary tumour diagnosed on", self.diagnosed)
        form.addRow("Liver metastases found on", self.detected)
        form.addRow("Liver metastases", self.timing_box)
        form.addRow("TACE", self.sequence_box)
        self.result_label = QLabel("")
        self.result_label.setObjectName("result_label")
        self.result_label.setWordWrap(True)
        self.error_label = QLabel("")
        self.error_label.setObjectName("error_label")
        self.error_label.setStyleSheet("color: #b00020")
        self.error_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Close)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self._loaded = self.values()  # Save sends what changed here, not a colleague's fields
        self._show_groups(therapy.ttp(case_pk)["groups"])

    @staticmethod
    def _combo(choices: tuple[tuple[str, str], ...], current: str) -> QComboBox:
        box = QComboBox()
        for key, label in choices:
            box.addItem(label, key)
        box.setCurrentIndex(max(0, box.findData(current)))
        return box

    def values(self) -> dict[str, Any]:
        """What Save records."""
        return {
            "diagnosed_on": self.diagnosed.value(),
            "liver_metastases_on": self.detected.value(),
            "metastases_timing": str(self.timing_box.currentData()),
            "tace_sequence": str(self.sequence_box.currentData()),
        }

    def save(self) -> bool:
        """Record the values changed here (audited) and show the groups they give; False on a
        refusal. Fields left as they were loaded are not sent, so that a colleague's entry
        saved meanwhile is not put back."""
        values = self.values()
        changed = {name: value for name, value in values.items() if value != self._loaded[name]}
        self.error_label.setText("")
        try:
            if changed:
                groups = self._therapy.set_case_attributes(self._case_pk, **changed)
            else:
                groups = self._therapy.ttp(self._case_pk)["groups"]
        except TacePlannerError as error:
            self.error_label.setText(str(error))
            return False
        self._loaded = values
        self._show_groups(groups)
        return True

    def _show_groups(self, groups: dict[str, Any]) -> None:
        lines = []
        for name, label in GROUP_LABELS.items():
            group = groups.get(name) or {}
            value = group.get("value")
            shown = VALUE_LABELS.get(value, value) if value else "not known"
            how = {"entered": "entered", "derived": "derived"}.get(group.get("how", ""), "")
            lines.append(f"<b>{label}: {shown}</b>" + (f" ({how})" if how else "")
                         + f"<br><small>{group.get('rule', '')}</small>")  # fmt: skip
        self.result_label.setText("<br>".join(lines))
