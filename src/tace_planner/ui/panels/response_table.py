"""The stored responses of one case: a row per timepoint, a column per criterion.

Each cell is the category stored by ``assess`` (the current one; a re-assessment
supersedes the older, which stays in the audit trail); its tooltip gives the rule that
decided. The chosen cell's whole reasoning — each part (target, non-target, new lesions,
overall, best overall response) with its inputs, thresholds, formula and sources, who
assessed and when, and the parameter version — reads in the pane below the table.
*Assess* asks the page to assess the chosen follow-up again. The panel computes nothing:
it shows :class:`~tace_planner.services.assessment_records.StoredAssessment` items, each
row and reasoning under the visit's name as the worklist gives it (``visit_name``: a visit
placed in a schedule slot reads "TACE 1 follow-up 1"), the cells keyed by the stored label
(``timepoint``, what :meth:`ResponseTable.category` takes).

Days. The best overall response is stored in days after the baseline imaging (its minimum
SD duration counts from there). Given the case's day 0 (``show_stored(..., day_zero=)``:
the first TACE, as in the spider plot and the case report), the pane words it in days from
that day 0 and keeps the baseline interval in words
(:func:`~tace_planner.domain.response.best.best_response_wording`); without it, every day
reads "N days after baseline".
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.response.best import best_response_wording

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
PARTS = (
    ("overall", "Overall response"),
    ("target", "Target lesions"),
    ("non_target", "Non-target lesions"),
    ("new_lesion_rule", "New lesions"),
    ("best_overall", "Best overall response so far"),
)
"""The parts of a composite criterion's stored explanation, in reading order."""


def explanation_html(item: Any, day_zero: tuple[dt.date, str] | None = None) -> str:
    """The stored reasoning of one criterion at one timepoint as HTML (module notes);
    ``day_zero``: the case's day 0 and what it is (e.g. the first TACE)."""
    data = item.explanation if isinstance(item.explanation, Mapping) else {}
    parts = [
        (title, _in_days(data[key], item, day_zero) if key == "best_overall" else data[key])
        for key, title in PARTS
        if isinstance(data.get(key), Mapping)
    ]
    if not parts and data:
        parts = [(str(data.get("criterion") or item.criterion), data)]
    title = dict(COLUMNS).get(item.criterion, item.criterion)
    blocks = [f"<h3>{html.escape(title)} at {html.escape(shown_name(item))}: "
              f"{html.escape(item.category)}</h3>"]  # fmt: skip
    for name, verdict in parts:
        blocks.append(_verdict_html(name, verdict))
    if not parts:
        blocks.append(f"<p>{html.escape(item.rule or 'No reasoning was stored.')}</p>")
    validated = next((v.get("validated_for") for _, v in parts if v.get("validated_for")), "")
    if validated:
        blocks.append(f"<p><i>Validated for {html.escape(str(validated))}.</i></p>")
    blocks.append(
        f"<p style='color:#555555'>Assessed by {html.escape(item.created_by or 'unknown')} on "
        f"{item.created_at:%Y-%m-%d %H:%M} UTC with response parameters version "
        f"{html.escape(str(item.parameters_version))}.</p>"
    )
    return "".join(blocks)


def shown_name(item: Any) -> str:
    """The visit of a stored assessment as people read it: ``visit_name or timepoint``."""
    return str(getattr(item, "visit_name", "") or item.timepoint)


def _in_days(
    best: Mapping[str, Any], item: Any, day_zero: tuple[dt.date, str] | None
) -> Mapping[str, Any]:
    """The stored best overall response worded in the case's days (module notes)."""
    on = getattr(item, "imaged_on", None)
    day = None if day_zero is None or on is None else (on - day_zero[0]).days
    wording = best_response_wording(best, day)
    explanation = best.get("explanation")
    explanation = dict(explanation) if isinstance(explanation, Mapping) else {}
    explanation["inputs"] = dict(wording.inputs)
    frame = (
        f"days from day 0, the {day_zero[1]}; the minimum duration of stable disease counts "
        "from the baseline imaging"
        if day is not None and day_zero is not None
        else "days counted from the baseline imaging"
    )
    return {**best, "rule": wording.rule, "explanation": explanation, "days": frame}


