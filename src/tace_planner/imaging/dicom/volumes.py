"""Plan the volumes of one DICOM series from its headers, check their geometry, load them.

``plan_volumes(headers)`` is pure: it looks only at the headers of one series,
splits them into the volumes they hold (*parts*), orders each part's slices by
(0020,0032) *Image Position (Patient)* projected on the slice normal, and
reports what is wrong with its geometry in sentences a radiologist can act on.
It never raises for bad geometry; it raises ``UnsupportedSeriesError`` only when
no volume at all can be formed. ``load_plan(plan)`` reads the pixels.

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

import dataclasses
import math
import mmap
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import DicomReadError, UnsupportedSeriesError
from tace_planner.domain.geometry import Affine, affine_from_dicom_geometry, slice_normal
from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.pixels import read_frames
from tace_planner.imaging.dicom.scan import InstanceHeader

Status = Literal["ok", "warning", "unmeasurable"]

UNIFORM_TOLERANCE_MM = 0.01
UNIFORM_TOLERANCE_FRACTION = 0.01
UNEVEN_WARNING_FRACTION = 0.10
MISPLACED_WARNING_FRACTION = 0.5
GAP_FACTOR = 1.5
DUPLICATE_TOLERANCE_MM = 0.01
TILT_TOLERANCE_DEG = 0.05
LINE_TOLERANCE_MM = 0.05
ORIENTATION_TOLERANCE = 1e-3
PIXEL_SPACING_TOLERANCE_MM = 1e-3
READ_THREADS = 2

_SEVERITY = {"ok": 0, "warning": 1, "unmeasurable": 2}
_COMPLEX_ORDER = {"magnitude": 0, "phase": 1, "real": 2, "imaginary": 3, "": 4}


@dataclass(frozen=True)
class GeometryReport:
    """How far the slices of one part form a regular grid, and what is wrong.

    Spacings are in millimetres; ``spacing_mm`` is (dz, dy, dx) with dz the
    grid step along the slice normal. ``spacing_min_mm``/``median``/``max``
    are the steps between consecutive slices along the normal.
    """

    status: Status
    warnings: tuple[str, ...]
    slice_count: int
    shape_zyx: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    spacing_min_mm: float
    spacing_median_mm: float
    spacing_max_mm: float
    gantry_tilt_deg: float
    missing_slices: int
    duplicate_positions: int
    resampled: bool = False

    @property
    def measurable(self) -> bool:
        """True when volumes and diameters may be measured on this part."""
        return self.status != "unmeasurable"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the series row in the database)."""
        return {
            "status": self.status,
            "warnings": list(self.warnings),
            "slice_count": self.slice_count,
            "shape_zyx": list(self.shape_zyx),
            "spacing_mm": list(self.spacing_mm),
            "spacing_min_mm": self.spacing_min_mm,
            "spacing_median_mm": self.spacing_median_mm,
            "spacing_max_mm": self.spacing_max_mm,
            "gantry_tilt_deg": self.gantry_tilt_deg,
            "missing_slices": self.missing_slices,
            "duplicate_positions": self.duplicate_positions,
            "resampled": self.resampled,
        }


@dataclass(frozen=True)
class VolumePlan:
    """One volume of a series: which frames, in which order, on which grid.

    ``headers`` are the files in slice order; ``frames`` gives, per slice, the
    index of its file in ``headers`` and the frame within that file (0 for
    single-frame images). The grid fields define ``index_to_lps``.
    """

    series_uid: str
    part: str | None
    headers: tuple[InstanceHeader, ...]
    frames: tuple[tuple[int, int], ...]
    report: GeometryReport
    orientation: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    pixel_spacing_mm: tuple[float, float] = (1.0, 1.0)
    origin_lps_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    step_lps_mm: tuple[float, float, float] = (0.0, 0.0, 1.0)
    frame_of_reference_uid: str = ""

    @property
    def index_to_lps(self) -> Affine:
        """The 4 x 4 affine from (z, y, x, 1) indices to LPS millimetres."""
        return affine_from_dicom_geometry(
            self.orientation, self.pixel_spacing_mm, self.origin_lps_mm, self.step_lps_mm
        )


def middle_slab(plan: VolumePlan, count: int) -> VolumePlan:
    """The same volume cut down to its ``count`` middle slices (for a quick look at pixels).

    The grid is unchanged but for the origin, so positions in the slab are the
    positions of those slices in the whole volume.
    """
    total = len(plan.frames)
    if count >= total:
        return plan
    first = (total - count) // 2
    _, rows, columns = plan.report.shape_zyx
    origin = tuple(o + first * s for o, s in zip(plan.origin_lps_mm, plan.step_lps_mm, strict=True))
    report = dataclasses.replace(plan.report, slice_count=count, shape_zyx=(count, rows, columns))
    return dataclasses.replace(
        plan,
        frames=plan.frames[first : first + count],
        report=report,
        origin_lps_mm=origin,  # type: ignore[arg-type]
    )


