"""A star-shaped surface around a click: one radius per direction, chosen from the image.

A focus contoured from a click inside it is described, as seen from the click, by the
distance to its edge in every direction: ``r(d)``. The region is then *star-shaped*
with respect to the click — every point between the click and the edge belongs to it —
which rules out the holes, islands and thin leaks that voxel-wise thresholds give on
noisy, low-contrast CT (Veksler, "Star shape prior for graph-cut image segmentation",
ECCV 2008; Gulshan et al., "Geodesic star convexity for interactive image
segmentation", CVPR 2010, for several star centres).

Each radius is chosen from the evidence along its ray and its neighbours' rays: the
intensity samples along a ray are scored by the log-likelihood ratio of focus against
surrounding tissue, the scores are summed outward from the centre (a cumulative sum,
so every sample between the centre and the candidate edge counts — the optimal
change-point of a two-segment profile), the sums of neighbouring rays are pooled
with a Gaussian weight over the angle between them (an arc of a few mm on the
focus's surface), and the radius is the one that maximises the pooled sum within
the bounds the user's clicks set (hard constraints). Pooling over some thirty rays
and tens of samples averages out voxel noise and parenchymal texture that no
threshold survives.

Pure numpy/scipy; directions and distances in mm; centres are voxel indices (z, y, x).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

STEP_MM = 0.5
"""Sampling step along a ray."""
POOL_ARC_MM = 3.5
"""Gaussian SD, as an arc on the focus's surface, of the pooling over neighbouring rays
(the least; noisier, lower-contrast images pool wider)."""


@functools.lru_cache(maxsize=8)
def directions(count: int, flat: bool) -> FloatArray:
    """Unit directions (z, y, x), spread evenly: a Fibonacci sphere, or a circle in-plane."""
    if flat:
        angle = 2.0 * math.pi * (np.arange(count) + 0.5) / count
        return np.stack([np.zeros(count), np.sin(angle), np.cos(angle)], axis=1)
    i = np.arange(count) + 0.5
    polar = np.arccos(1.0 - 2.0 * i / count)
    azimuth = math.pi * (1.0 + 5.0**0.5) * i
    return np.stack(
        [np.cos(polar), np.sin(polar) * np.sin(azimuth), np.sin(polar) * np.cos(azimuth)], axis=1
    )


@functools.lru_cache(maxsize=8)
def _lookup(count: int, flat: bool) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Interpolation from the ray radii to a table over (polar, azimuth) bins.

    Returns the indices (cells × 3) and weights (cells × 3) of the nearest rays of
    every cell, and the table's shape (polar bins, azimuth bins).
    """
    from scipy.spatial import cKDTree

    dirs = directions(count, flat)
    if flat:
        n_polar, n_azimuth = 1, 720
        azimuth = (np.arange(n_azimuth) + 0.5) / n_azimuth * 2 * math.pi - math.pi
        cells = np.stack([np.zeros(n_azimuth), np.sin(azimuth), np.cos(azimuth)], axis=1)
    else:
        n_polar, n_azimuth = 180, 360
        polar = (np.arange(n_polar) + 0.5) / n_polar * math.pi
        azimuth = (np.arange(n_azimuth) + 0.5) / n_azimuth * 2 * math.pi - math.pi
        p, a = np.meshgrid(polar, azimuth, indexing="ij")
        cells = np.stack(
            [np.cos(p), np.sin(p) * np.sin(a), np.sin(p) * np.cos(a)], axis=-1
        ).reshape(-1, 3)
    distance, index = cKDTree(dirs).query(cells, k=3)
    weight = 1.0 / np.maximum(distance, 1e-6) ** 2
    weight /= weight.sum(axis=1, keepdims=True)
    return index, weight, n_polar, n_azimuth


