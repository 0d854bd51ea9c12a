"""Approve-plan dialog: override numbers with a reason, then acknowledge what is judged again.

The warnings to acknowledge are those of the sessions that will actually be approved:
each time an override changes, ``preview`` (``PlanningService.preview_overrides``)
recomputes the sessions and judges them and the course again, and the check boxes
follow that list — an advisory an override raises appears as a new, unticked box (a
bead volume above the per-session maximum is one), and one whose words change (40 mL
becomes 400 mL) is a new box too: a tick acknowledges the words it was given for. A
contraindication needs the physician's reason, typed in its own field.

The boxes always match what is typed now. While a number typed cannot be judged (not a
number, no reason yet, or refused by the preview) the boxes are the plan's own,
without any override, and a line above them says that the overrides' warnings are
listed once the problem is fixed (:data:`NOT_JUDGED_NOTE`): never the warnings of an
override typed before. (Judging only the overrides that can be read was the other
choice; a list that silently leaves out the number being typed reads as complete.)

*Approve* is refused while an override is impossible, an override has no reason, or a
reason has no override (it would be dropped): one line under the fields says which
field and why (the field itself turns red), and the dialog stays open. Cancel,
Escape and the window's close button ask before they drop what the approver typed or
ticked (:meth:`ApprovePlanDialog.ask_discard`, which tests replace).
"""

from __future__ import annotations

import contextlib
import html
import math
import textwrap
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
    QMessageBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.dosing_overrides import field_label, missing_reason, reason_label
from tace_planner.domain.errors import InvalidInputError, TacePlannerError
from tace_planner.domain.person_name import readable_person_name
from tace_planner.ui.dialogs.versioned_file_dialog import mark_invalid

OVERRIDE_FIELDS = (
    ("beads_ml", "Beads (mL)"),
    ("vials", "Vials"),
    ("irinotecan_loaded_mg", "Irinotecan loaded (mg)"),
)
SEVERITY_COLOURS = {
    "strong_warning": "#d35400",
    "warning": "#9a7000",
    "contraindication": "#6a1b9a",
    "block": "#b00020",
}
ACKNOWLEDGE = ("warning", "strong_warning")
REASON_PLACEHOLDER = "why (required with an override)"
DISCARD_QUESTION = "Discard the approval's overrides and acknowledgements?"
NOT_JUDGED_NOTE = (
    "The warnings listed are the plan's own, without the overrides: those the overrides "
    "raise are listed once the problem below is fixed."
)
"""Above the warnings while an override typed cannot be judged yet."""
ACKNOWLEDGE_LINE_CHARS = 110
"""A warning's check box breaks its text into lines of at most this many characters: a
check box does not wrap, and one long warning made the dialog wider than a 1366-pixel
screen, its Approve and Cancel buttons off the right edge."""


def fit_placeholder(edit: QLineEdit) -> QLineEdit:
    """Keep a line edit at least as wide as its placeholder, so the hint reads whole.

    The reason column of the override grid was as narrow as a number's field and cut
    its hint to "why (required wit…".
    """
    text_px = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
    margins = edit.textMargins()
    frame_px = edit.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, None, edit)
    # Qt keeps 2 px of its own on each side of a line edit's text, inside the frame
    edit.setMinimumWidth(text_px + margins.left() + margins.right() + 2 * frame_px + 4 + 4)
    return edit


@dataclass(frozen=True)
class ApprovalChoice:
    """What the approver decided: codes acknowledged, overrides, contraindication reasons."""

    acknowledged: tuple[str, ...]
    overrides: dict[str, tuple[float, str]] = field(default_factory=dict)
    contraindication_reasons: dict[str, str] = field(default_factory=dict)