@dataclass(frozen=True, slots=True)
class _Slice:
    header: int
    frame: int
    position: tuple[float, float, float]
    orientation: tuple[float, ...]
    pixel_spacing: tuple[float, float]
    rows: int
    columns: int
    b_value: float | None
    echo_number: int | None
    echo_time_ms: float | None
    complex_component: str
    temporal: int | None
    stack: str
    acquisition: int | None
    acquisition_time: str
    instance_number: int | None

    @property
    def order(self) -> tuple[int, int, int]:
        """Tie-breaker among slices at one position: instance number, file, frame."""
        number = self.instance_number if self.instance_number is not None else 1 << 40
        return number, self.header, self.frame


@dataclass
class _Part:
    contrast: tuple[Hashable, ...]
    grid: tuple[Hashable, ...]
    repeat: tuple[str, Hashable] | None
    slices: list[_Slice]


# ---------------------------------------------------------------- formatting


def _mm(value: float) -> str:
    """A length for a sentence: 5.0, 2.5, 0.625, 1.25 (at most 3 decimals)."""
    rounded = round(value, 3)
    if rounded == int(rounded):
        return f"{rounded:.1f}"
    return f"{rounded:.3f}".rstrip("0")


def _number(value: float) -> str:
    return f"{value:g}"


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


def plane_name(orientation: Sequence[float]) -> str:
    """Axial, coronal or sagittal from the slice normal; oblique if none dominates."""
    normal = np.abs(slice_normal(orientation))
    axis = int(np.argmax(normal))
    if normal[axis] < 0.8:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


# ---------------------------------------------------------------- expansion


def _finite(values: Sequence[float] | None) -> bool:
    return values is not None and all(math.isfinite(v) for v in values)


def _placeable(
    position: Sequence[float] | None,
    orientation: Sequence[float] | None,
    spacing: Sequence[float] | None,
    rows: int | None,
    columns: int | None,
) -> bool:
    if not (_finite(position) and _finite(orientation) and _finite(spacing)):
        return False
    assert position is not None
    if len(position) != 3:
        return False
    assert orientation is not None
    assert spacing is not None
    if len(orientation) != 6 or len(spacing) != 2 or min(spacing) <= 0 or not rows or not columns:
        return False
    try:
        slice_normal(orientation)
    except ValueError:
        return False
    return True


def _pick(first: Any, fallback: Any) -> Any:
    return first if first is not None else fallback


def _make_slice(
    h: InstanceHeader,
    index: int,
    frame: int,
    position: Sequence[float] | None,
    orientation: Sequence[float] | None,
    spacing: Sequence[float] | None,
    **contrast: Any,
) -> _Slice | None:
    """One placeable frame, or None when its geometry is missing or impossible."""
    if not _placeable(position, orientation, spacing, h.rows, h.columns):
        return None
    assert position is not None and orientation is not None and spacing is not None  # noqa: PT018
    return _Slice(
        header=index,
        frame=frame,
        position=(float(position[0]), float(position[1]), float(position[2])),
        orientation=tuple(float(v) for v in orientation),
        pixel_spacing=(float(spacing[0]), float(spacing[1])),
        rows=int(h.rows or 0),
        columns=int(h.columns or 0),
        echo_number=h.echo_number,
        acquisition=h.acquisition_number,
        acquisition_time=h.acquisition_time,
        instance_number=h.instance_number,
        **contrast,
    )


def _expand(headers: Sequence[InstanceHeader]) -> tuple[list[_Slice], int, int]:
    """Every frame that can be placed; also counts of unplaceable frames and of
    multi-frame files without per-frame positions."""
    slices: list[_Slice] = []
    no_geometry = 0
    no_frame_positions = 0
    for index, h in enumerate(headers):
        made: list[_Slice | None] = []
        if h.frames:
            for number, frame in enumerate(h.frames[: max(1, h.number_of_frames)]):
                made.append(
                    _make_slice(
                        h,
                        index,
                        number,
                        frame.position_lps_mm,
                        frame.orientation or h.orientation,
                        frame.pixel_spacing_mm or h.pixel_spacing_mm,
                        b_value=_pick(frame.b_value, h.b_value),
                        echo_time_ms=_pick(frame.echo_time_ms, h.echo_time_ms),
                        complex_component=frame.complex_component or h.complex_component,
                        temporal=_pick(frame.temporal_position_index, h.temporal_position_index),
                        stack=frame.stack_id,
                    )
                )
        elif h.number_of_frames > 1:
            no_frame_positions += 1
            continue
        else:
            made.append(
                _make_slice(
                    h,
                    index,
                    0,
                    h.position_lps_mm,
                    h.orientation,
                    h.pixel_spacing_mm,
                    b_value=h.b_value,
                    echo_time_ms=h.echo_time_ms,
                    complex_component=h.complex_component,
                    temporal=h.temporal_position_index,
                    stack="",
                )
            )
        for s in made:
            if s is None:
                no_geometry += 1
            else:
                slices.append(s)
    return slices, no_geometry, no_frame_positions


