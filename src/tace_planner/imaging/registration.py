"""Register a follow-up CT to the baseline CT: rigid, then affine when rigid is not enough.

Two CT studies of one patient taken months apart do not share a frame of reference:
the patient lies differently on the table. To carry the baseline contours to the
follow-up, the follow-up is registered to the baseline with SimpleITK (Lowekamp et
al., Frontiers in Neuroinformatics 2013; Yaniv et al., Journal of Digital Imaging
2018): Mattes mutual information (Mattes et al., IEEE Transactions on Medical
Imaging 2003) on a region centred on the liver, a three-level resolution pyramid,
first a rigid (Euler) transform, then — when the rigid result is not good enough —
an affine transform started from it.

The result is a 4 × 4 matrix in LPS millimetres that maps a point of the *baseline*
frame to the same anatomical point in the *follow-up* frame (ITK's fixed-to-moving
convention, fixed = baseline). Its quality is measured, never assumed: the
normalised cross-correlation of the two images over the liver region after
registration, the mutual-information value, and — when both liver contours are
known — the Dice coefficient of the baseline liver carried over and the follow-up
liver. Below the acceptance threshold the registration is said to have failed,
with the reason.

Arrays are (z, y, x) with their ``index_to_lps`` affine (ADR 0001). No Qt, no database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.body import BODY_HU

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

CANCELLED = "cancelled"
"""The ``kind`` of a registration stopped by its caller (:func:`register_follow_up`)."""

__all__ = [
    "CANCELLED",
    "RegistrationParameters",
    "RegistrationResult",
    "carry_mask_registered",
    "carry_point",
    "register_follow_up",
]


@dataclass(frozen=True, slots=True)
class RegistrationParameters:
    """How the registration runs and when it is accepted (institutional defaults).

    Parameters
    ----------
    margin_mm : float
        The baseline region is the liver contour grown by this much (the metric
        looks at the liver and its edges only).
    working_pixel_mm : float
        Both images are first averaged (bin shrink) to voxels of about this size
        along every axis finer than it: the pyramid starts from there. Sub-millimetre
        accuracy is kept (the metric interpolates), at a fraction of the cost.
    shrink_factors, smoothing_mm : sequence of int / float
        The resolution pyramid, coarse to fine, on the working voxels.
    metric_samples : int
        Voxels of the region sampled (at random) by the metric at each iteration and
        level (all of them when the region is smaller).
    threads : int
        Threads of the registration (the workstation runs other work beside it).
    min_correlation : float
        Below this normalised cross-correlation over the liver region the
        registration failed.
    good_correlation : float
        At or above this the rigid result is kept; below it an affine stage follows.
    min_liver_dice : float
        Below this liver Dice (when both liver contours are known) the registration failed.
    iterations, min_step_mm : int, float
        The optimiser stops at a level after this many steps, or when its step
        (halved at each change of direction) falls below this. A good start converges
        in 10–25 steps; the cap bounds the time spent on images that do not match.
    """

    margin_mm: float = 20.0
    working_pixel_mm: float = 3.0
    shrink_factors: tuple[int, ...] = (4, 2, 1)
    smoothing_mm: tuple[float, ...] = (4.0, 2.0, 0.0)
    metric_samples: int = 20000
    threads: int = 2
    iterations: int = 50
    min_step_mm: float = 0.01
    min_correlation: float = 0.5
    good_correlation: float = 0.8
    min_liver_dice: float = 0.8
    seed: int = 1


@dataclass(frozen=True, eq=False)
class RegistrationResult:
    """A registration of a follow-up to the baseline, with its quality.

    Attributes
    ----------
    baseline_to_follow_up : numpy.ndarray, shape (4, 4)
        Maps a baseline LPS point (mm) to the same point of the follow-up frame.
    kind : str
        "rigid" or "affine": the stage kept; "none" when no stage did better than
        leaving the follow-up where it is.
    metric_value : float
        Mattes mutual information at the end (ITK's sign: more negative is better).
    correlation : float
        Normalised cross-correlation of the images over the liver region, after.
    correlation_before : float
        The same with no registration (identity), for comparison.
    liver_dice : float or None
        Dice of the carried baseline liver and the follow-up liver, when both known.
    ok : bool
        Whether the quality reached the acceptance thresholds.
    message : str
        One sentence for the user: the quality, or why it failed.
    """

    baseline_to_follow_up: FloatArray
    kind: str
    metric_value: float
    correlation: float
    correlation_before: float
    liver_dice: float | None
    ok: bool
    message: str
    stages: tuple[str, ...] = field(default=())

    @property
    def translation_mm(self) -> tuple[float, float, float]:
        """Where the baseline origin lands in the follow-up frame (LPS mm)."""
        return tuple(float(v) for v in self.baseline_to_follow_up[:3, 3])  # type: ignore[return-value]

    def to_json(self) -> dict[str, Any]:
        """The registration as JSON-ready values."""
        return {
            "baseline_to_follow_up_lps": [
                [round(float(v), 6) for v in row] for row in self.baseline_to_follow_up
            ],
            "kind": self.kind,
            "stages": list(self.stages),
            "metric_value": round(self.metric_value, 6),
            "correlation": round(self.correlation, 4),
            "correlation_before": round(self.correlation_before, 4),
            "liver_dice": None if self.liver_dice is None else round(self.liver_dice, 4),
            "ok": self.ok,
            "message": self.message,
        }


# ---------------------------------------------------------------------------
# Geometry between numpy (z, y, x) + affine and SimpleITK (x, y, z) images
# ---------------------------------------------------------------------------


def _to_sitk(voxels: npt.ArrayLike, index_to_lps: npt.ArrayLike) -> Any:
    """A SimpleITK image with the origin, spacing and direction of ``index_to_lps``."""
    import SimpleITK as sitk

    affine = np.asarray(index_to_lps, dtype=float)
    image = sitk.GetImageFromArray(np.ascontiguousarray(voxels))
    # index (z, y, x) columns 0, 1, 2; ITK wants (x, y, z) axes.
    columns = [affine[:3, 2], affine[:3, 1], affine[:3, 0]]
    spacing = [float(np.linalg.norm(c)) for c in columns]
    direction = np.column_stack([c / s for c, s in zip(columns, spacing, strict=True)])
    image.SetSpacing(spacing)
    image.SetOrigin([float(v) for v in affine[:3, 3]])
    image.SetDirection([float(v) for v in direction.ravel()])
    return image


def _matrix_of(transform: Any) -> FloatArray:
    """The 4 × 4 matrix of an ITK matrix-offset transform (``M (x - c) + c + t``)."""
    matrix = np.asarray(transform.GetMatrix(), dtype=float).reshape(3, 3)
    center = np.asarray(transform.GetCenter(), dtype=float)
    translation = np.asarray(transform.GetTranslation(), dtype=float)
    out = np.eye(4)
    out[:3, :3] = matrix
    out[:3, 3] = translation + center - matrix @ center
    return out


def carry_point(transform: npt.ArrayLike, point_lps: Sequence[float]) -> tuple[float, float, float]:
    """A baseline LPS point carried into the follow-up frame."""
    carried = np.asarray(transform, dtype=float) @ np.append(np.asarray(point_lps, float), 1.0)
    return float(carried[0]), float(carried[1]), float(carried[2])


def carry_mask_registered(
    mask: npt.ArrayLike,
    baseline_index_to_lps: npt.ArrayLike,
    transform: npt.ArrayLike,
    follow_up: ImageVolume,
) -> BoolArray:
    """A baseline mask sampled on the follow-up grid through the registration (nearest)."""
    from tace_planner.imaging.segmentation.resample import resample_mask

    moved = np.asarray(transform, dtype=float) @ np.asarray(baseline_index_to_lps, dtype=float)
    return resample_mask(mask, moved, follow_up.index_to_lps, follow_up.shape)


def _dice(a: BoolArray, b: BoolArray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------


def _box(mask: BoolArray, margin: Sequence[int] = (0, 0, 0)) -> tuple[slice, slice, slice]:
    """The smallest box holding ``mask`` (which is not empty), grown by ``margin`` voxels."""
    ranges = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        low = max(0, int(hit[0]) - int(margin[axis]))
        ranges.append(slice(low, min(mask.shape[axis], int(hit[-1]) + 1 + int(margin[axis]))))
    return ranges[0], ranges[1], ranges[2]


def _working(image: Any, pixel_mm: float) -> Any:
    """Average voxels finer than ``pixel_mm`` along an axis to about that size (bin shrink)."""
    import SimpleITK as sitk

    factors = [max(1, round(pixel_mm / s)) for s in image.GetSpacing()]
    return image if factors == [1, 1, 1] else sitk.BinShrink(image, factors)


def _fixed_and_region(
    baseline: ImageVolume, liver: BoolArray | None, parameters: RegistrationParameters
) -> tuple[Any, BoolArray]:
    """The baseline on working voxels, cropped to the region's box, and the region there.

    The region is the liver grown by ``margin_mm`` when the liver is known, else the
    body (tissue above ``BODY_HU``, -500 HU). Only its box is converted and averaged; the margin
    is measured on the working voxels (a few mm of error do not matter to a metric mask).
    """
    import SimpleITK as sitk
    from scipy import ndimage

    voxels = np.asarray(baseline.voxels)
    use_liver = liver is not None and bool(liver.any())
    source = np.asarray(liver, dtype=bool) if use_liver else voxels > BODY_HU
    if not source.any():
        raise InvalidInputError("baseline", "no body or liver to register in the baseline volume")
    spacing = np.asarray(baseline.spacing_mm, dtype=float)
    margin = [int(np.ceil(parameters.margin_mm / s)) if use_liver else 0 for s in spacing]
    box = _box(source, margin)
    cropped = np.array(baseline.index_to_lps, dtype=float)
    cropped[:3, 3] = cropped[:3, :3] @ np.array([s.start for s in box], float) + cropped[:3, 3]
    pixel = parameters.working_pixel_mm
    fixed = _working(_to_sitk(np.asarray(voxels[box], dtype=np.float32), cropped), pixel)
    if use_liver:
        share = _working(_to_sitk(source[box].astype(np.float32), cropped), pixel)
        inside = sitk.GetArrayFromImage(share) >= 0.5
        step = np.asarray(fixed.GetSpacing(), dtype=float)[::-1]
        region = ndimage.distance_transform_edt(~inside, sampling=step) <= parameters.margin_mm
    else:
        region = ndimage.binary_opening(sitk.GetArrayFromImage(fixed) > BODY_HU, iterations=1)
    return fixed, np.asarray(region, dtype=bool)


MOVING_MARGIN_MM = 60.0
"""The follow-up is cropped to where the centre-of-mass start puts the baseline region,
grown by this much (more than a patient moves on the table between two visits)."""


def _crop_moving(moving: Any, fixed: Any, initial: Any) -> Any:
    """The follow-up (working voxels) cropped around the baseline region's start position."""
    size = fixed.GetSize()
    corners = [
        fixed.TransformIndexToPhysicalPoint([i, j, k])
        for i in (0, size[0] - 1)
        for j in (0, size[1] - 1)
        for k in (0, size[2] - 1)
    ]
    index = np.array(
        [moving.TransformPhysicalPointToContinuousIndex(initial.TransformPoint(c)) for c in corners]
    )
    grow = np.array([MOVING_MARGIN_MM / s for s in moving.GetSpacing()])
    low = np.maximum(np.floor(index.min(axis=0) - grow), 0).astype(int)
    high = np.minimum(np.ceil(index.max(axis=0) + grow) + 1, moving.GetSize()).astype(int)
    if np.any(high - low < 4):
        return moving  # the start lies outside the follow-up: let the optimiser say so
    return moving[
        int(low[0]) : int(high[0]), int(low[1]) : int(high[1]), int(low[2]) : int(high[2])
    ]


def _correlation(fixed: Any, moving: Any, transform: Any, region: BoolArray) -> float:
    """Normalised cross-correlation of the baseline and the resampled follow-up in the region."""
    import SimpleITK as sitk

    resampled = sitk.Resample(moving, fixed, transform, sitk.sitkLinear, -1024.0)
    a = sitk.GetArrayViewFromImage(fixed)[region].astype(float)
    b = sitk.GetArrayViewFromImage(resampled)[region].astype(float)
    if a.size < 2:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    norm = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return 0.0 if norm == 0.0 else float((a * b).sum()) / norm


def _method(parameters: RegistrationParameters, region_image: Any, region_voxels: int) -> Any:
    import SimpleITK as sitk

    method = sitk.ImageRegistrationMethod()
    method.SetNumberOfThreads(parameters.threads)
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=50)
    method.SetMetricSamplingStrategy(method.RANDOM)
    # A level shrunk by f has about region_voxels / f^3 voxels: sample as many as asked.
    percentages = [
        min(1.0, parameters.metric_samples * f**3 / max(region_voxels, 1))
        for f in parameters.shrink_factors
    ]
    method.SetMetricSamplingPercentagePerLevel(percentages, parameters.seed)
    method.SetMetricFixedMask(region_image)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=2.0,
        minStep=parameters.min_step_mm,
        numberOfIterations=parameters.iterations,
        relaxationFactor=0.5,
        gradientMagnitudeTolerance=1e-8,
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel(list(parameters.shrink_factors))
    method.SetSmoothingSigmasPerLevel(list(parameters.smoothing_mm))
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return method


