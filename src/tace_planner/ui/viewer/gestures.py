"""What the mouse and keys do in a slice view: window/level, zoom, pan, tools, slices, presets.

:class:`SliceGestures` receives the view box's drags and clicks, the scene's
mouse moves and the view's key presses, and turns them into changes of the
view's state or into the view's signals. It holds no state of its own beyond
the gesture in progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent

from tace_planner.ui.viewer.interaction import (
    PAGE_SLICES,
    ZOOM_DOUBLING_PX,
    PointerEvent,
    series_from_mime,
)
from tace_planner.ui.viewer.tools import MEASUREMENT_TOOLS

if TYPE_CHECKING:
    from tace_planner.ui.viewer.slice_view import SliceView

#: Window/level change per pixel of drag, as a fraction of the current width.
WINDOW_PER_PX = 0.004
_MIN_WIDTH_HU = 1.0
#: One notch of a standard mouse wheel, in Qt's eighths of a degree.
WHEEL_NOTCH = 120


class SliceGestures:
    """Mouse and keyboard handling of one :class:`SliceView` (see the module docstring)."""

    def __init__(self, view: SliceView) -> None:
        self._view = view
        self._mode = ""  # the drag in progress: "window", "zoom", "pan", "measure", "custom", …
        self._wheel_remainder = 0

    # ------------------------------------------------------------ Qt events
    def filter_event(self, watched: QObject, event: QEvent) -> bool:
        """Events of the graphics view and its viewport; True when used up."""
        view = self._view
        kind = event.type()
        if kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            self._on_wheel_turned(event.angleDelta().y())
            event.accept()
            return True
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self.on_key(event)
        if kind == QEvent.Type.MouseButtonPress:
            view.activated.emit()
        elif kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            dropped = series_from_mime(event.mimeData())  # type: ignore[attr-defined]
            if dropped is None:
                return False
            event.acceptProposedAction()  # type: ignore[attr-defined]
            if kind == QEvent.Type.Drop:
                view.activated.emit()
                view.series_dropped.emit(*dropped)
            return True
        elif kind == QEvent.Type.Leave and watched is view.graphics.viewport():
            view.show_hover(None)
            view.hovered.emit(None)
        return False

    def _on_wheel_turned(self, angle_delta: int) -> None:
        # High-resolution wheels and touchpads send fractions of a notch: sum them.
        self._wheel_remainder += angle_delta
        notches = int(self._wheel_remainder / WHEEL_NOTCH)
        self._wheel_remainder -= notches * WHEEL_NOTCH
        if notches:
            self._view.scroll(-notches)

    # ------------------------------------------------------------ helpers
    def _uv(self, item_pos: QPointF) -> tuple[float, float]:
        point = self._view.view_box.mapToView(item_pos)
        return float(point.x()), float(point.y())

    def _lps(self, u: float, v: float) -> np.ndarray | None:
        return self._view.screen_to_lps(u, v)

    def _request_cursor(self, u: float, v: float) -> None:
        """Move the linked cursor to screen (u, v) mm if a voxel of the image lies there.

        A click on the black margin around the image (often only to make the view
        active) leaves the cursor where it is: moving it parked the linked views
        outside their volumes, and clamping it to the image's edge would put it where
        nobody pointed. A drag that leaves the image stops the cursor at its edge.
        """
        info = self._view.hover_info(u, v)
        if info is not None and info.voxel_zyx is not None:
            self._view.cursor_requested.emit(info.point_lps)

    def _pointer(self, kind: str, u: float, v: float, modifiers: Any) -> None:
        info = self._view.hover_info(u, v)
        if info is None:
            return
        self._view.pointer_event.emit(
            PointerEvent(kind, info.point_lps, info.voxel_zyx, self._view.slice_index, modifiers)
        )

    def _drag_mode(self, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> str:
        if button == Qt.MouseButton.RightButton:
            return "zoom"
        if button == Qt.MouseButton.MiddleButton:
            return "pan"
        if button != Qt.MouseButton.LeftButton:
            return ""
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            return "pan"
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            return "zoom"
        tool = self._view.tool
        if tool in MEASUREMENT_TOOLS:
            return "measure"
        return tool  # "window", "crosshair" or "custom"

    # ------------------------------------------------------------ mouse
    def on_drag(self, ev: Any) -> None:
        """A drag of the view box (pyqtgraph ``MouseDragEvent``)."""
        view = self._view
        if view.volume is None:
            return
        if ev.isStart():
            self._mode = self._drag_mode(ev.button(), ev.modifiers())
            view.activated.emit()
        mode = self._mode
        u, v = self._uv(ev.pos())
        last_u, last_v = self._uv(ev.lastPos())
        dx = float(ev.screenPos().x() - ev.lastScreenPos().x())
        dy = float(ev.screenPos().y() - ev.lastScreenPos().y())
        state = view.state
        if mode == "window":
            width, level = state.window_hu
            step = max(width, 10.0) * WINDOW_PER_PX
            view.set_window(max(_MIN_WIDTH_HU, width + dx * step), level + dy * step)
        elif mode == "zoom":
            state.zoom = float(np.clip(state.zoom * 2.0 ** (-dy / ZOOM_DOUBLING_PX), 0.05, 50.0))
        elif mode == "pan":
            geometry = view.geometry
            assert geometry is not None
            moved = (u - last_u) * geometry.right_lps + (v - last_v) * geometry.down_lps
            centre = np.asarray(state.pan_center_lps) - moved
            state.pan_center_lps = (float(centre[0]), float(centre[1]), float(centre[2]))
        elif mode == "measure":
            self._measure_drag(ev, u, v)
        elif mode == "crosshair":
            self._request_cursor(u, v)
        elif mode == "custom":
            kind = "press" if ev.isStart() else "release" if ev.isFinish() else "move"
            self._pointer(kind, u, v, ev.modifiers())
        if ev.isFinish():
            self._mode = ""

    def _measure_drag(self, ev: Any, u: float, v: float) -> None:
        layer = self._view.measurements
        if ev.isStart():
            if layer.waiting_for_third_point:
                return
            start_u, start_v = self._uv(ev.buttonDownPos())
            layer.begin(self._view.tool, (start_u, start_v))
        layer.update((u, v))
        if ev.isFinish():
            self._emit_measurement(layer.release((u, v)))

    def _emit_measurement(self, points_uv: list[tuple[float, float]] | None) -> None:
        if not points_uv:
            return
        points = [self._lps(u, v) for u, v in points_uv]
        if any(p is None for p in points):
            return
        self._view.measurement_drawn.emit(self._view.tool, points)

    def on_click(self, ev: Any) -> None:
        """A click of the view box (pyqtgraph ``MouseClickEvent``)."""
        view = self._view
        view.activated.emit()
        view.setFocus(Qt.FocusReason.MouseFocusReason)
        if view.volume is None:
            return
        if ev.double():
            view.maximise_requested.emit()
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        u, v = self._uv(ev.pos())
        if view.tool == "angle" and view.measurements.waiting_for_third_point:
            self._emit_measurement(view.measurements.click((u, v)))
        elif view.tool == "crosshair":
            self._request_cursor(u, v)
        elif view.tool == "custom":
            self._pointer("click", u, v, ev.modifiers())

    def on_mouse_moved(self, scene_pos: QPointF) -> None:
        """The mouse moved over the scene: hover read-out and the angle's free arm."""
        view = self._view
        if view.volume is None or not view.view_box.sceneBoundingRect().contains(scene_pos):
            return
        point = view.view_box.mapSceneToView(scene_pos)
        u, v = float(point.x()), float(point.y())
        if view.measurements.waiting_for_third_point:
            view.measurements.update((u, v))
        info = view.hover_info(u, v)
        view.show_hover(info)
        view.hovered.emit(info)

    # ------------------------------------------------------------ keys
    def on_key(self, event: QKeyEvent) -> bool:
        """Handle a key press; True when it was used."""
        view = self._view
        key = event.key()
        steps = {
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_PageUp: -PAGE_SLICES,
            Qt.Key.Key_PageDown: PAGE_SLICES,
        }
        if key in steps:
            view.scroll(steps[key])
        elif key == Qt.Key.Key_Home:
            view.show_slice(0)
        elif key == Qt.Key.Key_End:
            view.show_slice(view.slice_count - 1)
        elif Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
            return view.apply_preset_key(int(key) - int(Qt.Key.Key_0))
        elif key == Qt.Key.Key_R:
            view.reset_view()
        elif key == Qt.Key.Key_I:
            view.set_invert(not view.state.invert)
        elif key == Qt.Key.Key_Escape:
            view.measurements.cancel()
        else:
            return False
        event.accept()
        return True
