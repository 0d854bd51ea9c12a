"""The plan's results: burden and body figures, banners, sessions, and *why?* on each number.

:class:`PlanResultsView` is a part of :class:`~tace_planner.ui.panels.plan_panel.PlanPanel`
(it builds the figures group and shows a proposal); the panel owns the proposal, its
buttons (``_update_buttons``) and its signals.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QToolButton,
    QWidget,
)

from tace_planner.domain.body import bsa_input_problem
from tace_planner.domain.dosing_results import LOBE_FIGURES, foci_without_lobe, lobe_volume_cm3
from tace_planner.domain.person_name import readable_person_name

BANNER_STYLES = {
    "block": "background: #b00020; color: white;",
    "contraindication": "background: #6a1b9a; color: white;",
    "strong_warning": "background: #d35400; color: white;",
    "warning": "background: #f5c242; color: #3d2c00;",
    "info": "background: #d6eaf8; color: #0b3d62;",
}
_FIGURES = (
    ("liver_volume_cm3", "Liver volume V_liv", 0, "cm³"),
    ("standard_liver_volume_cm3", "Standard liver volume", 0, "cm³"),
    ("tumour_volume_cm3", "Tumour volume V_mts", 1, "cm³"),
    ("tumour_volume_cm3.right", "  right lobe (V–VIII)", 1, "cm³"),
    ("tumour_volume_cm3.left", "  left lobe (II–IV)", 1, "cm³"),
    ("tumour_volume_cm3.caudate", "  caudate lobe (I)", 1, "cm³"),
    ("burden_percent", "Tumour burden F", 1, "%"),
    ("burden_percent_of_non_tumour_liver", "V_mts / non-tumour liver", 1, "%"),
    ("bsa_m2", "Body surface area", 3, "m²"),
)
_SESSION_NUMBERS = (
    ("tumour_volume_cm3", "Tumour", "{:.1f} cm³"),
    ("beads_ml", "Beads", "{:.2f} mL"),
    ("vials", "Vials", "{}"),
    ("irinotecan_loaded_mg", "Loaded", "{:.0f} mg"),
    ("irinotecan_expected_delivered_mg", "Expected delivered", "{:.0f} mg"),
)
"""The numbers of a session, as rows of the sessions table: (attribute, title, format)."""


class PlanResultsView:
    """The figures, banners and sessions of the plan panel, each number with its *why?*.

    A part of ``PlanPanel``, which provides the widgets laid out around the figures
    (``banner_box``, ``burden_problems``, ``sessions_grid``, ``case_label``),
    ``_update_buttons`` and the ``plan_changed`` signal.
    """

    def _build_figures_group(self) -> QGroupBox:
        group = QGroupBox("Burden and body")
        self.figures_grid = QGridLayout(group)
        for row, (key, label, _, _) in enumerate(_FIGURES):
            self.figures_grid.addWidget(QLabel(label), row, 0)
            value = QLabel("—")
            value.setObjectName(f"figure:{key}")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.figures_grid.addWidget(value, row, 1)
            self.figures_grid.addWidget(self._why_button(key), row, 2)
            self._figure_labels[key] = value
            if key == LOBE_FIGURES[-1]:  # under the lobes: the foci they cannot count yet
                self.lobes_note = QLabel("")
                self.lobes_note.setObjectName("lobes_note")
                self.lobes_note.setWordWrap(True)
                self.lobes_note.setStyleSheet("color: #5c4400")
                self.lobes_note.hide()
                self.figures_grid.addWidget(self.lobes_note, len(_FIGURES), 0, 1, 3)
        return group

    def _build_progress_label(self) -> QLabel:
        """Above the proposal: the approved plan under way, and what the proposal is then."""
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("plan_progress")
        self.progress_label.setWordWrap(True)
        self.progress_label.setTextFormat(Qt.TextFormat.RichText)
        self.progress_label.setStyleSheet(BANNER_STYLES["info"] + " padding: 3px;")
        self.progress_label.hide()
        return self.progress_label

    def _show_progress(self, proposal: Any) -> None:
        """Name the approved plan's sessions performed and to perform (hidden without any)."""
        progress = getattr(proposal, "progress", None)
        if progress is None:
            self.progress_label.setText("")
            self.progress_label.hide()
            return
        note = progress.new_plan_note(proposal)
        text = f"<b>{html.escape(progress.summary(on_screen=True))}</b>"
        self.progress_label.setText(text + (f"<br>{html.escape(note)}" if note else ""))
        self.progress_label.show()

    def _why_button(self, key: str) -> QToolButton:
        button = QToolButton()
        button.setText("why?")
        button.setObjectName(f"why:{key}")
        button.setEnabled(False)
        button.clicked.connect(lambda _=False, k=key: self.show_why(k))
        self.why_buttons[key] = button
        return button

    def _show(self, proposal: Any) -> None:
        self.proposal = proposal
        self._show_progress(proposal)
        for banner in self.banners:
            self.banner_box.removeWidget(banner)
            discard_widget(banner)
        self.banners = []
        if proposal is None:
            for key, label in self._figure_labels.items():
                label.setText("—")
                self.why_buttons[key].setEnabled(False)
            self.lobes_note.hide()
            self._show_sessions(None)
            self.burden_problems.setText("")
            self._update_buttons()
            self.plan_changed.emit(None)
            return
        case = proposal.case
        self.case_label.setText(
            f"<b>{html.escape(readable_person_name(case.patient_name))}</b> "
            f"[{html.escape(case.patient_id)}] — {html.escape(case.case_title)}; "
            f"planned TACE {case.planned_tace_on or 'not set'}"
        )
        for advisory in proposal.advisories:
            # The source cited on the banner itself, as the printed plan does: a tooltip
            # alone is found by few.
            source = f" <small>({html.escape(advisory.source)})</small>" if advisory.source else ""
            banner = QLabel(
                f"<b>{advisory.severity.replace('_', ' ').upper()}</b>: "
                f"{html.escape(advisory.message)}{source}"
            )
            banner.setObjectName(f"banner:{advisory.severity}:{advisory.code}")
            banner.setWordWrap(True)
            banner.setToolTip(advisory.source)
            banner.setStyleSheet(BANNER_STYLES[advisory.severity] + " padding: 3px;")
            self.banner_box.addWidget(banner)
            self.banners.append(banner)
        self.burden_problems.setText("\n".join(proposal.burden.problems))
        burden = proposal.burden
        unplaced = foci_without_lobe(
            (f.name, f.couinaud_segment) for f in (*burden.foci, *burden.unmeasured)
        )
        note = f"segment not assigned: {', '.join(unplaced)}" if unplaced else ""
        self.lobes_note.setText(note)
        self.lobes_note.setVisible(bool(note))
        # an implausible height or weight gives no BSA, nor the liver volume derived from it
        no_bsa = bsa_input_problem(proposal.patient.height_cm, proposal.patient.weight_kg)
        for key, _, digits, unit in _FIGURES:
            value, at_least = proposal.figures.get(key), False
            explanation = proposal.explanation(key)
            tip = explanation.to_text() if explanation else ""
            if key in LOBE_FIGURES:
                value, at_least = lobe_volume_cm3(value, unplaced)
                tip = "\n\n".join(t for t in (tip, note) if t)
            if no_bsa is not None and key in ("bsa_m2", "standard_liver_volume_cm3"):
                value, tip = None, f"Not computed: {no_bsa.message}"
                explanation = explanation if key == "bsa_m2" else None
            text = "—" if value is None else f"{value:.{digits}f} {unit}"
            self._figure_labels[key].setText(("≥ " if at_least else "") + text)
            self.why_buttons[key].setEnabled(explanation is not None)
            self._figure_labels[key].setToolTip(tip)
        self._show_sessions(proposal)
        self._update_buttons()
        self.plan_changed.emit(proposal)

    def _show_sessions(self, proposal: Any) -> None:
        """One column per session, one row per number (see :data:`_SESSION_NUMBERS`).

        A plan has at most three sessions (one per lobe, the caudate joining the
        first), so the columns stay narrow enough for the dock on a 1400 px screen,
        and the sessions read side by side; a row per session with eight columns did not.
        """
        while self.sessions_grid.count():
            item = self.sessions_grid.takeAt(0)
            if item.widget() is not None:
                discard_widget(item.widget())
        for key in [k for k in self.why_buttons if k.startswith("session")]:
            del self.why_buttons[key]
        self.value_labels = {
            k: v for k, v in self.value_labels.items() if not k.startswith("session")
        }
        if proposal is None or not proposal.sessions:
            text = "No dose proposed." if proposal is not None else ""
            self.sessions_grid.addWidget(QLabel(text), 0, 0)
            self.updateGeometry()
            return
        for column, session in enumerate(proposal.sessions, start=1):
            self._add_session_header(session, column)
        for row, (name, title, fmt) in enumerate(_SESSION_NUMBERS, start=1):
            self.sessions_grid.addWidget(QLabel(title), row, 0)
            for column, session in enumerate(proposal.sessions, start=1):
                key = f"session{session.number}.{name}"
                cell = QWidget()
                cell_layout = QHBoxLayout(cell)
                cell_layout.setContentsMargins(0, 0, 0, 0)
                value = QLabel(fmt.format(getattr(session, name)))
                value.setObjectName(f"value:{key}")
                explanation = session.explanations.get(name)
                value.setToolTip(explanation.to_text() if explanation else "")
                self.value_labels[key] = value
                cell_layout.addWidget(value)
                button = self._why_button(key)
                button.setEnabled(explanation is not None)
                cell_layout.addWidget(button)
                cell_layout.addStretch(1)
                self.sessions_grid.addWidget(cell, row, column)
        self.updateGeometry()  # the dock's minimum width follows the sessions shown

    def _add_session_header(self, session: Any, column: int) -> None:
        """The session's title, territory and day, the day with its *why?*.

        The day is the header's last line and its *why?* button sits in the same cell,
        at its bottom right, in a margin kept free of text: the button stays beside the
        day however the territory wraps, and the header stays one label (its text and
        tooltip read as one, as before the button). The day's explanation says, after a
        treatment performed, why the first session is one interval after it.
        """
        when = f"day {session.day}" + (f" · {session.on.isoformat()}" if session.on else "")
        header = QLabel(
            f"<b>Session {session.number}</b><br>{html.escape(session.territory_label)}<br>{when}"
        )
        header.setObjectName(f"session_header:{session.number}")
        header.setWordWrap(True)
        # at the bottom: the day line beside its button when another header is taller
        header.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        explanation = session.explanations.get("day")
        header.setToolTip(explanation.to_text() if explanation else "")
        button = self._why_button(f"session{session.number}.day")
        button.setEnabled(explanation is not None)
        header.setContentsMargins(0, 0, button.sizeHint().width() + 2, 0)
        self.sessions_grid.addWidget(header, 0, column)  # first: the cell's item
        self.sessions_grid.addWidget(
            button, 0, column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom
        )
        self.sessions_grid.setColumnStretch(column, 1)

    # -- why? ----------------------------------------------------------------------

    def explanation_text(self, key: str) -> str:
        """The explanation of a figure or session number as text ("" if none)."""
        if self.proposal is None:
            return ""
        explanation = self.proposal.explanation(key)
        return explanation.to_text() if explanation is not None else ""

    def show_why(self, key: str) -> None:
        """Open the explanation of one number (formula, values put in, source)."""
        text = self.explanation_text(key)
        if text:
            self.show_explanation_box(self, "Why this number?", text)

    @staticmethod
    def show_explanation_box(parent: QWidget, title: str, text: str) -> None:
        """Show an explanation (tests replace this to avoid a modal box)."""
        QMessageBox.information(parent, title, text)


def discard_widget(widget: QWidget) -> None:
    """Take a widget of an earlier result off the screen now, and delete it later.

    ``deleteLater`` alone leaves it shown, at its old place under the new result, until
    Qt's event loop deletes it; a recomputation run where that loop does not (a lesion
    deleted from a script or a test that only processes events) drew every banner and
    session number twice. Hidden at once, it is never drawn again, and the deletion still
    waits for a safe moment (a *why?* button may be on the call stack of a box still open).
    """
    widget.hide()
    widget.deleteLater()
