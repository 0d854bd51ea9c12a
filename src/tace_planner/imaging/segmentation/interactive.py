"""Interactive contour refinement: include and exclude clicks as hard, local constraints.

The first include click contours the focus with the one-click auto contour
(:func:`tace_planner.imaging.segmentation.focus.auto_contour`). Every further click
corrects the contour near it, and only there:

* **include** at a point outside the contour (missed tumour): the connected region
  around the click whose smoothed intensity matches the click's neighbourhood is
  added — bounded by the click's distance to the contour (the depth of the miss),
  never reaching voxels nearer to an exclude click than to this one. Where the
  click's intensity cannot be told from the tissue outside the contour (a 3–5 HU
  tumour), the bound alone decides (a ball of the miss's depth).
* **exclude** at a point inside the contour (a leak): the voxels of the contour
  nearer to this click than to every include click (their Voronoi cell, in mm)
  that are connected to it are removed, then islands cut off from the include
  clicks are dropped.

Hard constraints: a ball around every include click is always inside the result,
a ball around every exclude click never is (a later click wins where two meet).
Corrections are local by construction: an include click changes only voxels within
its bound, an exclude click only voxels of its own Voronoi cell — so a corrective
click never undoes distant correct parts, and adding clicks converges.

Method family: seeded region growing with competing seeds (Adams & Bischof, IEEE
Trans Pattern Anal Mach Intell 1994) and the Voronoi partition of seeds used by
geodesic interactive segmentation (Criminisi, Sharp & Blake, GeoS, ECCV 2008), with
Euclidean distances for speed. Everything is computed in a box around the contour
and the clicks, so a click costs a few tens of milliseconds on a 512 × 512 × 120 CT.

Arrays are (z, y, x), spacing in mm; clicks are voxel indices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tace_planner.domain.volume import ImageVolume

BoolArray = npt.NDArray[np.bool_]
Index = tuple[int, int, int]

SEED_RADIUS_MM = 2.0
"""Radius of the ball a click forces in (include) or out (exclude)."""
MARGIN_MM = 12.0
"""Margin of the working box around the contour and the clicks."""
SMOOTHING_SD_MM = 1.2
"""Gaussian SD of the intensity used to compare voxels with a click."""


@dataclass(frozen=True, slots=True)
class _Model:
    """Intensities of the focus and of the tissue around it, at one smoothing scale."""

    sigma_mm: float
    focus_hu: float
    background_hu: float
    spread_hu: float

    @property
    def separable(self) -> bool:
        """True when the difference stands out of the surrounding tissue's spread."""
        return abs(self.focus_hu - self.background_hu) >= max(1.5 * self.spread_hu, 3.0)

    @property
    def margin(self) -> float:
        """The noise margin in units of likeness (one spread)."""
        difference = abs(self.focus_hu - self.background_hu)
        return min(self.spread_hu / difference, 0.5) if difference > 0 else 0.5


@dataclass(frozen=True, slots=True)
class Click:
    """One click: voxel index (z, y, x) and whether it includes or excludes."""

    index: Index
    include: bool


