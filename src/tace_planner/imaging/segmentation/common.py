"""Grid helpers shared by the segmentation tools: seeds, boxes, balls, spacing.

Index order is (z, y, x) everywhere; positions are LPS millimetres; a *box* is
a tuple of three ``slice`` objects with explicit, clipped bounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.geometry import lps_to_index
from tace_planner.domain.volume import ImageVolume

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
Box = tuple[slice, slice, slice]
"""A (z, y, x) box of a volume: three slices with explicit start and stop."""


def spacing_of(affine: npt.ArrayLike) -> tuple[float, float, float]:
    """Return (dz, dy, dx) in mm: the lengths of the affine's index columns."""
    matrix = np.asarray(affine, dtype=float)
    dz, dy, dx = np.linalg.norm(matrix[:3, :3], axis=0)
    return float(dz), float(dy), float(dx)


def seeds_to_index(
    volume: ImageVolume, seeds_lps_mm: Sequence[Sequence[float]], what: str = "seed"
) -> npt.NDArray[np.intp]:
    """Return the nearest voxel (z, y, x) of every seed, shape (n, 3).

    Parameters
    ----------
    volume : ImageVolume
        The grid the seeds were clicked on.
    seeds_lps_mm : sequence of (x, y, z)
        Points in LPS millimetres.
    what : str
        Name used in the error message ("include seed", "exclude seed", ...).

    Raises
    ------
    InvalidInputError
        A point lies outside the volume (by more than half a voxel).
    """
    points = np.asarray(seeds_lps_mm, dtype=float).reshape(-1, 3)
    if points.size == 0:
        return np.zeros((0, 3), dtype=np.intp)
    index = np.rint(lps_to_index(volume.index_to_lps, points)).astype(np.intp)
    shape = np.asarray(volume.shape)
    outside = np.any((index < 0) | (index >= shape), axis=1)
    if np.any(outside):
        where = points[int(np.argmax(outside))]
        raise InvalidInputError(
            what,
            f"({where[0]:.1f}, {where[1]:.1f}, {where[2]:.1f}) mm LPS lies outside the volume",
        )
    return index


def validate_clicks(
    volume: ImageVolume,
    include_lps_mm: Sequence[Sequence[float]],
    exclude_lps_mm: Sequence[Sequence[float]] = (),
    liver_mask: BoolArray | None = None,
    *,
    flat: bool = False,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], BoolArray | None, list[str]]:
    """Check the clicks of a contour tool and return them as voxels (z, y, x).

    The one check of every click-driven contour tool: at least one include click,
    every click inside the volume, no voxel both included and excluded, and a liver
    mask that matches the volume. With ``flat=True`` (a 2D tool) every click is moved
    to the first include click's slice. A liver mask is dropped, with a message for
    the user, when an include click lies outside it (the click wins).

    Returns
    -------
    include, exclude : numpy.ndarray
        (n, 3) voxel indices.
    liver_mask : numpy.ndarray or None
        The mask to constrain the contour with, or None.
    warnings : list of str
        Messages for the user.

    Raises
    ------
    InvalidInputError
        No include click, a click outside the volume, an exclude click on the voxel
        of an include click, or a liver mask of another shape.
    """
    include = seeds_to_index(volume, include_lps_mm, "include seed")
    exclude = seeds_to_index(volume, exclude_lps_mm, "exclude seed")
    if include.shape[0] == 0:
        raise InvalidInputError("include seed", "click at least once inside the focus")
    if flat:
        include[:, 0] = include[0, 0]
        exclude[:, 0] = include[0, 0]
    clash = [tuple(int(v) for v in e) for e in exclude if (include == e).all(axis=1).any()]
    if clash:
        raise InvalidInputError(
            "exclude seed",
            f"voxel (z, y, x) {clash[0]} is also an include click: "
            "a point cannot be both inside and outside the focus",
        )
    warnings: list[str] = []
    if liver_mask is not None:
        if liver_mask.shape != volume.shape:
            raise InvalidInputError(
                "liver mask", f"shape {liver_mask.shape} does not match the volume {volume.shape}"
            )
        if not all(liver_mask[tuple(i)] for i in include):
            warnings.append(
                "A click lies outside the liver mask: the liver constraint was not used."
            )
            liver_mask = None
    return include, exclude, liver_mask, warnings