def pool_matrix(count: int, flat: bool, angle_sd: float):
    """Sparse Gaussian weights between rays closer than 2.5 angular SDs (rows sum to 1).

    The SD is rounded to steps of 5 % and the matrices kept: a click reuses them.
    """
    step = round(math.log(max(angle_sd, 1e-3)) / math.log(1.05))
    return _pool_matrix(count, flat, step)


@functools.lru_cache(maxsize=64)
def _tree(count: int, flat: bool):
    from scipy.spatial import cKDTree

    return cKDTree(directions(count, flat))


@functools.lru_cache(maxsize=64)
def _pool_matrix(count: int, flat: bool, step: int):
    from scipy import sparse

    angle_sd = 1.05**step
    dirs = directions(count, flat)
    chord = 2.0 * math.sin(min(1.25 * angle_sd, math.pi / 2))
    pairs = _tree(count, flat).query_pairs(chord, output_type="ndarray")
    angle = np.arccos(np.clip(np.einsum("ij,ij->i", dirs[pairs[:, 0]], dirs[pairs[:, 1]]), -1, 1))
    weight = np.exp(-0.5 * (angle / angle_sd) ** 2)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(count)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(count)])
    values = np.concatenate([weight, weight, np.ones(count)])
    matrix = sparse.csr_matrix((values, (rows, cols)), shape=(count, count))
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    return sparse.diags(1.0 / sums) @ matrix


