"""Spider plot of one case: each focus's change in longest diameter over time.

One line per focus, % change from baseline against days from day 0 — the first TACE, as in
the case report (the axis says what day 0 is) — with the RECIST 1.1 guide lines at −30 %
(partial response) and +20 % (progression) (Eisenhauer et al., European Journal of Cancer
2009). The values come from the propagation service's
:class:`~tace_planner.services.propagation.CaseCourse`; the plot computes nothing. Above the
lines, each follow-up with a stored assessment shows its RECIST 1.1 overall response (PR, SD
…) at its day; its tooltip names the visit as the worklist does (the course's timepoints
carry their ``name``: a visit placed in a schedule slot reads "TACE 1 follow-up 1"), while
the responses stay keyed by the stored label. A focus without a line is named under the
plot with why ("F5: not measured at TACE 1 follow-up 1"). :meth:`SpiderPlot.export_png`
writes what is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from tace_planner.domain.response.day_zero import FIRST_TACE
from tace_planner.ui.panels.empty_plot import show_empty, show_scales

NO_LINES = "No focus has a measured follow-up yet"
"""What an empty spider plot says in its middle."""
NO_LINES_NOTE = f"{NO_LINES}: confirm the follow-up contours first."
GUIDES = ((-30.0, "−30 % (partial response)"), (20.0, "+20 % (progression)"))
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
            "#e377c2", "#7f7f7f", "#bcbd22")  # fmt: skip


LEGEND_ROWS = 12
"""Up to this many foci the legend is one column; more take two."""

_RESPONSE_COLOURS = {"CR": "#1a7f37", "PR": "#2f6fdf", "SD": "#7a5c00", "PD": "#c62828",
                     "NE": "#666666", "NON-CR/NON-PD": "#7a5c00"}  # fmt: skip

_LABEL = {"position": 0.82, "color": "#333333", "anchors": [(0.5, 1), (0.5, 1)]}
"""Guide line labels: right of the plot, above their line (clear of the legend)."""


def axis_title(day_zero: str) -> str:
    """The day axis' title, saying what day 0 is ("Days from day 0: the first TACE")."""
    return f"Days from day 0: the {day_zero}"


def _points(days: Any, changes: Any) -> list[tuple[float, float]]:
    """(day, % change) of the timepoints where both are known."""
    return [
        (day, change)
        for day, change in zip(days, changes, strict=True)
        if day is not None and change is not None
    ]


