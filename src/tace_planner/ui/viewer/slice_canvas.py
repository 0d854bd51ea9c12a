"""The drawing surface of a slice view: image, masks, measurements, reference lines, text.

:class:`SliceCanvas` owns the pyqtgraph widgets: a view box in screen
millimetres (``invertY=True``, ``lockAspect=True``), the plane's
``ImageItem(axisOrder="row-major")`` whose transform comes from the affine, and
the layers drawn over it. It draws what it is told (a plane index, a window,
a visible range) and knows nothing of states, signals or volumes' meaning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QWidget

from tace_planner.imaging.reformat import PlaneGeometry
from tace_planner.ui.viewer.corner_text import EMPTY_HINT, CornerText
from tace_planner.ui.viewer.interaction import SliceViewBox
from tace_planner.ui.viewer.overlays import MaskOverlay
from tace_planner.ui.viewer.references import ReferenceLines
from tace_planner.ui.viewer.tools import MeasurementLayer

_INVERTED_LUT = np.arange(255, -1, -1, dtype=np.uint8)


def pixel_transform(matrix: npt.NDArray[np.float64]) -> QTransform:
    """QTransform of an ImageItem from a 2 × 3 (column, row, 1) → (u, v) matrix.

    ImageItem pixel (c, r) covers [c, c + 1] × [r, r + 1]; its centre c + 0.5
    must land on the voxel centre, hence the half-pixel shift.
    """
    (a, b, u0), (c, d, v0) = matrix
    return QTransform(a, c, b, d, u0 - 0.5 * (a + b), v0 - 0.5 * (c + d))


class SliceCanvas:
    """Widgets and layers of one slice view (see the module docstring)."""

    def __init__(self, parent: QWidget) -> None:
        self.graphics = pg.GraphicsLayoutWidget(parent)
        self.graphics.setBackground("k")
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view_box = SliceViewBox()
        self.graphics.addItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.overlays = MaskOverlay(self.view_box)
        self.measurements = MeasurementLayer(self.view_box)
        self.references = ReferenceLines(self.view_box)
        self.corner_text = CornerText(self.graphics)
        self.graphics.viewport().setAcceptDrops(True)
        self.graphics.setAcceptDrops(True)

    def set_geometry(self, geometry: PlaneGeometry | None) -> None:
        """The plane orientation of a new volume (masks of another grid are dropped)."""
        self.overlays.set_geometry(geometry)
        self.measurements.set_geometry(geometry)
        if geometry is not None:
            self.corner_text.set_edges(geometry.edge_letters)
        self.corner_text.set_hint("" if geometry is not None else EMPTY_HINT)

    def draw_plane(
        self,
        geometry: PlaneGeometry,
        voxels: npt.NDArray[np.floating],
        index: int,
        levels: tuple[float, float],
        invert: bool,
    ) -> None:
        """Show plane ``index`` with its masks and measurements."""
        transform = pixel_transform(geometry.screen_transform(index))
        self.image_item.setLookupTable(_INVERTED_LUT if invert else None, update=False)
        self.image_item.setImage(geometry.extract(voxels, index), levels=levels, autoLevels=False)
        self.image_item.setTransform(transform)
        self.overlays.show_plane(index, transform)
        self.measurements.show_plane(
            geometry.position_mm(index), abs(geometry.step_position_mm) / 2
        )

    def set_levels(self, levels: tuple[float, float], invert: bool) -> None:
        """Change the window of the plane shown (no new image)."""
        self.image_item.setLookupTable(_INVERTED_LUT if invert else None, update=False)
        self.image_item.setLevels(levels)

    def show_range(self, geometry: PlaneGeometry, zoom: float, centre_lps: object) -> None:
        """Show the volume at ``zoom`` (1 = fits) around ``centre_lps``."""
        u0, v0, u1, v1 = geometry.screen_bounds()
        zoom = max(zoom, 1e-3)
        u, v, _ = geometry.lps_to_screen(centre_lps)  # type: ignore[arg-type]
        width, height = (u1 - u0) / zoom, (v1 - v0) / zoom
        self.view_box.setRange(
            QRectF(u - width / 2, v - height / 2, width, height), padding=0.0, update=True
        )

    def clear(self) -> None:
        """Show nothing."""
        self.image_item.clear()
        self.set_geometry(None)
        self.overlays.clear_masks()
        self.measurements.set_annotations([])
        self.references.clear()
        for name in ("top_left", "top_right", "bottom_left", "bottom_right"):
            self.corner_text.set_corner(name, "")
        self.corner_text.set_edges({})
        self.corner_text.set_badge("")

    def save_png(self, path: str | Path, overlays: bool = True) -> Path:
        """Save the picture; without masks, measurements, lines and text if asked.

        Raises
        ------
        OSError
            If the file cannot be written.
        """
        target = Path(path)
        if not overlays:
            self._set_overlays_visible(False)
        try:
            pixmap = self.graphics.grab()
        finally:
            if not overlays:
                self._set_overlays_visible(True)
        if not pixmap.save(str(target), "PNG"):
            raise OSError(f"cannot write {target}")
        return target

    def _set_overlays_visible(self, visible: bool) -> None:
        self.overlays.set_visible(visible)
        self.measurements.set_visible(visible)
        self.references.set_visible(visible)
        self.corner_text.set_visible(visible)