@dataclass
class Star:
    """A star-shaped region: a centre, a radius per direction, and the clicks' bounds.

    Attributes
    ----------
    center : numpy.ndarray
        Voxel index (z, y, x), float.
    spacing : numpy.ndarray
        Voxel spacing (dz, dy, dx) in mm.
    dirs : numpy.ndarray
        (N, 3) unit directions in mm space.
    radii : numpy.ndarray
        (M,) sample radii along every ray, mm.
    values : numpy.ndarray
        (N, M) image samples along the rays (lightly smoothed along the ray).
    radius : numpy.ndarray
        (N,) the edge distance per ray, mm.
    low, high : numpy.ndarray
        (N,) bounds on ``radius`` set by clicks.
    bias : numpy.ndarray
        (N, M) evidence added to every sample of a ray: the local correction of the
        intensity model that clicks make.
    """

    center: FloatArray
    spacing: FloatArray
    flat: bool
    dirs: FloatArray
    radii: FloatArray
    values: FloatArray
    radius: FloatArray
    low: FloatArray
    high: FloatArray
    bias: FloatArray
    _pool_sd: float = 0.0
    _pool: object = None
    _geometry: tuple | None = None

    @classmethod
    def sample(
        cls,
        image: np.ndarray,
        spacing: FloatArray,
        center: FloatArray,
        reach_mm: float,
        count: int,
        flat: bool,
    ) -> Star:
        """Sample the image along ``count`` rays from ``center`` out to ``reach_mm``."""
        from scipy import ndimage

        dirs = directions(count, flat)
        radii = np.arange(0.0, reach_mm + STEP_MM, STEP_MM)
        points = center[None, None, :] + dirs[:, None, :] * radii[None, :, None] / spacing
        values = ndimage.map_coordinates(
            image, points.reshape(-1, 3).T, order=1, mode="nearest", prefilter=False
        ).reshape(len(dirs), len(radii))
        values = ndimage.gaussian_filter1d(values.astype(np.float64), 1.0 / STEP_MM, axis=1)
        n = len(dirs)
        return cls(
            center=np.asarray(center, dtype=float),
            spacing=np.asarray(spacing, dtype=float),
            flat=flat,
            dirs=dirs,
            radii=radii,
            values=values,
            radius=np.full(n, STEP_MM),
            low=np.zeros(n),
            high=np.full(n, radii[-1]),
            bias=np.zeros((n, len(radii))),
        )

    @property
    def reach_mm(self) -> float:
        """The last sampled radius."""
        return float(self.radii[-1])

    def polar(self, index: np.ndarray) -> tuple[float, FloatArray]:
        """Distance (mm) and unit direction from the centre to a voxel index."""
        vector = (np.asarray(index, dtype=float) - self.center) * self.spacing
        distance = float(np.linalg.norm(vector))
        if distance < 1e-9:
            return 0.0, self.dirs[0]
        return distance, vector / distance

    def angles_to(self, direction: FloatArray) -> FloatArray:
        """Angle (radians) between every ray and ``direction``."""
        return np.arccos(np.clip(self.dirs @ direction, -1.0, 1.0))

    def solve(
        self, evidence: FloatArray, rays: BoolArray | None = None, arc_mm: float = POOL_ARC_MM
    ) -> None:
        """Set the radius of ``rays`` (all by default) to the best pooled edge in bounds.

        ``arc_mm`` is the pooling's Gaussian SD as an arc on the surface.
        """
        typical = max(float(np.median(self.radius)), 4.0)
        angle_sd = min(arc_mm / typical, 0.5)
        if self._pool is None or abs(angle_sd - self._pool_sd) > 0.25 * self._pool_sd:
            self._pool = pool_matrix(len(self.dirs), self.flat, angle_sd)
            self._pool_sd = angle_sd
        cumulative = np.cumsum(evidence, axis=1) * STEP_MM
        pooled = self._pool @ cumulative  # type: ignore[operator]
        allowed = (self.radii[None, :] >= self.low[:, None] - 1e-9) & (
            self.radii[None, :] <= self.high[:, None] + 1e-9
        )
        allowed[:, 0] |= ~allowed.any(axis=1)
        pooled = np.where(allowed, pooled, -np.inf)
        best = self.radii[np.argmax(pooled, axis=1)]
        if rays is None:
            self.radius = best
        else:
            self.radius = np.where(rays, best, self.radius)
        self.radius = np.clip(self.radius, np.minimum(self.low, self.high), self.high)

    def realign(self, evidence: FloatArray, reach_mm: float, arc_mm: float = POOL_ARC_MM) -> None:
        """Move each ray's edge by the offset its neighbours' evidence supports, aligned.

        :meth:`solve` pools the neighbours' evidence at the same distance from the
        centre: where the edge's distance varies over the pool's arc (a lobe, a
        valley), the pooled edge lies at the arc's mean distance, and a lobulated
        focus comes out rounded and short of volume (it grows as r³). Here each
        neighbour's cumulative evidence is read relative to its own edge, moved by a
        common offset of up to ``reach_mm`` either way; the sums are pooled with the
        same weights and each ray moves by the offset of the largest pooled sum
        (within the clicks' bounds). Where the evidence is linear near the edges this
        is one step of Van Cittert's deconvolution (r + (r − pooled mean of r),
        Van Cittert, Z Physik 1931; Jansson, "Deconvolution of Images and
        Spectra", 1997) taken from the evidence rather than from the radii: a ray
        moves out only as far as the tissue past its edge and its neighbours' edges
        reads as the focus.
        """
        typical = max(float(np.median(self.radius)), 4.0)
        pool = pool_matrix(len(self.dirs), self.flat, min(arc_mm / typical, 0.5))
        cumulative = np.cumsum(evidence, axis=1) * STEP_MM
        steps = max(round(reach_mm / STEP_MM), 0)
        last = len(self.radii) - 1
        edge = np.clip(np.round(self.radius / STEP_MM).astype(int), 0, last)
        index = np.clip(edge[:, None] + np.arange(-steps, steps + 1)[None, :], 0, last)
        aligned = np.take_along_axis(cumulative, index, axis=1)
        pooled = pool @ (aligned - aligned[:, steps : steps + 1])  # type: ignore[operator]
        moved = self.radii[index]
        allowed = (moved >= self.low[:, None] - 1e-9) & (moved <= self.high[:, None] + 1e-9)
        allowed[:, steps] = True
        # an exact tie (flat evidence) keeps the edge: the smallest move wins
        pooled = pooled - 1e-9 * np.abs(np.arange(-steps, steps + 1))[None, :]
        best = np.argmax(np.where(allowed, pooled, -np.inf), axis=1)
        chosen = np.take_along_axis(moved, best[:, None], axis=1)[:, 0]
        self.radius = np.clip(chosen, np.minimum(self.low, self.high), self.high)

    def edge_radius(self) -> FloatArray:
        """Where each ray's edge lies, from its last focus sample.

        Half a sampling step out (the edge lies between the last focus sample and
        the next), plus the shrink that the image's blur causes on a curved edge:
        the half-way level of a blurred ball of radius R lies about σ²/R inside its
        edge (the Laplacian of the blurred step; zero on a flat edge), with σ the
        blur along the ray taken as half a voxel (between a voxel's box profile,
        σ² = s²/12, and a Gaussian of one voxel; the reconstruction kernel in-plane,
        the slice profile across slices).
        """
        blur_sq = ((self.dirs * self.spacing[None, :]) ** 2).sum(axis=1)
        if self.flat:
            blur_sq = ((self.dirs[:, 1:] * self.spacing[None, 1:]) ** 2).sum(axis=1)
        # The σ²/R law holds for an edge larger than the blur: capped at 15 % of R, so
        # that a focus of a few mm on thick slices is not carried onto the next slice.
        shrink = np.minimum(
            0.25 * blur_sq / np.maximum(self.radius, 2.0 * STEP_MM), 0.15 * self.radius
        )
        return self.radius + 0.5 * STEP_MM + shrink

    def raster(
        self, shape: tuple[int, ...], offset_mm: float = 0.0
    ) -> tuple[tuple[slice, ...], BoolArray]:
        """The region as a mask over a box of the volume: (box, mask of the box).

        ``offset_mm`` moves the whole surface out (positive) or in along the rays: the
        user's margin (see ``InteractiveContour.set_margin``).
        """
        edge = np.maximum(self.edge_radius() + offset_mm, 0.0)
        extent = float(edge.max()) + 1.0
        geometry = self._geometry
        if geometry is None or geometry[0] < extent:
            geometry = self._build_geometry(shape, max(extent * 1.25, extent + 3.0))
            self._geometry = geometry
        _, box, distance, cell = geometry
        index, weight, _, _ = _lookup(len(self.dirs), self.flat)
        table = (edge[index] * weight).sum(axis=1)
        return box, distance <= table[cell]

    def _build_geometry(self, shape: tuple[int, ...], extent: float):
        reach = [0 if (self.flat and a == 0) else math.ceil(extent / s) + 1 for a, s in
                 enumerate(self.spacing)]  # fmt: skip
        c = np.round(self.center).astype(int)
        box = tuple(
            slice(max(int(ci) - r, 0), min(int(ci) + r + 1, n))
            for ci, r, n in zip(c, reach, shape, strict=True)
        )
        grids = np.ogrid[box]
        vz, vy, vx = (
            (g - ci) * s for g, ci, s in zip(grids, self.center, self.spacing, strict=True)
        )
        distance = np.sqrt(vz**2 + vy**2 + vx**2)
        _, _, n_polar, n_azimuth = _lookup(len(self.dirs), self.flat)
        azimuth = np.arctan2(vy, vx)
        a_bin = np.clip(((azimuth + math.pi) / (2 * math.pi) * n_azimuth).astype(np.int32), 0,
                        n_azimuth - 1)  # fmt: skip
        if self.flat:
            cell = np.broadcast_to(a_bin, distance.shape)
        else:
            polar = np.arccos(np.clip(vz / np.maximum(distance, 1e-9), -1.0, 1.0))
            p_bin = np.clip((polar / math.pi * n_polar).astype(np.int32), 0, n_polar - 1)
            cell = p_bin * n_azimuth + a_bin
        return extent, box, distance, cell


Evidence = Callable[[Star], FloatArray]
