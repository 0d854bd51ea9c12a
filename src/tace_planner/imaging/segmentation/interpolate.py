"""Fill between slices: shape-based interpolation of a mask drawn on some axial slices.

A reader outlines a focus on every few slices; the slices between are filled
by interpolating the signed distance maps of the two nearest outlined slices
(Raya & Udupa, IEEE TMI 1990): on a slice a fraction ``w`` of the way from
slice A to slice B, a voxel is inside when ``(1 − w) d_A + w d_B < 0``, with
``d`` the in-plane signed distance in mm (negative inside). Outlines grow,
shrink and move smoothly; slices that already hold an outline are kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tace_planner.imaging.segmentation.common import BoolArray


def interpolate_between_slices(
    mask: npt.ArrayLike, spacing_mm: Sequence[float], *, max_gap: int | None = None
) -> BoolArray:
    """Fill the empty axial slices between outlined ones by shape-based interpolation.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
        Outlines on some slices (each non-empty slice is a key slice).
    spacing_mm : sequence of 3 float
        (dz, dy, dx) in mm; only the in-plane spacing is used (distances are
        measured in mm within each slice).
    max_gap : int, optional
        Gaps of more than this many empty slices are left empty.

    Returns
    -------
    numpy.ndarray of bool, shape (z, y, x)
        A new mask: the key slices unchanged, the gaps filled.
    """
    source = np.asarray(mask, dtype=bool)
    if source.ndim != 3:
        raise ValueError(f"mask must be (z, y, x), got shape {source.shape}")
    out = source.copy()
    keys = np.flatnonzero(source.any(axis=(1, 2)))
    for a, b in itertools.pairwise(keys):
        gap = int(b - a - 1)
        if gap == 0 or (max_gap is not None and gap > max_gap):
            continue
        rows, columns = _box_2d(source[a] | source[b], spacing_mm)
        d_a = _signed_distance(source[a, rows, columns], spacing_mm)
        d_b = _signed_distance(source[b, rows, columns], spacing_mm)
        for k in range(a + 1, b):
            w = (k - a) / (b - a)
            out[k, rows, columns] = (1.0 - w) * d_a + w * d_b < 0.0
    return out


def _box_2d(plane: BoolArray, spacing_mm: Sequence[float]) -> tuple[slice, slice]:
    """In-plane box of ``plane`` grown by a few voxels (room for the distance maps)."""
    rows = np.flatnonzero(plane.any(axis=1))
    columns = np.flatnonzero(plane.any(axis=0))
    margin = 3
    return (
        slice(max(int(rows[0]) - margin, 0), min(int(rows[-1]) + margin + 1, plane.shape[0])),
        slice(max(int(columns[0]) - margin, 0), min(int(columns[-1]) + margin + 1, plane.shape[1])),
    )


def _signed_distance(plane: BoolArray, spacing_mm: Sequence[float]) -> npt.NDArray[np.float64]:
    """In-plane signed distance in mm between voxel centres: negative inside, positive outside.

    Measured to the boundary half-way between an inside and an outside voxel,
    so that a single outline interpolated with itself returns itself.
    """
    from scipy import ndimage

    sampling = (float(spacing_mm[1]), float(spacing_mm[2]))
    if not plane.any():
        return np.full(plane.shape, np.inf)
    outside = ndimage.distance_transform_edt(~plane, sampling=sampling)
    inside = ndimage.distance_transform_edt(plane, sampling=sampling)
    half = 0.5 * min(sampling)
    return np.where(plane, -(inside - half), outside - half)
