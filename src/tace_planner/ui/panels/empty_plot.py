"""An empty plot or image view that says why it is empty, instead of bare 0–1 scales.

Used by the Cohort page's plots, the Follow-up page's spider plot and waterfall, and the
follow-up review's image views: each shows its reason centred in its middle until
there is something to draw, and :func:`show_scales` gives a plot its axes and automatic
range back then.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

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
