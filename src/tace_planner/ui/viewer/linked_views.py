"""Linking of a workspace's views by patient position, reference lines and the linked cursor.

:class:`LinkedViews` wraps the Qt-free :class:`~tace_planner.services.state.ViewLinker`
(which moves the states) and draws, in every view, where the other views'
planes cut it and a mark at the point under the mouse in another view — for
views of one frame of reference, when reference lines are switched on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Slot

from tace_planner.services.state import ViewLinker
from tace_planner.ui.viewer.references import ORIENTATION_COLOURS, ReferencePlane
from tace_planner.ui.viewer.slice_view import SliceView

if TYPE_CHECKING:
    from tace_planner.ui.viewer.viewer_grid import ViewerWorkspace


class LinkedViews(QObject):
    """The linking side of a :class:`ViewerWorkspace` (see the module docstring)."""

    def __init__(self, workspace: ViewerWorkspace) -> None:
        super().__init__(workspace)
        self._workspace = workspace
        self.linker = ViewLinker()
        self._crosshair = False
        for view in workspace.all_views:
            view.slice_changed.connect(self._on_view_slice_changed)
            view.hovered.connect(self._on_view_hovered)
            view.cursor_requested.connect(self._on_view_cursor_requested)

    # ------------------------------------------------------------ linking
    def set_linking(self, enabled: bool) -> None:
        """Switch linked scrolling, zoom and pan on or off for all views."""
        self.linker.enabled = enabled

    def set_view_linked(self, view: SliceView, linked: bool) -> None:
        """Take one view in or out of the linked group (back in: at the group's position)."""
        view.state.linked = linked
        if linked and view.volume is not None:
            self.linker.adopt(view.state)

    def join(self, view: SliceView) -> None:
        """A view just received a volume: bring it to the group's position, then follow it."""
        self.linker.adopt(view.state)
        self.update_references()

    def leave(self, view: SliceView) -> None:
        """A view is about to receive another volume: stop following it meanwhile."""
        self.linker.remove(view.state)

    # ------------------------------------------------------------ reference lines
    @property
    def crosshair(self) -> bool:
        """True when reference lines and the linked cursor are shown."""
        return self._crosshair

    def set_crosshair(self, visible: bool) -> None:
        """Show where the other views' planes cut each view, and the mouse's twin point."""
        self._crosshair = visible
        self.update_references()

    def peers(self, view: SliceView) -> list[SliceView]:
        """Other shown views of the same frame of reference."""
        frame = view.state.frame_of_reference_uid
        if not frame:
            return []
        return [
            other
            for other in self._workspace.views
            if other is not view
            and other.volume is not None
            and other.isVisible()
            and other.state.frame_of_reference_uid == frame
        ]

    def update_references(self) -> None:
        """Redraw every view's reference lines."""
        for view in self._workspace.all_views:
            if not self._crosshair or view.geometry is None:
                view.references.clear()
                continue
            planes = [
                ReferencePlane(
                    other.state.plane_normal_lps,
                    other.slice_position_mm(),
                    ORIENTATION_COLOURS.get(other.state.orientation, "#ffffff"),
                )
                for other in self.peers(view)
            ]
            view.references.set_planes(view.geometry, view.slice_position_mm(), planes)

    # ------------------------------------------------------------ view signals
    @Slot(int)
    def _on_view_slice_changed(self, _index: int) -> None:
        if self._crosshair:
            self.update_references()

    @Slot(object)
    def _on_view_hovered(self, info: object) -> None:
        view = self.sender()
        if not self._crosshair or not isinstance(view, SliceView):
            return
        point = getattr(info, "point_lps", None)
        for other in self.peers(view):
            other.references.set_cursor(other.geometry, point)

    @Slot(object)
    def _on_view_cursor_requested(self, point_lps: object) -> None:
        view = self.sender()
        if isinstance(view, SliceView):
            self.linker.set_cursor(view.state, np.asarray(point_lps, dtype=float))
            self.update_references()

    def release(self) -> None:
        """Stop following every view."""
        for view in self._workspace.all_views:
            self.linker.remove(view.state)
