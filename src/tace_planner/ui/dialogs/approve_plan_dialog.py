"""Approve-plan dialog: acknowledge every warning, optionally override numbers with a reason."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

OVERRIDE_FIELDS = (
    ("beads_ml", "Beads (mL)"),
    ("vials", "Vials"),
    ("irinotecan_loaded_mg", "Irinotecan loaded (mg)"),
)
SEVERITY_COLOURS = {"strong_warning": "#d35400", "warning": "#9a7000", "block": "#b00020"}


@dataclass(frozen=True)
class ApprovalChoice:
    """What the approver decided: codes acknowledged and ``{field: (value, reason)}``."""

    acknowledged: tuple[str, ...]
    overrides: dict[str, tuple[float, str]] = field(default_factory=dict)


class ApprovePlanDialog(QDialog):
    """Shows a saved draft plan's sessions and warnings for approval.

    Every warning and strong warning has a check box that must be ticked before
    *Approve* is enabled. Each session number can be overridden; an override needs a
    reason (the plan records both). ``preview`` (``PlanningService.preview_overrides``
    bound to the plan) shows what the overrides would give before approving.
    """

    def __init__(
        self,
        plan: Any,
        parent: QWidget | None = None,
        preview: Callable[[dict[str, tuple[float, str]]], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Approve plan version {plan.plan_version}")
        self._plan = plan
        self._preview = preview
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Approving makes this plan version final: it can no longer change, a change "
                "makes a new version. The physician decides."
            )
        )
        self.acknowledge_boxes: dict[str, QCheckBox] = {}
        warnings = [a for a in plan.advisories if a.severity in ("warning", "strong_warning")]
        if warnings:
            group = QGroupBox("Acknowledge the warnings")
            box_layout = QVBoxLayout(group)
            for advisory in warnings:
                check = QCheckBox(
                    f"{advisory.severity.replace('_', ' ').upper()}: {advisory.message}"
                )
                check.setStyleSheet(f"color: {SEVERITY_COLOURS.get(advisory.severity, '#000')}")
                check.toggled.connect(self._update_state)
                self.acknowledge_boxes[advisory.code] = check
                box_layout.addWidget(check)
            layout.addWidget(group)
        self.value_edits: dict[str, QLineEdit] = {}
        self.reason_edits: dict[str, QLineEdit] = {}
        group = QGroupBox("Override (optional; each needs a reason)")
        grid = QGridLayout(group)
        grid.addWidget(QLabel("<b>Session</b>"), 0, 0)
        for column, (_, label) in enumerate(OVERRIDE_FIELDS, start=1):
            grid.addWidget(QLabel(f"<b>{label}</b>"), 0, column)
        grid.addWidget(QLabel("<b>Reason</b>"), 0, len(OVERRIDE_FIELDS) + 1)
        for row, session in enumerate(plan.sessions, start=1):
            grid.addWidget(QLabel(f"{session.number}: {session.territory_label}"), row, 0)
            for column, (name, _) in enumerate(OVERRIDE_FIELDS, start=1):
                key = f"session{session.number}.{name}"
                edit = QLineEdit()
                edit.setObjectName(key)
                edit.setPlaceholderText(f"{getattr(session, name):g}")
                edit.textChanged.connect(self._update_state)
                self.value_edits[key] = edit
                grid.addWidget(edit, row, column)
            reason = QLineEdit()
            reason.setObjectName(f"session{session.number}.reason")
            reason.setPlaceholderText("why (required with an override)")
            reason.textChanged.connect(self._update_state)
            self.reason_edits[f"session{session.number}"] = reason
            grid.addWidget(reason, row, len(OVERRIDE_FIELDS) + 1)
        layout.addWidget(group)
        self.problem_label = QLabel("")
        self.problem_label.setObjectName("problem_label")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b00020")
        layout.addWidget(self.problem_label)
        self.preview_label = QLabel("")
        self.preview_label.setObjectName("preview_label")
        self.preview_label.setWordWrap(True)
        layout.addWidget(self.preview_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Approve")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update_state()

    def overrides(self) -> tuple[dict[str, tuple[float, str]], str]:
        """The overrides entered and the first problem with them ("" when none)."""
        chosen: dict[str, tuple[float, str]] = {}
        for key, edit in self.value_edits.items():
            text = edit.text().strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                return chosen, f"{key}: {text!r} is not a number"
            if not math.isfinite(value) or value <= 0:
                return chosen, f"{key}: must be a positive number"
            session = key.split(".", 1)[0]
            reason = self.reason_edits[session].text().strip()
            if not reason:
                return chosen, f"{session}: give the reason for the override"
            chosen[key] = (value, reason)
        return chosen, ""

    def choice(self) -> ApprovalChoice:
        """The acknowledgements and overrides currently entered."""
        acknowledged = tuple(
            code for code, box in self.acknowledge_boxes.items() if box.isChecked()
        )
        overrides, _ = self.overrides()
        return ApprovalChoice(acknowledged=acknowledged, overrides=overrides)

    def _update_state(self) -> None:
        overrides, problem = self.overrides()
        unticked = [c for c, box in self.acknowledge_boxes.items() if not box.isChecked()]
        preview_text = ""
        if not problem and overrides and self._preview is not None:
            try:
                sessions, raised = self._preview(overrides)
            except Exception as error:  # noqa: BLE001 - the service's message is shown as is
                problem = str(error)
            else:
                preview_text = "; ".join(
                    f"session {s.number}: {s.beads_ml:.2f} mL, {s.vials} vial(s), "
                    f"{s.irinotecan_loaded_mg:.0f} mg loaded, "
                    f"{s.irinotecan_expected_delivered_mg:.0f} mg expected delivered"
                    for s in sessions
                )
                if raised:
                    preview_text += " — " + " ".join(a.message for a in raised)
        if not problem and unticked:
            problem = f"Acknowledge {len(unticked)} warning(s) to approve."
        self.problem_label.setText(problem)
        self.preview_label.setText(preview_text)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(not problem)

    @classmethod
    def ask(
        cls,
        plan: Any,
        parent: QWidget | None = None,
        preview: Callable[[dict[str, tuple[float, str]]], Any] | None = None,
    ) -> ApprovalChoice | None:
        """Show the dialog; return the choice, or None when cancelled."""
        dialog = cls(plan, parent, preview)
        return dialog.choice() if dialog.exec() == QDialog.Accepted else None
