"""Brush painting and erasing, optionally limited to an HU range (threshold paint).

A brush is a disc in the slice (2D paint) or a ball (3D paint) of a radius in
millimetres, dragged along the points of a stroke. ``paint`` never touches the
mask it is given: it returns a :class:`MaskPatch` (the box, the voxels before
and after) that the caller applies, and keeps for undo.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.geometry import lps_to_index
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.common import BoolArray, Box, mask_box

BrushShape = Literal["disc", "sphere"]


@dataclass(frozen=True, eq=False)
class MaskPatch:
    """A change of a mask confined to a box: enough to apply it and to undo it.

    Attributes
    ----------
    box : tuple of 3 slice
        Where the change lies (z, y, x).
    before, after : numpy.ndarray of bool
        The box's voxels before and after the change (same shape).
    """

    box: Box
    before: BoolArray
    after: BoolArray

    @property
    def changed_voxels(self) -> int:
        """Number of voxels the patch flips."""
        return int(np.count_nonzero(self.before != self.after))

    @property
    def is_empty(self) -> bool:
        """True when applying the patch changes nothing."""
        return self.changed_voxels == 0

    def apply(self, mask: BoolArray) -> None:
        """Write ``after`` into ``mask`` (in place)."""
        mask[self.box] = self.after

    def revert(self, mask: BoolArray) -> None:
        """Write ``before`` back into ``mask`` (in place): undo."""
        mask[self.box] = self.before

    @classmethod
    def between(cls, before: BoolArray, after: BoolArray) -> MaskPatch:
        """Return the patch that turns mask ``before`` into ``after`` (same shape)."""
        if before.shape != after.shape:
            raise ValueError(f"shapes differ: {before.shape} and {after.shape}")
        box = mask_box(before != after)
        if box is None:
            box = (slice(0, 0), slice(0, 0), slice(0, 0))
        return cls(box, np.array(before[box], dtype=bool), np.array(after[box], dtype=bool))


def brush_footprint(
    volume: ImageVolume,
    points_lps: Sequence[Sequence[float]],
    radius_mm: float,
    *,
    shape: BrushShape = "disc",
    hu_range: tuple[float, float] | None = None,
) -> tuple[Box, BoolArray]:
    """Return the voxels a brush stroke covers, as a box and a bool crop.

    Parameters
    ----------
    volume : ImageVolume
        The grid (and HU, for ``hu_range``).
    points_lps : sequence of (x, y, z)
        The stroke in LPS mm: one point for a dab, several for a drag (the
        brush is swept along the straight segments between them).
    radius_mm : float
        Brush radius in mm (> 0). A voxel is covered when its centre lies
        within the radius of the stroke.
    shape : {"disc", "sphere"}
        "disc": in-plane only, on the axial slice nearest to each point;
        "sphere": a ball in 3D.
    hu_range : (low, high), optional
        Threshold paint: only voxels with ``low <= HU <= high`` are covered.

    Returns
    -------
    box : tuple of 3 slice
    covered : numpy.ndarray of bool, shape of the box

    Raises
    ------
    InvalidInputError
        Radius not positive, an empty HU range, no point, or a stroke entirely
        outside the volume.
    """
    if radius_mm <= 0:
        raise InvalidInputError("brush radius", f"must be positive, got {radius_mm:g} mm")
    if hu_range is not None and hu_range[0] > hu_range[1]:
        raise InvalidInputError("HU range", f"low {hu_range[0]:g} is above high {hu_range[1]:g}")
    points = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    if points.shape[0] == 0:
        raise InvalidInputError("brush stroke", "needs at least one point")
    spacing = np.asarray(volume.spacing_mm)
    dense = _densify(points, step_mm=max(min(radius_mm, float(spacing[1:].min())) / 2, 0.1))
    centers = lps_to_index(volume.index_to_lps, dense)  # fractional (z, y, x)
    if shape == "disc":
        centers[:, 0] = np.rint(centers[:, 0])
    reach = np.ceil(radius_mm / spacing).astype(int) + 1
    if shape == "disc":
        reach[0] = 0
    low = np.maximum(np.floor(centers.min(axis=0)).astype(int) - reach, 0)
    high = np.minimum(np.ceil(centers.max(axis=0)).astype(int) + reach + 1, volume.shape)
    if np.any(high <= low):
        raise InvalidInputError("brush stroke", "lies outside the volume")
    box = (slice(int(low[0]), int(high[0])), slice(int(low[1]), int(high[1])),
           slice(int(low[2]), int(high[2])))  # fmt: skip
    covered = np.zeros(tuple(high - low), dtype=bool)
    kk, jj, ii = np.meshgrid(
        *[np.arange(a, b, dtype=float) for a, b in zip(low, high, strict=True)], indexing="ij"
    )
    matrix = volume.index_to_lps[:3, :3]
    for center in centers:
        dz, dy, dx = kk - center[0], jj - center[1], ii - center[2]
        if shape == "disc":
            same_plane = np.abs(dz) < 0.5
            dz = np.zeros_like(dz)
        offset = dz[..., None] * matrix[:, 0] + dy[..., None] * matrix[:, 1]
        offset += dx[..., None] * matrix[:, 2]
        inside = np.einsum("...i,...i->...", offset, offset) <= radius_mm * radius_mm
        if shape == "disc":
            inside &= same_plane
        covered |= inside
    if hu_range is not None:
        values = volume.voxels[box]
        covered &= (values >= hu_range[0]) & (values <= hu_range[1])
    return box, covered


def paint(
    mask: BoolArray,
    volume: ImageVolume,
    points_lps: Sequence[Sequence[float]],
    radius_mm: float,
    *,
    shape: BrushShape = "disc",
    hu_range: tuple[float, float] | None = None,
    erase: bool = False,
) -> MaskPatch:
    """Paint (or erase) a brush stroke into a mask; return the change as a patch.

    ``mask`` is not modified: call ``patch.apply(mask)``, keep the patch for undo.
    With ``hu_range`` only voxels inside the range are painted (or erased):
    threshold paint.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
        The segmentation on ``volume``'s grid.
    volume, points_lps, radius_mm, shape, hu_range
        See :func:`brush_footprint`.
    erase : bool
        Remove the covered voxels instead of adding them.

    Returns
    -------
    MaskPatch

    Raises
    ------
    InvalidInputError
        See :func:`brush_footprint`; also a mask of another shape.
    """
    if mask.shape != volume.shape:
        raise InvalidInputError("mask", f"shape {mask.shape} does not match {volume.shape}")
    box, covered = brush_footprint(volume, points_lps, radius_mm, shape=shape, hu_range=hu_range)
    before = np.array(mask[box], dtype=bool)
    after = before & ~covered if erase else before | covered
    return MaskPatch(box, before, after)


def _densify(points: npt.NDArray[np.float64], step_mm: float) -> npt.NDArray[np.float64]:
    """Points along the polyline, no farther than ``step_mm`` apart (ends included)."""
    if len(points) == 1:
        return points
    out = [points[:1]]
    for a, b in itertools.pairwise(points):
        count = max(int(np.ceil(np.linalg.norm(b - a) / step_mm)), 1)
        t = np.arange(1, count + 1)[:, None] / count
        out.append(a + t * (b - a))
    return np.concatenate(out)
