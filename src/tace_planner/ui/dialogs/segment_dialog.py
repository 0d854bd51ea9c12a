"""Set a focus's Couinaud segment: a list of segments, the geometric proposal and its why, a reason.

The proposal comes from the liver contour (see
:mod:`tace_planner.imaging.couinaud`); the physician confirms or corrects it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from tace_planner.services.contouring_dto import SegmentProposal

SEGMENT_CHOICES: tuple[str, ...] = ("I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII")
"""What the segment editors offer (segment IV by its sub-segment)."""
NO_SEGMENT = "—"


def segment_choices(current: str) -> list[str]:
    """The editor's entries: no segment, the segments, and a stored code not among them ("IV")."""
    choices = [NO_SEGMENT, *SEGMENT_CHOICES]
    if current and current not in choices:
        choices.insert(SEGMENT_CHOICES.index("IVa") + 1, current)
    return choices


@dataclass(frozen=True, slots=True)
class SegmentChoice:
    """The segment chosen ("" for none) and the reason given."""

    code: str
    reason: str


class SegmentDialog(QDialog):
    """Asks for a focus's Couinaud segment, showing the proposal from the liver contour."""

    def __init__(
        self,
        lesion_name: str,
        current: str,
        proposal: SegmentProposal | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Couinaud segment — {lesion_name}")
        self.segment_box = QComboBox()
        self.segment_box.setObjectName("segment_box")
        self.segment_box.addItems(segment_choices(current))
        preset = current or (proposal.code if proposal is not None else "")
        self.segment_box.setCurrentText(preset or NO_SEGMENT)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("segment_reason")
        self.reason_edit.setPlaceholderText("optional, e.g. the portal branch feeding it")
        self.reason_edit.setMinimumWidth(360)
        form = QFormLayout()
        form.addRow("Segment", self.segment_box)
        form.addRow("Reason", self.reason_edit)
        self.proposal_label = QLabel(_proposal_text(proposal))
        self.proposal_label.setObjectName("segment_proposal")
        self.proposal_label.setWordWrap(True)
        self.proposal_label.setMinimumWidth(420)
        if proposal is not None and proposal.explanation:
            self.proposal_label.setToolTip(proposal.explanation)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.proposal_label)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def choice(self) -> SegmentChoice:
        """The segment and reason entered."""
        text = self.segment_box.currentText()
        return SegmentChoice("" if text == NO_SEGMENT else text, self.reason_edit.text().strip())

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        lesion_name: str,
        current: str,
        proposal: SegmentProposal | None,
    ) -> SegmentChoice | None:
        """Show the dialog; the choice, or None when cancelled (tests patch this)."""
        dialog = cls(lesion_name, current, proposal, parent)
        try:
            return dialog.choice() if dialog.exec() == QDialog.Accepted else None
        finally:
            dialog.deleteLater()


def _proposal_text(proposal: SegmentProposal | None) -> str:
    if proposal is None:
        return "No proposal."
    if not proposal.code:
        return proposal.explanation
    when = f" (contours at {proposal.timepoint_label})" if proposal.timepoint_label else ""
    return (
        f"<b>Proposed: segment {proposal.code}</b>, {proposal.confidence_label} confidence"
        f"{when}.<br><br>"
        + "<br>".join(html.escape(line) for line in proposal.explanation.split("\n"))
    )
