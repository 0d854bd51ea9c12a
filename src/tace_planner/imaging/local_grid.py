"""A finer grid laid over a box of a coarse volume, and the way back.

On 3.125 mm pixels and 5 mm slices a 15 mm focus is a few dozen voxels, and a
contour started from a voxel index can sit up to half a voxel off the point the
user (or the carried baseline) meant. :func:`local_grid` lays a grid of
``factors`` sub-voxels per coarse voxel over a box (an odd number per axis, so that
one sub-voxel centre is each coarse voxel's centre), with the CT interpolated
linearly: a contour tool then works in about millimetre steps, and
:meth:`LocalGrid.coarse_mask` takes its contour back to the coarse grid, a coarse
voxel being inside when its centre is.

Arrays are (z, y, x); affines map (z, y, x, 1) indices to LPS mm. No Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.volume import ImageVolume

BoolArray = npt.NDArray[np.bool_]
Box = tuple[slice, slice, slice]

__all__ = ["LocalGrid", "local_grid", "odd_factors"]


def odd_factors(spacing_mm: Sequence[float], target_mm: float) -> tuple[int, int, int]:
    """Sub-voxels per coarse voxel along each axis: odd, about ``target_mm`` apart."""
    out = []
    for d in spacing_mm:
        k = int(np.floor(float(d) / target_mm / 2.0)) * 2 + 1
        out.append(max(k, 1))
    return out[0], out[1], out[2]


@dataclass(frozen=True, eq=False)
class LocalGrid:
    """A finer grid over ``box`` of a coarse volume.

    Attributes
    ----------
    box : tuple of slice
        The coarse voxels covered, (z, y, x).
    factors : tuple of 3 int
        Sub-voxels per coarse voxel along (z, y, x), odd.
    fine : ImageVolume
        The CT on the finer grid (linear interpolation), same frame of reference.
    """

    box: Box
    factors: tuple[int, int, int]
    fine: ImageVolume

    def refine(self, coarse: BoolArray) -> BoolArray:
        """A mask of the whole coarse volume on the fine grid (each voxel repeated)."""
        local = np.asarray(coarse, dtype=bool)[self.box]
        for axis, k in enumerate(self.factors):
            local = np.repeat(local, k, axis=axis)
        return local

    def centres(self, fine: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        """The values of a fine array at the coarse voxel centres (the box's shape)."""
        kz, ky, kx = self.factors
        return fine[kz // 2 :: kz, ky // 2 :: ky, kx // 2 :: kx]

    def coarse_mask(self, fine: BoolArray, shape: Sequence[int]) -> BoolArray:
        """A fine mask back on the whole coarse grid: a voxel is in when its centre is."""
        out = np.zeros(tuple(int(n) for n in shape), dtype=bool)
        out[self.box] = self.centres(np.asarray(fine, dtype=bool))
        return out


def local_grid(volume: ImageVolume, box: Box, target_mm: float = 1.0) -> LocalGrid:
    """Lay a grid about ``target_mm`` fine (odd sub-voxels per voxel) over ``box``.

    The fine voxels tile the coarse ones exactly: a coarse voxel of index ``i`` holds
    the fine voxels ``i * k … i * k + k - 1`` (box-relative), the middle one at its centre.
    """
    from scipy import ndimage

    factors = odd_factors(volume.spacing_mm, target_mm)
    axes = [
        s.start + (np.arange((s.stop - s.start) * k) + 0.5) / k - 0.5
        for s, k in zip(box, factors, strict=True)
    ]
    grid = np.meshgrid(*axes, indexing="ij", copy=False)
    voxels = ndimage.map_coordinates(
        np.asarray(volume.voxels, dtype=np.float32),
        [np.ravel(g) for g in grid],
        order=1,
        mode="nearest",
    ).reshape(tuple(a.size for a in axes))
    scale = np.diag([*(1.0 / np.asarray(factors, dtype=float)), 1.0])
    scale[:3, 3] = [s.start - 0.5 + 0.5 / k for s, k in zip(box, factors, strict=True)]
    affine = np.asarray(volume.index_to_lps, dtype=float) @ scale
    fine = ImageVolume(voxels.astype(np.float32), affine, volume.frame_of_reference_uid)
    return LocalGrid(box, factors, fine)
