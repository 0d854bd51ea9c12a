"""One (z) slice of an ImageVolume, windowed, with square millimetres on screen."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from tace_planner.domain.volume import ImageVolume

#: Abdominal soft-tissue window (width, level) in HU, the default for CT.
ABDOMEN_WINDOW_HU = (400.0, 40.0)

#: One notch of a standard mouse wheel, in Qt's eighths of a degree.
_WHEEL_NOTCH = 120


class SliceView(QWidget):
    """Shows one (z) slice of an ImageVolume and scrolls through slices.

    The slice is drawn row-major (row 0 at the top, column 0 at the left, as
    in DICOM) on a view box whose scene units are millimetres: the centre of
    voxel (row r, column c) lies at (c × dx, r × dy), so non-square pixels keep
    their true shape. Display windowing happens here only; the volume keeps HU.
    It binds to no state object yet: callers drive it with :meth:`set_volume`
    and :meth:`show_slice` and listen to ``slice_changed``; it calls no service.
    The mouse wheel steps through slices (wheel towards the user = next slice).
    """

    slice_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._volume: ImageVolume | None = None
        self._window_hu = ABDOMEN_WINDOW_HU
        self._index = 0
        self._wheel_remainder = 0

        self._graphics = pg.GraphicsLayoutWidget(self)
        self._view_box = self._graphics.addViewBox(invertY=True, lockAspect=True)
        self._image_item = pg.ImageItem(axisOrder="row-major")
        self._view_box.addItem(self._image_item)
        # The filter sits on the viewport, which receives the wheel before the
        # view box would turn it into a zoom.
        self._graphics.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)

    @property
    def volume(self) -> ImageVolume | None:
        """The volume shown, or None before :meth:`set_volume`."""
        return self._volume

    @property
    def image_item(self) -> pg.ImageItem:
        """The pyqtgraph item that draws the slice (for overlays and tests)."""
        return self._image_item

    @property
    def view_box(self) -> pg.ViewBox:
        """The view box; its coordinates are millimetres (x right, y down)."""
        return self._view_box

    @property
    def slice_index(self) -> int:
        """Index (z) of the slice shown; 0 when no volume is set."""
        return self._index

    @property
    def slice_count(self) -> int:
        """Number of slices (z) in the volume; 0 when no volume is set."""
        return 0 if self._volume is None else self._volume.shape[0]

    @property
    def window_hu(self) -> tuple[float, float]:
        """Display window (width, level) in HU."""
        return self._window_hu

    def set_volume(self, volume: ImageVolume, window: tuple[float, float] | None = None) -> None:
        """Show ``volume`` from its first slice, fit it into the view, emit ``slice_changed``.

        Parameters
        ----------
        volume : ImageVolume
            Voxels (z, y, x); y is the row (spacing dy), x the column (dx).
        window : tuple of float, optional
            (width, level) in HU; the abdominal window 400/40 when omitted.

        Raises
        ------
        ValueError
            If the window width is not positive.
        """
        self._window_hu = self._checked_window(window or ABDOMEN_WINDOW_HU)
        self._volume = volume
        self._index = 0
        self._draw()
        self._view_box.autoRange(padding=0)
        self.slice_changed.emit(0)

    def set_window(self, width_hu: float, level_hu: float) -> None:
        """Change the display window and redraw the current slice."""
        self._window_hu = self._checked_window((width_hu, level_hu))
        self._draw()

    def show_slice(self, index: int) -> None:
        """Show slice ``index``, clamped to the volume; emits ``slice_changed`` on a change."""
        if self._volume is None:
            return
        clamped = min(max(int(index), 0), self.slice_count - 1)
        changed = clamped != self._index
        self._index = clamped
        self._draw()
        if changed:
            self.slice_changed.emit(clamped)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Turn wheel turns over the image into slice steps."""
        if event.type() == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            self._on_wheel_turned(event.angleDelta().y())
            event.accept()
            return True
        return super().eventFilter(watched, event)

    def _on_wheel_turned(self, angle_delta: int) -> None:
        # High-resolution wheels and touchpads send fractions of a notch: sum them.
        self._wheel_remainder += angle_delta
        notches = int(self._wheel_remainder / _WHEEL_NOTCH)
        self._wheel_remainder -= notches * _WHEEL_NOTCH
        if notches:
            self.show_slice(self._index - notches)

    def _draw(self) -> None:
        if self._volume is None:
            return
        _, rows, columns = self._volume.shape
        _, dy_mm, dx_mm = self._volume.spacing_mm
        width_hu, level_hu = self._window_hu
        self._image_item.setImage(
            self._volume.voxels[self._index],
            levels=(level_hu - width_hu / 2, level_hu + width_hu / 2),
            autoLevels=False,
            # Pixel centres on multiples of the spacing, so index = round(mm / spacing).
            rect=QRectF(-dx_mm / 2, -dy_mm / 2, columns * dx_mm, rows * dy_mm),
        )

    @staticmethod
    def _checked_window(window: tuple[float, float]) -> tuple[float, float]:
        width_hu, level_hu = (float(value) for value in window)
        if width_hu <= 0:
            raise ValueError(f"window width must be positive, got {width_hu} HU")
        return width_hu, level_hu