def _verdict_html(name: str, verdict: Mapping[str, Any]) -> str:
    category, rule = str(verdict.get("category", "")), str(verdict.get("rule", ""))
    text = [f"<h4>{html.escape(name)}: {html.escape(category)}</h4>"]
    if rule:
        text.append(f"<p>Decided by: {html.escape(rule)}.</p>")
    if verdict.get("days"):
        text.append(f"<p><i>In {html.escape(str(verdict['days']))}.</i></p>")
    explanation = verdict.get("explanation")
    if isinstance(explanation, Mapping):
        if explanation.get("formula"):
            text.append(f"<p>Rule: {html.escape(str(explanation['formula']))}</p>")
        inputs = explanation.get("inputs")
        if isinstance(inputs, Mapping) and inputs:
            rows = "".join(
                f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                for k, v in inputs.items()
            )
            text.append(f"<table cellspacing='0' cellpadding='2'>{rows}</table>")
        sources = _top_level_parts(str(explanation.get("source") or ""))
        if sources:
            items = "".join(f"<li>{html.escape(s)}</li>" for s in dict.fromkeys(sources))
            text.append(f"<p>Sources:</p><ul>{items}</ul>")
    return "".join(text)


class ResponseTable(QWidget):
    """Stored responses per timepoint (see module)."""

    assess_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _, title in COLUMNS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.currentCellChanged.connect(self._show_details)
        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.details.setPlaceholderText("Choose a cell to read how its response was decided.")
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
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        layout.addWidget(validation)
        self._cells: dict[tuple[str, str], str] = {}
        self._items: dict[tuple[int, int], Any] = {}
        self.problem = ""
        """Why no assessment can be shown (e.g. a broken parameter file); "" when none."""
        self.day_zero: tuple[dt.date, str] | None = None
        """The case's day 0 and what it is, when the page gives it (module notes)."""

    def show_stored(
        self, stored: Sequence[Any], day_zero: tuple[dt.date, str] | None = None
    ) -> None:
        """Show the current stored assessments (ordered by imaging date, as given);
        ``day_zero``: the case's day 0 and what it is ("first TACE"), for the days of the
        best overall response (module notes)."""
        self.day_zero = day_zero
        names = {item.timepoint: shown_name(item) for item in stored}
        rows = list(names)  # stored labels, in the order given
        self._cells = {}
        self._items = {}
        self.details.clear()
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([names[row] for row in rows])
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
            place = (rows.index(item.timepoint), keys.index(item.criterion))
            self.table.setItem(*place, cell)
            self._cells[(item.timepoint, item.criterion)] = item.category
            self._items[place] = item
        self.table.resizeColumnsToContents()
        if rows:  # the newest timepoint's RECIST 1.1 reads at once
            self.table.setCurrentCell(len(rows) - 1, 0)
            self._show_details(len(rows) - 1, 0)
        self.note.setText(
            self.problem
            or (
                f"Stored responses at {len(rows)} timepoint(s); choose a cell for its reasoning."
                if rows
                else "No stored assessment yet: choose a follow-up and assess it."
            )
        )

    def _show_details(self, row: int, column: int, *_: int) -> None:
        item = self._items.get((row, column))
        if item is None:
            self.details.setPlainText("No stored response here." if row >= 0 else "")
            return
        self.details.setHtml(explanation_html(item, self.day_zero))

    def category(self, timepoint: str, criterion: str) -> str:
        """The category shown for ``criterion`` at ``timepoint`` (its stored label; ""
        when none)."""
        return self._cells.get((timepoint, criterion), "")


def _top_level_parts(text: str) -> list[str]:
    """``text`` split at "; " outside parentheses (a citation keeps its own "; ")."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]