class ApprovePlanDialog(QDialog):
    """Shows a saved draft plan's sessions and advisories for approval.

    Every warning and strong warning of the sessions to be approved has a check box
    that must be ticked, and every contraindication a reason, before *Approve* is
    enabled. Each session number can be overridden; an override needs a reason.
    """

    def __init__(
        self,
        plan: Any,
        parent: QWidget | None = None,
        preview: Callable[[dict[str, tuple[float, str]]], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        case = plan.case
        patient = readable_person_name(case.patient_name)
        version = getattr(plan, "plan_version", None)
        self.setWindowTitle(
            f"Approve plan{f' version {version}' if version else ''} — {patient or case.patient_id}"
        )
        self._plan = plan
        self._preview = preview
        self._at_fault = ""  # the key of the override field a problem names
        self._advisories: tuple[Any, ...] = tuple(plan.advisories)
        self._own_advisories: tuple[Any, ...] | None = None  # judged without overrides
        self._shown_warnings: list[tuple[str, str]] = []  # (code, message) of each box
        self._grown_to_px = -1  # the height _grow_to_fit last gave the dialog
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                f"<b>{html.escape(patient)}</b> [{html.escape(case.patient_id)}] — "
                f"{html.escape(case.case_title)}<br>"
                "Approving makes this plan version final: it can no longer change, a change "
                "makes a new version. The physician decides."
            )
        )
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
            reason.setPlaceholderText(REASON_PLACEHOLDER)
            fit_placeholder(reason)
            reason.textChanged.connect(self._update_state)
            self.reason_edits[f"session{session.number}"] = reason
            grid.addWidget(reason, row, len(OVERRIDE_FIELDS) + 1)
        grid.setColumnStretch(len(OVERRIDE_FIELDS) + 1, 1)  # a wider dialog widens the reason
        layout.addWidget(group)
        self.preview_label = QLabel("")
        self.preview_label.setObjectName("preview_label")
        self.preview_label.setWordWrap(True)
        layout.addWidget(self.preview_label)
        self.contra_group = QGroupBox("Contraindications — approve only with your reason")
        self.contra_layout = QGridLayout(self.contra_group)
        self.contraindication_edits: dict[str, QLineEdit] = {}
        layout.addWidget(self.contra_group)
        self.warnings_group = QGroupBox("Acknowledge the warnings")
        self.warnings_layout = QVBoxLayout(self.warnings_group)
        self.acknowledge_boxes: dict[str, QCheckBox] = {}
        layout.addWidget(self.warnings_group)
        self.problem_label = QLabel("")
        self.problem_label.setObjectName("problem_label")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b00020")
        layout.addWidget(self.problem_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Approve")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update_state()

    # -- what is entered ---------------------------------------------------------

    def overrides(self) -> tuple[dict[str, tuple[float, str]], str]:
        """The overrides entered and the first problem with them ("" when none)."""
        chosen, problem, _ = self._read_overrides()
        return chosen, problem

    def _read_overrides(self) -> tuple[dict[str, tuple[float, str]], str, str]:
        """The overrides entered, the first problem and the key of its field ("" when none).

        The key is a value field's (``"session1.vials"``) or a reason's (``"session1.reason"``).
        """
        chosen: dict[str, tuple[float, str]] = {}
        for key, edit in self.value_edits.items():
            text = edit.text().strip().replace(",", ".")
            if not text:
                continue
            label = field_label(key)
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):  # "nan" and "1e999" are no number to a reader
                return chosen, f"{label}: {edit.text().strip()!r} is not a number", key
            if value <= 0:
                return chosen, f"{label}: must be a positive number", key
            session, _, name = key.partition(".")
            reason = self.reason_edits[session].text().strip()
            if not reason:
                problem = str(missing_reason(session, [name]))  # the service's words
                return chosen, problem, f"{session}.reason"
            chosen[key] = (value, reason)
        overridden = {key.partition(".")[0] for key in chosen}
        for session, edit in self.reason_edits.items():
            if edit.text().strip() and session not in overridden:
                # an Approve would drop it silently: the reason belongs to no number
                problem = (
                    f"{reason_label(session)}: a reason is given but no value is overridden "
                    "— enter the new value or clear the reason"
                )
                return chosen, problem, f"{session}.reason"
        return chosen, "", ""

    def _override_editors(self) -> dict[str, QLineEdit]:
        """Every override field by key: the values' and the reasons' (``"session1.reason"``)."""
        reasons = {f"{session}.reason": edit for session, edit in self.reason_edits.items()}
        return {**self.value_edits, **reasons}

    def has_entries(self) -> bool:
        """True when the approver typed an override, a reason or ticked an acknowledgement."""
        edits = [*self._override_editors().values(), *self.contraindication_edits.values()]
        return any(edit.text().strip() for edit in edits) or any(
            box.isChecked() for box in self.acknowledge_boxes.values()
        )

    def choice(self) -> ApprovalChoice:
        """The acknowledgements, overrides and contraindication reasons currently entered."""
        acknowledged = tuple(
            code for code, box in self.acknowledge_boxes.items() if box.isChecked()
        )
        overrides, _ = self.overrides()
        reasons = {
            code: edit.text().strip()
            for code, edit in self.contraindication_edits.items()
            if edit.text().strip()
        }
        return ApprovalChoice(
            acknowledged=acknowledged, overrides=overrides, contraindication_reasons=reasons
        )

    # -- judging again --------------------------------------------------------------

    def _update_state(self) -> None:
        overrides, problem, at_fault = self._read_overrides()
        preview_text = ""
        if self._preview is not None:
            typed = {key for key, edit in self.value_edits.items() if edit.text().strip()}
            judged = None
            if set(overrides) == typed:  # every number typed is read (a stray reason aside)
                try:
                    judged = self._preview(overrides)
                except TacePlannerError as error:
                    if not problem:
                        problem, at_fault = str(error), self._field_of(error)
            if judged is not None:
                sessions, advisories = judged
                self._advisories = tuple(advisories)
                if not overrides:
                    self._own_advisories = self._advisories
                else:
                    preview_text = "With the overrides: " + "; ".join(
                        f"session {s.number}: {s.beads_ml:.2f} mL, {s.vials} vial(s), "
                        f"{s.irinotecan_loaded_mg:.0f} mg loaded, "
                        f"{s.irinotecan_expected_delivered_mg:.0f} mg expected delivered"
                        for s in sessions
                    )
            else:  # never the warnings of an override typed before: the plan's own
                self._advisories = self._advisories_without_overrides()
                preview_text = NOT_JUDGED_NOTE if typed else ""
        self._show_advisories()
        unticked = [c for c, box in self.acknowledge_boxes.items() if not box.isChecked()]
        unreasoned = [c for c, e in self.contraindication_edits.items() if not e.text().strip()]
        if not problem and not self._plan.sessions:
            problem = "This plan has no session to approve."
        if not problem and unreasoned:
            problem = f"Give your reason for {len(unreasoned)} contraindication(s) to approve."
        if not problem and unticked:
            problem = f"Acknowledge {len(unticked)} warning(s) to approve."
        self.problem_label.setText(problem)
        self.preview_label.setText(preview_text)
        self.preview_label.setVisible(bool(preview_text))  # empty, it left a gap
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(not problem)
        mark_invalid(self._override_editors(), [(at_fault, problem)] if at_fault else [])
        self._at_fault = at_fault
        self._grow_to_fit()

    def _field_of(self, error: TacePlannerError) -> str:
        """The key of the value field an error names (``"Session 1 vials"``), or ""."""
        if not isinstance(error, InvalidInputError):
            return ""
        return next((k for k in self.value_edits if field_label(k) == error.field), "")

    def _advisories_without_overrides(self) -> tuple[Any, ...]:
        """The plan's advisories judged as proposed (asked once), else as it was saved."""
        if self._own_advisories is None:
            own = tuple(self._plan.advisories)
            if self._preview is not None:
                with contextlib.suppress(TacePlannerError):  # else the saved ones stand
                    own = tuple(self._preview({})[1])
            self._own_advisories = own
        return self._own_advisories

    def _grow_to_fit(self) -> None:
        """Grow taller when a wrapped line or a warning appears: the layout squeezed the
        warnings' check boxes (their text cut) rather than grow a shown dialog.

        Shrink again when they go, unless the approver has resized the dialog since: the
        spare height was spread as gaps between the groups.
        """
        layout = self.layout()
        if not self.isVisible() or layout is None:
            return
        layout.activate()
        width = self.width()
        wanted = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if wanted > self.height() or wanted < self.height() == self._grown_to_px:
            self.resize(width, wanted)
            self._grown_to_px = wanted

    def _show_advisories(self) -> None:
        """Rebuild the check boxes and reason fields for the advisories now judged."""
        warnings = [a for a in self._advisories if a.severity in ACKNOWLEDGE]
        contra = [a for a in self._advisories if a.severity == "contraindication"]
        shown = [(a.code, a.message) for a in warnings]
        if shown != self._shown_warnings:
            # a tick stays with the same words only: 400 mL is not the 40 mL acknowledged
            ticked = {
                (code, message)
                for code, message in self._shown_warnings
                if self.acknowledge_boxes[code].isChecked()
            }
            for box in self.acknowledge_boxes.values():
                self.warnings_layout.removeWidget(box)
                box.hide()  # off the screen now, whenever Qt deletes it
                box.deleteLater()
            self.acknowledge_boxes = {}
            for advisory in warnings:
                new = advisory.code.startswith("override.")
                check = QCheckBox(
                    textwrap.fill(
                        f"{advisory.severity.replace('_', ' ').upper()}"
                        f"{' (raised by the override)' if new else ''}: {advisory.message}",
                        ACKNOWLEDGE_LINE_CHARS,
                        break_long_words=False,
                    )
                )
                check.setObjectName(f"ack:{advisory.code}")
                check.setToolTip(advisory.source)
                check.setStyleSheet(f"color: {SEVERITY_COLOURS.get(advisory.severity, '#000')}")
                check.setChecked((advisory.code, advisory.message) in ticked)
                check.toggled.connect(self._update_state)
                self.acknowledge_boxes[advisory.code] = check
                self.warnings_layout.addWidget(check)
                # now, not when Qt gets round to it: the layout counts a widget added to a
                # shown group only once it is shown, and the dialog grew too little for it
                check.show()
            self._shown_warnings = shown
        if [a.code for a in contra] != list(self.contraindication_edits):
            typed = {c: e.text() for c, e in self.contraindication_edits.items()}
            while self.contra_layout.count():
                item = self.contra_layout.takeAt(0)
                if item.widget() is not None:
                    item.widget().hide()
                    item.widget().deleteLater()
            self.contraindication_edits = {}
            for row, advisory in enumerate(contra):
                label = QLabel(f"<b>CONTRAINDICATION</b>: {advisory.message}")
                label.setWordWrap(True)
                label.setToolTip(advisory.source)
                label.setStyleSheet(f"color: {SEVERITY_COLOURS['contraindication']}")
                edit = QLineEdit(typed.get(advisory.code, ""))
                edit.setObjectName(f"reason:{advisory.code}")
                edit.setPlaceholderText("your reason to treat despite it (recorded, printed)")
                fit_placeholder(edit)
                edit.textChanged.connect(self._update_state)
                self.contraindication_edits[advisory.code] = edit
                self.contra_layout.addWidget(label, 2 * row, 0)
                self.contra_layout.addWidget(edit, 2 * row + 1, 0)
                label.show()  # counted by the layout now (see the warnings' boxes)
                edit.show()
        self.warnings_group.setVisible(bool(warnings))
        self.contra_group.setVisible(bool(contra))

    # -- leaving -------------------------------------------------------------------

    def accept(self) -> None:
        """Approve only what can be approved: otherwise stay open, the line says why.

        The *Approve* button is disabled then, but Enter or a shortcut must not slip an
        impossible override through either: :meth:`choice` would drop it silently.
        """
        self._update_state()
        if not self.buttons.button(QDialogButtonBox.Ok).isEnabled():
            editor = self._override_editors().get(self._at_fault)
            if editor is not None:
                editor.setFocus()
            return
        super().accept()

    def reject(self) -> None:
        """Cancel, Escape or the window's close button: ask before dropping what was entered."""
        if self.has_entries() and not self.ask_discard():
            return  # keep editing: everything stays as it was
        super().reject()

    def ask_discard(self) -> bool:
        """Discard / Keep editing (a modal question; tests replace it): True to discard."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.windowTitle(),
            DISCARD_QUESTION,
            QMessageBox.StandardButton.NoButton,
            self,
        )
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is discard

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