@dataclass
class InteractiveContour:
    """The contour of one focus under construction, refined click by click.

    Parameters
    ----------
    volume : ImageVolume
        CT in HU.
    liver_mask : numpy.ndarray of bool, optional
        Passed to the first click's auto contour (leak guard and liver model).
    flat : bool
        Work on the first click's axial slice only (2D contouring).
    """

    volume: ImageVolume
    liver_mask: BoolArray | None = None
    flat: bool = False
    clicks: list[Click] = field(default_factory=list)
    mask: BoolArray | None = None
    _history: list[tuple[tuple[slice, slice, slice], BoolArray] | None] = field(
        default_factory=list
    )
    _extent: tuple[np.ndarray, np.ndarray] | None = None
    _model: _Model = field(default_factory=lambda: _Model(SMOOTHING_SD_MM, 0.0, 0.0, 1.0))
    messages: list[str] = field(default_factory=list)

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel spacing (dz, dy, dx) in mm."""
        columns = np.asarray(self.volume.index_to_lps, dtype=float)[:3, :3]
        return tuple(float(np.linalg.norm(columns[:, a])) for a in range(3))  # type: ignore[return-value]

    # -- the user's gestures ---------------------------------------------------------

    def click(self, index: Sequence[int], include: bool = True) -> BoolArray:
        """Add one click and return the new contour (a mask of the whole volume).

        The first click must include. A click outside the volume is refused. The
        mask returned is the live contour, changed in place by later clicks (only
        around them): copy it to keep a version.
        """
        shape = self.volume.voxels.shape
        point = tuple(int(v) for v in index)
        if len(point) != 3 or not all(0 <= p < n for p, n in zip(point, shape, strict=True)):
            raise ValueError(f"click {index!r} lies outside the volume {shape}")
        if self.flat and self.clicks:
            point = (self.clicks[0].index[0], point[1], point[2])
        if self.mask is None and not include:
            raise ValueError("the first click must be inside the focus (include)")
        if self.mask is None:
            self._history.append(None)
        else:
            region = self._box_around(point, 45.0)  # holds every voxel the click may change
            self._history.append((region, self.mask[region].copy()))
        self.clicks.append(Click(point, include))  # type: ignore[arg-type]
        self.messages = []
        if self.mask is None:
            self.mask = self._first(point)  # type: ignore[arg-type]
            self._extent = None
        elif include:
            self.mask = self._include(point)  # type: ignore[arg-type]
        else:
            self.mask = self._exclude(point)  # type: ignore[arg-type]
        self._constrain(self.mask)
        self._update_extent(self._box_around(point, 45.0) if self._extent is not None else None)
        return self.mask

    def undo(self) -> BoolArray | None:
        """Take the last click back; return the contour before it (None before any)."""
        if not self.clicks:
            return self.mask
        self.clicks.pop()
        entry = self._history.pop()
        if entry is None:
            self.mask = None
            self._extent = None
            return None
        region, previous = entry
        assert self.mask is not None
        self.mask[region] = previous
        self._update_extent(region)
        return self.mask

    def _update_extent(self, region: tuple[slice, slice, slice] | None) -> None:
        """The contour's bounding box, rescanned only where the last change can be."""
        assert self.mask is not None
        if region is None or self._extent is None:
            scan = tuple(slice(0, n) for n in self.mask.shape)
        else:
            low, high = self._extent
            scan = tuple(
                slice(min(int(lo), r.start), max(int(hi) + 1, r.stop))
                for lo, hi, r in zip(low, high, region, strict=True)
            )
        part = self.mask[scan]
        ranges = []
        for axis in range(3):
            others = tuple(a for a in range(3) if a != axis)
            hits = np.flatnonzero(part.any(axis=others))
            if hits.size == 0:
                self._extent = None
                return
            ranges.append((hits[0] + scan[axis].start, hits[-1] + scan[axis].start))
        self._extent = (np.array([r[0] for r in ranges]), np.array([r[1] for r in ranges]))

    # -- steps -------------------------------------------------------------------------

    def _first(self, point: Index) -> BoolArray:
        """The first click: the intensity model of focus and liver, then the focus."""
        self.mask = np.zeros(self.volume.voxels.shape, dtype=bool)
        self._model = self._fit_model(point)
        return self._grow(point, first=True)

    def _fit_model(self, point: Index) -> _Model:
        """Focus and surrounding-tissue intensities around the first click.

        The focus level is the median within 3 mm of the click; the surrounding
        tissue is the mode of the shell (15–30, 25–40 or 35–50 mm from the click)
        that differs most from it — one of the shells lies beyond the focus whatever
        its size; its spread is the robust SD of the values near that mode. The image
        is smoothed at the finest of 1.2, 2, 3, 4 mm that brings the spread below a
        third of the difference: noise and parenchymal texture average out, and a
        midpoint threshold keeps a straight edge in place at any scale.
        """
        box = self._box_around(point, 52.0)
        local = self._local(box, point)
        to_click = self._distance_mm(tuple(b.stop - b.start for b in box), [local])
        liver = self.liver_mask[box] if self.liver_mask is not None else None
        best: _Model | None = None
        for sigma_mm in (1.2, 2.0, 3.0, 4.0):
            smooth = self._smoothed(box, sigma_mm)
            level = float(np.median(_ball_values(smooth, local, self.spacing_mm, 3.0)))
            candidates = []
            for low, high in ((15.0, 30.0), (25.0, 40.0), (35.0, 50.0)):
                shell = (to_click >= low) & (to_click <= high)
                if liver is not None and (shell & liver).sum() > 100:
                    shell &= liver
                if shell.sum() > 50:
                    values = smooth[shell]
                    mode = _mode(values)
                    near = values[np.abs(values - mode) <= 40.0]
                    candidates.append((abs(mode - level), mode, _robust_sd(near)))
            if not candidates:
                continue
            _, background, spread = max(candidates)
            best = _Model(sigma_mm, level, background, max(spread, 1.0))
            if abs(level - background) >= 3.0 * spread:
                break
        if best is None:
            best = _Model(SMOOTHING_SD_MM, 0.0, 0.0, 1.0)
        if not best.separable:
            self.messages.append(
                f"The clicked tissue ({best.focus_hu:.0f} HU) is hard to tell from its "
                f"surroundings ({best.background_hu:.0f} ± {best.spread_hu:.0f} HU): check the "
                "contour and add include or exclude clicks."
            )
        return best

    def _box(self, extra: Sequence[Index] = ()) -> tuple[slice, slice, slice]:
        assert self.mask is not None
        shape = self.volume.voxels.shape
        points = [c.index for c in self.clicks] + list(extra)
        if self._extent is None and self.mask.any():
            self._update_extent(None)
        extent = [] if self._extent is None else [self._extent[0], self._extent[1]]
        low = np.min([*points, *extent], axis=0)
        high = np.max([*points, *extent], axis=0)
        margin = [math.ceil(MARGIN_MM / s) for s in self.spacing_mm]
        if self.flat:
            margin[0] = 0
        return tuple(
            slice(max(int(lo) - m, 0), min(int(hi) + m + 1, n))
            for lo, hi, m, n in zip(low, high, margin, shape, strict=True)
        )  # type: ignore[return-value]

    def _smoothed(
        self, box: tuple[slice, slice, slice], sigma_mm: float = SMOOTHING_SD_MM
    ) -> npt.NDArray[np.float32]:
        from scipy import ndimage

        sigma = [sigma_mm / s for s in self.spacing_mm]
        if self.flat:
            sigma[0] = 0.0
        return ndimage.gaussian_filter(self.volume.voxels[box].astype(np.float32), sigma)

    def _local(self, box: tuple[slice, slice, slice], point: Index) -> tuple[slice, ...]:
        return tuple(p - b.start for p, b in zip(point, box, strict=True))  # type: ignore[return-value]

    def _distance_mm(self, shape: Sequence[int], points: Sequence[Sequence[int]]) -> np.ndarray:
        """Euclidean distance (mm) to the nearest of ``points`` over a box of ``shape``."""
        from scipy import ndimage

        if not points:
            return np.full(tuple(shape), np.inf)
        seeds = np.ones(tuple(shape), dtype=bool)
        for p in points:
            seeds[tuple(p)] = False
        return ndimage.distance_transform_edt(seeds, sampling=self.spacing_mm)

    def _include(self, point: Index) -> BoolArray:
        assert self.mask is not None
        if self.mask[point]:
            return self.mask
        return self._grow(point, first=False)

    def _likeness(self, smooth: np.ndarray) -> np.ndarray:
        """0 where the smoothed image equals the surrounding tissue, 1 at the focus level."""
        model = self._model
        difference = model.focus_hu - model.background_hu
        if abs(difference) < 1e-6:
            return np.zeros_like(smooth)
        return (smooth - model.background_hu) / difference

    def _grow(self, point: Index, *, first: bool) -> BoolArray:
        """Add the region around ``point`` that is at least as focus-like as the click.

        *First click*: voxels nearer in intensity to the focus than to the surrounding
        tissue (likeness ≥ ½), connected to the click, within 40 mm. *Include click*:
        the user says the clicked voxel is focus, so around it every voxel at least as
        focus-like as the click (less a noise margin) is added — a local threshold at
        the click — bounded by three times the depth of the miss; a click on tissue
        unlike both (necrosis, calcification, a vessel inside the focus) adds the
        connected tissue that resembles the click. Never reaching voxels nearer to an
        exclude click; thin bridges cut (an opening); holes filled. When intensity
        cannot separate focus and liver, the bound alone decides (a ball).
        """
        from scipy import ndimage

        assert self.mask is not None
        model = self._model
        spacing = self.spacing_mm
        box = self._box_around(point, 45.0 if first else 0.0)
        mask = self.mask[box]
        local = self._local(box, point)
        to_click = self._distance_mm(mask.shape, [local])
        excludes = [self._local(box, c.index) for c in self.clicks if not c.include]
        nearer_exclude = self._distance_mm(mask.shape, excludes) < to_click
        smooth = self._smoothed(box, model.sigma_mm)
        likeness = self._likeness(smooth)
        margin = model.margin
        if first:
            region = likeness >= 0.5
            depth = _half_radius_mm(region, to_click, 40.0)
            bound = to_click <= 1.3 * depth + 2.0
        else:
            depth = float(ndimage.distance_transform_edt(~mask, sampling=spacing)[local])
            bound = to_click <= max(3.0 * depth, 6.0)
            here = float(np.median(_ball_values(likeness, local, spacing, 1.0)))
            if -margin <= here <= 1.0 + 2.0 * margin:
                region = likeness >= min(here, 0.5) - margin
            else:
                level = float(np.median(_ball_values(smooth, local, spacing, 1.5)))
                region = np.abs(smooth - level) < np.abs(smooth - model.background_hu)
        if model.separable:
            candidate = region & bound & ~nearer_exclude & ~mask
            opened = ndimage.binary_opening(candidate, structure=_cross(self.flat))
            labels, _ = ndimage.label(opened if opened[local] else candidate)
            grown = labels == labels[local] if labels[local] else np.zeros_like(mask)
        else:
            grown = (to_click <= (6.0 if first else 1.2 * depth + 0.5)) & ~nearer_exclude
        if first and grown.any():
            grown = self._undo_curvature_shrink(grown, box, bound & ~nearer_exclude)
        self.mask[box] = _fill(mask | grown, self.flat)
        return self.mask

    def _undo_curvature_shrink(
        self, grown: BoolArray, box: tuple[slice, slice, slice], allowed: BoolArray
    ) -> BoolArray:
        """Move the outline out by the shrink that smoothing causes on a curved edge.

        On an image smoothed by a Gaussian of SD σ, the half-way level of a ball of
        radius R lies about σ²/R inside its edge (the Laplacian of the smoothed step;
        the bias is zero on a flat edge). The outline is moved out by that distance,
        with R the radius of the sphere of equal volume.
        """
        from scipy import ndimage

        spacing = self.spacing_mm
        volume_mm3 = float(grown.sum()) * math.prod(spacing)
        radius = (3.0 * volume_mm3 / (4.0 * math.pi)) ** (1.0 / 3.0)
        shift = self._model.sigma_mm**2 / max(radius, 1.0)
        if shift < 0.2:
            return grown
        outside = ndimage.distance_transform_edt(~grown, sampling=spacing)
        return grown | ((outside <= shift) & allowed)

    def _box_around(self, point: Index, reach_mm: float) -> tuple[slice, slice, slice]:
        """The working box, grown to ``reach_mm`` around ``point``."""
        box = self._box([point])
        if reach_mm <= 0:
            return box
        shape = self.volume.voxels.shape
        reach = [math.ceil(reach_mm / s) for s in self.spacing_mm]
        if self.flat:
            reach[0] = 0
        return tuple(
            slice(max(min(b.start, p - r), 0), min(max(b.stop, p + r + 1), n))
            for b, p, r, n in zip(box, point, reach, shape, strict=True)
        )  # type: ignore[return-value]

    def _exclude(self, point: Index) -> BoolArray:
        """Remove what the click marks as not focus, and only near it.

        Within the click's Voronoi cell against the include clicks (voxels nearer to
        it than to every include click), the voxels connected to the click that are
        at most as focus-like as the clicked voxel (plus a noise margin) are removed —
        a local threshold at the click; where the leak is as focus-like as the focus
        (likeness above 0.8), the connected part of the cell goes. Islands cut off
        from every include click are dropped.
        """
        from scipy import ndimage

        assert self.mask is not None
        if not self.mask[point]:
            return self.mask
        model = self._model
        box = self._box()
        mask = self.mask[box]
        local = self._local(box, point)
        includes = [self._local(box, c.index) for c in self.clicks if c.include]
        cell = self._distance_mm(mask.shape, [local]) < self._distance_mm(mask.shape, includes)
        if model.separable:
            likeness = self._likeness(self._smoothed(box, model.sigma_mm))
            here = float(np.median(_ball_values(likeness, local, self.spacing_mm, 1.0)))
            if here < 0.8:
                cell &= likeness <= max(here, 0.5) + model.margin
        labels, _ = ndimage.label(mask & cell)
        removed = labels == labels[local] if labels[local] else np.zeros_like(mask)
        kept = mask & ~removed
        labels, _ = ndimage.label(kept)
        anchors = {int(labels[p]) for p in includes if labels[p]}
        kept = np.isin(labels, sorted(anchors)) if anchors else kept
        self.mask[box] = kept
        return self.mask

    def _constrain(self, mask: BoolArray) -> None:
        """Every click's ball forced in or out, in click order (a later click wins)."""
        for click in self.clicks:
            ball = _ball_box(click.index, self.spacing_mm, SEED_RADIUS_MM, mask.shape, self.flat)
            region, inside = ball
            mask[region] = np.where(inside, click.include, mask[region])


