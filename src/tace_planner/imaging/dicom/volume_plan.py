"""What a planned volume is: its files and frames in slice order, its grid and its report.

:func:`volumes.plan_volumes` makes these plans from the headers of one series and
:func:`volume_loading.load_plan` reads their pixels; the geometry rules behind
:class:`GeometryReport` are described in the docstring of :mod:`volumes`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from tace_planner.domain.geometry import Affine, affine_from_dicom_geometry
from tace_planner.imaging.dicom.scan import InstanceHeader

Status = Literal["ok", "warning", "unmeasurable"]


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
