"""Measurements drawn on images: ruler length, angle, ellipse ROI statistics (pure).

Every point is in DICOM patient coordinates (LPS, millimetres), so lengths
and areas are right whatever the pixel spacing (anisotropic pixels, reformatted
planes, sheared grids): the view turns screen positions into LPS through the
volume's affine, and these functions only do geometry on those points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

AnnotationKind = Literal["ruler", "ellipse", "angle"]
KINDS: tuple[AnnotationKind, ...] = ("ruler", "ellipse", "angle")
POINT_COUNTS: dict[str, int] = {"ruler": 2, "ellipse": 3, "angle": 3}
"""Points per kind: ruler (start, end); ellipse (centre, end of axis 1, end of axis 2);
angle (first arm end, vertex, second arm end)."""

Vec3 = tuple[float, float, float]


def _point(value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    point = np.asarray(value, dtype=float)
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise ValueError(f"an LPS point needs 3 finite coordinates, got {value!r}")
    return point


def ruler_length_mm(start_lps: npt.ArrayLike, end_lps: npt.ArrayLike) -> float:
    """Distance between two LPS points, in mm.

    Parameters
    ----------
    start_lps, end_lps : array-like, shape (3,)
        Ends of the ruler in LPS millimetres.
    """
    return float(np.linalg.norm(_point(end_lps) - _point(start_lps)))


def angle_deg(
    first_lps: npt.ArrayLike, vertex_lps: npt.ArrayLike, second_lps: npt.ArrayLike
) -> float:
    """The angle at ``vertex_lps`` between the arms to the two other points, 0 to 180 degrees.

    Raises
    ------
    ValueError
        If an arm has zero length.
    """
    vertex = _point(vertex_lps)
    a = _point(first_lps) - vertex
    b = _point(second_lps) - vertex
    norms = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    if norms == 0.0:
        raise ValueError("an angle needs two arms of non-zero length")
    cosine = float(np.clip(a @ b / norms, -1.0, 1.0))
    return math.degrees(math.acos(cosine))


def ellipse_area_mm2(
    centre_lps: npt.ArrayLike, axis1_end_lps: npt.ArrayLike, axis2_end_lps: npt.ArrayLike
) -> float:
    """Area π·a·b of the ellipse with semi-axes from ``centre`` to the two axis ends, mm²."""
    centre = _point(centre_lps)
    a = float(np.linalg.norm(_point(axis1_end_lps) - centre))
    b = float(np.linalg.norm(_point(axis2_end_lps) - centre))
    return math.pi * a * b


def inside_ellipse(
    points_lps: npt.ArrayLike,
    centre_lps: npt.ArrayLike,
    axis1_end_lps: npt.ArrayLike,
    axis2_end_lps: npt.ArrayLike,
) -> npt.NDArray[np.bool_]:
    """Which points lie inside (or on) an ellipse given by its centre and two semi-axis ends.

    Parameters
    ----------
    points_lps : array-like, shape (..., 3)
        Points in the ellipse's plane (pixel centres), LPS mm.
    centre_lps, axis1_end_lps, axis2_end_lps : array-like, shape (3,)
        The ellipse: the two semi-axes must be perpendicular and non-zero.

    Returns
    -------
    numpy.ndarray of bool, shape (...)

    Raises
    ------
    ValueError
        Zero-length or non-perpendicular semi-axes.
    """
    centre = _point(centre_lps)
    axis1 = _point(axis1_end_lps) - centre
    axis2 = _point(axis2_end_lps) - centre
    a, b = float(np.linalg.norm(axis1)), float(np.linalg.norm(axis2))
    if a == 0.0 or b == 0.0:
        raise ValueError("an ellipse needs two semi-axes of non-zero length")
    if abs(float(axis1 @ axis2)) > 1e-6 * a * b:
        raise ValueError("the semi-axes of an ellipse must be perpendicular")
    offsets = np.asarray(points_lps, dtype=float) - centre
    x = offsets @ (axis1 / a) / a
    y = offsets @ (axis2 / b) / b
    inside: npt.NDArray[np.bool_] = x * x + y * y <= 1.0
    return inside


@dataclass(frozen=True, slots=True)
class RoiStatistics:
    """Pixel statistics inside a region of one plane.

    ``mean``, ``sd`` (sample standard deviation, n − 1), ``minimum`` and
    ``maximum`` are in the image's unit (HU for CT, arbitrary units for MR);
    ``area_mm2`` is the drawn shape's area, ``pixel_count`` the pixels whose
    centres lie inside it.
    """

    mean: float
    sd: float
    minimum: float
    maximum: float
    pixel_count: int
    area_mm2: float


def roi_statistics(
    values: npt.ArrayLike, inside: npt.ArrayLike, *, area_mm2: float
) -> RoiStatistics:
    """Mean, SD, minimum and maximum of ``values`` where ``inside`` is True.

    Parameters
    ----------
    values : array-like
        Pixel values (HU or signal), any shape.
    inside : array-like of bool
        Same shape: the pixels whose centres lie inside the region.
    area_mm2 : float
        Area of the drawn region (π·a·b for an ellipse).

    Raises
    ------
    ValueError
        Shapes differ, or no pixel centre lies inside the region.
    """
    data = np.asarray(values, dtype=np.float64)
    chosen = np.asarray(inside, dtype=bool)
    if data.shape != chosen.shape:
        raise ValueError(f"values {data.shape} and region {chosen.shape} differ in shape")
    selected = data[chosen]
    if selected.size == 0:
        raise ValueError("the region holds no pixel centre: draw it larger")
    sd = float(selected.std(ddof=1)) if selected.size > 1 else 0.0
    return RoiStatistics(
        mean=float(selected.mean()),
        sd=sd,
        minimum=float(selected.min()),
        maximum=float(selected.max()),
        pixel_count=int(selected.size),
        area_mm2=float(area_mm2),
    )


@dataclass(frozen=True)
class Annotation:
    """One measurement drawn on a plane of a series, with what it measured.

    Parameters
    ----------
    kind : {"ruler", "ellipse", "angle"}
        See :data:`POINT_COUNTS` for the meaning of the points.
    points_lps : tuple of (float, float, float)
        The defining points in LPS millimetres.
    orientation : str
        The plane it was drawn in ("axial", "coronal", "sagittal").
    plane_normal_lps : tuple of 3 float
        Unit normal of that plane.
    plane_position_mm : float
        Position of the plane along ``plane_normal_lps``.
    values : mapping of str to float
        ``length_mm``; ``angle_deg``; or ``mean``, ``sd``, ``minimum``,
        ``maximum``, ``pixel_count``, ``area_mm2`` for an ellipse.
    unit : str
        Unit of an ellipse's pixel statistics ("HU", or "" for MR signal).
    label : str
        Free text typed by the user.
    """

    kind: str
    points_lps: tuple[Vec3, ...]
    orientation: str
    plane_normal_lps: Vec3
    plane_position_mm: float
    values: Mapping[str, float] = field(default_factory=dict)
    unit: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in POINT_COUNTS:
            raise ValueError(f"annotation kind must be one of {KINDS}, got {self.kind!r}")
        if len(self.points_lps) != POINT_COUNTS[self.kind]:
            raise ValueError(
                f"a {self.kind} needs {POINT_COUNTS[self.kind]} points, got {len(self.points_lps)}"
            )
        for point in self.points_lps:
            _point(point)

    def summary(self) -> str:
        """One line for the measurement list: "Ruler 23.4 mm", "Angle 37.5°", …."""
        v = self.values
        if self.kind == "ruler":
            return f"Ruler {v.get('length_mm', float('nan')):.1f} mm"
        if self.kind == "angle":
            return f"Angle {v.get('angle_deg', float('nan')):.1f}°"
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"Ellipse {v.get('mean', float('nan')):.1f} ± {v.get('sd', float('nan')):.1f}{unit}, "
            f"{v.get('area_mm2', float('nan')) / 100.0:.2f} cm²"
        )

    def details(self) -> str:
        """Several lines with every value, for a tooltip."""
        lines = [self.summary()]
        if self.kind == "ellipse":
            v = self.values
            unit = f" {self.unit}" if self.unit else ""
            lines.append(
                f"min {v.get('minimum', 0):.0f}{unit}, max {v.get('maximum', 0):.0f}{unit}"
            )
            lines.append(f"{int(v.get('pixel_count', 0))} pixels, {v.get('area_mm2', 0):.1f} mm²")
        lines.append(f"{self.orientation} plane at {self.plane_position_mm:.1f} mm")
        return "\n".join(lines)

    def geometry_json(self) -> dict[str, Any]:
        """The ``geometry`` record stored with the annotation."""
        return {
            "points_lps": [list(p) for p in self.points_lps],
            "orientation": self.orientation,
            "plane_normal_lps": list(self.plane_normal_lps),
            "plane_position_mm": self.plane_position_mm,
            "unit": self.unit,
        }

    @classmethod
    def from_json(
        cls, kind: str, geometry: Mapping[str, Any], values: Mapping[str, Any], label: str = ""
    ) -> Annotation:
        """Inverse of :meth:`geometry_json` plus the stored values."""
        return cls(
            kind=kind,
            points_lps=tuple(_vec3(p) for p in geometry["points_lps"]),
            orientation=str(geometry.get("orientation", "")),
            plane_normal_lps=_vec3(geometry.get("plane_normal_lps", (0.0, 0.0, 1.0))),
            plane_position_mm=float(geometry.get("plane_position_mm", 0.0)),
            values={str(k): float(v) for k, v in values.items()},
            unit=str(geometry.get("unit", "")),
            label=label,
        )


def _vec3(values: Sequence[Any]) -> Vec3:
    x, y, z = (float(v) for v in values)
    return x, y, z


def measure_ruler(
    start_lps: Sequence[float],
    end_lps: Sequence[float],
    *,
    orientation: str,
    plane_normal_lps: Sequence[float],
    plane_position_mm: float,
    label: str = "",
) -> Annotation:
    """A ruler annotation with its length in mm."""
    return Annotation(
        "ruler",
        (_vec3(start_lps), _vec3(end_lps)),
        orientation,
        _vec3(plane_normal_lps),
        float(plane_position_mm),
        {"length_mm": ruler_length_mm(start_lps, end_lps)},
        label=label,
    )


def measure_angle(
    first_lps: Sequence[float],
    vertex_lps: Sequence[float],
    second_lps: Sequence[float],
    *,
    orientation: str,
    plane_normal_lps: Sequence[float],
    plane_position_mm: float,
    label: str = "",
) -> Annotation:
    """An angle annotation with its value in degrees."""
    return Annotation(
        "angle",
        (_vec3(first_lps), _vec3(vertex_lps), _vec3(second_lps)),
        orientation,
        _vec3(plane_normal_lps),
        float(plane_position_mm),
        {"angle_deg": angle_deg(first_lps, vertex_lps, second_lps)},
        label=label,
    )


def measure_ellipse(
    centre_lps: Sequence[float],
    axis1_end_lps: Sequence[float],
    axis2_end_lps: Sequence[float],
    statistics: RoiStatistics,
    *,
    orientation: str,
    plane_normal_lps: Sequence[float],
    plane_position_mm: float,
    unit: str,
    label: str = "",
) -> Annotation:
    """An ellipse ROI annotation with its pixel statistics and area."""
    return Annotation(
        "ellipse",
        (_vec3(centre_lps), _vec3(axis1_end_lps), _vec3(axis2_end_lps)),
        orientation,
        _vec3(plane_normal_lps),
        float(plane_position_mm),
        {
            "mean": statistics.mean,
            "sd": statistics.sd,
            "minimum": statistics.minimum,
            "maximum": statistics.maximum,
            "pixel_count": float(statistics.pixel_count),
            "area_mm2": statistics.area_mm2,
        },
        unit=unit,
        label=label,
    )
