"""Measurement drawing on a slice view: ruler, ellipse ROI and angle, live and stored.

The slice view turns mouse positions into screen millimetres (u, v) and calls
:meth:`MeasurementLayer.begin`, :meth:`~MeasurementLayer.update` and
:meth:`~MeasurementLayer.finish`; the layer draws the shape being made with a
live value (length, angle) and returns its defining points when it is done.
Stored measurements (LPS points with their plane) are drawn on the plane they
were made on, in any view of the same orientation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from tace_planner.domain.annotations import Annotation, angle_deg
from tace_planner.imaging.reformat import PlaneGeometry
from tace_planner.ui.viewer.label_placement import (
    LABEL_ANCHORS,
    lead_labels,
    place_group,
    place_transient,
    relayout_followers,
    set_obstacles,
)

TOOLS = ("window", "ruler", "ellipse", "angle", "crosshair", "custom")
"""Left-button tools: window/level, three measurements, move the 3D cursor, or hand the
mouse to another workspace (``SliceView.pointer_event``)."""
MEASUREMENT_TOOLS = ("ruler", "ellipse", "angle")

_COLOUR = QColor("#5cf25c")
_SELECTED = QColor("#ffd000")
_DRAWING = QColor("#ffffff")
_RECIST = QColor("#ff9d2e")
_ELLIPSE_SEGMENTS = 72
_RECIST_ANCHORS = ((0.0, 1.0), (0.0, 0.0))
"""A lesion's long-axis label above its line's end, the short-axis label below it."""

Point2 = tuple[float, float]


@dataclass
class _Shape:
    path: QGraphicsPathItem
    text: pg.TextItem


def _pen(colour: QColor, width: float = 1.6) -> QPen:
    pen = QPen(colour)
    pen.setCosmetic(True)  # the same width at every zoom
    pen.setWidthF(width)
    return pen


def _ellipse_path(
    centre: npt.NDArray[np.float64], axis1: npt.NDArray[np.float64], axis2: npt.NDArray[np.float64]
) -> QPainterPath:
    """A closed polygon through an ellipse given by its centre and semi-axis vectors (2D)."""
    path = QPainterPath()
    for n in range(_ELLIPSE_SEGMENTS + 1):
        t = 2 * math.pi * n / _ELLIPSE_SEGMENTS
        x, y = centre + math.cos(t) * axis1 + math.sin(t) * axis2
        if n == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    return path


def _polyline(points: list[Point2]) -> QPainterPath:
    path = QPainterPath()
    path.moveTo(*points[0])
    for point in points[1:]:
        path.lineTo(*point)
    return path


class MeasurementLayer:
    """Measurements over one slice view: the stored ones on their plane, and the one being drawn."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self._view_box = view_box
        self._geometry: PlaneGeometry | None = None
        self._stored: dict[int, tuple[Annotation, _Shape]] = {}
        self._selected: int | None = None
        self._visible = True
        self._position_mm = 0.0
        self._tolerance_mm = 0.5
        self._kind: str | None = None
        self._points: list[Point2] = []
        self._waiting_for_third = False
        self._derived: list[tuple[Annotation, _Shape]] = []
        self._live = self._make_shape(_DRAWING)
        self._live.path.setVisible(False)
        self._live.text.setVisible(False)
        # Placed again when the masks shown change on this plane (their extents moved).
        lead_labels(view_box, self.relayout_labels)

    def _make_shape(self, colour: QColor) -> _Shape:
        path = QGraphicsPathItem()
        path.setPen(_pen(colour))
        path.setZValue(20)
        text = pg.TextItem("", color=colour, anchor=(0.0, 1.0), fill=pg.mkBrush(0, 0, 0, 140))
        text.setZValue(21)
        self._view_box.addItem(path)
        self._view_box.addItem(text)
        return _Shape(path, text)

    # ------------------------------------------------------------ stored
    def set_geometry(self, geometry: PlaneGeometry | None) -> None:
        """The plane orientation of the volume shown."""
        self._geometry = geometry
        self.cancel()
        self._redraw_stored()

    def set_annotations(self, annotations: list[tuple[int, Annotation]]) -> None:
        """Replace the stored measurements shown: (primary key, annotation) pairs."""
        for _, shape in self._stored.values():
            self._view_box.removeItem(shape.path)
            self._view_box.removeItem(shape.text)
        self._stored = {pk: (a, self._make_shape(_COLOUR)) for pk, a in annotations}
        self._redraw_stored()

    def set_derived(self, annotations: list[Annotation]) -> None:
        """Show read-only lines computed by the app (a lesion's RECIST long and short axes).

        They are drawn in their own colour on their plane, like stored
        measurements, but cannot be selected or deleted.
        """
        for _, shape in self._derived:
            self._view_box.removeItem(shape.path)
            self._view_box.removeItem(shape.text)
        self._derived = [(a, self._make_shape(_RECIST)) for a in annotations]
        self._redraw_stored()

    def visible_derived(self) -> list[str]:
        """Labels of the derived lines drawn on the current plane."""
        return [a.label for a, shape in self._derived if shape.path.isVisible()]

    def stored_keys(self) -> list[int]:
        """Primary keys of the measurements known to the layer."""
        return list(self._stored)

    def visible_keys(self) -> list[int]:
        """Primary keys of the measurements drawn on the current plane."""
        return [pk for pk, (_, shape) in self._stored.items() if shape.path.isVisible()]

    def select(self, pk: int | None) -> None:
        """Highlight one measurement (None: none)."""
        self._selected = pk
        for key, (_, shape) in self._stored.items():
            colour = _SELECTED if key == pk else _COLOUR
            shape.path.setPen(_pen(colour, 2.4 if key == pk else 1.6))
            shape.text.setColor(colour)

    def show_plane(self, position_mm: float, tolerance_mm: float) -> None:
        """Show the measurements lying within ``tolerance_mm`` of the plane at ``position_mm``."""
        self._position_mm = position_mm
        self._tolerance_mm = tolerance_mm
        self._redraw_stored()

    def set_visible(self, visible: bool) -> None:
        """Show or hide every measurement (snapshots without overlays)."""
        self._visible = visible
        self._redraw_stored()
        if not visible:
            self.cancel()

    def _on_plane(self, annotation: Annotation) -> bool:
        geometry = self._geometry
        if geometry is None:
            return False
        normal = np.asarray(annotation.plane_normal_lps, dtype=float)
        if abs(float(normal @ geometry.normal_lps)) < 0.999:
            return False
        position = float(np.asarray(annotation.points_lps[0]) @ geometry.normal_lps)
        return abs(position - self._position_mm) <= self._tolerance_mm

    def relayout_labels(self) -> None:
        """Place the labels again for the view's zoom, pan and size (a label is not zoomed)."""
        self._redraw_stored()

    def _redraw_stored(self) -> None:
        for annotation, shape in [*self._stored.values(), *self._derived]:
            shown = self._visible and self._on_plane(annotation)
            shape.path.setVisible(shown)
            shape.text.setVisible(shown)
            if shown:
                self._draw_annotation(annotation, shape)
        set_obstacles(self._view_box, self._axes_extents())
        placed = self._stack_derived_labels()
        arrangements = [(anchor,) for anchor in LABEL_ANCHORS]
        for _, shape in self._stored.values():
            if shape.text.isVisible():
                place_group(self._view_box, [shape.text], arrangements, placed)
        # contour labels stepped aside from a label that is gone now go back to their points
        relayout_followers(self._view_box)

    def _axes_extents(self) -> list[QRectF]:
        """Each lesion's drawn RECIST axes as one rectangle (view mm): no label covers it."""
        extents: dict[str, QRectF] = {}
        for annotation, shape in self._derived:
            if shape.path.isVisible():
                lesion = annotation.label.rsplit(" ", 2)[0]
                rect = shape.path.path().boundingRect()
                extents[lesion] = extents[lesion].united(rect) if lesion in extents else rect
        return list(extents.values())

    def _stack_derived_labels(self) -> list[QRectF]:
        """One lesion's derived labels as one block at its first line's end; their boxes.

        Each drawn at its own line's end, the short-axis label covered the long-axis
        one (the RECIST measurement) when the two ends lay close; now the first
        (long axis) sits above the point and the second (short axis) below it. Near
        an edge of the view (2×2 on a 1366 px screen) the block is moved inside it.
        """
        blocks: dict[str, list[_Shape]] = {}
        for annotation, shape in self._derived:
            if shape.text.isVisible():
                lesion = annotation.label.rsplit(" ", 2)[0]
                blocks.setdefault(lesion, []).append(shape)
        placed: list[QRectF] = []
        for first, *rest in blocks.values():
            texts = [first.text]
            if rest:
                rest[0].text.setPos(first.text.pos())
                texts.append(rest[0].text)
            # Off the lesions shown (set_extents) and beside the axes' extent when the
            # view has room there (set_obstacles), else
            # slid inside rather than turned to the point's left: it then covers only as
            # much of the lesion and its lines as it had to, not its whole width.
            place_group(self._view_box, texts, [_RECIST_ANCHORS[: len(texts)]], placed)
        return placed

    def _draw_annotation(self, annotation: Annotation, shape: _Shape) -> None:
        geometry = self._geometry
        assert geometry is not None
        points = [np.array(geometry.lps_to_screen(p)[:2]) for p in annotation.points_lps]
        if annotation.kind == "ellipse":
            centre = points[0]
            shape.path.setPath(_ellipse_path(centre, points[1] - centre, points[2] - centre))
            anchor = points[1]  # the end of the first semi-axis
        else:
            shape.path.setPath(_polyline([(float(p[0]), float(p[1])) for p in points]))
            anchor = points[-1]
        shape.text.setText(_value_text(annotation))
        shape.text.setPos(float(anchor[0]), float(anchor[1]))

    # ------------------------------------------------------------ drawing
    @property
    def drawing(self) -> bool:
        """True while a measurement is being drawn."""
        return self._kind is not None

    @property
    def waiting_for_third_point(self) -> bool:
        """True when an angle's first arm is drawn and its second arm follows the mouse."""
        return self._waiting_for_third

    def begin(self, kind: str, point: Point2) -> None:
        """Start drawing a ``kind`` at screen point (u, v) mm."""
        self._kind = kind
        self._points = [point, point]
        self._waiting_for_third = False
        self._draw_live()

    def update(self, point: Point2) -> None:
        """Move the free end of the shape being drawn."""
        if self._kind is None:
            return
        self._points[-1] = point
        self._draw_live()

    def release(self, point: Point2) -> list[Point2] | None:
        """The button was released at ``point``: the finished points, or None if not done yet.

        A ruler and an ellipse finish here; an angle then waits for its third point.
        """
        if self._kind is None:
            return None
        self._points[-1] = point
        if self._kind == "angle" and not self._waiting_for_third:
            self._waiting_for_third = True
            self._points.append(point)
            self._draw_live()
            return None
        return self._finish()

    def click(self, point: Point2) -> list[Point2] | None:
        """A click while an angle waits for its third point finishes it."""
        if not self._waiting_for_third:
            return None
        self._points[-1] = point
        return self._finish()

    def cancel(self) -> None:
        """Forget the shape being drawn."""
        self._kind = None
        self._points = []
        self._waiting_for_third = False
        self._live.path.setVisible(False)
        self._live.text.setVisible(False)

    def _finish(self) -> list[Point2] | None:
        points, kind = list(self._points), self._kind
        self.cancel()
        if kind == "ellipse":
            (u0, v0), (u1, v1) = points
            return [
                ((u0 + u1) / 2, (v0 + v1) / 2),
                (max(u0, u1), (v0 + v1) / 2),
                ((u0 + u1) / 2, max(v0, v1)),
            ]
        return points

    def _draw_live(self) -> None:
        if self._kind is None or not self._visible:
            return
        points = [np.array(p, dtype=float) for p in self._points]
        if self._kind == "ellipse":
            centre = (points[0] + points[1]) / 2
            half = np.abs(points[1] - points[0]) / 2
            self._live.path.setPath(
                _ellipse_path(centre, np.array([half[0], 0.0]), np.array([0.0, half[1]]))
            )
            text = f"{math.pi * half[0] * half[1] / 100:.2f} cm²"
        elif self._kind == "ruler":
            self._live.path.setPath(_polyline([tuple(p) for p in points]))  # type: ignore[misc]
            text = f"{float(np.linalg.norm(points[1] - points[0])):.1f} mm"
        else:
            self._live.path.setPath(_polyline([tuple(p) for p in points]))  # type: ignore[misc]
            text = ""
            if len(points) == 3:
                try:
                    text = f"{angle_deg([*points[0], 0], [*points[1], 0], [*points[2], 0]):.1f}°"
                except ValueError:
                    text = ""
        self._live.text.setText(text)
        end = points[-1]
        self._live.text.setPos(float(end[0]), float(end[1]))
        self._live.path.setVisible(True)
        self._live.text.setVisible(bool(text))
        if text:  # near the right or bottom edge it ran off the view
            place_transient(self._view_box, self._live.text)


def _value_text(annotation: Annotation) -> str:
    v = annotation.values
    if annotation.kind == "ruler":
        text = f"{v.get('length_mm', float('nan')):.1f} mm"
    elif annotation.kind == "angle":
        text = f"{v.get('angle_deg', float('nan')):.1f}°"
    else:
        unit = f" {annotation.unit}" if annotation.unit else ""
        text = (
            f"{v.get('mean', float('nan')):.1f} ± {v.get('sd', float('nan')):.1f}{unit}\n"
            f"{v.get('area_mm2', float('nan')) / 100:.2f} cm²"
        )
    return f"{annotation.label}: {text}" if annotation.label else text


def pen_for_reference_line(colour: str) -> QPen:
    """A thin dashed cosmetic pen for reference lines and the cursor."""
    pen = _pen(QColor(colour), 1.2)
    pen.setStyle(Qt.PenStyle.DashLine)
    return pen
