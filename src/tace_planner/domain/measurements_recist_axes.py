"""RECIST axes in the patient's axial plane for a series of any orientation (axial reformat)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.geometry import index_to_lps
from tace_planner.domain.measurements_base import (
    BoolArray,
    Trust,
    check_trust,
    crop_to_mask,
    grid_affine,
    mask_array,
)
from tace_planner.domain.measurements_diameters import measure_axial_diameters
from tace_planner.domain.measurements_results import AxialDiameters

_MAX_REFORMAT_EDGE = 160
"""The axial reformat has at most about this many voxels along each edge (memory bound)."""

AXIAL_TOLERANCE_DEG = 30.0
"""A series whose slice normal is within this angle of the patient's S axis is measured on
its own slices (axial, or an axial with gantry tilt); others are reformatted to axial."""


def acquisition_plane(grid: Any) -> str:
    """ "axial", "coronal" or "sagittal": the patient plane closest to the grid's slices."""
    affine = grid_affine(grid)
    normal = np.cross(affine[:3, 1], affine[:3, 2])
    normal = normal / np.linalg.norm(normal)
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(normal)))]


def _is_axial(affine: npt.NDArray[np.float64]) -> bool:
    normal = np.cross(affine[:3, 1], affine[:3, 2])
    cosine = abs(float(normal[2])) / float(np.linalg.norm(normal))
    return cosine >= np.cos(np.radians(AXIAL_TOLERANCE_DEG))


def axial_reformat(
    mask: npt.ArrayLike, grid: Any, *, spacing_mm: float | None = None
) -> tuple[BoolArray, npt.NDArray[np.float64]]:
    """The mask resampled onto axial patient planes, and that grid's index→LPS affine.

    The new grid's axes are (z, y, x) = (S, P, L) of the patient (LPS), its
    voxels cubes of ``spacing_mm`` (default: the finest spacing of the source,
    at least 0.5 mm), covering the mask's bounding box. The mask is sampled by
    linear interpolation of its indicator, kept where ≥ ½ (the outline where
    the partial-volume mask would be half full).
    """
    from scipy import ndimage

    array, origin = crop_to_mask(mask_array(mask))
    affine = grid_affine(grid)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    step = float(spacing_mm) if spacing_mm else max(float(spacing.min()), 0.5)
    padded = np.pad(array, 1).astype(np.float32)
    start = origin - 1.0
    corners = np.array(
        [[z, y, x] for z in (0, padded.shape[0] - 1) for y in (0, padded.shape[1] - 1)
         for x in (0, padded.shape[2] - 1)], dtype=float,
    ) + start  # fmt: skip
    lps = index_to_lps(affine, corners)
    low, high = lps.min(axis=0), lps.max(axis=0)
    step = max(step, float(np.prod(high - low)) ** (1 / 3) / _MAX_REFORMAT_EDGE)
    counts = np.ceil((high - low) / step).astype(int) + 1  # (x, y, z) in LPS
    new_affine = np.eye(4)
    new_affine[:3, 0] = (0.0, 0.0, step)  # z index -> S
    new_affine[:3, 1] = (0.0, step, 0.0)  # y index -> P
    new_affine[:3, 2] = (step, 0.0, 0.0)  # x index -> L
    new_affine[:3, 3] = low
    shape = (int(counts[2]), int(counts[1]), int(counts[0]))
    kk, jj, ii = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    target = np.stack([kk.ravel(), jj.ravel(), ii.ravel()], axis=1)
    source = np.linalg.solve(affine, (new_affine @ np.c_[target, np.ones(len(target))].T)).T
    source = source[:, :3] - start
    values = ndimage.map_coordinates(padded, source.T, order=1, mode="constant", cval=0.0)
    return values.reshape(shape) >= 0.5, new_affine


def measure_recist_axes(mask: npt.ArrayLike, grid: Any, *, trust: Trust = "ok") -> AxialDiameters:
    """RECIST long and short axes in the patient's axial plane, whatever the acquisition plane.

    An axial series (slice normal within :data:`AXIAL_TOLERANCE_DEG` of S) is
    measured on its own slices (:func:`measure_axial_diameters`). A coronal,
    sagittal or steeply oblique series is reformatted to axial planes first
    (:func:`axial_reformat`): the long axis is then never a coronal or sagittal
    length. The end points are in LPS mm; ``slice_index`` and the ``*_index``
    points of a reformatted result refer to the reformatted grid.

    Raises
    ------
    EmptyMaskError, UnmeasurableGeometryError
    """
    affine = grid_affine(grid)
    if _is_axial(affine):
        return measure_axial_diameters(mask, affine, trust=trust)
    check_trust(trust, geometric=True)
    plane = acquisition_plane(affine)
    reformatted, new_affine = axial_reformat(mask, affine)
    if not reformatted.any():
        raise InvalidInputError(
            "contour",
            f"is too thin to measure on axial planes reformatted from this {plane} series",
        )
    result = measure_axial_diameters(reformatted, new_affine, trust=trust)
    step = float(new_affine[2, 0])
    explanation = Explanation(
        summary=f"RECIST axes measured on axial planes reformatted from a {plane} series",
        formula=result.explanation.formula
        + "; mask resampled to axial planes (linear interpolation, kept where ≥ ½)",
        inputs={**result.explanation.inputs, "acquired plane": plane,
                "reformatted voxel": f"{step:.2f} mm"},
        result=result.explanation.result,
        source=result.explanation.source,
    )  # fmt: skip
    return AxialDiameters(
        long_axis_mm=result.long_axis_mm,
        slice_index=result.slice_index,
        long_axis_lps=result.long_axis_lps,
        long_axis_index=result.long_axis_index,
        short_axis_mm=result.short_axis_mm,
        short_axis_lps=result.short_axis_lps,
        short_axis_index=result.short_axis_index,
        method=result.method + ", on the mask reformatted to axial planes",
        trust=result.trust,
        explanation=explanation,
        plane="reformatted axial",
        axis_check=result.axis_check,
    )