# ---------------------------------------------------------------- splitting


def _contrast_key(s: _Slice) -> tuple[Hashable, ...]:
    b = None if s.b_value is None else round(s.b_value, 1)
    te = None if s.echo_time_ms is None else round(s.echo_time_ms, 3)
    return b, s.echo_number, te, s.complex_component


def _same_grid(a: _Slice, b: _Slice) -> bool:
    return (
        a.rows == b.rows
        and a.columns == b.columns
        and all(
            abs(x - y) <= PIXEL_SPACING_TOLERANCE_MM
            for x, y in zip(a.pixel_spacing, b.pixel_spacing, strict=True)
        )
        and all(
            abs(x - y) <= ORIENTATION_TOLERANCE
            for x, y in zip(a.orientation, b.orientation, strict=True)
        )
    )


def _grid_key(s: _Slice) -> tuple[Hashable, ...]:
    """A sortable description of a grid (plane first, then size, spacing, cosines)."""
    plane = plane_name(s.orientation)
    planes = ("axial", "coronal", "sagittal", "oblique")
    return (
        planes.index(plane),
        s.rows,
        s.columns,
        tuple(round(v, 3) for v in s.pixel_spacing),
        tuple(round(v, 3) for v in s.orientation),
    )


def _by_grid(slices: list[_Slice]) -> list[list[_Slice]]:
    groups: list[list[_Slice]] = []
    for s in slices:
        for group in groups:
            if _same_grid(group[0], s):
                group.append(s)
                break
        else:
            groups.append([s])
    return groups


def _depths(slices: Sequence[_Slice]) -> npt.NDArray[np.float64]:
    normal = slice_normal(slices[0].orientation)
    return np.array([s.position for s in slices], dtype=float) @ normal


def _positions_repeat(slices: Sequence[_Slice]) -> bool:
    if len(slices) < 2:
        return False
    depths = np.sort(_depths(slices))
    return bool(np.any(np.diff(depths) < DUPLICATE_TOLERANCE_MM))


_REPEAT_KEYS: tuple[tuple[str, Callable[[_Slice], Hashable]], ...] = (
    ("time", lambda s: s.temporal),
    ("stack", lambda s: s.stack or None),
    ("acquisition", lambda s: s.acquisition),
    ("acquired", lambda s: s.acquisition_time or None),
)


def _split_repeats(slices: list[_Slice]) -> list[tuple[tuple[str, Hashable] | None, list[_Slice]]]:
    """Split repeated positions by time, stack or acquisition when that explains them."""
    if not _positions_repeat(slices):
        return [(None, slices)]
    for name, key in _REPEAT_KEYS:
        values = [key(s) for s in slices]
        if any(v is None for v in values) or len(set(values)) < 2:
            continue
        groups: dict[Hashable, list[_Slice]] = {}
        for s, value in zip(slices, values, strict=True):
            groups.setdefault(value, []).append(s)
        if all(len(g) >= 2 and not _positions_repeat(g) for g in groups.values()):
            return [((name, value), groups[value]) for value in sorted(groups)]  # type: ignore[type-var]
    return [(None, slices)]


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


# ---------------------------------------------------------------- loading

