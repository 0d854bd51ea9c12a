"""Order the slices of one candidate volume along its normal and check their grid.

Gaps, uneven spacing, duplicate positions, gantry tilt (shear), origins off a
straight line and non-orthonormal orientations each give a message with its
severity; the thresholds and what they mean are in the docstring of :mod:`volumes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.geometry import slice_normal
from tace_planner.imaging.dicom.slice_grouping import (
    DUPLICATE_TOLERANCE_MM,
    ORIENTATION_TOLERANCE,
    _depths,
    _Slice,
)
from tace_planner.imaging.dicom.volume_plan import Status

UNIFORM_TOLERANCE_MM = 0.01
UNIFORM_TOLERANCE_FRACTION = 0.01
UNEVEN_WARNING_FRACTION = 0.10
MISPLACED_WARNING_FRACTION = 0.5
GAP_FACTOR = 1.5
TILT_TOLERANCE_DEG = 0.05
LINE_TOLERANCE_MM = 0.05


def _mm(value: float) -> str:
    """A length for a sentence: 5.0, 2.5, 0.625, 1.25 (at most 3 decimals)."""
    rounded = round(value, 3)
    if rounded == int(rounded):
        return f"{rounded:.1f}"
    return f"{rounded:.3f}".rstrip("0")


def _number(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------- assessment


@dataclass
class _Assessment:
    slices: list[_Slice]
    messages: list[tuple[Status, str]]
    step: npt.NDArray[np.float64]
    spacing_z: float
    steps: npt.NDArray[np.float64]
    tilt_deg: float
    missing: int
    duplicates: int


def _dedupe(
    ordered: list[_Slice], depths: npt.NDArray[np.float64]
) -> tuple[list[_Slice], list[float], int, int]:
    kept: list[_Slice] = []
    kept_depths: list[float] = []
    duplicates = 0
    shifted = 0
    for s, depth in zip(ordered, depths, strict=True):
        if kept and depth - kept_depths[-1] < DUPLICATE_TOLERANCE_MM:
            duplicates += 1
            offset = float(np.linalg.norm(np.subtract(s.position, kept[-1].position)))
            if offset > LINE_TOLERANCE_MM:
                shifted += 1
            continue
        kept.append(s)
        kept_depths.append(float(depth))
    return kept, kept_depths, duplicates, shifted


def _assess(slices: list[_Slice], tilt_tag_deg: float | None) -> _Assessment | None:
    """Order slices along the normal, drop repeats, and check the grid (None: < 2 slices)."""
    orientation = slices[0].orientation
    normal = slice_normal(orientation)
    raw_depths = _depths(slices)
    order = sorted(range(len(slices)), key=lambda i: (raw_depths[i], slices[i].order))
    ordered = [slices[i] for i in order]
    kept, depth_list, duplicates, shifted = _dedupe(ordered, raw_depths[order])
    if len(kept) < 2:
        return None
    messages: list[tuple[Status, str]] = []
    depths = np.array(depth_list)
    positions = np.array([s.position for s in kept], dtype=float)
    steps = np.diff(depths)
    median = float(np.median(steps))
    extent = float(depths[-1] - depths[0])

    row = np.asarray(orientation[:3])
    column = np.asarray(orientation[3:6])
    off = max(
        abs(float(np.linalg.norm(row)) - 1),
        abs(float(np.linalg.norm(column)) - 1),
        abs(float(row @ column)),
    )
    if off > ORIENTATION_TOLERANCE:
        messages.append(
            (
                "unmeasurable",
                f"Image Orientation (Patient) is not orthonormal (off by {off:.3g}): "
                "its row and column directions are not perpendicular unit vectors",
            )
        )

    if duplicates:
        messages.append(
            (
                "warning",
                f"{duplicates} image(s) repeat a slice position already present; the first "
                "image at each position (lowest instance number) is kept and "
                f"{duplicates} left out",
            )
        )
        if shifted:
            messages.append(
                (
                    "unmeasurable",
                    f"{shifted} image(s) lie at the depth of another slice but shifted in-plane "
                    "by more than "
                    f"{_mm(LINE_TOLERANCE_MM)} mm: the slices do not form one grid",
                )
            )

    # Gaps: a step of 1.5 times the median or more.
    missing = 0
    gap_messages = []
    regular = []
    for i, step in enumerate(steps):
        if step >= GAP_FACTOR * median:
            lost = max(1, round(step / median) - 1)
            missing += lost
            gap_messages.append(
                f"gap of {_mm(step)} mm between slices {i + 1} and {i + 2} "
                f"(expected {_mm(median)} mm): {lost} slice{'s' if lost > 1 else ''} missing"
            )
        else:
            regular.append(step)
    if gap_messages:
        shown = gap_messages[:3]
        if len(gap_messages) > 3:
            more = len(gap_messages) - 3
            shown.append(f"and {more} more gap(s), {missing} slices missing in all")
        messages.append(("unmeasurable", "; ".join(shown)))

    # Uneven spacing among the regular steps.
    tolerance = max(UNIFORM_TOLERANCE_MM, UNIFORM_TOLERANCE_FRACTION * median)
    if regular:
        deviation = max(abs(s - median) for s in regular)
        if deviation > tolerance:
            summary = (
                f"uneven slice spacing: min {_mm(float(steps.min()))}, median {_mm(median)}, "
                f"max {_mm(float(steps.max()))} mm"
            )
            # Where an even grid puts each slice, against where it is.
            even = depths[0] + np.arange(len(depths)) * (extent / (len(depths) - 1))
            misplaced = np.abs(depths - even)
            worst = int(np.argmax(misplaced))
            if gap_messages:
                pass  # already unmeasurable; the gap message says why
            elif (
                deviation <= UNEVEN_WARNING_FRACTION * median
                and misplaced[worst] <= MISPLACED_WARNING_FRACTION * median
            ):
                messages.append(
                    (
                        "warning",
                        f"{summary} (within {UNEVEN_WARNING_FRACTION:.0%} of the median); "
                        "the volume uses the mean step, every slice within "
                        f"{_mm(float(misplaced[worst]))} mm of its true position",
                    )
                )
            elif deviation <= UNEVEN_WARNING_FRACTION * median:
                messages.append(
                    (
                        "unmeasurable",
                        f"{summary}: the steps drift, so an even grid puts slice {worst + 1} "
                        f"{_mm(float(misplaced[worst]))} mm from its true position "
                        f"(more than half a step)",
                    )
                )
            else:
                messages.append(
                    (
                        "unmeasurable",
                        f"{summary} (more than {UNEVEN_WARNING_FRACTION:.0%} apart): "
                        "distances along the stack would be wrong",
                    )
                )

    # Shear (gantry tilt) and origins off the line through the first and last slice.
    along = (positions[-1] - positions[0]) / extent  # per mm along the normal
    shear = along - normal * float(along @ normal)
    tilt = math.degrees(math.atan(float(np.linalg.norm(shear))))
    drift = float(np.linalg.norm(shear)) * extent
    tilt_deg = 0.0
    if tilt > TILT_TOLERANCE_DEG and drift > LINE_TOLERANCE_MM:
        sign = -1.0 if tilt_tag_deg is not None and tilt_tag_deg < 0 else 1.0
        tilt_deg = sign * tilt
        text = (
            f"gantry/detector tilt of {tilt:.1f}° (slices sheared by {_mm(drift)} mm over the "
            "stack): the grid is kept sheared as acquired, not resampled; volumes and "
            "in-plane distances are exact, reformatted views must follow the shear"
        )
        if tilt_tag_deg is not None and abs(abs(tilt_tag_deg) - tilt) > 1.0:
            text += f" ((0018,1120) says {_number(tilt_tag_deg)}°)"
        messages.append(("warning", text))
    elif tilt_tag_deg is not None and abs(tilt_tag_deg) > TILT_TOLERANCE_DEG:
        messages.append(
            (
                "warning",
                f"(0018,1120) Gantry/Detector Tilt says {_number(tilt_tag_deg)}° but the slice "
                "positions are not sheared; the positions are used",
            )
        )
    fitted = positions[0] + np.outer(depths - depths[0], along)
    residual = float(np.max(np.linalg.norm(positions - fitted, axis=1)))
    if residual > LINE_TOLERANCE_MM:
        half_pixel = 0.5 * min(kept[0].pixel_spacing)
        if residual <= half_pixel:
            messages.append(
                (
                    "warning",
                    f"slice origins deviate up to {_mm(residual)} mm from a straight line "
                    "(less than half a pixel)",
                )
            )
        else:
            messages.append(
                (
                    "unmeasurable",
                    f"slice origins deviate up to {_mm(residual)} mm from a straight line: "
                    "the slices do not stack into one grid",
                )
            )

    step = (positions[-1] - positions[0]) / (len(kept) - 1)
    return _Assessment(
        slices=kept,
        messages=messages,
        step=step,
        spacing_z=extent / (len(kept) - 1),
        steps=steps,
        tilt_deg=tilt_deg,
        missing=missing,
        duplicates=duplicates,
    )