class _Cancel:
    """Asks ``should_stop`` at each optimiser iteration and, once it says yes, stops the
    registration: ITK's ``StopRegistration`` ends the current resolution level only, so
    every later level is stopped at its first iteration too."""

    def __init__(self, should_stop: Callable[[], bool] | None) -> None:
        self._should_stop = should_stop
        self.stopped = False

    def watch(self, method: Any) -> None:
        """Check at each iteration of ``method`` (an ``ImageRegistrationMethod``)."""
        import SimpleITK as sitk

        if self._should_stop is None:
            return

        def check() -> None:
            if self.stopped or (self._should_stop is not None and self._should_stop()):
                self.stopped = True
                method.StopRegistration()

        method.AddCommand(sitk.sitkIterationEvent, check)

    @staticmethod
    def release(method: Any) -> None:
        """Drop the check (it holds ``method``: a cycle the garbage collector cannot see)."""
        method.RemoveAllCommands()


def _cancelled() -> RegistrationResult:
    return RegistrationResult(
        np.eye(4), CANCELLED, 0.0, 0.0, 0.0, None, False,
        "Registration cancelled: nothing was proposed.",
    )  # fmt: skip


def _failed(reason: str) -> RegistrationResult:
    message = (
        f"Registration failed: {reason}. The follow-up contours cannot be proposed from "
        "the baseline; contour them by hand."
    )
    return RegistrationResult(np.eye(4), "none", 0.0, 0.0, 0.0, None, False, message)


