"""Auto contour of a focus from one click (3D, or 2D on the current slice), refined by clicks.

Method (all in a box around the clicks, grown while the focus touches it, up
to the maximum radius)
---------------------------------------------------------------------------
1. **Models.** The lesion's intensity is the median HU in a 3 mm ball around
   the include seeds; the liver's is the histogram mode of the (lightly
   smoothed) liver mask, or without one of the soft tissue within 120 HU of the
   seed, in the maximum-radius box. Their sign gives the direction: hypo- or
   hyper-attenuating.
2. **Adaptive smoothing.** The box is Gaussian-smoothed (inside the liver mask
   only, by normalised convolution, so fat does not bleed in) with the
   smallest SD of a ladder (0.6 … 3.5 mm, at least half a pixel) at which half
   the lesion–liver contrast is ``target_cnr`` (2) times the smoothed liver SD,
   measured on the liver's side away from the lesion so that lesion voxels
   cannot inflate it. Little smoothing keeps small foci true; much smoothing
   makes low-contrast, noisy foci separable.
3. **Growing.** Voxels beyond the threshold on the lesion's side, not beyond
   the lesion by more than max(30 HU, half the contrast) (fat, air, bright
   vessels and bone stay out), inside the liver mask and the maximum radius,
   face-connected to an include seed. A seam along the liver mask's border, or
   without a mask along tissue beyond the lesion (fat, bright vessels), may be
   entered but not travelled: partial volume there mimics the lesion.
4. **Clean-up.** Bridges narrower than ~3 mm are cut (opening by
   reconstruction); holes are filled in 3D and per slice (necrosis belongs to
   the focus).
5. **Edge (half maximum).** The threshold starts 3 liver SDs from the liver, so
   that a viable rim is grown together with the necrosis that was clicked, and
   keeps moving towards the liver while what surrounds the region is not yet
   liver. It then settles at the level between the outermost lesion tissue (the
   histogram peak nearest the liver in a thin band just inside the outline: the
   rim, not the necrosis) and the liver just outside: the half level of a
   blurred edge is where the edge was, so soft partial-volume edges come out at
   the right place. The level is corrected for the curvature bias of the
   smoothing (``½ − σ/(R√2π)``, :func:`~.morphology.edge_level`), but never
   closer to the liver than 2 smoothed liver SDs: nearer, the liver's own noise
   joins the region and a small low-contrast focus leaks into the parenchyma
   (``_NOISE_FLOOR_SD`` in :mod:`.contour_core`). The final
   outline is taken at ≥ 1.3 mm smoothing and its indicator smoothed once more,
   removing single-voxel noise on the edge without changing the volume.
6. **Extra clicks.** Exclude clicks (Shift-click) inside the region split it
   with a watershed on the smoothed gradient between include and exclude
   seeds; the exclude side is dropped. Include clicks outside the grown region
   add the region grown from them (at least a ball of the seed radius).

The result is a cropped mask plus the numbers used, as an :class:`Explanation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.common import (
    BoolArray,
    Box,
    ball,
    box_around,
    box_shape,
    distance_mm_from,
    validate_clicks,
)
from tace_planner.imaging.segmentation.contour_core import ContourModel, Outcome, grow_and_refine
from tace_planner.imaging.segmentation.intensity import (
    gaussian_smooth,
    histogram_mode,
    one_sided_sd,
)

PointLps = Sequence[float]

_WINDOW_HU = 120.0  # the liver is searched within this distance of the seed's HU


@dataclass(frozen=True)
class AutoContourParameters:
    """Settings of the auto contour (defaults tuned on the phantom and its hard variants).

    Attributes
    ----------
    max_radius_mm : float
        Leak guard: nothing farther than this from the nearest include seed.
    start_radius_mm : float
        Half-size of the first working box; it grows × 1.6 up to
        ``max_radius_mm`` while the region touches its sides.
    seed_radius_mm : float
        Radius of the ball around a seed whose median is the lesion's HU.
    target_cnr : float
        Half the boundary contrast over the smoothed liver SD that the
        smoothing aims for.
    smoothing_ladder_mm : tuple of float
        Gaussian SDs tried, smallest first.
    bridge_radius_mm : float
        Bridges narrower than about twice this are cut.
    far_margin_hu : float
        Voxels more than max(this, half the contrast) beyond the seed's HU
        (away from the liver) are not lesion.
    background_hu : float or None
        The liver's HU if known (e.g. measured once per series); None: estimated.
    max_iterations : int
        Limit of the edge refinement loop.
    """

    max_radius_mm: float = 50.0
    start_radius_mm: float = 24.0
    seed_radius_mm: float = 3.0
    target_cnr: float = 2.0
    smoothing_ladder_mm: tuple[float, ...] = (0.6, 0.9, 1.3, 1.8, 2.5, 3.5)
    bridge_radius_mm: float = 1.5
    far_margin_hu: float = 30.0
    background_hu: float | None = None
    max_iterations: int = 6


@dataclass(frozen=True, eq=False)
class AutoContourResult:
    """An auto contour: a mask cropped to ``box`` of a volume of ``shape``.

    Attributes
    ----------
    box : tuple of 3 slice
        Where ``mask`` sits in the volume (z, y, x).
    mask : numpy.ndarray of bool
        The contour inside ``box``.
    shape : tuple of 3 int
        The volume's shape.
    threshold_hu, liver_hu, lesion_edge_hu, seed_hu : float
        Final threshold; liver just outside, lesion just inside the outline;
        median at the seeds (HU).
    smoothing_sd_mm : float
        Gaussian SD used.
    liver_sd_hu : float
        SD of the smoothed liver (HU), the noise the threshold had to beat.
    direction : {"hypo", "hyper", "mixed"}
        Lesion below, above, or on both sides of the liver.
    warnings : tuple of str
        Plain sentences (low contrast, touches the maximum radius, ...).
    explanation : Explanation
        Method and numbers for the UI.
    """

    box: Box
    mask: BoolArray
    shape: tuple[int, int, int]
    threshold_hu: float
    liver_hu: float
    lesion_edge_hu: float
    seed_hu: float
    smoothing_sd_mm: float
    liver_sd_hu: float
    direction: str
    warnings: tuple[str, ...] = ()
    explanation: Explanation = field(
        default_factory=lambda: Explanation("Auto contour", "", {}, "")
    )

    @property
    def voxel_count(self) -> int:
        """Number of voxels in the contour."""
        return int(np.count_nonzero(self.mask))

    def full_mask(self) -> BoolArray:
        """Return the contour as a mask of the whole volume, shape ``shape``."""
        out = np.zeros(self.shape, dtype=bool)
        out[self.box] = self.mask
        return out

    def paste_into(self, mask: BoolArray, *, union: bool = True) -> None:
        """Write the contour into ``mask`` (in place): OR with it, or replace the box."""
        if union:
            mask[self.box] |= self.mask
        else:
            mask[self.box] = self.mask


def auto_contour(
    volume: ImageVolume,
    include_seeds_lps: Sequence[PointLps],
    exclude_seeds_lps: Sequence[PointLps] = (),
    *,
    liver_mask: BoolArray | None = None,
    parameters: AutoContourParameters | None = None,
) -> AutoContourResult:
    """Contour a focus in 3D from one or more clicks (see the module docstring).

    Parameters
    ----------
    volume : ImageVolume
        CT in HU, (z, y, x); the portal-venous phase is the usual choice.
    include_seeds_lps : sequence of (x, y, z)
        Clicks inside the focus, LPS mm; at least one.
    exclude_seeds_lps : sequence of (x, y, z)
        Shift-clicks on what must not be in the focus, LPS mm.
    liver_mask : numpy.ndarray of bool, shape (z, y, x), optional
        Leak guard and liver intensity model; ignored (with a warning) when an
        include seed lies outside it.
    parameters : AutoContourParameters, optional
        Defaults when omitted.

    Returns
    -------
    AutoContourResult
        Cropped mask, numbers used, warnings and explanation.

    Raises
    ------
    InvalidInputError
        No include seed, a seed outside the volume, or a liver mask of the
        wrong shape.
    """
    return _auto_contour(
        volume, include_seeds_lps, exclude_seeds_lps, liver_mask, parameters, flat=False
    )


def auto_contour_2d(
    volume: ImageVolume,
    include_seeds_lps: Sequence[PointLps],
    exclude_seeds_lps: Sequence[PointLps] = (),
    *,
    liver_mask: BoolArray | None = None,
    parameters: AutoContourParameters | None = None,
) -> AutoContourResult:
    """Contour a focus on one axial slice: the slice of the first include seed.

    Same method and arguments as :func:`auto_contour`, confined to that slice
    (seeds on other slices are projected onto it). The result's box is one
    slice thick.
    """
    return _auto_contour(
        volume, include_seeds_lps, exclude_seeds_lps, liver_mask, parameters, flat=True
    )


def _auto_contour(
    volume: ImageVolume,
    include_seeds_lps: Sequence[PointLps],
    exclude_seeds_lps: Sequence[PointLps],
    liver_mask: BoolArray | None,
    parameters: AutoContourParameters | None,
    *,
    flat: bool,
) -> AutoContourResult:
    params = parameters or AutoContourParameters()
    include, exclude, liver_mask, warnings = validate_clicks(
        volume, include_seeds_lps, exclude_seeds_lps, liver_mask, flat=flat
    )
    spacing = volume.spacing_mm
    seed_hu = _seed_hu(volume, include, spacing, params.seed_radius_mm, flat)
    liver_hu = params.background_hu
    if liver_hu is None:
        liver_hu = _liver_hu(volume, include, liver_mask, spacing, params, seed_hu, flat)
    radius = min(params.start_radius_mm, params.max_radius_mm)
    while True:
        box = box_around(include, radius, spacing, volume.shape, flat=flat)
        model = _model_in_box(volume, box, include, exclude, liver_mask, seed_hu, liver_hu, params)
        outcome = grow_and_refine(model, params)
        grow = radius < params.max_radius_mm and _touches_inner_faces(
            outcome.region, box, volume.shape, flat
        )
        if not grow:
            break
        radius = min(radius * 1.6, params.max_radius_mm)
    warnings += outcome.warnings
    if _touches_radius(outcome.region, model.distance_mm, params.max_radius_mm, spacing):
        warnings.append(
            f"The contour reaches the {params.max_radius_mm:g} mm limit around the click: "
            "it may have leaked; check it, or Shift-click the leak."
        )
    return _result(volume, box, outcome, params, warnings, flat)


def _seed_hu(
    volume: ImageVolume, include: np.ndarray, spacing: tuple[float, float, float], radius: float,
    flat: bool,
) -> float:  # fmt: skip
    values = []
    footprint = ball(radius, spacing, flat=flat)
    reach = np.array(footprint.shape) // 2
    for seed in include:
        low = seed - reach
        high = seed + reach + 1
        clip_low = np.maximum(low, 0)
        clip_high = np.minimum(high, volume.shape)
        crop = volume.voxels[
            clip_low[0] : clip_high[0], clip_low[1] : clip_high[1], clip_low[2] : clip_high[2]
        ]
        f = footprint[
            clip_low[0] - low[0] : footprint.shape[0] - (high[0] - clip_high[0]),
            clip_low[1] - low[1] : footprint.shape[1] - (high[1] - clip_high[1]),
            clip_low[2] - low[2] : footprint.shape[2] - (high[2] - clip_high[2]),
        ]
        values.append(crop[f])
    return float(np.median(np.concatenate(values)))


def _liver_hu(
    volume: ImageVolume,
    include: np.ndarray,
    liver_mask: BoolArray | None,
    spacing: tuple[float, float, float],
    params: AutoContourParameters,
    seed_hu: float,
    flat: bool,
) -> float:
    """Histogram mode of the (smoothed) liver in the maximum-radius box.

    Without a liver mask the mode is taken over soft tissue within
    ``_WINDOW_HU`` of the seed (fat and bone stay out); if that mode is the
    lesion itself (a focus filling the box), the mode of the rest is used.
    """
    box = box_around(include, params.max_radius_mm, spacing, volume.shape, flat=flat)
    size = float(np.prod(box_shape(box)))
    stride = max(1, int(np.ceil((size / 80_000) ** (1 / 3))))
    step = (slice(None), slice(None, None, stride), slice(None, None, stride))
    if not flat and spacing[0] * stride <= 3.0:
        step = (slice(None, None, stride), *step[1:])
    sub_spacing = [s * (stride if st.step else 1) for s, st in zip(spacing, step, strict=True)]
    values = gaussian_smooth(volume.voxels[box][step], 1.5, sub_spacing)
    if liver_mask is not None:
        inside = liver_mask[box][step]
        if np.count_nonzero(inside) >= 200:
            values = values[inside]
    window = (values > max(seed_hu - _WINDOW_HU, -50.0)) & (values < seed_hu + _WINDOW_HU)
    values = values[window]
    if values.size < 50:
        raise InvalidInputError("include seed", "no soft tissue around the click")
    mode = histogram_mode(values)
    spread = one_sided_sd(values, mode, seed_hu)
    if abs(mode - seed_hu) < max(0.75 * spread, 3.0):  # the focus fills the box
        others = values[np.abs(values - seed_hu) > max(4.0 * spread, 10.0)]
        if others.size >= 50:
            mode = histogram_mode(others)
    return mode


def _model_in_box(
    volume: ImageVolume,
    box: Box,
    include: np.ndarray,
    exclude: np.ndarray,
    liver_mask: BoolArray | None,
    seed_hu: float,
    liver_hu: float,
    params: AutoContourParameters,
) -> ContourModel:
    origin = np.array([box[0].start, box[1].start, box[2].start])
    spacing = volume.spacing_mm
    inside_box = [
        i for i in exclude if all(s.start <= v < s.stop for s, v in zip(box, i, strict=True))
    ]
    return ContourModel(
        image=volume.voxels[box],
        spacing_mm=spacing,
        include_index=include - origin,
        exclude_index=np.asarray(inside_box, dtype=np.intp).reshape(-1, 3) - origin,
        allowed=None if liver_mask is None else liver_mask[box],
        distance_mm=distance_mm_from(include, box, spacing),
        seed_hu=seed_hu,
        liver_hu=liver_hu,
    )


def _touches_inner_faces(
    region: BoolArray, box: Box, shape: tuple[int, int, int], flat: bool
) -> bool:
    """True if the region touches a side of the box that is not the volume's border."""
    for axis in range(3):
        if flat and axis == 0:
            continue
        if box[axis].start > 0 and np.take(region, 0, axis=axis).any():
            return True
        if box[axis].stop < shape[axis] and np.take(region, -1, axis=axis).any():
            return True
    return False


