"""A bottom axis that keeps every bar's name whole when the names do not fit side by side.

A printed waterfall names each bar under it; when the names are wider than a bar's slot
(ten cases at 1366 × 768), cutting them ("EXP-1…") or dropping every other one leaves a
reader of the figure unable to tell which bar is whose. Three layouts (:meth:`set_layout`):

- ``"level"``: pyqtgraph's own drawing, one name per slot (the names fit);
- ``"staggered"``: the names level on two (or more) rows, each on the first row where it
  clears the name before it (every other bar's on the lower one, for names up to two
  slots wide), so the axis needs no more height than two or three lines (what a figure
  does with long level labels; the plot keeps its height);
- ``"upright"``: the names read from bottom to top, ending at the axis (a figure's vertical
  tick labels): a name then needs only a line's height of the slot, the axis growing to
  the longest name. On a small screen it takes much of the plot's height (ten IDs at
  1366 × 768 left the bars a third of theirs): the caller keeps it for a tall plot.

A name too wide for the axis' end is moved inwards, never dropped.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetrics

LAYOUTS = ("level", "staggered", "upright")
GAP_PX = 4
"""Room between the names and the axis' title (or, upright, the axis)."""


class BarNameAxis(pg.AxisItem):
    """A bottom axis whose tick names can be staggered or stand upright."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._layout = "level"
        self._rows = 1

    @property
    def layout(self) -> str:
        """How the names are drawn: one of :data:`LAYOUTS`."""
        return self._layout

    @property
    def rows(self) -> int:
        """The rows the staggered names take (as laid out when last fitted)."""
        return self._rows

    def staggered_rows(self) -> int:
        """The rows the names would take staggered, at the axis' width (0 before the
        layout)."""
        rows = {int(box.top()) for box, _ in self._placed("staggered")}
        return len(rows)

    def set_layout(self, layout: str) -> None:
        """Draw the names ``layout`` (:data:`LAYOUTS`)."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout {layout!r}: one of {LAYOUTS}")
        if layout == self._layout:
            return
        self._layout = layout
        if layout == "level":
            self.textHeight = 0  # pyqtgraph measures its level names again when it draws
        self._fit_height()

    def setTicks(self, ticks: Any) -> None:
        super().setTicks(ticks)
        self._fit_height()

    def names(self) -> list[str]:
        """The names given with :meth:`setTicks` (first level)."""
        levels = self._tickLevels or []
        return [str(text) for _, text in levels[0]] if levels else []

    def name_rects(self) -> list[QRectF]:
        """Where each name is drawn, in the axis' coordinates (upright: the turned box)."""
        return [rect for rect, _ in self._placed()]

    def _metrics(self) -> QFontMetrics:
        return QFontMetrics(self.style.get("tickFont") or self.font())

    def _fit_height(self) -> None:
        """Staggered: a line per row; upright: as tall as the longest name."""
        metrics = self._metrics()
        if self._layout == "staggered":
            self._rows = max(1, self.staggered_rows())
            self.textHeight = self._rows * metrics.height()
        elif self._layout == "upright":
            longest = max((metrics.horizontalAdvance(n) for n in self.names()), default=0)
            self.textHeight = longest + GAP_PX
        if self._layout != "level":
            self._updateHeight()
        self.picture = None
        self.update()

    def _placed(self, layout: str = "") -> list[tuple[QRectF, str]]:
        """Each name in view with the box it is drawn in (axis coordinates), drawn
        ``layout`` (the axis' own by default)."""
        layout = layout or self._layout
        low, high = self.range
        width = self.mapRectFromParent(self.geometry()).width()
        if layout == "level" or high <= low or width <= 0:
            return []
        metrics = self._metrics()
        top = max(0, self.style["tickLength"]) + self.style["tickTextOffset"][1]
        out = []
        ends: list[float] = []  # the right end of each row's last name
        for value, name in (self._tickLevels or [[]])[0]:
            x = (value - low) / (high - low) * width
            if not 0 <= x <= width:
                continue
            text = str(name)
            length = metrics.horizontalAdvance(text) + 2
            if layout == "upright":
                box = QRectF(x - metrics.height() / 2, top, metrics.height(), length)
            else:
                left = min(max(0.0, x - length / 2), max(0.0, width - length))  # inwards
                row = next((r for r, end in enumerate(ends) if end + GAP_PX <= left), len(ends))
                ends[row : row + 1] = [left + length]
                box = QRectF(left, top + row * metrics.height(), length, metrics.height())
            out.append((box, text))
        return out

    def generateDrawSpecs(self, p: Any) -> Any:
        if self._layout == "level":
            return super().generateDrawSpecs(p)
        shown = self.style["showValues"]
        self.style["showValues"] = False  # the line and the ticks; the names drawn below
        try:
            specs = super().generateDrawSpecs(p)
        finally:
            self.style["showValues"] = shown
        if specs is None or not shown:
            return specs
        axis_spec, tick_specs, _ = specs
        return axis_spec, tick_specs, self._placed()

    def drawPicture(self, p: Any, axisSpec: Any, tickSpecs: Any, textSpecs: Any) -> None:
        if self._layout == "level":
            super().drawPicture(p, axisSpec, tickSpecs, textSpecs)
            return
        super().drawPicture(p, axisSpec, tickSpecs, [])
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        centred = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter)
        for box, name in textSpecs:
            if self._layout == "staggered":
                p.drawText(box, centred, name)
                continue
            p.save()  # upright: turned about the box's top centre, the name's end there
            p.translate(QPointF(box.center().x(), box.top()))
            p.rotate(-90)
            turned = QRectF(-box.height(), -box.width() / 2, box.height(), box.width())
            p.drawText(
                turned, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), name
            )
            p.restore()
