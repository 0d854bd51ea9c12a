"""Reference lines (where the other views' planes cut this one) and the 3D cursor mark.

Lines are computed from LPS planes, not slice indices: the plane at
``position_mm`` along ``normal_lps`` cuts this view's plane along
``a·u + b·v = c`` in screen millimetres; parallel planes draw nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg

from tace_planner.imaging.reformat import PlaneGeometry
from tace_planner.ui.viewer.tools import pen_for_reference_line

ORIENTATION_COLOURS = {"axial": "#ff5c5c", "coronal": "#5cc8ff", "sagittal": "#ffd23f"}
_PARALLEL = 1e-3


@dataclass(frozen=True)
class ReferencePlane:
    """Another view's plane: where it is and the colour of its orientation."""

    normal_lps: tuple[float, float, float]
    position_mm: float
    colour: str


def line_in_plane(
    geometry: PlaneGeometry, position_mm: float, other: ReferencePlane
) -> tuple[tuple[float, float], float] | None:
    """Where ``other`` cuts the plane at ``position_mm``: ((u, v), angle in degrees) or None."""
    normal = np.asarray(other.normal_lps, dtype=float)
    a = float(geometry.right_lps @ normal)
    b = float(geometry.down_lps @ normal)
    if a * a + b * b < _PARALLEL:
        return None
    c = other.position_mm - position_mm * float(geometry.normal_lps @ normal)
    norm2 = a * a + b * b
    point = (a * c / norm2, b * c / norm2)
    return point, math.degrees(math.atan2(a, -b))


class ReferenceLines:
    """The reference lines and cursor mark drawn in one slice view."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self._view_box = view_box
        self._lines: list[pg.InfiniteLine] = []
        self._drawn: list[tuple[float, float, float, str] | None] = []
        self._cursor = pg.ScatterPlotItem(
            size=18, symbol="+", pen=pg.mkPen("#ff66ff", width=1.5), brush=None
        )
        self._cursor.setZValue(31)
        self._cursor.setVisible(False)
        view_box.addItem(self._cursor)
        self._visible = True

    @property
    def lines(self) -> list[pg.InfiniteLine]:
        """The lines currently shown (for tests)."""
        return [line for line in self._lines if line.isVisible()]

    def set_planes(
        self, geometry: PlaneGeometry | None, position_mm: float, planes: list[ReferencePlane]
    ) -> None:
        """Draw where ``planes`` cut the plane at ``position_mm``."""
        shown = 0
        if geometry is not None and self._visible:
            for plane in planes:
                cut = line_in_plane(geometry, position_mm, plane)
                if cut is None:
                    continue
                line = self._line(shown)
                (u, v), angle = cut
                drawn = (round(u, 3), round(v, 3), round(angle, 3), plane.colour)
                if self._drawn[shown] != drawn:  # moving a line repaints: only when it moved
                    line.setPen(pen_for_reference_line(plane.colour))
                    line.setAngle(angle)
                    line.setPos((u, v))
                    self._drawn[shown] = drawn
                line.setVisible(True)
                shown += 1
        for line in self._lines[shown:]:
            line.setVisible(False)

    def _line(self, number: int) -> pg.InfiniteLine:
        while len(self._lines) <= number:
            line = pg.InfiniteLine(movable=False)
            line.setZValue(30)
            self._view_box.addItem(line)
            self._lines.append(line)
            self._drawn.append(None)
        return self._lines[number]

    def set_cursor(self, geometry: PlaneGeometry | None, point_lps: npt.ArrayLike | None) -> None:
        """Mark ``point_lps`` (projected on the view); None hides the mark."""
        if geometry is None or point_lps is None or not self._visible:
            self._cursor.setVisible(False)
            return
        u, v, _ = geometry.lps_to_screen(point_lps)
        self._cursor.setData([u], [v])
        self._cursor.setVisible(True)

    def clear(self) -> None:
        """Hide every line and the cursor."""
        for line in self._lines:
            line.setVisible(False)
        self._cursor.setVisible(False)

    def set_visible(self, visible: bool) -> None:
        """Show or hide lines and cursor (snapshots without overlays)."""
        self._visible = visible
        if not visible:
            self.clear()