class SpiderPlot(QWidget):
    """% change of each focus's longest axial diameter over time, one line per focus."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", axis_title(FIRST_TACE))
        self.plot.setLabel("left", "Change in longest diameter from baseline (%)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        # beside the plot, not over it: inside, a column of seven foci ran down over the
        # lines' common start and hid the last ones, and a box on top hid the response labels
        self.legend = pg.LegendItem(labelTextColor="#222222", verSpacing=-4)
        item = self.plot.getPlotItem()
        item.layout.addItem(self.legend, 2, 3)  # right of the view box and its right axis
        # as tall as its entries, at the top of its cell (stretched, each row drifted apart
        # from its line sample)
        self.legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        item.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop)
        item.legend = self.legend  # named curves join it, and leave it with plot.clear()
        self.note = QLabel(NO_LINES_NOTE)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot)
        layout.addWidget(self.note)
        self.lines: dict[str, Any] = {}
        self.labels: dict[str, tuple[float, str]] = {}
        """Timepoint label (stored) → (day, RECIST 1.1 overall response) as drawn."""
        show_empty(self.plot, NO_LINES)

    def clear(self) -> None:
        """No case: no lines, the empty plot says why."""
        self.lines = {}
        self.labels = {}
        show_empty(self.plot, NO_LINES)
        self.note.setText(NO_LINES_NOTE)

    def show_course(self, course: Any, responses: Mapping[str, str] | None = None) -> None:
        """Draw a :class:`~tace_planner.services.propagation.CaseCourse`.

        ``responses``: timepoint label → the stored RECIST 1.1 overall response, drawn
        above the lines at that timepoint's day.
        """
        self.lines = {}
        self.labels = {}
        measured = [
            (n, lesion, points)
            for n, lesion in enumerate(course.lesions)
            if len(points := _points(course.days, lesion.diameter_change_percent)) >= 2
        ]
        assessed = _assessed(course, responses or {})
        if not measured and not assessed:  # no 0-1 scale of days: say why it is empty
            show_empty(self.plot, NO_LINES)
            self.note.setText(NO_LINES_NOTE)
            return
        self.plot.clear()
        show_scales(self.plot)
        self.plot.setLabel("bottom", axis_title(getattr(course, "day_zero", FIRST_TACE)))
        for value, text in GUIDES:
            guide = pg.InfiniteLine(
                pos=value, angle=0,
                pen=pg.mkPen("#555555", width=1, style=Qt.PenStyle.DashLine),
                label=text, labelOpts=_LABEL,
            )  # fmt: skip
            self.plot.addItem(guide)
        self.plot.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#aaaaaa", width=1)))
        self.legend.setColumnCount(1 if len(measured) <= LEGEND_ROWS else 2)
        for n, lesion, points in measured:
            colour = _COLOURS[n % len(_COLOURS)]
            self.lines[lesion.name] = self.plot.plot(
                [p[0] for p in points], [p[1] for p in points], name=lesion.name,
                pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=7,
                symbolBrush=colour, symbolPen=colour,
            )  # fmt: skip
        self._draw_responses(course, responses or {})
        left_out = _left_out(course, {lesion.name for _, lesion, _ in measured})
        self.note.setText(
            f"{len(measured)} focus line(s){left_out}. Guide lines: RECIST 1.1 per-lesion "
            "thresholds, "
            "Eisenhauer et al., European Journal of Cancer 2009 (the response of the "
            "patient is judged on the sum of the target diameters)."
            if measured
            else NO_LINES_NOTE
        )
        if self.labels:
            self.note.setText(
                self.note.text() + " Labels at the top: the stored RECIST 1.1 overall response."
            )

    def _draw_responses(self, course: Any, responses: Mapping[str, str]) -> None:
        """The stored overall response above each assessed timepoint, on a dotted line."""
        changes = [c for lesion in course.lesions for c in lesion.diameter_change_percent
                   if c is not None]  # fmt: skip
        bottom = min([GUIDES[0][0], *changes]) - 5.0
        highest = max([GUIDES[-1][0], *changes]) + 5.0
        top = highest + 0.1 * (highest - bottom)  # a band above the lines for the labels
        for label, name, day, category in _assessed(course, responses):
            self.plot.addItem(pg.InfiniteLine(
                pos=day, angle=90, pen=pg.mkPen("#bbbbbb", width=1, style=Qt.PenStyle.DotLine),
            ))  # fmt: skip
            text = pg.TextItem(category, color=_RESPONSE_COLOURS.get(category, "#333333"),
                               anchor=(0.5, 0.0))  # fmt: skip
            font = text.textItem.font()
            font.setBold(True)
            text.setFont(font)
            text.setToolTip(f"{name}, day {day:g}: RECIST 1.1 overall response {category}")
            text.setPos(day, top)  # hangs below the top edge, inside the view
            self.plot.addItem(text)
            self.labels[label] = (float(day), category)
        if self.labels:  # text items do not widen the automatic range: make room for them
            self.plot.setYRange(bottom, top, padding=0)

    def export_png(self, path: Path, width: int = 900) -> Path:
        """Write the plot as a PNG image."""
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self.plot.plotItem)
        exporter.parameters()["width"] = width
        exporter.export(str(path))
        return path


def _assessed(course: Any, responses: Mapping[str, str]) -> list[tuple[str, str, float, str]]:
    """(timepoint label, its visit name, day, stored overall response) of each timepoint
    with both (``responses`` keyed by label; the name is ``name or label``)."""
    return [
        (point.label, getattr(point, "name", "") or point.label, day, category)
        for point, day in zip(course.timepoints, course.days, strict=True)
        if (category := responses.get(point.label)) and day is not None
    ]


def _left_out(course: Any, drawn: set[str]) -> str:
    """The foci without a line and why, after the line count ("; not drawn — F5: not
    measured at TACE 1 follow-up 1"; "" when every focus has one). A line needs the
    baseline and at least one follow-up, each measured and dated; the visits are named as
    the worklist names them (``name or label``)."""
    reasons = []
    for lesion in course.lesions:
        if lesion.name in drawn:
            continue
        missing = [
            getattr(point, "name", "") or point.label
            for point, value in zip(course.timepoints, lesion.diameters_mm, strict=True)
            if value is None
        ]
        if missing:
            reason = f"not measured at {', '.join(missing)}"
        elif len(course.timepoints) < 2:
            reason = "no follow-up measured yet"
        else:
            reason = "no change from the baseline to draw (a visit without an imaging date)"
        reasons.append(f"{lesion.name}: {reason}")
    return f"; not drawn — {'; '.join(reasons)}" if reasons else ""