def register_follow_up(
    baseline: ImageVolume,
    follow_up: ImageVolume,
    *,
    baseline_liver: BoolArray | None = None,
    follow_up_liver: BoolArray | None = None,
    parameters: RegistrationParameters | None = None,
    force_affine: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> RegistrationResult:
    """Register ``follow_up`` to ``baseline``; return the transform and its quality.

    Parameters
    ----------
    baseline, follow_up : ImageVolume
        The two CT volumes in HU (best: the same phase, e.g. portal venous).
    baseline_liver : numpy.ndarray of bool, optional
        The baseline liver contour (on the baseline grid): the metric looks at the
        liver and ``margin_mm`` around it; without it, at the whole body.
    follow_up_liver : numpy.ndarray of bool, optional
        The follow-up liver contour: with both, the liver Dice after registration
        is measured and must reach ``min_liver_dice``.
    force_affine : bool
        Run the affine stage even when the rigid result is good.
    should_stop : callable, optional
        Asked at each optimiser iteration (from the calling thread); once it returns
        True the registration stops within one iteration per remaining level.

    Returns
    -------
    RegistrationResult
        ``ok`` False, with the reason in ``message``, when the quality is below the
        thresholds or the optimiser could not run (images that do not overlap); kind
        :data:`CANCELLED` when ``should_stop`` stopped it.

    Raises
    ------
    InvalidInputError
        A liver mask not on its volume's grid, or a baseline with no body in it.
    """
    import SimpleITK as sitk

    parameters = parameters or RegistrationParameters()
    for name, mask, volume in (
        ("baseline liver", baseline_liver, baseline),
        ("follow-up liver", follow_up_liver, follow_up),
    ):
        if mask is not None and mask.shape != volume.shape:
            raise InvalidInputError(
                name, f"mask shape {mask.shape} is not the volume's {volume.shape}"
            )
    fixed, region = _fixed_and_region(baseline, baseline_liver, parameters)
    if not region.any():
        raise InvalidInputError("baseline", "no body or liver to register in the baseline volume")
    region_image = sitk.GetImageFromArray(region.astype(np.uint8))
    region_image.CopyInformation(fixed)
    moving = _working(
        _to_sitk(np.asarray(follow_up.voxels, dtype=np.float32), follow_up.index_to_lps),
        parameters.working_pixel_mm,
    )
    # Rigid: started by aligning the centres of mass of the whole bodies (the patient's
    # shift on the table), then refined on the liver region.
    whole = _working(
        _to_sitk(np.asarray(baseline.voxels, dtype=np.float32), baseline.index_to_lps),
        parameters.working_pixel_mm,
    )
    cancel = _Cancel(should_stop)
    try:
        initial = sitk.CenteredTransformInitializer(
            sitk.Cast(whole > BODY_HU, sitk.sitkFloat32),
            sitk.Cast(moving > BODY_HU, sitk.sitkFloat32),
            sitk.Euler3DTransform(),
            sitk.CenteredTransformInitializerFilter.MOMENTS,
        )
        moving = _crop_moving(moving, fixed, initial)
        before = _correlation(fixed, moving, sitk.Euler3DTransform(), region)
        method = _method(parameters, region_image, int(region.sum()))
        method.SetInitialTransform(initial, inPlace=True)
        cancel.watch(method)
        try:
            method.Execute(fixed, moving)
        finally:
            cancel.release(method)
    except RuntimeError as error:
        # ITK stops when too few samples land in the follow-up (no overlap), or when
        # the follow-up has no body to align: say so, with ITK's reason in the log.
        import logging

        logging.getLogger(__name__).info("rigid registration stopped: %s", error)
        return _failed("the follow-up images do not overlap the baseline region (no body "
                       "or liver in common)")  # fmt: skip
    if cancel.stopped:
        return _cancelled()
    rigid = initial
    kept, kind, metric = rigid, "rigid", float(method.GetMetricValue())
    correlation = _correlation(fixed, moving, rigid, region)
    stages = ["rigid"]
    if force_affine or correlation < parameters.good_correlation:
        affine = sitk.AffineTransform(3)
        affine.SetCenter(rigid.GetCenter())
        affine.SetMatrix(rigid.GetMatrix())
        affine.SetTranslation(rigid.GetTranslation())
        method = _method(parameters, region_image, int(region.sum()))
        method.SetInitialTransform(affine, inPlace=True)
        cancel.watch(method)
        try:
            method.Execute(fixed, moving)
        except RuntimeError:
            affine_correlation = -1.0  # the rigid result stands
        else:
            affine_correlation = _correlation(fixed, moving, affine, region)
        finally:
            cancel.release(method)
        if cancel.stopped:
            return _cancelled()
        stages.append("affine")
        if affine_correlation >= correlation:
            kept, kind, metric = affine, "affine", float(method.GetMetricValue())
            correlation = affine_correlation
    matrix = _matrix_of(kept)
    if correlation < before:
        # Registration made it worse than not moving at all: keep the identity, say so.
        matrix, kind, correlation = np.eye(4), "none", before
    dice = None
    if baseline_liver is not None and follow_up_liver is not None:
        carried = carry_mask_registered(baseline_liver, baseline.index_to_lps, matrix, follow_up)
        dice = _dice(carried, np.asarray(follow_up_liver, dtype=bool))
    ok, message = _verdict(parameters, kind, correlation, before, dice)
    return RegistrationResult(matrix, kind, metric, correlation, before, dice, ok, message,
                              tuple(stages))  # fmt: skip


def _verdict(
    parameters: RegistrationParameters,
    kind: str,
    correlation: float,
    before: float,
    dice: float | None,
) -> tuple[bool, str]:
    """Whether the registration is accepted, said in one sentence."""
    images = f"image correlation over the liver {correlation:.2f} (before {before:.2f})"
    if dice is None:
        overlap = "liver overlap not measured (the follow-up liver is not contoured)"
    else:
        overlap = f"liver overlap (Dice) {dice:.2f}"
    if correlation < parameters.min_correlation:
        return False, (
            f"Registration failed: {images}, below {parameters.min_correlation:.2f}; "
            f"{overlap}. The follow-up contours cannot be proposed from the baseline; "
            "contour them by hand."
        )
    if dice is not None and dice < parameters.min_liver_dice:
        return False, (
            f"Registration failed: {images}; {overlap}, below "
            f"{parameters.min_liver_dice:.2f}. Contour the follow-up by hand."
        )
    return True, f"Registered ({kind}): {images}; {overlap}."