def _touches_radius(
    region: BoolArray, distance_mm: npt.NDArray[np.float32], radius: float, spacing: Sequence[float]
) -> bool:
    """True if a noticeable share of the region lies within one voxel of the radius limit."""
    rim = distance_mm > radius - max(spacing)
    touching = np.count_nonzero(region & rim)
    return touching > max(10, 0.002 * np.count_nonzero(region))


def _result(
    volume: ImageVolume,
    box: Box,
    outcome: Outcome,
    params: AutoContourParameters,
    warnings: list[str],
    flat: bool,
) -> AutoContourResult:
    direction = outcome.direction
    where = "on this slice" if flat else "in 3D"
    explanation = Explanation(
        summary=f"Auto contour {where}: region grown from the click(s) with a half-maximum edge",
        formula=(
            "lesion = voxels connected to a click with smoothed HU beyond T; "
            "T = (lesion HU inside the edge + liver HU outside it) / 2"
        ),
        inputs={
            "seed HU (median)": f"{outcome.seed_hu:.1f} HU",
            "liver HU outside the edge": f"{outcome.liver_hu:.1f} HU",
            "lesion HU inside the edge": f"{outcome.lesion_edge_hu:.1f} HU",
            "smoothing SD": f"{outcome.smoothing_sd_mm:.1f} mm",
            "liver SD after smoothing": f"{outcome.liver_sd_hu:.1f} HU",
            "maximum radius": f"{params.max_radius_mm:g} mm",
            "direction": direction,
        },
        result=f"T = {outcome.threshold_hu:.1f} HU, {int(np.count_nonzero(outcome.region))} voxels",
        source="TACE Planner auto contour (imaging/segmentation/focus.py)",
    )
    return AutoContourResult(
        box=box,
        mask=outcome.region,
        shape=volume.shape,
        threshold_hu=outcome.threshold_hu,
        liver_hu=outcome.liver_hu,
        lesion_edge_hu=outcome.lesion_edge_hu,
        seed_hu=outcome.seed_hu,
        smoothing_sd_mm=outcome.smoothing_sd_mm,
        liver_sd_hu=outcome.liver_sd_hu,
        direction=direction,
        warnings=tuple(warnings),
        explanation=explanation,
    )


def auto_contour_task(
    volume: ImageVolume,
    include_seeds_lps: Sequence[PointLps],
    exclude_seeds_lps: Sequence[PointLps] = (),
    *,
    liver_mask: BoolArray | None = None,
    parameters: AutoContourParameters | None = None,
) -> Task[AutoContourResult]:
    """:func:`auto_contour` as a Task, for the task runner when a focus is very large.

    A 3 cm focus takes tens of milliseconds and can run on the GUI thread; a
    focus filling the maximum radius takes a few hundred.

    Yields
    ------
    Progress
        One step before and one after.
    """
    yield Progress(0, 1, "Auto contour")
    result = auto_contour(
        volume,
        include_seeds_lps,
        exclude_seeds_lps,
        liver_mask=liver_mask,
        parameters=parameters,
    )
    yield Progress(1, 1, "Auto contour")
    return result
