"""Waterfall plot of a cohort: each case's best change from baseline, sorted, one bar each.

Two measures (chosen with :meth:`WaterfallPlot.show_changes`): the RECIST 1.1 sum of the
target-lesion diameters, the sum the RECIST guide lines at −30 % and +20 % apply to
(Eisenhauer et al., European Journal of Cancer 2009), or the total volume of the baseline
foci (−65 % and +73 %, the same limits as sphere volumes). Bars are coloured by group when
groups are given. The values come from
:meth:`~tace_planner.services.propagation.PropagationService.best_changes`; the plot
computes nothing but the order. :meth:`WaterfallPlot.export_png` writes what is shown.
The bottom axis (:class:`~tace_planner.ui.panels.bar_name_axis.BarNameAxis`) can stagger the
bars' names, or stand them upright, when they do not fit side by side (the Cohort page decides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from tace_planner.ui.panels.bar_name_axis import BarNameAxis
from tace_planner.ui.panels.empty_plot import (
    fit_axis_title,
    legend_strip,
    show_empty,
    show_scales,
)

GUIDES = {
    "diameter_sum_percent": ((-30.0, "−30 %"), (20.0, "+20 %")),
    "volume_percent": ((-65.0, "−65 %"), (73.0, "+73 %")),
}
"""Guide lines and their labels. The bars are sorted from the largest change, so those that
cross the upper line stand at the left and those that cross the lower line at the right: the
upper label sits above its line at the right end, the lower one below its line at the left
end, clear of the bars (on a white ground, readable, when every bar crosses the line)."""
_GUIDE_LABEL = {
    True: {"position": 0.99, "anchors": [(1, 1), (1, 1)]},  # upper: right end, above
    False: {"position": 0.01, "anchors": [(0, 0), (0, 0)]},  # lower: left end, below
}
TITLES = {
    "diameter_sum_percent": "Best change in the sum of target diameters (%)",
    "volume_percent": "Best change in the total volume of the foci (%)",
}
"""The axis says what the bars show: the change from baseline of the RECIST 1.1 sum of the
target-lesion diameters, or of the total volume of the baseline foci (wrapped to the axis'
height by :func:`~tace_planner.ui.panels.empty_plot.fit_axis_title`)."""
LEFT_OUT = {
    "diameter_sum_percent": "without target lesions, or without a follow-up where every "
    "target is measured",
    "volume_percent": "without a follow-up where every baseline focus is measured",
}
"""Why a case has no bar, per measure."""
NO_BARS = "No case has a follow-up measured yet"
"""What an empty waterfall says in its middle when no case has a follow-up measured."""
NO_BARS_BECAUSE = {
    "diameter_sum_percent": "No sum of target diameters to compare:\nchoose the target "
    "lesions (or measure every target at a follow-up)",
    "volume_percent": "No follow-up where every baseline focus is measured",
}
"""What an empty waterfall says when its cases have a follow-up measured but not the
``measure`` (the other measure has a value): the sum of the target diameters needs target
lesions chosen (RECIST 1.1, Eisenhauer et al., European Journal of Cancer 2009), every one
measured at the follow-up; the total volume needs every baseline focus contoured there."""
AXIS_TITLE = "Cases, sorted by their change"
"""The bottom axis' title."""
MAX_NAMED_BARS = 12
"""Up to this many bars, each is named under the axis."""
MIN_SLOTS = 8
"""The axis holds at least this many bars' room: one case is not a bar across the plot."""
LEGEND_COLUMNS = 3
"""The legend under the plot holds up to this many groups side by side on a line."""
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")


def empty_reason(changes: Sequence[Any], measure: str) -> str:
    """Why no case has a bar of ``measure``: the main reason among the cases left out.

    A case whose other measure has a value had a follow-up measured: it lacks what this
    measure needs (:data:`NO_BARS_BECAUSE`); a case with neither had no follow-up measured
    (:data:`NO_BARS`). The more frequent reason is said (a tie: the follow-up, first)."""
    other = next(name for name in TITLES if name != measure)
    measured = sum(1 for change in changes if getattr(change, other, None) is not None)
    return NO_BARS_BECAUSE[measure] if 2 * measured > len(changes) else NO_BARS


class _Note(QLabel):
    """A wrapped label of up to two lines that asks for no height-for-width layout.

    With one, a grid around the plot (the Cohort page) gave its row three times the
    other row's height whenever the note held text.
    """

    def hasHeightForWidth(self) -> bool:
        return False


