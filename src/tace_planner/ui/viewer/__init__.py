"""Image viewer: slice views of ImageVolume grids in millimetres, linked by patient position.

``slice_view.SliceView`` shows one plane; ``viewer_grid.ViewerWorkspace`` lays views out
(1×1, 1×2, 2×2, MPR), loads series (``volume_loader``), links them (``linked_views``) and
stores measurements (``annotations_glue``); ``overlays.MaskOverlay`` draws segmentation
masks; ``tools`` draws measurements; ``toolbar`` and ``window_presets`` are the controls.
"""

from tace_planner.ui.viewer.slice_view import SliceView

__all__ = ["SliceView"]