_PIXEL_TAG = b"\xe0\x7f\x10\x00"
_LONG_VRS = frozenset({b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN"})


def _native_dtype(header: InstanceHeader) -> np.dtype[Any] | None:
    signed = header.pixel_representation == 1
    kind = {8: "i1" if signed else "u1", 16: "<i2" if signed else "<u2"}
    kind[32] = "<i4" if signed else "<u4"
    name = kind.get(header.bits_allocated or 0)
    return np.dtype(name) if name else None


def _read_native(header: InstanceHeader, out: npt.NDArray[np.float32]) -> bool:
    """Read uncompressed little-endian pixels straight into ``out``; False to fall back."""
    dtype = _native_dtype(header)
    offset = header.pixel_data_offset
    if dtype is None or offset is None:
        return False
    count = out.size
    with open(header.path, "rb", buffering=0) as handle:
        handle.seek(offset)
        head = handle.read(12)
        if len(head) < 8 or head[:4] != _PIXEL_TAG:
            return False
        if header.transfer_syntax_uid == "1.2.840.10008.1.2":  # implicit VR
            length = int.from_bytes(head[4:8], "little")
            start = offset + 8
        elif head[4:6] in _LONG_VRS and len(head) == 12:
            length = int.from_bytes(head[8:12], "little")
            start = offset + 12
        else:
            return False
        if length == 0xFFFFFFFF or length < count * dtype.itemsize:
            return False
        raw = np.empty(count, dtype=dtype)
        handle.seek(start)
        if handle.readinto(memoryview(raw).cast("B")) != raw.nbytes:
            return False
    stored = header.bits_stored or header.bits_allocated or 0
    shift = (header.bits_allocated or 0) - stored
    if 0 < shift < raw.itemsize * 8:
        # As pydicom does: the unused high bits carry nothing (sign-extend or mask).
        np.left_shift(raw, shift, out=raw)
        np.right_shift(raw, shift, out=raw)
    plane = raw.reshape(out.shape)
    slope, intercept = header.rescale_slope, header.rescale_intercept
    if slope is not None and intercept is not None:
        np.multiply(plane, np.float32(slope), out=out, casting="unsafe")
        if intercept:
            out += np.float32(intercept)
    else:
        out[...] = plane
    return True


def _read_into(
    header: InstanceHeader,
    slots: list[tuple[int, int]],
    voxels: npt.NDArray[np.float32],
) -> None:
    """Decode the frames of one file into their slices of ``voxels``."""
    if len(slots) == 1 and slots[0][1] == 0 and header.pixel_data_offset is not None:
        try:
            if _read_native(header, voxels[slots[0][0]]):
                return
        except OSError as error:
            raise DicomReadError(str(header.path), f"cannot read pixels ({error})") from None
    frames = read_frames(header.path)
    expected = voxels.shape[1:]
    for index, frame in slots:
        if frame >= frames.shape[0] or frames.shape[1:] != expected:
            raise DicomReadError(
                str(header.path),
                f"holds {frames.shape[0]} frame(s) of {frames.shape[1]}x{frames.shape[2]}, "
                f"expected frame {frame + 1} of {expected[0]}x{expected[1]}",
            )
        voxels[index] = frames[frame]


def _allocate(shape: tuple[int, int, int]) -> npt.NDArray[np.float32]:
    """An uninitialised float32 array, its pages mapped up front where the OS allows.

    On Linux, ``MAP_POPULATE`` maps all pages in one system call instead of one
    page fault per 4 KiB on first write (0.14 s instead of 0.5 s for 400 MiB
    on the benchmark machine); elsewhere this is ``numpy.empty``.
    """
    count = int(np.prod(shape))
    flags = getattr(mmap, "MAP_POPULATE", 0)
    if flags and count and hasattr(mmap, "MAP_ANONYMOUS"):
        try:
            buffer = mmap.mmap(-1, count * 4, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | flags)
        except (OSError, ValueError):
            pass
        else:
            return np.frombuffer(buffer, dtype=np.float32).reshape(shape)
    return np.empty(shape, dtype=np.float32)


def load_plan(plan: VolumePlan) -> Task[ImageVolume]:
    """Read the pixels of a planned volume, in modality units (HU for CT), as float32.

    The (z, y, x) array is allocated once; each file is decoded straight into
    its slice (uncompressed little-endian files without pydicom, others through
    ``pixels.read_frames``), two files at a time. Closing the task cancels the
    files not yet read.

    Yields
    ------
    Progress
        Slices read so far.

    Raises
    ------
    DicomReadError
        A file cannot be read or decoded, or its size does not match its header.
    """
    z, rows, columns = plan.report.shape_zyx
    voxels = _allocate((z, rows, columns))
    slots: dict[int, list[tuple[int, int]]] = {}
    for index, (file_index, frame) in enumerate(plan.frames):
        slots.setdefault(file_index, []).append((index, frame))
    jobs = list(slots.items())
    total = len(plan.frames)
    yield Progress(0, total, "Reading images")
    pool = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="dicom-read")
    futures: list[Future[None]] = []
    try:
        futures = [pool.submit(_read_into, plan.headers[f], s, voxels) for f, s in jobs]
        done = 0
        for future, (_, file_slots) in zip(futures, jobs, strict=True):
            future.result()
            done += len(file_slots)
            if done % 16 < len(file_slots) or done == total:
                yield Progress(done, total, f"Reading images ({done} of {total})")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return ImageVolume(voxels, plan.index_to_lps, plan.frame_of_reference_uid)