class WaterfallPlot(QWidget):
    """One bar per case, best change from baseline, sorted from the largest to the smallest."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name_axis = BarNameAxis(orientation="bottom")
        self.plot = pg.PlotWidget(background="w", axisItems={"bottom": self.name_axis})
        self.plot.setLabel("bottom", AXIS_TITLE)
        for side in ("bottom", "left"):  # bar numbers and percentages: no "(x0.001)" scaling
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        # under the plot: inside it, at 1366 × 768 (or with all bars below −30 %) it lay
        # over the bars
        self.legend = legend_strip(self.plot)
        self.legend.setVisible(False)  # an empty legend would show as a blank box
        self.note = _Note("")
        self.note.setWordWrap(True)
        self.note.setMinimumHeight(2 * self.note.fontMetrics().lineSpacing())
        self.plot.getViewBox().sigResized.connect(self._on_resized)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot)
        layout.addWidget(self.note)
        self.order: list[str] = []
        self.heights: list[float] = []
        self._guides: list[pg.InfiniteLine] = []
        self._room = pg.ScatterPlotItem(size=0, pen=None, brush=None)
        """Two points that draw nothing: the range's room for the guides and their labels."""
        show_empty(self.plot, NO_BARS)

    def _on_resized(self) -> None:
        fit_axis_title(self.plot)
        self._fit_height()

    def _fit_height(self) -> None:
        """The automatic value range holds the bars, 0 and both guide lines, with a label's
        height of room above the top and below the bottom for the guides' labels (the view
        clips what sticks out; the guide lines themselves do not widen the range)."""
        if not self.heights or not self._guides:
            return
        values = [0.0, *self.heights, *(guide.value() for guide in self._guides)]
        low, high = min(values), max(values)
        label_px = max(guide.label.boundingRect().height() for guide in self._guides)
        room_px = self.plot.getViewBox().height() - 2 * label_px
        pad = (high - low) * (label_px / room_px if room_px > label_px else 0.3)
        self._room.setData(x=[0.0, 0.0], y=[low - pad, high + pad])

    def clear(self) -> None:
        """No bars, no legend, no note: the empty plot."""
        self.legend.setVisible(False)
        self.order, self.heights, self._guides = [], [], []
        self.note.setText("")
        self.name_axis.set_layout("level")
        show_empty(self.plot, NO_BARS)

    def show_changes(
        self,
        changes: Sequence[Any],
        measure: str = "diameter_sum_percent",
        groups: Mapping[str, str] | None = None,
        left_out: str = "",
    ) -> None:
        """Draw the ``measure`` of each :class:`~tace_planner.services.propagation.BestChange`.

        ``left_out``: how many cases each reason leaves without a bar ("2 cases without a
        follow-up measurement, 1 without target lesions"), said under the plot and, when no
        case has a bar, in its middle; "" says the measure's usual reason
        (:data:`LEFT_OUT`) and, for an empty plot, the main one (:func:`empty_reason`)."""
        self.plot.clear()
        self.name_axis.set_layout("level")
        self._guides = []
        self.plot.setLabel("left", TITLES[measure])
        fit_axis_title(self.plot)
        valued = [(c.label, getattr(c, measure)) for c in changes]
        shown = sorted([v for v in valued if v[1] is not None], key=lambda v: -v[1])
        self.order = [label for label, _ in shown]
        self.heights = [float(value) for _, value in shown]
        missing = len(valued) - len(shown)
        why = f": {left_out}." if left_out else f" ({LEFT_OUT[measure]})."
        self.note.setText(
            f"{len(shown)} case(s)" + (f"; {missing} left out{why}" if missing else ".")
        )
        if not shown:  # no 0-1 scale of "cases": say why it is empty
            self.legend.setVisible(False)
            self.plot.getAxis("bottom").setTicks(None)
            reason = "No case has a bar:\n" + left_out.replace(", ", ",\n") if left_out else ""
            show_empty(self.plot, reason or empty_reason(changes, measure))
            return
        show_scales(self.plot)
        names = sorted({(groups or {}).get(label, "") for label in self.order})
        for n, name in enumerate(names):
            xs = [i for i, label in enumerate(self.order) if (groups or {}).get(label, "") == name]
            bars = pg.BarGraphItem(
                x=xs, height=[self.heights[i] for i in xs], width=0.8,
                brush=_COLOURS[n % len(_COLOURS)], name=name or "no value",
            )  # fmt: skip
            self.plot.addItem(bars)
        self.legend.setColumnCount(min(max(len(names), 1), LEGEND_COLUMNS))  # side by side
        self.legend.setVisible(any(names))  # no legend for one unnamed group
        middle, half = (len(self.order) - 1) / 2.0, max(len(self.order), MIN_SLOTS) / 2.0
        self.plot.setXRange(middle - half, middle + half, padding=0)
        for value, text in GUIDES[measure]:
            self._guides.append(pg.InfiniteLine(
                pos=value, angle=0, label=text,
                pen=pg.mkPen("#555555", style=Qt.PenStyle.DashLine),
                labelOpts={**_GUIDE_LABEL[value > 0], "color": "#333333",
                           "fill": (255, 255, 255, 200)},
            ))  # fmt: skip
            self.plot.addItem(self._guides[-1])
        self.plot.addItem(self._room)
        self._fit_height()
        # name each bar while the names fit under it; beyond that the order is the story
        ticks = list(enumerate(self.order)) if len(self.order) <= MAX_NAMED_BARS else []
        self.plot.getAxis("bottom").setTicks([ticks] if ticks else None)

    def export_png(self, path: Path, width: int = 900) -> Path:
        """Write the plot as a PNG image."""
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(self.plot.plotItem)
        exporter.parameters()["width"] = width
        exporter.export(str(path))
        return path
