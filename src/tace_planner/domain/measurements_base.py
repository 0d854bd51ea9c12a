"""What every measurement shares: trust levels, typed errors and the mask and grid checks.

A mask is a bool array shaped (z, y, x); its grid is a 4 × 4 ``index_to_lps``
affine or anything with such an attribute (e.g. an ``ImageVolume``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError, TacePlannerError

Trust = Literal["ok", "warning", "unmeasurable"]
"""Geometry status of the series a measurement was made on (``GeometryReport.status``)."""

Vec3 = tuple[float, float, float]
BoolArray = npt.NDArray[np.bool_]

TRUSTS: tuple[Trust, ...] = ("ok", "warning", "unmeasurable")


class EmptyMaskError(InvalidInputError):
    """The mask holds no voxel: there is nothing to measure."""

    def __init__(self, what: str = "mask") -> None:
        super().__init__(what, "is empty: contour the lesion before measuring it")


class UnmeasurableGeometryError(TacePlannerError):
    """The series' geometry is unmeasurable (gaps, uneven slices): no lengths or volumes."""


def grid_affine(grid: Any) -> npt.NDArray[np.float64]:
    """The 4 × 4 index→LPS affine of ``grid`` (an affine, or anything with ``index_to_lps``)."""
    matrix = np.asarray(getattr(grid, "index_to_lps", grid), dtype=float)
    if matrix.shape != (4, 4):
        raise ValueError(f"index_to_lps must be 4 x 4, got {matrix.shape}")
    return matrix


def mask_array(mask: npt.ArrayLike, what: str = "mask") -> BoolArray:
    """``mask`` as a bool (z, y, x) array; :class:`EmptyMaskError` naming ``what`` if empty."""
    array = np.asarray(mask)
    if array.ndim != 3:
        raise ValueError(f"{what} must be (z, y, x), got shape {array.shape}")
    array = array.astype(bool, copy=False)
    if not array.any():
        raise EmptyMaskError(what)
    return array


def crop_to_mask(array: BoolArray) -> tuple[BoolArray, npt.NDArray[np.float64]]:
    """The mask cropped to its bounding box, and the (z, y, x) index of the crop's origin."""
    where = [np.flatnonzero(array.any(axis=tuple(a for a in range(3) if a != d))) for d in range(3)]
    low = [int(w[0]) for w in where]
    high = [int(w[-1]) + 1 for w in where]
    crop = array[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    return crop, np.asarray(low, dtype=float)


def check_trust(trust: str, geometric: bool) -> Trust:
    """``trust`` checked; a ``geometric`` measurement refuses an unmeasurable series."""
    if trust not in TRUSTS:
        raise ValueError(f"trust must be one of {TRUSTS}, got {trust!r}")
    if geometric and trust == "unmeasurable":
        raise UnmeasurableGeometryError(
            "the series' slice geometry is unmeasurable (gaps or uneven spacing): "
            "volumes and diameters would be wrong; load a complete series"
        )
    return trust  # type: ignore[return-value]


def vec3(point: npt.ArrayLike) -> Vec3:
    """A point as a tuple of three floats."""
    x, y, z = (float(v) for v in np.asarray(point, dtype=float))
    return x, y, z


def trust_note(trust: Trust) -> str:
    """The words added to a summary measured on a questionable geometry ("" when ok)."""
    return "" if trust == "ok" else " (series geometry: warning — check the slices)"
