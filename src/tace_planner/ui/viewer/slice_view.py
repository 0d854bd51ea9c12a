"""One plane of an ImageVolume (axial, coronal or sagittal), windowed, in patient millimetres.

The view binds to a Qt-free :class:`~tace_planner.services.state.SliceViewState`:
mouse, wheel and keys write into it, and the view redraws when it emits, so
linked views (``ViewLinker``) and tests drive the same state. Geometry comes
from :mod:`tace_planner.imaging.reformat`: the plane is an array view of the
voxels (no copy, no interpolation), drawn by an ``ImageItem(axisOrder="row-major")``
whose transform maps pixels to screen millimetres from the affine, in a view
box with ``invertY=True`` and ``lockAspect=True``; anisotropic pixels, thick
slices of a reformat and sheared grids keep their true shape.

Mouse: wheel = slice; left drag = window/level or the active tool; right drag
(or Ctrl + left) = zoom; middle drag (or Shift + left) = pan; double click =
maximise. Keys: arrows and PgUp/PgDn = slices, Home/End = first/last, 1–9 =
presets, 0 = automatic window, I = invert, R = reset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.reformat import (
    PlaneGeometry,
    acquisition_orientation,
    percentile_window,
    plane_geometry,
)
from tace_planner.services.state import DEFAULT_WINDOW_HU, SliceViewState
from tace_planner.ui.viewer.corner_text import hover_text, position_text, title_text, window_text
from tace_planner.ui.viewer.gestures import SliceGestures
from tace_planner.ui.viewer.interaction import HoverInfo
from tace_planner.ui.viewer.slice_canvas import SliceCanvas
from tace_planner.ui.viewer.tools import TOOLS
from tace_planner.ui.viewer.trust import trust_badge
from tace_planner.ui.viewer.window_presets import WindowPresetStore

#: Abdominal soft-tissue window (width, level) in HU, the default for CT.
ABDOMEN_WINDOW_HU = DEFAULT_WINDOW_HU

_ACTIVE_STYLE = "SliceView { border: 2px solid #3d8bfd; background: black; }"
_IDLE_STYLE = "SliceView { border: 2px solid #202020; background: black; }"


class SliceView(QFrame):
    """Shows one plane of an ImageVolume and lets the user read it (see the module docstring).

    It binds to ``state`` (created when not given) and calls no service: the
    workspace gives it volumes with :meth:`set_volume` and listens to its
    signals. Overlays for other workspaces: ``overlays`` (masks),
    ``measurements`` (rulers, ellipses, angles), ``pointer_event`` (clicks
    and drags in LPS with the "custom" tool).
    """

    slice_changed = Signal(int)
    activated = Signal()
    maximise_requested = Signal()
    series_dropped = Signal(str, str)  # series UID, part
    hovered = Signal(object)  # HoverInfo, or None when the mouse leaves the image
    pointer_event = Signal(object)  # PointerEvent (tool "custom")
    measurement_drawn = Signal(str, object)  # kind, list of LPS points (numpy arrays)
    cursor_requested = Signal(object)  # LPS point (tool "crosshair")
    view_changed = Signal()  # window, zoom, pan or orientation changed

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        state: SliceViewState | None = None,
        presets: WindowPresetStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("slice_view")
        self.setStyleSheet(_IDLE_STYLE)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._state = state if state is not None else SliceViewState()
        self.presets = presets if presets is not None else WindowPresetStore()
        self._volume: ImageVolume | None = None
        self._geometry: PlaneGeometry | None = None
        self._index = 0
        self._default_window = ABDOMEN_WINDOW_HU
        self._title = ""
        self._modality = ""
        self._trust: tuple[str, tuple[str, ...]] = ("", ())
        self._preset_name = ""
        self._hover: HoverInfo | None = None
        self.tool = "window"

        self._canvas = canvas = SliceCanvas(self)
        self.overlays = canvas.overlays
        self.measurements = canvas.measurements
        self.references = canvas.references
        self.corner_text = canvas.corner_text
        self._gestures = SliceGestures(self)
        # The filter sits on the viewport, which receives the wheel before the
        # view box would turn it into a zoom, and on the view for keys.
        canvas.graphics.viewport().installEventFilter(self)
        canvas.graphics.installEventFilter(self)
        canvas.view_box.dragged.connect(self._gestures.on_drag)
        canvas.view_box.clicked.connect(self._gestures.on_click)
        canvas.view_box.sigResized.connect(self._on_view_box_resized)
        canvas.view_box.sigRangeChanged.connect(self._on_view_range_changed)
        canvas.graphics.scene().sigMouseMoved.connect(self._gestures.on_mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(canvas.graphics)
        self._bind_state()

    # ------------------------------------------------------------ properties
    @property
    def state(self) -> SliceViewState:
        """The state this view shows and edits."""
        return self._state

    @property
    def volume(self) -> ImageVolume | None:
        """The volume shown, or None before :meth:`set_volume`."""
        return self._volume

    @property
    def geometry(self) -> PlaneGeometry | None:
        """How the volume's planes map to the screen, or None when empty."""
        return self._geometry

    @property
    def image_item(self) -> pg.ImageItem:
        """The pyqtgraph item that draws the slice (for overlays and tests)."""
        return self._canvas.image_item

    @property
    def view_box(self) -> pg.ViewBox:
        """The view box; its coordinates are screen millimetres (x right, y down)."""
        return self._canvas.view_box

    @property
    def graphics(self) -> pg.GraphicsLayoutWidget:
        """The graphics widget (what a snapshot captures)."""
        return self._canvas.graphics

    @property
    def slice_index(self) -> int:
        """Index of the plane shown; 0 when no volume is set."""
        return self._index

    @property
    def slice_count(self) -> int:
        """Number of planes along the view's orientation; 0 when no volume is set."""
        return 0 if self._geometry is None else self._geometry.slice_count

    @property
    def window_hu(self) -> tuple[float, float]:
        """Display window (width, level) in HU."""
        return self._state.window_hu

    @property
    def series_key(self) -> tuple[str, str] | None:
        """(series UID, part) of the volume shown, when the workspace set it."""
        return self._state.series_key

    @property
    def modality(self) -> str:
        """Modality of the volume shown ("CT", "MR", or "")."""
        return self._modality

    @property
    def geometry_status(self) -> str:
        """The series part's geometry status ("ok", "warning", "unmeasurable" or "")."""
        return self._trust[0]

    @property
    def preset_name(self) -> str:
        """Name of the window preset in use ("auto": the percentile window; "": none)."""
        return self._preset_name

    @property
    def title(self) -> str:
        """Title of the volume shown (series description, part)."""
        return self._title

    def slice_position_mm(self) -> float:
        """Position of the displayed plane along the view normal, LPS mm."""
        return 0.0 if self._geometry is None else self._geometry.position_mm(self._index)

    def slice_centre_lps(self) -> npt.NDArray[np.float64]:
        """The LPS point at the centre of the view, on the displayed plane."""
        if self._geometry is None:
            return np.zeros(3)
        u, v, _ = self._geometry.lps_to_screen(self._state.pan_center_lps)
        return self._geometry.screen_to_lps(u, v, self.slice_position_mm())

    # ------------------------------------------------------------ volume
    def set_volume(
        self,
        volume: ImageVolume,
        window: tuple[float, float] | None = None,
        *,
        orientation: str | None = None,
        series_key: tuple[str, str] | None = None,
        title: str = "",
        modality: str = "",
        geometry_status: str = "",
        geometry_warnings: tuple[str, ...] = (),
        keep_view: bool = False,
    ) -> None:
        """Show ``volume`` from its first plane, fit into the view; emits ``slice_changed``.

        Parameters
        ----------
        volume : ImageVolume
            Voxels (z, y, x) with their affine.
        window : tuple of float, optional
            (width, level) in HU; 400/40 when omitted (MR: the percentile window).
        orientation : str, optional
            "axial", "coronal" or "sagittal"; the acquisition plane when omitted.
        series_key, title, modality : optional
            What the volume is, for overlays, linking and the corner text.
        geometry_status, geometry_warnings : optional
            The series' geometry report ("ok", "warning", "unmeasurable").
        keep_view : bool
            Keep position, window, zoom and pan (a preview replaced by the whole volume).

        Raises
        ------
        ValueError
            If the window width is not positive.
        """
        if window is None and modality == "MR":
            window = percentile_window(volume.voxels)
        checked = self._checked_window(window or ABDOMEN_WINDOW_HU)
        orient = orientation or (
            self._state.orientation if keep_view else acquisition_orientation(volume.index_to_lps)
        )
        self._volume = volume
        self._geometry = plane_geometry(volume.index_to_lps, volume.shape, orient)
        self._title, self._modality = title, modality
        self._trust = (geometry_status, tuple(geometry_warnings))
        self._default_window = checked
        state = self._state
        with state.events.blocked():
            state.orientation = orient
            state.plane_normal_lps = tuple(float(v) for v in self._geometry.normal_lps)  # type: ignore[assignment]
            state.frame_of_reference_uid = volume.frame_of_reference_uid
            state.series_key = series_key
            if not keep_view:
                state.slice_position_mm = self._geometry.position_mm(0)
                state.set_window(*checked)
                self._preset_name = ""
                state.zoom = 1.0
                state.pan_center_lps = self._volume_centre_lps()
        self._index = -1
        self._refresh_all()

    def clear(self) -> None:
        """Show nothing (and name nothing: the title of what was shown goes too)."""
        self._volume = None
        self._geometry = None
        self._title = ""
        self._index = 0
        self._canvas.clear()
        with self._state.events.blocked():
            self._state.series_key = None
            self._state.frame_of_reference_uid = ""

    def set_orientation(self, orientation: str) -> None:
        """Show the volume's planes closest to ``orientation``, through the same centre point."""
        if self._volume is None or orientation == self._state.orientation:
            return
        centre = self.slice_centre_lps()
        self._geometry = plane_geometry(self._volume.index_to_lps, self._volume.shape, orientation)
        with self._state.events.blocked():
            self._state.orientation = orientation
            self._state.plane_normal_lps = tuple(float(v) for v in self._geometry.normal_lps)  # type: ignore[assignment]
            self._state.slice_position_mm = float(centre @ self._geometry.normal_lps)
        self._index = -1
        self._refresh_all()

    def _volume_centre_lps(self) -> tuple[float, float, float]:
        assert self._volume is not None
        centre = (np.asarray(self._volume.shape, dtype=float) - 1) / 2
        x, y, z = self._volume.index_to_lps[:3, :3] @ centre + self._volume.index_to_lps[:3, 3]
        return float(x), float(y), float(z)

    # ------------------------------------------------------------ navigation
    def show_slice(self, index: int) -> None:
        """Show plane ``index``, clamped to the volume; emits ``slice_changed`` on a change."""
        if self._geometry is None:
            return
        clamped = min(max(int(index), 0), self.slice_count - 1)
        self._state.slice_position_mm = self._geometry.position_mm(clamped)

    def scroll(self, steps: int) -> None:
        """Move ``steps`` planes (positive: next plane)."""
        self.show_slice(self._index + steps)

    def show_position(self, position_mm: float) -> None:
        """Show the plane nearest to ``position_mm`` along the view normal."""
        self._state.slice_position_mm = float(position_mm)

    def centre_on(self, point_lps: npt.ArrayLike) -> None:
        """Show the plane through ``point_lps`` with the point at the centre of the view."""
        if self._geometry is None:
            return
        point = np.asarray(point_lps, dtype=float)
        self._state.pan_center_lps = (float(point[0]), float(point[1]), float(point[2]))
        self._state.slice_position_mm = float(point @ self._geometry.normal_lps)

    def set_window(self, width_hu: float, level_hu: float, preset_name: str = "") -> None:
        """Change the display window (width, level) in HU."""
        width, level = self._checked_window((width_hu, level_hu))
        self._preset_name = preset_name
        self._state.set_window(width, level)
        self._update_window_text()

    def apply_preset_key(self, number: int) -> bool:
        """Apply preset ``number`` (1–9) or the automatic window (0); False if there is none."""
        if number == 0:
            if self._volume is None:
                return False
            self.set_window(*percentile_window(self._volume.voxels), preset_name="auto")
            return True
        preset = self.presets.preset_for_key(number)
        if preset is None:
            return False
        self.set_window(preset.width_hu, preset.level_hu, preset_name=preset.name)
        return True

    def set_invert(self, invert: bool) -> None:
        """Invert the grey scale."""
        self._state.invert = bool(invert)

    def reset_view(self) -> None:
        """Fit the volume, centre it and restore its first window (the slice stays)."""
        if self._volume is None:
            return
        self._state.zoom = 1.0
        self._state.pan_center_lps = self._volume_centre_lps()
        self.set_window(*self._default_window)
        self._state.invert = False

    def set_tool(self, tool: str) -> None:
        """Choose what the left button does (see :data:`tools.TOOLS`)."""
        if tool not in TOOLS:
            raise ValueError(f"tool must be one of {TOOLS}, got {tool!r}")
        self.measurements.cancel()
        self.tool = tool

    def set_active(self, active: bool) -> None:
        """Show whether this is the workspace's active view."""
        self.setStyleSheet(_ACTIVE_STYLE if active else _IDLE_STYLE)

    # ------------------------------------------------------------ coordinates
    def screen_to_lps(self, u_mm: float, v_mm: float) -> npt.NDArray[np.float64] | None:
        """LPS point at screen (u, v) mm on the displayed plane."""
        if self._geometry is None:
            return None
        return self._geometry.screen_to_lps(u_mm, v_mm, self.slice_position_mm())

    def hover_info(self, u_mm: float, v_mm: float) -> HoverInfo | None:
        """What lies at screen (u, v) mm: LPS point, voxel and value."""
        if self._geometry is None or self._volume is None:
            return None
        point = self._geometry.screen_to_lps(u_mm, v_mm, self.slice_position_mm())
        voxel = self._geometry.voxel_at(u_mm, v_mm, self._index)
        value = None if voxel is None else float(self._volume.voxels[voxel])
        return HoverInfo(point, voxel, value)

    # ------------------------------------------------------------ snapshot
    def save_snapshot(self, path: str | Path, overlays: bool = True) -> Path:
        """Save what the view shows as a PNG; without masks, measurements and text if asked.

        Raises
        ------
        OSError
            If the file cannot be written.
        """
        return self._canvas.save_png(path, overlays)

    # ------------------------------------------------------------ drawing
    def _bind_state(self) -> None:
        events = self._state.events
        self._connections = [
            (events.slice_position_mm, self._on_state_slice_position_changed),
            (events.window_width_hu, self._on_state_window_changed),
            (events.window_level_hu, self._on_state_window_changed),
            (events.invert, self._on_state_window_changed),
            (events.zoom, self._on_state_range_changed),
            (events.pan_center_lps, self._on_state_range_changed),
        ]
        for signal, slot in self._connections:
            signal.connect(slot)

    def release_state(self) -> None:
        """Disconnect from the state (the state may outlive the view)."""
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self._connections = []

    def _on_state_slice_position_changed(self) -> None:
        self._draw_slice()

    def _on_state_window_changed(self) -> None:
        self._draw_slice(levels_only=True)
        self._update_window_text()
        self.view_changed.emit()

    def _on_state_range_changed(self) -> None:
        self._apply_range()
        self._update_window_text()
        self.view_changed.emit()

    def _refresh_all(self) -> None:
        geometry = self._geometry
        if geometry is None:
            return
        self._canvas.set_geometry(geometry)
        self.corner_text.set_badge(*trust_badge(geometry, *self._trust))
        self._apply_range()
        self._draw_slice()
        self._update_window_text()
        self._update_title_text()
        self.view_changed.emit()

    def _levels(self) -> tuple[float, float]:
        width, level = self._state.window_hu
        return level - width / 2, level + width / 2

    def _draw_slice(self, levels_only: bool = False) -> None:
        geometry, volume = self._geometry, self._volume
        if geometry is None or volume is None:
            return
        index = geometry.index_at(self._state.slice_position_mm)
        if levels_only and index == self._index:
            self._canvas.set_levels(self._levels(), self._state.invert)
            return
        self._canvas.draw_plane(geometry, volume.voxels, index, self._levels(), self._state.invert)
        changed = index != self._index
        self._index = index
        self._update_position_text()
        if changed:
            self.slice_changed.emit(index)
            self._refresh_hover()

    def _apply_range(self) -> None:
        if self._geometry is not None:
            self._canvas.show_range(self._geometry, self._state.zoom, self._state.pan_center_lps)

    # ------------------------------------------------------------ corner text
    def _update_title_text(self) -> None:
        if self._geometry is not None:
            text = title_text(self._geometry, self._title, self._modality)
            self.corner_text.set_corner("top_left", text)

    def _update_position_text(self) -> None:
        if self._geometry is not None:
            text = position_text(self._geometry, self._index, self._state.slice_position_mm)
            self.corner_text.set_corner("top_right", text)

    def _update_window_text(self) -> None:
        text = window_text(self._state, self._preset_name, self._modality)
        self.corner_text.set_corner("bottom_left", text)

    def show_hover(self, info: HoverInfo | None) -> None:
        """Write what lies under the mouse in the bottom right corner."""
        self._hover = info
        shape = None if self._volume is None else self._volume.shape
        self.corner_text.set_corner("bottom_right", hover_text(info, self._modality, shape))

    def _refresh_hover(self) -> None:
        # The wheel and the keys change the slice under a still mouse: read it again.
        if self._hover is None or self._geometry is None:
            return
        u, v, _ = self._geometry.lps_to_screen(self._hover.point_lps)
        info = self.hover_info(u, v)
        self.show_hover(info)
        self.hovered.emit(info)

    # ------------------------------------------------------------ events
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Wheel = slices; keys; drops of series; a press makes the view active."""
        if self._gestures.filter_event(watched, event):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Keys reach the view when it has the focus itself."""
        if not self._gestures.on_key(event):
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the corner text in the corners."""
        super().resizeEvent(event)
        self.corner_text.relayout()

    @Slot()
    def _on_view_box_resized(self) -> None:
        self._apply_range()
        self._relayout_labels()

    def _on_view_range_changed(self, *_: object) -> None:
        self._relayout_labels()

    def _relayout_labels(self) -> None:
        """The image's labels, then the text over it, for the view's zoom, pan and size.

        The labels in the image keep their size at any zoom, so a zoom or a pan can
        take one past an edge, or onto an orientation letter; the letters stepped
        aside only when the corner text was laid out again (the mouse moved, the
        slice changed), not after a zoom or pan with the mouse still.
        """
        self.overlays.relayout_labels()
        self.measurements.relayout_labels()
        self.corner_text.relayout()

    @staticmethod
    def _checked_window(window: tuple[float, float]) -> tuple[float, float]:
        width_hu, level_hu = (float(value) for value in window)
        if width_hu <= 0:
            raise ValueError(f"window width must be positive, got {width_hu} HU")
        return width_hu, level_hu

    def closeEvent(self, event: QEvent) -> None:  # type: ignore[override]
        """Disconnect from the state before the widget goes."""
        self.release_state()
        super().closeEvent(event)  # type: ignore[arg-type]
