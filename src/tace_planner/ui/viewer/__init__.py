"""Image viewers: slice views of ImageVolume grids in millimetres."""

from tace_planner.ui.viewer.slice_view import SliceView

__all__ = ["SliceView"]