def box_around(
    centers_index: npt.ArrayLike,
    radius_mm: float,
    spacing_mm: Sequence[float],
    shape: Sequence[int],
    flat: bool = False,
) -> Box:
    """Return the box holding every centre grown by ``radius_mm`` (clipped to ``shape``).

    With ``flat=True`` the box keeps only the centres' slices (2D tools).
    """
    centers = np.atleast_2d(np.asarray(centers_index, dtype=np.intp))
    reach = np.ceil(radius_mm / np.asarray(spacing_mm, dtype=float)).astype(np.intp)
    if flat:
        reach[0] = 0
    low = np.maximum(centers.min(axis=0) - reach, 0)
    high = np.minimum(centers.max(axis=0) + reach + 1, np.asarray(shape))
    return (
        slice(int(low[0]), int(high[0])),
        slice(int(low[1]), int(high[1])),
        slice(int(low[2]), int(high[2])),
    )


def grow_box(box: Box, margin: Sequence[int], shape: Sequence[int]) -> Box:
    """Return ``box`` grown by ``margin`` voxels per axis, clipped to ``shape``."""
    return (
        slice(max(box[0].start - margin[0], 0), min(box[0].stop + margin[0], shape[0])),
        slice(max(box[1].start - margin[1], 0), min(box[1].stop + margin[1], shape[1])),
        slice(max(box[2].start - margin[2], 0), min(box[2].stop + margin[2], shape[2])),
    )


def mask_box(mask: BoolArray) -> Box | None:
    """Return the tight box of the True voxels of a 3D mask, or None when it is empty."""
    if mask.ndim != 3:
        raise ValueError(f"mask must be (z, y, x), got shape {mask.shape}")
    planes = np.flatnonzero(mask.any(axis=(1, 2)))
    if planes.size == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=(0, 2)))
    columns = np.flatnonzero(mask.any(axis=(0, 1)))
    return (
        slice(int(planes[0]), int(planes[-1]) + 1),
        slice(int(rows[0]), int(rows[-1]) + 1),
        slice(int(columns[0]), int(columns[-1]) + 1),
    )


def box_shape(box: Box) -> tuple[int, int, int]:
    """Return the (z, y, x) size of a box."""
    return (
        box[0].stop - box[0].start,
        box[1].stop - box[1].start,
        box[2].stop - box[2].start,
    )


def ball(radius_mm: float, spacing_mm: Sequence[float], flat: bool = False) -> BoolArray:
    """Return an ellipsoidal structuring element of ``radius_mm`` on an anisotropic grid.

    Every axis gets at least one voxel of reach (a 3 × 3 × 3 cross when the
    radius is below every spacing); ``flat=True`` gives a single-slice disc.
    """
    spacing = np.asarray(spacing_mm, dtype=float)
    reach = np.maximum(np.floor(radius_mm / spacing + 1e-9), 1).astype(int)
    if flat:
        reach[0] = 0
    zz, yy, xx = np.ogrid[
        -reach[0] : reach[0] + 1, -reach[1] : reach[1] + 1, -reach[2] : reach[2] + 1
    ]
    scale = np.maximum(radius_mm, spacing)
    distance = (zz * spacing[0] / scale[0]) ** 2 + (yy * spacing[1] / scale[1]) ** 2
    distance = distance + (xx * spacing[2] / scale[2]) ** 2
    return np.asarray(distance <= 1.0 + 1e-9)


def distance_mm_from(
    centers_index: npt.ArrayLike, box: Box, spacing_mm: Sequence[float]
) -> npt.NDArray[np.float32]:
    """Return, for every voxel of ``box``, the distance in mm to the nearest centre."""
    centers = np.atleast_2d(np.asarray(centers_index, dtype=float))
    zz, yy, xx = np.ogrid[box[0], box[1], box[2]]
    best: npt.NDArray[np.float32] | None = None
    dz, dy, dx = spacing_mm
    for c in centers:
        d2 = ((zz - c[0]) * dz) ** 2 + ((yy - c[1]) * dy) ** 2 + ((xx - c[2]) * dx) ** 2
        d2 = d2.astype(np.float32)
        best = d2 if best is None else np.minimum(best, d2)
    assert best is not None
    return np.sqrt(best)