def _ball_box(
    center: Index,
    spacing: Sequence[float],
    radius_mm: float,
    shape: Sequence[int],
    flat: bool,
) -> tuple[tuple[slice, slice, slice], BoolArray]:
    reach = [0 if (flat and a == 0) else math.floor(radius_mm / s) for a, s in enumerate(spacing)]
    region = tuple(
        slice(max(c - r, 0), min(c + r + 1, n))
        for c, r, n in zip(center, reach, shape, strict=True)
    )
    grids = np.ogrid[
        tuple(slice(s.start - c, s.stop - c) for s, c in zip(region, center, strict=True))
    ]
    distance = sum((g * s) ** 2 for g, s in zip(grids, spacing, strict=True))
    return region, np.asarray(distance <= radius_mm**2)  # type: ignore[return-value]


def _ball_values(
    image: np.ndarray, center: Sequence[int], spacing: Sequence[float], radius_mm: float
) -> np.ndarray:
    region, inside = _ball_box(tuple(center), spacing, radius_mm, image.shape, False)  # type: ignore[arg-type]
    return image[region][inside]


def _shell(mask: BoolArray, spacing: Sequence[float], width_mm: float) -> BoolArray:
    from scipy import ndimage

    return (ndimage.distance_transform_edt(~mask, sampling=spacing) <= width_mm) & ~mask


