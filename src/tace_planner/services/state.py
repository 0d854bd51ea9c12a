"""Observable session state of the image viewer (psygnal), and the linking of views by position.

A :class:`SliceViewState` is what one view shows: plane, slice position in
LPS millimetres along the plane normal, window, zoom, pan centre, inversion
and whether it is linked. Views write user actions into it and redraw when it
emits; nothing here knows about Qt, so linking can be tested without a display.

:class:`ViewLinker` keeps linked views on the same patient position, not the
same slice index: volumes of one frame of reference (arterial and venous
phases of one study) share a 3D cursor, so a view with other slice positions
or spacing shows the slice nearest to the same point; views of different
frames of reference (baseline and follow-up) move by the same distance from
where they were when linked. Zoom is shared; panning moves every linked view
by the same vector. State objects are changed on the GUI thread only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from psygnal import Signal, evented

Vec3 = tuple[float, float, float]

DEFAULT_WINDOW_HU = (400.0, 40.0)
"""Abdominal soft-tissue window (width, level): the OHIF viewer default (practice;
presets vary by vendor)."""


def _vec3(value: npt.ArrayLike) -> Vec3:
    x, y, z = (float(v) for v in np.asarray(value, dtype=float).reshape(3))
    return x, y, z


@evented
@dataclass(eq=False)  # identity: two views showing the same are still two views
class SliceViewState:
    """What one slice view shows (every position in LPS millimetres).

    Attributes
    ----------
    orientation : str
        "axial", "coronal" or "sagittal".
    slice_position_mm : float
        Where the shown plane lies along ``plane_normal_lps``. A linked view
        may hold a position between its slices (or outside its volume); it
        shows the nearest slice.
    plane_normal_lps : tuple of 3 float
        Unit normal of the shown planes (set by the view from the affine).
    window_width_hu, window_level_hu : float
        Display window; the level is the centre of the displayed range.
    invert : bool
        Show the grey scale inverted.
    zoom : float
        Magnification relative to the whole volume fitting the view (1.0).
    pan_center_lps : tuple of 3 float
        The point shown at the centre of the view (its in-plane part counts).
    linked : bool
        Takes part in linked scrolling, zooming and panning.
    frame_of_reference_uid : str
        (0020,0052) of the volume shown; "" when empty or unknown.
    series_key : tuple of (str, str) or None
        (series UID, part) of the volume shown.
    """

    orientation: str = "axial"
    slice_position_mm: float = 0.0
    plane_normal_lps: Vec3 = (0.0, 0.0, 1.0)
    window_width_hu: float = DEFAULT_WINDOW_HU[0]
    window_level_hu: float = DEFAULT_WINDOW_HU[1]
    invert: bool = False
    zoom: float = 1.0
    pan_center_lps: Vec3 = (0.0, 0.0, 0.0)
    linked: bool = True
    frame_of_reference_uid: str = ""
    series_key: tuple[str, str] | None = None

    @property
    def window_hu(self) -> tuple[float, float]:
        """(width, level) in HU."""
        return self.window_width_hu, self.window_level_hu

    def set_window(self, width_hu: float, level_hu: float) -> None:
        """Change the window.

        Raises
        ------
        ValueError
            If the width is not positive.
        """
        width = float(width_hu)
        if not width > 0:
            raise ValueError(f"window width must be positive, got {width} HU")
        self.window_width_hu = width
        self.window_level_hu = float(level_hu)

    def point_on_plane(self) -> npt.NDArray[np.float64]:
        """The pan centre moved onto the shown plane, LPS mm."""
        normal = np.asarray(self.plane_normal_lps, dtype=float)
        centre = np.asarray(self.pan_center_lps, dtype=float)
        return centre + (self.slice_position_mm - float(centre @ normal)) * normal


class ViewLinker:
    """Synchronises linked :class:`SliceViewState` objects by patient position.

    Add states with :meth:`add` once their volume is set (:meth:`adopt` moves a
    newly filled view to the group's position first). Scrolling a linked
    view moves the cursor of its frame of reference along its normal; every
    other linked view then goes to the plane through its own frame's cursor.
    ``cursor_moved`` emits (frame key, cursor) whenever a cursor changes.
    """

    cursor_moved = Signal(str, object)

    def __init__(self) -> None:
        self._states: list[SliceViewState] = []
        self._callbacks: dict[int, tuple[Any, Any, Any]] = {}
        self._cursors: dict[str, npt.NDArray[np.float64]] = {}
        self._busy = False
        self.enabled = True

    @property
    def states(self) -> tuple[SliceViewState, ...]:
        """The states taking part (linked or not)."""
        return tuple(self._states)

    @staticmethod
    def frame_key(state: SliceViewState) -> str:
        """The key of the cursor a state follows (its frame of reference, or itself)."""
        return state.frame_of_reference_uid or f"unknown-frame-{id(state)}"

    def cursor_lps(self, state: SliceViewState) -> npt.NDArray[np.float64] | None:
        """The cursor of ``state``'s frame of reference, or None."""
        cursor = self._cursors.get(self.frame_key(state))
        return None if cursor is None else cursor.copy()

    def add(self, state: SliceViewState) -> None:
        """Start following ``state`` (idempotent)."""
        if state in self._states:
            return
        self._states.append(state)
        callbacks = (
            partial(self._on_slice_position_changed, state),
            partial(self._on_zoom_changed, state),
            partial(self._on_pan_center_changed, state),
        )
        self._callbacks[id(state)] = callbacks
        state.events.slice_position_mm.connect(callbacks[0])
        state.events.zoom.connect(callbacks[1])
        state.events.pan_center_lps.connect(callbacks[2])

    def remove(self, state: SliceViewState) -> None:
        """Stop following ``state``."""
        if state not in self._states:
            return
        self._states.remove(state)
        on_position, on_zoom, on_pan = self._callbacks.pop(id(state))
        state.events.slice_position_mm.disconnect(on_position)
        state.events.zoom.disconnect(on_zoom)
        state.events.pan_center_lps.disconnect(on_pan)
        key = self.frame_key(state)
        if not any(self.frame_key(s) == key for s in self._states):
            self._cursors.pop(key, None)

    def adopt(self, state: SliceViewState) -> None:
        """Bring a view that just received a volume to the group's position, zoom and pan.

        Its frame's cursor (if another view of that frame is linked) sets its
        slice; otherwise its own position starts a cursor for its frame. Zoom
        comes from any linked view, the pan centre from a linked view of the
        same orientation and frame.
        """
        self.add(state)
        key = self.frame_key(state)
        peers = [s for s in self._states if s is not state and s.linked]
        with self._propagating():
            if not (self.enabled and state.linked):
                self._cursors.setdefault(key, state.point_on_plane())
                return
            cursor = self._cursors.get(key)
            if cursor is None or not any(self.frame_key(p) == key for p in peers):
                self._cursors[key] = state.point_on_plane()
            else:
                normal = np.asarray(state.plane_normal_lps)
                state.slice_position_mm = float(cursor @ normal)
            if peers:
                state.zoom = peers[0].zoom
            same = [
                p for p in peers if p.orientation == state.orientation and self.frame_key(p) == key
            ]
            if same:
                state.pan_center_lps = same[0].pan_center_lps
        self.cursor_moved.emit(key, self._cursors[key].copy())

    def set_cursor(self, state: SliceViewState, point_lps: npt.ArrayLike) -> None:
        """Put the cursor of ``state``'s frame at ``point_lps``; its linked views follow.

        Other frames' cursors move by the same vector. ``state`` itself moves
        to the plane through the point; when it is not linked (or linking is
        off) it moves alone.
        """
        point = np.asarray(point_lps, dtype=float)
        if not (self.enabled and state.linked):
            with self._propagating():
                state.slice_position_mm = float(point @ np.asarray(state.plane_normal_lps))
            return
        key = self.frame_key(state)
        old = self._cursors.get(key, state.point_on_plane())
        self._move_cursors(key, point, point - old)
        with self._propagating():
            state.slice_position_mm = float(point @ np.asarray(state.plane_normal_lps))
            self._follow(exclude=state)

    # ------------------------------------------------------------ handlers
    @contextmanager
    def _propagating(self) -> Iterator[None]:
        busy, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = busy

    def _is_leading(self, source: SliceViewState) -> bool:
        """True when a change of ``source`` must move the other views."""
        return not self._busy and self.enabled and source.linked and source in self._states

    def _move_cursors(
        self, key: str, cursor: npt.NDArray[np.float64], moved: npt.NDArray[np.float64]
    ) -> None:
        for other, point in list(self._cursors.items()):
            if other != key:
                self._cursors[other] = point + moved
        self._cursors[key] = cursor
        for other, point in self._cursors.items():
            self.cursor_moved.emit(other, point.copy())

    def _follow(self, exclude: SliceViewState) -> None:
        for state in self._states:
            if state is exclude or not state.linked:
                continue
            cursor = self._cursors.get(self.frame_key(state))
            if cursor is not None:
                state.slice_position_mm = float(cursor @ np.asarray(state.plane_normal_lps))

    def _on_slice_position_changed(self, source: SliceViewState, new: float, old: float) -> None:
        if not self._is_leading(source):
            return
        key = self.frame_key(source)
        normal = np.asarray(source.plane_normal_lps, dtype=float)
        cursor = self._cursors.get(key, source.point_on_plane())
        moved = (float(new) - float(old)) * normal
        cursor = cursor + (float(new) - float(cursor @ normal)) * normal
        self._move_cursors(key, cursor, moved)
        with self._propagating():
            self._follow(exclude=source)

    def _on_zoom_changed(self, source: SliceViewState, new: float, old: float) -> None:
        if not self._is_leading(source):
            return
        with self._propagating():
            for state in self._states:
                if state is not source and state.linked:
                    state.zoom = float(new)

    def _on_pan_center_changed(self, source: SliceViewState, new: Vec3, old: Vec3) -> None:
        if not self._is_leading(source):
            return
        moved = np.asarray(new, dtype=float) - np.asarray(old, dtype=float)
        with self._propagating():
            for state in self._states:
                if state is not source and state.linked:
                    state.pan_center_lps = _vec3(np.asarray(state.pan_center_lps) + moved)
