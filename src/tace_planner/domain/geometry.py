"""DICOM patient geometry: index-to-LPS affines and slice ordering along the normal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Affine = npt.NDArray[np.float64]


def slice_normal(orientation: Sequence[float]) -> npt.NDArray[np.float64]:
    """Return the unit normal of an image plane.

    Parameters
    ----------
    orientation : sequence of 6 float
        (0020,0037) *Image Orientation (Patient)*: the direction cosines of a
        row (the direction in which the column index grows), then of a column.

    Returns
    -------
    numpy.ndarray, shape (3,)
        ``cross(row_cosine, column_cosine)``, normalised, in LPS.
    """
    row = np.asarray(orientation[:3], dtype=float)
    column = np.asarray(orientation[3:6], dtype=float)
    normal = np.cross(row, column)
    length = float(np.linalg.norm(normal))
    if length < 1e-6:
        raise ValueError("Image Orientation (Patient) has parallel row and column cosines")
    return normal / length


def position_along_normal(orientation: Sequence[float], position_mm: Sequence[float]) -> float:
    """Project (0020,0032) *Image Position (Patient)* on the slice normal, in mm."""
    return float(np.dot(slice_normal(orientation), np.asarray(position_mm, dtype=float)))


def affine_from_dicom_geometry(
    orientation: Sequence[float],
    pixel_spacing_mm: Sequence[float],
    first_position_mm: Sequence[float],
    slice_step_mm: Sequence[float],
) -> Affine:
    """Return the 4 x 4 affine from (z, y, x, 1) voxel indices to LPS millimetres.

    Parameters
    ----------
    orientation : sequence of 6 float
        (0020,0037) *Image Orientation (Patient)*: row cosine, then column cosine.
    pixel_spacing_mm : sequence of 2 float
        (0028,0030) *Pixel Spacing*: the distance between **rows** first, then
        between columns.
    first_position_mm : sequence of 3 float
        (0020,0032) *Image Position (Patient)* of the first slice after sorting
        along the slice normal (centre of its first transmitted pixel).
    slice_step_mm : sequence of 3 float
        The LPS vector from one slice origin to the next. For a tilted gantry
        it is not parallel to the normal.

    Returns
    -------
    numpy.ndarray, shape (4, 4)
        Columns: z step, y (row) step, x (column) step, origin.
    """
    row_cosine = np.asarray(orientation[:3], dtype=float)
    column_cosine = np.asarray(orientation[3:6], dtype=float)
    row_spacing_mm, column_spacing_mm = (float(v) for v in pixel_spacing_mm)
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(slice_step_mm, dtype=float)
    affine[:3, 1] = column_cosine * row_spacing_mm  # y index -> next row
    affine[:3, 2] = row_cosine * column_spacing_mm  # x index -> next column
    affine[:3, 3] = np.asarray(first_position_mm, dtype=float)
    return affine


def index_to_lps(affine: Affine, index_zyx: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Map voxel indices (..., 3) in (z, y, x) order to LPS millimetres (..., 3)."""
    idx = np.asarray(index_zyx, dtype=float)
    return idx @ affine[:3, :3].T + affine[:3, 3]


def lps_to_index(affine: Affine, point_lps: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Map LPS millimetres (..., 3) to fractional voxel indices (..., 3) in (z, y, x) order."""
    point = np.asarray(point_lps, dtype=float)
    return np.linalg.solve(affine[:3, :3], (point - affine[:3, 3]).T).T