def _half_radius_mm(region: BoolArray, to_click: np.ndarray, limit_mm: float) -> float:
    """The radius at which fewer than half of the voxels of a 1 mm shell around the click
    lie in ``region``: the focus's extent, robust to a leak along a few directions."""
    inside = to_click <= limit_mm
    bins = np.floor(to_click[inside]).astype(int)
    total = np.bincount(bins, minlength=int(limit_mm) + 1)
    hits = np.bincount(bins, weights=region[inside].astype(float), minlength=int(limit_mm) + 1)
    fraction = hits / np.maximum(total, 1)
    below = np.nonzero((fraction < 0.5) & (total > 0))[0]
    below = below[below >= 2]
    return float(below[0]) if below.size else limit_mm


def _cross(flat: bool) -> np.ndarray:
    from scipy import ndimage

    structure = ndimage.generate_binary_structure(3, 1)
    if flat:
        structure[0] = structure[2] = False
    return structure


def _mode(values: np.ndarray) -> float:
    """The most frequent value (histogram of 2 HU bins, lightly smoothed)."""
    from scipy import ndimage

    low, high = np.percentile(values, [1, 99])
    if high - low < 2.0:
        return float(np.median(values))
    counts, edges = np.histogram(values, bins=max(int((high - low) / 2.0), 4), range=(low, high))
    counts = ndimage.gaussian_filter1d(counts.astype(float), 1.5)
    peak = int(np.argmax(counts))
    return float(0.5 * (edges[peak] + edges[peak + 1]))


def _robust_sd(values: np.ndarray) -> float:
    median = float(np.median(values))
    return 1.4826 * float(np.median(np.abs(values - median)))


def _fill(mask: BoolArray, flat: bool) -> BoolArray:
    from scipy import ndimage

    if flat:
        return np.stack([ndimage.binary_fill_holes(plane) for plane in mask])
    return ndimage.binary_fill_holes(mask)
