"""Correct a whole-organ contour (the liver) with one click, near the click only.

The liver is too large and too concave for the star-shaped focus contour
(:mod:`~tace_planner.imaging.segmentation.interactive`); its corrections are local
region operations on the image smoothed at 1.5 mm:

* **include** at a point outside the contour (a missed part: the dome, a tumour at
  the capsule, a lobe cut off): the connected region around the click whose
  intensity lies within 2.5 spreads (at least 15 HU) of the organ's level — or of
  the click's, when the clicked tissue differs from the organ (a tumour) — is added.
* **exclude** at a point inside the contour (a leak: the IVC, the heart, the
  stomach wall): the connected part of the contour around the click that is
  nearer in intensity to the click than to the organ's own level is removed; where
  the click's tissue looks like the organ, the part of the contour within the
  click's distance to the outside plus 5 mm goes. Pieces cut off from the rest of
  the organ go with it.

Organ-like tissue is followed within three times the click's distance to the
contour (15–60 mm); tissue that differs from the organ as far as it goes, up to
60 mm.

Hard constraints: a 1 mm ball around the click is in (include) or out (exclude).
An include never removes a voxel, an exclude never adds one, and nothing changes
beyond the ball. Seeded region growing (Adams & Bischof, IEEE TPAMI 1994) bounded
by the click's reach.

Arrays are (z, y, x), spacing in mm; the click is a voxel index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]

CLICK_BALL_MM = 1.0
MIN_REACH_MM = 15.0
MAX_REACH_MM = 60.0
SMOOTHING_MM = 1.5


def refine_organ(
    image: np.ndarray,
    spacing_mm: Sequence[float],
    mask: BoolArray,
    click: Sequence[int],
    include: bool,
) -> BoolArray:
    """Return a corrected copy of ``mask`` after one click (see the module docstring).

    Raises
    ------
    ValueError
        The click lies outside the image, or the mask's shape differs from it.
    """
    from scipy import ndimage

    if mask.shape != image.shape:
        raise ValueError(f"mask shape {mask.shape} differs from the image's {image.shape}")
    point = tuple(int(v) for v in click)
    if len(point) != 3 or not all(0 <= p < n for p, n in zip(point, image.shape, strict=True)):
        raise ValueError(f"click {tuple(click)!r} lies outside the image {image.shape}")
    spacing = tuple(float(s) for s in spacing_mm)
    result = mask.copy()
    if bool(mask[point]) == include:
        _force(result, point, spacing, include)
        return result
    depth = _distance_to(mask if include else ~mask, point, spacing)
    box = _box(point, MAX_REACH_MM, spacing, image.shape)
    local = tuple(p - b.start for p, b in zip(point, box, strict=True))
    sigma = [SMOOTHING_MM / s for s in spacing]
    smooth = ndimage.gaussian_filter(image[box].astype(np.float32), sigma)
    part = mask[box]
    value = float(np.median(smooth[_ball(smooth.shape, local, spacing, 1.5)]))
    organ = smooth[part & ~_ball(smooth.shape, local, spacing, depth + 2.0)]
    level = float(np.median(organ)) if organ.size > 50 else float(np.median(smooth[part]))
    spread = max(_robust_sd(organ) if organ.size > 50 else 10.0, 5.0)
    organ_like = abs(value - level) <= 2.0 * spread
    # Tissue that differs from the organ is followed as far as it goes (up to the
    # largest reach); organ-like tissue only as far as the click's depth suggests.
    reach = (
        MAX_REACH_MM if not organ_like else float(np.clip(3.0 * depth, MIN_REACH_MM, MAX_REACH_MM))
    )
    ball = _ball(smooth.shape, local, spacing, reach)
    if include:
        centre = level if organ_like else value
        like = np.abs(smooth - centre) <= max(2.5 * spread, 15.0)
        candidate = like & ball & ~part
        # An opening cuts the thin bridges (the diaphragm smoothed into the band,
        # a vessel wall) through which the growth would reach a neighbour organ.
        opened = ndimage.binary_opening(candidate, structure=_ball_structure(spacing, 2.5))
        source = opened if opened[local] else candidate
        labels, _ = ndimage.label(source)
        grown = labels == labels[local] if labels[local] else np.zeros_like(part)
        result[box] = part | grown
    else:
        if not organ_like:
            unlike = np.abs(smooth - value) < np.abs(smooth - level)
        else:
            unlike = _ball(smooth.shape, local, spacing, depth + 5.0)
        labels, _ = ndimage.label(part & ball & unlike)
        removed = labels == labels[local] if labels[local] else np.zeros_like(part)
        kept = part & ~removed
        result[box] = kept
        result = _drop_cut_off(result, mask)
    _force(result, point, spacing, include)
    return result


def _ball_structure(spacing: Sequence[float], radius_mm: float) -> BoolArray:
    reach = [max(int(radius_mm // s), 0) for s in spacing]
    shape = tuple(2 * r + 1 for r in reach)
    return _ball(shape, reach, spacing, radius_mm)


def _drop_cut_off(result: BoolArray, before: BoolArray) -> BoolArray:
    """Keep the pieces that hold most of the organ: what the cut severed goes."""
    from scipy import ndimage

    labels, count = ndimage.label(result)
    if count <= 1:
        return result
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= 0.05 * sizes.max()) + 1
    return np.isin(labels, keep) & before


def _force(mask: BoolArray, point: tuple[int, ...], spacing: Sequence[float], value: bool) -> None:
    box = _box(point, CLICK_BALL_MM, spacing, mask.shape)
    local = tuple(p - b.start for p, b in zip(point, box, strict=True))
    inside = _ball(tuple(b.stop - b.start for b in box), local, spacing, CLICK_BALL_MM)
    mask[box] = np.where(inside, value, mask[box])


def _distance_to(region: BoolArray, point: tuple[int, ...], spacing: Sequence[float]) -> float:
    """Distance (mm) from ``point`` to the nearest voxel of ``region`` (searched in a box)."""
    from scipy import ndimage

    box = _box(point, MAX_REACH_MM / 3.0 + 5.0, spacing, region.shape)
    local = tuple(p - b.start for p, b in zip(point, box, strict=True))
    part = region[box]
    if not part.any():
        return MAX_REACH_MM / 3.0
    return float(ndimage.distance_transform_edt(~part, sampling=spacing)[local])


def _box(
    point: Sequence[int], reach_mm: float, spacing: Sequence[float], shape: Sequence[int]
) -> tuple[slice, slice, slice]:
    return tuple(
        slice(max(p - math.ceil(reach_mm / s), 0), min(p + math.ceil(reach_mm / s) + 1, n))
        for p, s, n in zip(point, spacing, shape, strict=True)
    )  # type: ignore[return-value]


def _ball(
    shape: Sequence[int], center: Sequence[int], spacing: Sequence[float], radius_mm: float
) -> BoolArray:
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    distance = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, center, spacing, strict=True))
    return np.asarray(distance <= radius_mm**2)


def _robust_sd(values: np.ndarray) -> float:
    median = float(np.median(values))
    return 1.4826 * float(np.median(np.abs(values - median)))
