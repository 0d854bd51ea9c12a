"""Contouring algorithms: auto contour, liver, flood fill, paint, interpolation, clean-up.

Pure functions and Tasks on numpy masks shaped (z, y, x) on an
:class:`~tace_planner.domain.volume.ImageVolume`'s grid; clicks are LPS
millimetres. No Qt, no database: the contouring service builds undoable
commands on top of these (edits return a :class:`MaskPatch`).
"""

from __future__ import annotations

from tace_planner.imaging.segmentation.focus import (
    AutoContourParameters,
    AutoContourResult,
    auto_contour,
    auto_contour_2d,
    auto_contour_task,
)
from tace_planner.imaging.segmentation.interpolate import interpolate_between_slices
from tace_planner.imaging.segmentation.liver import LiverParameters, LiverResult, segment_liver
from tace_planner.imaging.segmentation.morphology import fill_holes, remove_islands, smooth_mask
from tace_planner.imaging.segmentation.paint import MaskPatch, brush_footprint, paint
from tace_planner.imaging.segmentation.region_growing import (
    flood_fill,
    flood_fill_index,
    flood_fill_task,
)
from tace_planner.imaging.segmentation.resample import carry_mask, resample_mask

__all__ = [
    "AutoContourParameters",
    "AutoContourResult",
    "LiverParameters",
    "LiverResult",
    "MaskPatch",
    "auto_contour",
    "auto_contour_2d",
    "auto_contour_task",
    "brush_footprint",
    "carry_mask",
    "fill_holes",
    "flood_fill",
    "flood_fill_index",
    "flood_fill_task",
    "interpolate_between_slices",
    "paint",
    "remove_islands",
    "resample_mask",
    "segment_liver",
    "smooth_mask",
]
