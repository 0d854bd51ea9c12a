"""Place every frame of one series as a slice, and group slices into candidate volumes.

Frames without a usable position, orientation, pixel spacing or size are counted,
not placed. Placed slices are grouped by contrast (b-value, echo, complex
component), by grid (orientation, matrix, pixel spacing) and, when positions
repeat, by time, stack or acquisition; the rules are in the docstring of
:mod:`volumes`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.geometry import slice_normal
from tace_planner.imaging.dicom.scan import InstanceHeader

DUPLICATE_TOLERANCE_MM = 0.01
ORIENTATION_TOLERANCE = 1e-3
PIXEL_SPACING_TOLERANCE_MM = 1e-3


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
