"""Plan the volumes of one DICOM series from its headers, check their geometry, load them.

``plan_volumes(headers)`` is pure: it looks only at the headers of one series,
splits them into the volumes they hold (*parts*), orders each part's slices by
(0020,0032) *Image Position (Patient)* projected on the slice normal, and
reports what is wrong with its geometry in sentences a radiologist can act on.
It never raises for bad geometry; it raises ``UnsupportedSeriesError`` only when
no volume at all can be formed. ``load_plan(plan)`` reads the pixels.

This module names and assembles the parts; the work is split by concept:
``slice_grouping`` places frames as slices and groups them, ``slice_geometry``
orders and checks each group, ``volume_plan`` holds ``VolumePlan`` and
``GeometryReport``, and ``volume_loading`` holds ``load_plan`` (re-exported here).

Splitting a series into parts
-----------------------------
One series may hold several volumes. They are separated, in this order, by:

1. contrast: diffusion b-value (``b=800``), echo (``echo 2 (TE 4.6 ms)``) and
   complex component (``magnitude``/``phase``/``real``/``imaginary``, from
   (0008,9208) or *Image Type* values 3 and later). Always split.
2. grid: image orientation (cosines within 0.001), matrix size and pixel
   spacing (within 0.001 mm); named like ``coronal 256x256``. Always split.
3. repetition: only when positions repeat within a part, by (0020,9128)
   *Temporal Position Index* (or (0020,0100)), *Stack ID*, (0020,0012)
   *Acquisition Number*, then acquisition time, taking the first key that
   leaves every group with at least two slices and no repeated position
   (``time 2``, ``stack 1``, ``acquisition 3``). Otherwise the repeats are
   duplicates (below).

A part is named only by what varies between the parts of its series; a series
that is one volume has ``part=None``. Names are deterministic, so a part can be
asked for again by name (``series.load_series_part``).

A part needs at least two distinct slice positions; single images (a scout in
an axial series, one slice of another orientation) are left out and said so.
A series with no part of two slices or more is refused.

Geometry checks and status
--------------------------
Slice steps are distances between consecutive slice origins along the normal.

- uniform spacing: every step within max(0.01 mm, 1 % of the median step) of
  the median (Slicer's 0.01 mm, widened for thick slices) -> ok;
- uneven spacing: largest step deviation from the median <= 10 % of it, and
  the even grid (mean step) puts every slice within half a median step of its
  true position -> warning (no slice lands on a neighbour's place, so volumes
  keep the half-slice uncertainty they have anyway at a structure's ends);
  steps that drift further, or deviate by more than 10 % -> unmeasurable;
- gap: a step >= 1.5 x the median -> unmeasurable, with
  missing slices = round(step / median) - 1;
- duplicate position: two origins within 0.01 mm along the normal and within
  0.05 mm in-plane -> warning, the first (lowest instance number) is kept;
  same depth but origins more than 0.05 mm apart -> unmeasurable;
- gantry tilt (shear): the step leaves the normal by > 0.05 deg and drifts
  > 0.05 mm over the stack -> warning; a non-zero (0018,1120) with orthogonal
  positions -> warning (positions win);
- origins off the straight line through the first and last origin by
  > 0.05 mm -> warning up to half a pixel, unmeasurable beyond;
- orientation cosines not orthonormal within 0.001 -> unmeasurable;
- images left out (no geometry, single images of another grid) -> warning.

Status is the worst of its messages: ``ok`` has no message, ``warning`` keeps
measurements usable (the grid is exact, or no slice is off by half a step),
``unmeasurable`` means volumes or positions along the stack would be wrong:
the volume can still be shown, but measurements must be refused.

The grid step is the mean step, (last origin - first origin) / (n - 1), so a
uniform stack is reproduced exactly; ``spacing_mm[0]`` is its component along
the normal (for a tilted gantry ``ImageVolume.spacing_mm[0]`` is the longer
oblique step length).

Gantry tilt: the sheared grid is kept as acquired, never resampled (ADR 0004):
the affine maps every voxel to its true LPS position, voxel volume is
``|det(affine)|`` and in-plane distances are unchanged, so measurements stay
exact; ``resampled`` is therefore always False for now.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tace_planner.domain.errors import UnsupportedSeriesError
from tace_planner.imaging.dicom.scan import InstanceHeader
from tace_planner.imaging.dicom.slice_geometry import _assess, _Assessment, _number
from tace_planner.imaging.dicom.slice_grouping import (
    _by_grid,
    _contrast_key,
    _expand,
    _grid_key,
    _Slice,
    _split_repeats,
    plane_name,
)
from tace_planner.imaging.dicom.volume_loading import load_plan
from tace_planner.imaging.dicom.volume_plan import GeometryReport, Status, VolumePlan, middle_slab

__all__ = [
    "GeometryReport",
    "Status",
    "VolumePlan",
    "load_plan",
    "middle_slab",
    "plan_volumes",
    "plane_name",
    "series_label",
]

_SEVERITY = {"ok": 0, "warning": 1, "unmeasurable": 2}
_COMPLEX_ORDER = {"magnitude": 0, "phase": 1, "real": 2, "imaginary": 3, "": 4}


@dataclass
class _Part:
    contrast: tuple[Hashable, ...]
    grid: tuple[Hashable, ...]
    repeat: tuple[str, Hashable] | None
    slices: list[_Slice]


def series_label(header: InstanceHeader) -> str:
    """How a series is named in messages: number and description, else its UID."""
    words = []
    if header.series_number is not None:
        words.append(f"series {header.series_number}")
    else:
        words.append("series")
    if header.series_description.strip():
        words.append(f'"{header.series_description.strip()}"')
    else:
        words.append(f"(UID {header.series_uid})")
    return " ".join(words)


# ---------------------------------------------------------------- naming


def _contrast_label(key: tuple[Hashable, ...], varies: tuple[bool, bool, bool]) -> list[str]:
    b, echo_number, te, complex_component = key
    words = []
    if varies[0]:
        words.append("no b-value" if b is None else f"b={_number(b)}")  # type: ignore[arg-type]
    if varies[1]:
        if echo_number is not None and te is not None:
            words.append(f"echo {echo_number} (TE {_number(te)} ms)")  # type: ignore[arg-type]
        elif echo_number is not None:
            words.append(f"echo {echo_number}")
        elif te is not None:
            words.append(f"TE {_number(te)} ms")  # type: ignore[arg-type]
        else:
            words.append("no echo time")
    if varies[2]:
        words.append(str(complex_component) or "unspecified component")
    return words


def _grid_label(s: _Slice) -> str:
    return f"{plane_name(s.orientation)} {s.rows}x{s.columns}"


def _repeat_label(repeat: tuple[str, Hashable] | None) -> str:
    if repeat is None:
        return ""
    name, value = repeat
    if name == "acquired":
        text = str(value)
        if len(text) >= 6 and text[:6].isdigit():
            text = f"{text[0:2]}:{text[2:4]}:{text[4:6]}"
        return f"acquired {text}"
    return f"{name} {value}"


def _name_parts(parts: list[_Part]) -> list[str | None]:
    if len(parts) == 1:
        return [None]
    keys = [p.contrast for p in parts]
    varies = (
        len({k[0] for k in keys}) > 1,
        len({(k[1], k[2]) for k in keys}) > 1,
        len({k[3] for k in keys}) > 1,
    )
    grid_labels = [_grid_label(p.slices[0]) for p in parts]
    grids_vary = len({p.grid for p in parts}) > 1
    names: list[str] = []
    for part, grid_label in zip(parts, grid_labels, strict=True):
        words = _contrast_label(part.contrast, varies)
        if grids_vary:
            words.append(grid_label)
        if part.repeat is not None:
            words.append(_repeat_label(part.repeat))
        names.append(", ".join(words) or "volume")
    # Same name twice (e.g. two grids that differ only by spacing): number them.
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    unique: list[str | None] = []
    for name in names:
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            unique.append(f"{name} ({seen[name]})")
        else:
            unique.append(name)
    return unique


def _plan(
    series_uid: str,
    part: str | None,
    headers: Sequence[InstanceHeader],
    assessment: _Assessment,
    common: list[tuple[Status, str]],
    label: str,
) -> VolumePlan:
    slices = assessment.slices
    order: dict[int, int] = {}
    for s in slices:
        order.setdefault(s.header, len(order))
    files = tuple(headers[i] for i in order)
    frames = tuple((order[s.header], s.frame) for s in slices)
    messages = assessment.messages + common
    status: Status = "ok"
    for severity, _ in messages:
        if _SEVERITY[severity] > _SEVERITY[status]:
            status = severity
    prefix = label + (f", part {part}" if part else "") + ": "
    first = slices[0]
    spacing = (assessment.spacing_z, first.pixel_spacing[0], first.pixel_spacing[1])
    report = GeometryReport(
        status=status,
        warnings=tuple(prefix + text for _, text in messages),
        slice_count=len(slices),
        shape_zyx=(len(slices), first.rows, first.columns),
        spacing_mm=spacing,
        spacing_min_mm=float(assessment.steps.min()),
        spacing_median_mm=float(np.median(assessment.steps)),
        spacing_max_mm=float(assessment.steps.max()),
        gantry_tilt_deg=assessment.tilt_deg,
        missing_slices=assessment.missing,
        duplicate_positions=assessment.duplicates,
        resampled=False,
    )
    return VolumePlan(
        series_uid=series_uid,
        part=part,
        headers=files,
        frames=frames,
        report=report,
        orientation=first.orientation,
        pixel_spacing_mm=first.pixel_spacing,
        origin_lps_mm=first.position,
        step_lps_mm=(
            float(assessment.step[0]),
            float(assessment.step[1]),
            float(assessment.step[2]),
        ),
        frame_of_reference_uid=files[0].frame_of_reference_uid,
    )


def plan_volumes(headers: Sequence[InstanceHeader]) -> list[VolumePlan]:
    """Split one series' headers into volumes, order their slices and check their grids.

    Parameters
    ----------
    headers : sequence of InstanceHeader
        The headers of one series, in any order (file names and instance numbers
        are not used for ordering).

    Returns
    -------
    list of VolumePlan
        One plan per volume, in a stable order (b-value, echo, complex
        component, plane, time); ``part`` is None when there is only one.

    Raises
    ------
    UnsupportedSeriesError
        No volume of two slices or more can be formed; the message names the
        series and says why.
    """
    if not headers:
        raise UnsupportedSeriesError("no images: a volume needs at least two slices")
    unique: dict[str, InstanceHeader] = {}
    for h in headers:  # the same instance twice (e.g. copied twice on a CD) is one image
        unique.setdefault(h.sop_instance_uid, h)
    # A fixed order (instance number, then UID) makes grouping and names independent of
    # the order the files were listed in.
    headers = sorted(
        unique.values(),
        key=lambda h: (h.instance_number is None, h.instance_number or 0, h.sop_instance_uid),
    )
    first = headers[0]
    label = series_label(first)
    where = f"{label} (UID {first.series_uid})"
    slices, no_geometry, no_frame_positions = _expand(headers)
    if not slices:
        if no_frame_positions:
            reason = "its multi-frame images give no position for each frame"
        else:
            reason = (
                "no image has the position, orientation, pixel spacing and size needed "
                "to place it in a volume"
            )
        raise UnsupportedSeriesError(f"{where}: {reason}")

    contrast_groups: dict[tuple[Hashable, ...], list[_Slice]] = {}
    for s in slices:
        contrast_groups.setdefault(_contrast_key(s), []).append(s)
    candidates: list[_Part] = []
    for contrast, members in contrast_groups.items():
        for grid in _by_grid(members):
            for repeat, group in _split_repeats(grid):
                candidates.append(_Part(contrast, _grid_key(group[0]), repeat, group))

    tilt_tags = [h.gantry_tilt_deg for h in headers if h.gantry_tilt_deg is not None]
    tilt_tag = tilt_tags[0] if tilt_tags else None
    assessed: list[tuple[_Part, _Assessment]] = []
    left_out = 0
    for part in candidates:
        assessment = _assess(part.slices, tilt_tag)
        if assessment is None:
            left_out += len(part.slices)
        else:
            assessed.append((part, assessment))
    if not assessed:
        count = len(slices)
        raise UnsupportedSeriesError(
            f"{where}: {count} image(s) but no two at different positions on the same grid: "
            "a volume needs at least two slices"
        )

    def sort_key(item: tuple[_Part, _Assessment]) -> tuple[Any, ...]:
        part = item[0]
        b, echo_number, te, complex_component = part.contrast
        repeat = part.repeat[1] if part.repeat else None
        return (
            b is not None,
            b or 0.0,
            echo_number is not None,
            echo_number or 0,
            te is not None,
            te or 0.0,
            _COMPLEX_ORDER.get(str(complex_component), 5),
            str(complex_component),
            part.grid,
            str(type(repeat).__name__),
            repeat if repeat is not None else 0,
        )

    assessed.sort(key=sort_key)
    names = _name_parts([p for p, _ in assessed])

    common: list[tuple[Status, str]] = []
    if no_geometry:
        common.append(
            (
                "warning",
                f"{no_geometry} image(s) left out: no position, orientation or pixel spacing",
            )
        )
    if no_frame_positions:
        common.append(
            (
                "warning",
                f"{no_frame_positions} multi-frame image(s) left out: no per-frame positions",
            )
        )
    if left_out:
        common.append(
            (
                "warning",
                f"{left_out} single image(s) of another grid, contrast or time left out "
                "(one slice is not a volume)",
            )
        )
    return [
        _plan(first.series_uid, name, headers, assessment, common, label)
        for name, (_, assessment) in zip(names, assessed, strict=True)
    ]
