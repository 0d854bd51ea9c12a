"""Place a contour's edge where the voxels' partial volume puts it.

A contour drawn on coarse voxels (3.125 mm pixels, 5 mm slices) can be right in
shape and still a voxel layer off in size — and one layer is a third of a 15 mm
focus's volume. The voxels along the edge hold the answer: each is a mixture of
focus and surrounding liver in proportion to how much of it lies inside. This module
keeps the contour's shape and moves its surface in or out by one offset (mm, along
the surface normal), the offset whose partial-volume image explains the voxels best:

    value = liver + contrast * clip(1/2 - (d - offset) / w, 0, 1)

with ``d`` the signed distance (mm, positive outside) of a voxel's centre from the
contour's surface, ``w`` one in-plane pixel (the edge spread of the reconstruction),
``liver`` the surrounding liver's level (measured around the focus, given) and
``contrast`` fitted by least squares for each offset; the offset with the least
residual wins (the maximum-likelihood offset under Gaussian noise). The focus's deep
interior is left out of the fit (a necrotic centre is a third tissue), and so are
voxels outside the liver.

Measured on the demo phantom's follow-ups (3.125 mm pixels, 5 mm slices, 11 HU
noise, five noise draws, ``benchmarks/propagate.py``): focus-visits within 15 % of
the analytic volume 75 of 90, against 64 of 90 from the contour on the finer grid
alone and 57 of 90 from the contour on the coarse voxels. The rest is the noise: a
1.5–2 cm³ focus 22 HU below the liver has about 45 edge voxels, which fix its radius
to about ±0.25 mm, ±10 % of its volume (Cramér–Rao bound for a known shape).

Arrays are (z, y, x); distances in mm. No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.local_grid import LocalGrid

BoolArray = npt.NDArray[np.bool_]

__all__ = ["EdgeFit", "fit_edge_offset"]

REACH_MM = 3.0
"""The surface moves at most this far in or out (about one coarse pixel)."""
STEP_MM = 0.1
"""The offsets tried are this far apart."""
INNER_FRACTION = 0.3
"""Voxels deeper inside than this fraction of the coarsest voxel edge are left out
(a necrotic centre, a calcification: tissues the two-level model does not hold)."""
MIN_VOXELS = 10
"""Fewer edge voxels than this: the contour is kept as drawn."""
SMOOTH_VOXELS = 1.0
"""Gaussian SD (fine voxels) that smooths the voxel steps of the contour's distance map."""


@dataclass(frozen=True, eq=False)
class EdgeFit:
    """The contour with its surface moved by ``offset_mm``.

    Attributes
    ----------
    mask : numpy.ndarray of bool
        The moved contour on the coarse grid (whole volume).
    offset_mm : float
        How far the surface moved (positive: outward).
    contrast_hu : float
        The fitted focus level less the liver level.
    fitted : bool
        False when the voxels could not place the edge (too few, or no contrast of
        the focus's sign): the contour is kept as drawn.
    """

    mask: BoolArray
    offset_mm: float
    contrast_hu: float
    fitted: bool


def _signed_distance(mask: BoolArray, spacing_mm: tuple[float, float, float]) -> np.ndarray:
    """Signed distance (mm, positive outside) of each voxel centre from the mask's surface.

    The distance transforms measure to the nearest voxel centre of the other side;
    the surface lies half a voxel from it, and a Gaussian of :data:`SMOOTH_VOXELS`
    smooths the steps.
    """
    from scipy import ndimage

    inside = ndimage.distance_transform_edt(mask, sampling=spacing_mm)
    outside = ndimage.distance_transform_edt(~mask, sampling=spacing_mm)
    half = 0.5 * min(spacing_mm)
    distance = np.where(mask, half - inside, outside - half)
    return np.asarray(ndimage.gaussian_filter(distance, SMOOTH_VOXELS))


def fit_edge_offset(
    volume: ImageVolume,
    grid: LocalGrid,
    fine_mask: BoolArray,
    liver_level_hu: float,
    *,
    allowed: BoolArray | None = None,
) -> EdgeFit:
    """Move the surface of ``fine_mask`` (a contour on ``grid.fine``) to fit ``volume``.

    Parameters
    ----------
    volume : ImageVolume
        The coarse CT the grid was laid over.
    grid : LocalGrid
        The finer grid the contour was drawn on.
    fine_mask : numpy.ndarray of bool
        The contour on ``grid.fine``.
    liver_level_hu : float
        The surrounding liver's level (a robust median around the focus).
    allowed : numpy.ndarray of bool, optional
        The coarse voxels (whole volume) that may count and be in the result: the
        liver. Voxels outside it are neither fitted nor included.
    """
    fine = np.asarray(fine_mask, dtype=bool)
    shape = volume.shape
    drawn = grid.coarse_mask(fine, shape)
    if allowed is not None:
        drawn &= allowed
    distance = grid.centres(_signed_distance(fine, grid.fine.spacing_mm))
    spacing = np.asarray(volume.spacing_mm, dtype=float)
    width = float(spacing[1:].min())
    local_allowed = np.ones(distance.shape, dtype=bool) if allowed is None else allowed[grid.box]
    local = np.asarray(volume.voxels, dtype=float)[grid.box] - liver_level_hu
    inside = local[(distance <= -0.5 * width) & local_allowed]
    deepest = -INNER_FRACTION * float(spacing.max())
    region = (distance >= deepest) & (distance <= REACH_MM + width) & local_allowed
    values, d = local[region], distance[region]
    edge = np.abs(d) < 0.5 * width + REACH_MM
    if int(edge.sum()) < MIN_VOXELS or inside.size == 0:
        return EdgeFit(drawn, 0.0, 0.0, False)
    sign = np.sign(float(np.median(inside)))
    best: tuple[float, float, float] | None = None
    for offset in np.arange(-REACH_MM, REACH_MM + 1e-9, STEP_MM):
        p = np.clip(0.5 - (d - offset) / width, 0.0, 1.0)
        norm = float(p @ p)
        if norm <= 0.0:
            continue
        contrast = float(p @ values) / norm
        if sign == 0 or contrast * sign <= 0:
            continue
        residual = float(np.sum((values - contrast * p) ** 2))
        if best is None or residual < best[0]:
            best = (residual, float(offset), contrast)
    if best is None:
        return EdgeFit(drawn, 0.0, 0.0, False)
    _, offset, contrast = best
    moved = np.zeros(shape, dtype=bool)
    moved[grid.box] = distance <= offset
    if allowed is not None:
        moved &= allowed
    if not moved.any():
        return EdgeFit(drawn, 0.0, contrast, False)
    return EdgeFit(moved, offset, contrast, True)
