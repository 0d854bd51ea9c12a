"""The growing and half-maximum edge refinement behind the auto contour (one working box).

See :mod:`tace_planner.imaging.segmentation.focus` for the method; this
module works on a crop and knows nothing about LPS or volumes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tace_planner.imaging.segmentation.common import BoolArray, ball
from tace_planner.imaging.segmentation.intensity import (
    gaussian_smooth,
    nearest_mode,
    one_sided_sd,
)
from tace_planner.imaging.segmentation.morphology import (
    components_with,
    cut_bridges,
    dilate_box,
    edge_level,
)

if TYPE_CHECKING:
    from tace_planner.imaging.segmentation.focus import AutoContourParameters

_START_SD = 3.0  # first threshold: this many liver SDs from the liver
_INNER_WIDTH_MM = 1.5
_OUTER_WIDTH_MM = 4.0
_MIN_BAND = 30
_MODE_SAMPLES = 60
_OUTLINE_SD_MM = 0.8
_FINAL_SD_MM = 1.3
_OUTLINE_FRACTION = 0.05
_NOISE_FLOOR_SD = 2.0
"""The refined threshold stays at least this many smoothed liver SDs from the liver: nearer,
the liver's own noise (2.3 % of its voxels lie beyond 2 SD on one side) joins the region and
a small low-contrast focus leaks into the parenchyma."""
_MIN_CONTRAST_HU = 5.0  # below this a click is "liver-like" whatever the noise


@dataclass(frozen=True, eq=False)
class ContourModel:
    """Everything the growing needs, on one crop (indices local to the crop)."""

    image: npt.NDArray[np.float32]
    spacing_mm: tuple[float, float, float]
    include_index: npt.NDArray[np.intp]
    exclude_index: npt.NDArray[np.intp]
    allowed: BoolArray | None
    distance_mm: npt.NDArray[np.float32]
    seed_hu: float
    liver_hu: float


@dataclass
class Outcome:
    """The grown region and the numbers that produced it."""

    region: BoolArray
    threshold_hu: float
    liver_hu: float
    lesion_edge_hu: float
    seed_hu: float
    smoothing_sd_mm: float
    liver_sd_hu: float
    direction: str
    warnings: list[str] = field(default_factory=list)


@dataclass(eq=False)
class _Scale:
    """The crop smoothed at one scale, the liver SD there, and its seams (cached per ``far``)."""

    sigma_mm: float
    smoothed: npt.NDArray[np.float32]
    liver_sd: float
    seams: dict[float, tuple[BoolArray | None, float]] = field(default_factory=dict)

    def seam(self, model: ContourModel, sign: float, far: float) -> tuple[BoolArray | None, float]:
        """See :func:`_seam`."""
        if far not in self.seams:
            self.seams[far] = _seam(model, self.smoothed, sign, far, self.sigma_mm)
        return self.seams[far]


def grow_and_refine(model: ContourModel, params: AutoContourParameters) -> Outcome:
    """Grow the lesion from its seeds and move its threshold to the half-maximum edge."""
    contrast = model.seed_hu - model.liver_hu
    sign = 1.0 if contrast > 0 else -1.0
    guard = model.distance_mm <= params.max_radius_mm
    if model.allowed is not None:
        guard &= model.allowed
    warnings: list[str] = []
    # Smoothing finer than half a pixel does nothing on a coarse grid: start above it.
    pixel = min(model.spacing_mm[1:])
    ladder = tuple(s for s in params.smoothing_ladder_mm if s >= 0.5 * pixel) or (
        params.smoothing_ladder_mm[-1],
    )
    level = 0
    scale = _scale(model, ladder[level], guard)
    while level + 1 < len(ladder) and abs(contrast) / 2 < params.target_cnr * scale.liver_sd:
        level += 1
        scale = _scale(model, ladder[level], guard)
    far = max(params.far_margin_hu, abs(contrast) / 2, 3.0 * scale.liver_sd)
    if abs(contrast) < max(2.0 * scale.liver_sd, _MIN_CONTRAST_HU):
        warnings.append(
            f"The click ({model.seed_hu:.0f} HU) hardly differs from the liver "
            f"({model.liver_hu:.0f} HU): click the focus's centre or draw it by hand."
        )
    threshold = model.liver_hu + sign * min(_START_SD * scale.liver_sd, abs(contrast) / 2)
    lesion_edge, liver_edge = model.seed_hu, model.liver_hu
    region = np.zeros(model.image.shape, dtype=bool)
    for _ in range(params.max_iterations):
        region = _grow(model, scale, threshold, sign, far, guard, params)
        inner, outer = _edge_samples(
            scale.smoothed, region, guard, model.spacing_mm, scale.sigma_mm
        )
        if inner is None or outer is None:
            break
        if sign * (outer - model.liver_hu) > _START_SD * scale.liver_sd:
            # What surrounds the region is not liver yet (a viable rim around the
            # necrosis that was clicked): grow into it.
            new_threshold = _clamped(
                (outer + model.liver_hu) / 2, model.liver_hu, sign, scale.liver_sd
            )
            if sign * (threshold - new_threshold) > 0.25:
                threshold = new_threshold
                continue
        lesion_edge, liver_edge = inner, outer
        half = abs(lesion_edge - liver_edge) / 2
        if sign * (lesion_edge - liver_edge) <= 0:
            warnings.append("No edge found around the click; the first estimate was kept.")
            break
        can_smooth_more = level + 1 < len(ladder) and ladder[level + 1] <= _max_sigma(region, model)
        if half < params.target_cnr * scale.liver_sd and can_smooth_more:
            level += 1
            scale = _scale(model, ladder[level], guard)
            threshold = (lesion_edge + liver_edge) / 2
            continue
        level_fraction = edge_level(region, model.spacing_mm, scale.sigma_mm)
        new_threshold = liver_edge + level_fraction * (lesion_edge - liver_edge)
        new_threshold = _clamped(new_threshold, liver_edge, sign, scale.liver_sd)
        if abs(new_threshold - threshold) < max(0.25 * scale.liver_sd, 0.25):
            threshold = new_threshold
            region = _grow(model, scale, threshold, sign, far, guard, params)
            break
        threshold = new_threshold
    final_sd = min(max(scale.sigma_mm, _FINAL_SD_MM), _max_sigma(region, model))
    if region.any() and final_sd > scale.sigma_mm + 1e-6 and sign * (lesion_edge - liver_edge) > 0:
        # The outline itself from a smoother image: less voxel jitter on the edge, the
        # curvature bias of the extra smoothing undone by the edge level.
        scale = _scale(model, final_sd, guard)
        fraction = edge_level(region, model.spacing_mm, final_sd)
        threshold = liver_edge + fraction * (lesion_edge - liver_edge)
        threshold = _clamped(threshold, liver_edge, sign, scale.liver_sd)
        region = _grow(model, scale, threshold, sign, far, guard, params)
    if region.any() and _OUTLINE_SD_MM > 0:
        outline_sd = float(np.clip(_OUTLINE_FRACTION * _equivalent_radius(region, model.spacing_mm),
                                   _OUTLINE_SD_MM, 2.0))  # fmt: skip
        region = _smooth_outline(region, model, guard, outline_sd)
    return Outcome(
        region=region,
        threshold_hu=float(threshold),
        liver_hu=float(liver_edge),
        lesion_edge_hu=float(lesion_edge),
        seed_hu=model.seed_hu,
        smoothing_sd_mm=scale.sigma_mm,
        liver_sd_hu=float(scale.liver_sd),
        direction="hyper" if sign > 0 else "hypo",
        warnings=warnings,
    )


def _clamped(threshold: float, liver_hu: float, sign: float, liver_sd: float) -> float:
    """The threshold, kept at least ``_NOISE_FLOOR_SD`` smoothed liver SDs from the liver."""
    floor = _NOISE_FLOOR_SD * liver_sd
    if sign * (threshold - liver_hu) < floor:
        return liver_hu + sign * floor
    return threshold


def _smooth_outline(
    region: BoolArray, model: ContourModel, guard: BoolArray, sigma_mm: float
) -> BoolArray:
    """Remove single-voxel bumps and dents from the outline (noise), keeping the volume.

    The region's indicator is blurred by ``sigma_mm`` and cut at the
    curvature-corrected half level (:func:`edge_level`), then reconnected to
    the seeds and filled.
    """
    margin = [int(np.ceil(3 * sigma_mm / s)) + 1 for s in model.spacing_mm]
    box = _grown_box(region, margin)
    crop = region[box]
    u = gaussian_smooth(crop.astype(np.float32), sigma_mm, model.spacing_mm)
    smoothed = region.copy()
    smoothed[box] = (u >= edge_level(crop, model.spacing_mm, sigma_mm)) & guard[box]
    for seed in model.include_index:
        smoothed[tuple(seed)] |= region[tuple(seed)]
    kept = _fill(components_with(smoothed, model.include_index))
    return kept if kept.any() else region


def _max_sigma(region: BoolArray, model: ContourModel) -> float:
    """Largest smoothing SD worth trying for this region: a quarter of its equivalent radius."""
    count = int(np.count_nonzero(region))
    volume_mm3 = count * float(np.prod(model.spacing_mm))
    return 0.25 * (3.0 * volume_mm3 / (4.0 * np.pi)) ** (1.0 / 3.0)


def _scale(model: ContourModel, sigma_mm: float, guard: BoolArray) -> _Scale:
    """Smooth the crop (within the liver mask only, when there is one) and measure it."""
    if model.allowed is None:
        smoothed = gaussian_smooth(model.image, sigma_mm, model.spacing_mm)
    else:
        # Normalised convolution: fat and vessels outside the liver do not bleed in.
        weight = model.allowed.astype(np.float32)
        total = gaussian_smooth(model.image * weight, sigma_mm, model.spacing_mm)
        norm = gaussian_smooth(weight, sigma_mm, model.spacing_mm)
        smoothed = np.where(norm > 0.05, total / np.maximum(norm, 0.05), model.image)
        smoothed = smoothed.astype(np.float32)
    sample = smoothed[guard] if guard.any() else smoothed.ravel()
    liver_sd = max(one_sided_sd(sample, model.liver_hu, model.seed_hu), 0.5)
    return _Scale(sigma_mm, smoothed, liver_sd)


def _grow(
    model: ContourModel,
    scale: _Scale,
    threshold: float,
    sign: float,
    far: float,
    guard: BoolArray,
    params: AutoContourParameters,
) -> BoolArray:
    """Threshold, connect to the seeds, keep out of seams, cut bridges, fill holes."""
    smoothed = scale.smoothed
    candidates = (sign * (smoothed - threshold) > 0) & (sign * (smoothed - model.seed_hu) <= far)
    candidates &= guard
    flat = model.image.shape[0] == 1
    seam, seam_mm = scale.seam(model, sign, far)
    core = candidates & ~seam if seam is not None else candidates
    for seed in model.include_index:
        if not core[tuple(seed)]:
            _paint_ball(core, seed, params.seed_radius_mm, model.spacing_mm, flat, guard)
    region = components_with(core, model.include_index)
    if region.any():
        margin = [int(np.ceil(2 * params.bridge_radius_mm / s)) + 1 for s in model.spacing_mm]
        box = _grown_box(region, margin)
        region[box] = cut_bridges(
            region[box],
            params.bridge_radius_mm,
            model.spacing_mm,
            model.include_index - [b.start for b in box],
        )
    if seam is not None and region.any():
        region = _reach_into(region, candidates & seam, seam_mm, model.spacing_mm)
    region = _fill(region)
    if len(model.exclude_index):
        region = _split_off_excluded(region, smoothed, model)
    return region


def _seam(
    model: ContourModel,
    smoothed: npt.NDArray[np.float32],
    sign: float,
    far: float,
    sigma_mm: float,
) -> tuple[BoolArray | None, float]:
    """Voxels next to very different tissue, where partial volume mimics the lesion.

    Without a liver mask: within ``1.2 σ + 1 voxel`` of tissue beyond the
    lesion (fat at the liver surface, a bright vessel) on the smoothed image.
    With a mask: within one slice step of the mask's border.
    A lesion may reach into the seam but not travel along it (a shell leak).
    """
    flat = model.image.shape[0] == 1
    if model.allowed is not None:
        width = max(model.spacing_mm) if not flat else 2.0 * max(model.spacing_mm[1:])
        outside = ~model.allowed
        if not outside.any():
            return None, 0.0
        return dilate_box(outside, width, model.spacing_mm), width
    beyond = sign * (smoothed - model.seed_hu) > far
    if not beyond.any():
        return None, 0.0
    width = 1.2 * sigma_mm + max(model.spacing_mm[1:])
    return dilate_box(beyond, width, model.spacing_mm), width


def _reach_into(
    region: BoolArray, allowed: BoolArray, width_mm: float, spacing: Sequence[float]
) -> BoolArray:
    """Add the ``allowed`` voxels within about ``width_mm`` of the region (no further)."""
    margin = [int(np.ceil(2 * width_mm / s)) + 1 for s in spacing]
    box = _grown_box(region, margin)
    blur_mm = width_mm / 2.0
    u = gaussian_smooth(region[box].astype(np.float32), blur_mm, spacing)
    out = region.copy()
    out[box] |= allowed[box] & (u >= _phi(-2.0))
    return out


def _grown_box(region: BoolArray, margin: Sequence[int]) -> tuple[slice, ...]:
    """Bounding box of a non-empty region grown by ``margin`` voxels, clipped to the array."""
    where = [np.flatnonzero(region.any(axis=tuple(a for a in range(3) if a != axis)))
             for axis in range(3)]  # fmt: skip
    return tuple(
        slice(max(int(w[0]) - m, 0), min(int(w[-1]) + 1 + m, n))
        for w, m, n in zip(where, margin, region.shape, strict=True)
    )


def _fill(region: BoolArray) -> BoolArray:
    """Fill holes in 3D and in every axial slice (labelling the background, not dilating)."""
    from scipy import ndimage

    if not region.any():
        return region
    box = _grown_box(region, (1, 1, 1))
    crop = region[box]
    out = region.copy()
    background = ~crop
    for structure in (None, _IN_PLANE):
        labels, count = ndimage.label(background, structure=structure)
        if count == 0:
            break
        border = np.zeros(count + 1, dtype=bool)
        for axis in range(3):
            if structure is not None and axis == 0:
                continue  # a slice's own border is what encloses its holes
            border[np.take(labels, 0, axis=axis)] = True
            border[np.take(labels, -1, axis=axis)] = True
        holes = ~border[labels]
        holes[labels == 0] = False
        background &= ~holes
    out[box] = ~background
    return out


_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]


def _paint_ball(
    target: BoolArray,
    center: np.ndarray,
    radius_mm: float,
    spacing: Sequence[float],
    flat: bool,
    guard: BoolArray,
) -> None:
    footprint = ball(radius_mm, spacing, flat=flat)
    if flat:
        footprint = footprint[footprint.shape[0] // 2 : footprint.shape[0] // 2 + 1]
    reach = np.array(footprint.shape) // 2
    low = np.asarray(center) - reach
    for offset in np.argwhere(footprint):
        z, y, x = low + offset
        if 0 <= z < target.shape[0] and 0 <= y < target.shape[1] and 0 <= x < target.shape[2]:
            target[z, y, x] = target[z, y, x] or bool(guard[z, y, x])
    target[tuple(center)] = True


def _split_off_excluded(
    region: BoolArray, smoothed: npt.NDArray[np.float32], model: ContourModel
) -> BoolArray:
    """Watershed on the gradient between include (1) and exclude (2) seeds; keep label 1."""
    from scipy import ndimage
    from skimage.segmentation import watershed

    inside = [tuple(e) for e in model.exclude_index if region[tuple(e)]]
    if not inside:
        return region
    markers = np.zeros(region.shape, dtype=np.int32)
    for e in inside:
        markers[e] = 2
    for i in model.include_index:
        markers[tuple(i)] = 1
    spacing = np.asarray(model.spacing_mm)
    gradient = np.zeros(region.shape, dtype=np.float32)
    for axis in range(3):
        if region.shape[axis] > 1:
            gradient += (ndimage.sobel(smoothed, axis=axis) / (8.0 * spacing[axis])) ** 2
    labels = watershed(np.sqrt(gradient), markers, mask=region)
    return np.asarray(labels == 1)


def _edge_samples(
    smoothed: npt.NDArray[np.float32],
    region: BoolArray,
    guard: BoolArray,
    spacing: tuple[float, float, float],
    sigma_mm: float,
) -> tuple[float | None, float | None]:
    """HU of the lesion just inside its outline and of the liver just outside it.

    Inside: the prominent histogram peak nearest the liver in a 2 mm band just
    beyond the smoothing's reach (the outermost lesion tissue: a viable rim,
    not the necrosis under it);
    outside: the median of a 4 mm ring (robust to vessels). ``None`` when a
    side has too few voxels. Depth bands come from a Gaussian blur of the region
    (a planar outline blurred
    by SD ``s`` reads Φ(d / s) at depth d), which is much cheaper than two
    distance transforms and exact enough to choose samples for a median.
    """
    if not region.any():
        return None, None
    depth_start = 1.5 * sigma_mm + 0.5
    reach = depth_start + _OUTER_WIDTH_MM
    margin = [int(np.ceil(1.5 * reach / s)) + 1 for s in spacing]
    box = _grown_box(region, margin)
    crop = region[box]
    radius = _equivalent_radius(crop, spacing)
    inner_start = min(depth_start, 0.5 * radius)
    inner_end = inner_start + min(_INNER_WIDTH_MM, 0.5 * radius)
    values = smoothed[box]
    inner_blur = inner_end / 2.5
    u = gaussian_smooth(crop.astype(np.float32), inner_blur, spacing)
    band = crop & (u >= _phi(inner_start / inner_blur)) & (u < _phi(inner_end / inner_blur))
    if np.count_nonzero(band) < _MIN_BAND:
        band = crop & (u >= np.quantile(u[crop], 0.6))
    inner = None
    if np.count_nonzero(band) >= _MODE_SAMPLES:
        outside_guess = float(np.median(values[~crop & guard[box]])) if guard[box].any() else 0.0
        inner = nearest_mode(values[band], toward=outside_guess)
    elif band.any():
        inner = float(np.median(values[band]))
    outer_blur = reach / 2.5
    u = gaussian_smooth(crop.astype(np.float32), outer_blur, spacing)
    ring = ~crop & (u <= _phi(-depth_start / outer_blur)) & (u > _phi(-reach / outer_blur))
    ring &= guard[box]
    outer = float(np.median(values[ring])) if np.count_nonzero(ring) >= _MIN_BAND else None
    return inner, outer


def _phi(x: float) -> float:
    """Standard normal cumulative distribution."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _equivalent_radius(region: BoolArray, spacing: Sequence[float]) -> float:
    """Radius in mm of the ball (or, for one slice, the disc) of the region's size."""
    count = int(np.count_nonzero(region))
    if region.shape[0] == 1:
        return math.sqrt(count * spacing[1] * spacing[2] / math.pi)
    return (3.0 * count * float(np.prod(spacing)) / (4.0 * math.pi)) ** (1.0 / 3.0)
