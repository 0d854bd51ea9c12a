"""An empty plot or image view that says why it is empty, instead of bare 0–1 scales.

Used by the Cohort page's plots, the Follow-up page's spider plot and waterfall, and the
follow-up review's image views: each shows its reason centred in its middle until
there is something to draw, and :func:`show_scales` gives a plot its axes and automatic
range back then. Two helpers keep a small plot readable (the Cohort page at 1366 × 768):
:func:`legend_strip` puts the legend under the plot instead of over its data, and
:func:`fit_axis_title` wraps a vertical axis' title to the axis' height.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy

QT_TEXT_MARGIN_PX = 4.0
"""Qt's default margin around a text item's document (an axis title's)."""
NOTE_COLOUR = "#666666"
"""The reason's colour on a white plot."""


def centred_note(target: Any, text: str, colour: str = NOTE_COLOUR) -> pg.TextItem:
    """Put ``text`` in the middle of ``target`` (a plot or a view box) and fix its range there.

    The range is 0–1 on both axes, the note at (0.5, 0.5): the caller removes the
    note (or clears the plot) and releases the range when it draws.
    """
    note = pg.TextItem(text, color=colour, anchor=(0.5, 0.5))
    note.setPos(0.5, 0.5)
    target.addItem(note)
    target.setXRange(0.0, 1.0, padding=0.0)
    target.setYRange(0.0, 1.0, padding=0.0)
    return note


def show_empty(plot: Any, text: str) -> pg.TextItem:
    """An empty plot: its items removed, no scales (nothing to read on them), ``text`` centred."""
    plot.clear()
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    return centred_note(plot, text)


def show_scales(plot: Any) -> None:
    """Give a plot emptied by :func:`show_empty` its axes and automatic range back."""
    plot.showAxis("left")
    plot.showAxis("bottom")
    plot.enableAutoRange()


def legend_strip(plot: Any, row: int = 4) -> pg.LegendItem:
    """A legend in a strip under ``plot``'s bottom axis, over none of its data.

    Inside the view box a legend lies over whatever is drawn where it sits (the Cohort
    page's waterfall bars at 1366 × 768); in the strip it costs one line of height. Named
    items join it, and :meth:`~pyqtgraph.PlotItem.clear` empties it. One column per entry
    (:meth:`~pyqtgraph.LegendItem.setColumnCount`) lays the entries side by side.
    """
    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    legend = pg.LegendItem(labelTextColor="#222222", verSpacing=-4)
    item.layout.addItem(legend, row, 1)  # under the bottom axis, as wide as the view box
    legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
    item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignHCenter)
    item.legend = legend
    return legend


def fit_axis_title(plot: Any, side: str = "left") -> None:
    """Wrap a vertical axis' title onto as many lines as its height needs.

    pyqtgraph centres the title on the axis and lets a long one run past both ends,
    where the widget cuts it ("…st change in the sum of target diam…" at 1366 × 768).
    Called after the title is set and whenever the view is resized.
    """
    axis = plot.getAxis(side)
    label = axis.label
    document = label.document()
    document.setDocumentMargin(QT_TEXT_MARGIN_PX)
    label.setTextWidth(-1)  # the title's own width, on one line
    room_px = axis.size().height() - 4.0
    if 0 < room_px < label.boundingRect().width():
        option = document.defaultTextOption()
        option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        document.setDefaultTextOption(option)
        label.setTextWidth(room_px)
        # pyqtgraph widens the axis by 0.8 × the title's height, margins included: a wider
        # margin makes up the rest, so that the lines do not cover the tick numbers
        lines_px = label.boundingRect().height() - 2 * QT_TEXT_MARGIN_PX
        document.setDocumentMargin(max(QT_TEXT_MARGIN_PX, (0.2 * lines_px - 4.0) / 0.6 + 1.0))
        label.setTextWidth(room_px)
    axis.showLabel(label.isVisible())  # the axis widens for the lines it now holds
    axis.resizeEvent()  # and centres them again
