"""Mouse gestures of a slice view, the drag-and-drop format of series, and pointer records.

The view box hands every drag and click to its slice view instead of panning
and zooming by itself (the slice view decides: window/level, measurement,
zoom, pan); the wheel is taken before the view box sees it, to scroll slices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QMimeData, Qt, Signal

SERIES_MIME_TYPE = "application/x-tace-planner-series"
"""Drag-and-drop payload: JSON ``{"series_uid": …, "part": …}``."""

#: Pixels of mouse travel per doubling of the zoom (right drag).
ZOOM_DOUBLING_PX = 120.0
#: Slices per PgUp/PgDn.
PAGE_SLICES = 10


def series_mime_data(series_uid: str, part: str) -> QMimeData:
    """Mime data carrying one series part (for the study tree's drag)."""
    data = QMimeData()
    payload = json.dumps({"series_uid": series_uid, "part": part or ""})
    data.setData(SERIES_MIME_TYPE, payload.encode("utf-8"))
    data.setText(series_uid)
    return data


def series_from_mime(data: QMimeData) -> tuple[str, str] | None:
    """(series UID, part) carried by ``data``, or None."""
    if not data.hasFormat(SERIES_MIME_TYPE):
        return None
    try:
        payload = json.loads(bytes(data.data(SERIES_MIME_TYPE).data()).decode("utf-8"))
        return str(payload["series_uid"]), str(payload.get("part") or "")
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class HoverInfo:
    """What lies under the mouse: the LPS point, the voxel (z, y, x) and its value."""

    point_lps: npt.NDArray[np.float64]
    voxel_zyx: tuple[int, int, int] | None
    value: float | None


@dataclass(frozen=True)
class PointerEvent:
    """A left-button gesture in the "custom" tool, in patient coordinates.

    ``kind`` is "press", "move", "release" or "click"; ``voxel_zyx`` is None
    outside the volume; ``modifiers`` are ``Qt.KeyboardModifier`` flags.
    """

    kind: str
    point_lps: npt.NDArray[np.float64]
    voxel_zyx: tuple[int, int, int] | None
    slice_index: int
    modifiers: Qt.KeyboardModifier


class SliceViewBox(pg.ViewBox):
    """A view box (y down, square millimetres) that emits gestures instead of acting on them."""

    dragged = Signal(object)  # pyqtgraph MouseDragEvent
    clicked = Signal(object)  # pyqtgraph MouseClickEvent

    def __init__(self) -> None:
        super().__init__(invertY=True, lockAspect=True, enableMenu=False)
        self.setMouseEnabled(False, False)

    def mouseDragEvent(self, ev: object, axis: int | None = None) -> None:
        """Hand the drag to the slice view."""
        ev.accept()  # type: ignore[attr-defined]
        self.dragged.emit(ev)

    def mouseClickEvent(self, ev: object) -> None:
        """Hand the click (single or double) to the slice view."""
        ev.accept()  # type: ignore[attr-defined]
        self.clicked.emit(ev)

    def wheelEvent(self, ev: object, axis: int | None = None) -> None:
        """Never zoom on the wheel (the slice view scrolls slices)."""
        ev.ignore()  # type: ignore[attr-defined]
