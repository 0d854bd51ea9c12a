"""Carry a mask from one grid to another of the same frame of reference (nearest neighbour).

The phases of one CT study share a frame of reference: a point in LPS
millimetres is the same point of the patient in every phase. A mask drawn on
the venous phase is carried to the arterial phase by looking up, for every
voxel centre of the target grid, the source voxel that contains that LPS
position (nearest neighbour; outside the source grid counts as outside the
mask). Only the target voxels near the mask's own box are visited.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.common import BoolArray, mask_box


def resample_mask(
    mask: npt.ArrayLike,
    source_index_to_lps: npt.ArrayLike,
    target_index_to_lps: npt.ArrayLike,
    target_shape: Sequence[int],
) -> BoolArray:
    """Return ``mask`` (on the source grid) sampled on the target grid by LPS position.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x) of the source grid
        The mask to carry.
    source_index_to_lps, target_index_to_lps : numpy.ndarray, shape (4, 4)
        Affines from (z, y, x, 1) indices to LPS mm of the two grids.
    target_shape : sequence of 3 int
        (z, y, x) size of the target grid.

    Returns
    -------
    numpy.ndarray of bool, shape ``target_shape``
        True where the target voxel centre falls in a source voxel of the mask.
    """
    source = np.asarray(mask, dtype=bool)
    if source.ndim != 3:
        raise ValueError(f"mask must be (z, y, x), got shape {source.shape}")
    a_source = np.asarray(source_index_to_lps, dtype=float)
    a_target = np.asarray(target_index_to_lps, dtype=float)
    shape = tuple(int(n) for n in target_shape)
    out = np.zeros(shape, dtype=bool)
    box = mask_box(source)
    if box is None:
        return out
    # target index -> source index: inv(A_source) @ A_target
    to_source = np.linalg.solve(a_source, a_target)
    target_box = _target_box(box, np.linalg.inv(to_source), shape)
    if target_box is None:
        return out
    (k0, k1), (j0, j1), (i0, i1) = target_box
    linear = to_source[:3, :3]
    if np.allclose(linear - np.diag(np.diag(linear)), 0.0, atol=1e-9):
        # Parallel grids (the phases of one study): each axis maps on its own, so the
        # lookup is one outer index per axis instead of a 3-vector per voxel.
        into, lookups, crop = [], [], []
        for axis, (start, stop) in enumerate(target_box):
            nearest = np.rint(
                linear[axis, axis] * np.arange(start, stop) + to_source[axis, 3]
            ).astype(np.intp)
            inside = np.flatnonzero((nearest >= 0) & (nearest < source.shape[axis]))
            if inside.size == 0:
                return out
            # Monotonic, so the target voxels that fall in the source are one run.
            into.append(slice(start + int(inside[0]), start + int(inside[-1]) + 1))
            chosen = nearest[inside[0] : inside[-1] + 1]
            low = int(chosen.min())
            crop.append(slice(low, int(chosen.max()) + 1))
            lookup: slice | npt.NDArray[np.intp] = chosen - low
            if chosen.size > 1 and np.all(np.diff(chosen) == 1):
                lookup = slice(None)  # the same spacing on this axis: a view, no copy
            lookups.append(lookup)
        picked: npt.NDArray[np.bool_] = source[tuple(crop)]
        for axis, lookup in enumerate(lookups):
            if isinstance(lookup, np.ndarray):
                picked = np.take(picked, lookup, axis=axis)
        out[tuple(into)] = picked
        return out
    jj, ii = np.meshgrid(np.arange(j0, j1), np.arange(i0, i1), indexing="ij")
    upper = np.asarray(source.shape)[:, None, None]
    for k in range(k0, k1):
        index = (
            to_source[:3, 0, None, None] * k
            + to_source[:3, 1, None, None] * jj
            + to_source[:3, 2, None, None] * ii
            + to_source[:3, 3, None, None]
        )
        nearest = np.rint(index).astype(np.intp)
        valid = np.all((nearest >= 0) & (nearest < upper), axis=0)
        plane = np.zeros(jj.shape, dtype=bool)
        plane[valid] = source[nearest[0][valid], nearest[1][valid], nearest[2][valid]]
        out[k, j0:j1, i0:i1] = plane
    return out


def carry_mask(mask: npt.ArrayLike, source: ImageVolume, target: ImageVolume) -> BoolArray:
    """Carry a mask from one volume's grid to another's (same frame of reference).

    Raises
    ------
    InvalidInputError
        The two volumes have different (non-empty) (0020,0052) *Frame of
        Reference UID*: their LPS coordinates are not the same patient space.
    """
    if (
        source.frame_of_reference_uid
        and target.frame_of_reference_uid
        and source.frame_of_reference_uid != target.frame_of_reference_uid
    ):
        raise InvalidInputError(
            "Frame of Reference UID",
            f"the mask's series ({source.frame_of_reference_uid}) and the target series "
            f"({target.frame_of_reference_uid}) are not in the same patient space; "
            "register them first",
        )
    return resample_mask(mask, source.index_to_lps, target.index_to_lps, target.shape)


def _target_box(
    source_box: tuple[slice, slice, slice], source_to_target: np.ndarray, shape: tuple[int, ...]
) -> tuple[tuple[int, int], ...] | None:
    """Target index ranges covering the source box's corners (grown by one voxel)."""
    corners = np.array(
        [
            (z, y, x, 1.0)
            for z in (source_box[0].start - 0.5, source_box[0].stop - 0.5)
            for y in (source_box[1].start - 0.5, source_box[1].stop - 0.5)
            for x in (source_box[2].start - 0.5, source_box[2].stop - 0.5)
        ]
    )
    target = (source_to_target @ corners.T)[:3]
    low = np.maximum(np.floor(target.min(axis=1)).astype(int) - 1, 0)
    high = np.minimum(np.ceil(target.max(axis=1)).astype(int) + 2, shape)
    if np.any(high <= low):
        return None
    return tuple((int(a), int(b)) for a, b in zip(low, high, strict=True))
