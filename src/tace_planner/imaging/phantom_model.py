"""Analytic anatomy and scripted treatment course of the demo phantom.

Everything here is pure numpy: solids with exact inside-tests, the liver, the
tissues' CT numbers and MR signals, the dates and the course of the foci, and
sampling of solids on voxel grids. The truth records written to ``truth.json``
live in :mod:`tace_planner.imaging.phantom_truth`; the DICOM writer lives in
:mod:`tace_planner.imaging.phantom`.

Frames and units
----------------
All positions are DICOM patient coordinates (LPS, millimetres): +x towards the
patient's **left**, +y **posterior**, +z **superior**. The patient lies head first
supine; the liver is on the patient's right, at negative x. The anatomy is
defined in the baseline frame; at a follow-up the whole patient is translated by
that timepoint's ``patient_offset_lps_mm`` (the patient lies slightly differently
on the table), and every position recorded for that timepoint already includes
the offset.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from tace_planner.domain.geometry import lps_to_index
from tace_planner.domain.units import MM3_PER_CM3

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Vec3 = tuple[float, float, float]
PhantomSize = Literal["small", "full"]

PHANTOM_PATIENT_ID = "TACE-DEMO-001"
PHANTOM_PATIENT_NAME = "Demo^Phantom"

_FAR_MM = 1.0e6  # stands in for "unbounded" in bounding boxes and empty intervals


# ---------------------------------------------------------------------------
# Solids
# ---------------------------------------------------------------------------


class Region(Protocol):
    """A closed region of patient space with an exact inside-test."""

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        """Return True where the point (LPS, mm) lies inside or on the surface."""
        ...

    def bounds_lps_mm(self) -> tuple[Vec3, Vec3]:
        """Return the (low, high) corners of an axis-aligned box holding the region."""
        ...


class Solid(Region, Protocol):
    """A region that can also be painted with partial-volume edges and moved."""

    def occupancy(
        self, x: FloatArray, y: FloatArray, z: FloatArray, ramp_mm: float
    ) -> npt.NDArray[np.float32]:
        """Return a smooth 0..1 inside-weight, 0.5 on the surface, ``ramp_mm`` wide."""
        ...

    def translated(self, offset_mm: Sequence[float]) -> Solid:
        """Return the same solid moved by ``offset_mm`` (LPS)."""
        ...


def _ramp(distance_mm: FloatArray, ramp_mm: float) -> npt.NDArray[np.float32]:
    """Partial-volume weight from a signed distance (negative inside)."""
    return np.clip(0.5 - distance_mm / ramp_mm, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Ellipsoid:
    """A solid ellipsoid rotated about the z (superior) axis only.

    Parameters
    ----------
    center_lps_mm : tuple of 3 float
        Centre in LPS millimetres.
    semi_axes_mm : tuple of 3 float
        Semi-axes (a, b, c) in mm: a along the in-plane axis at ``rotation_deg``
        from +x, b perpendicular to it in the axial plane, c along z. ``c`` may be
        ``math.inf``: the solid is then an elliptic cylinder along z.
    rotation_deg : float
        Rotation of the in-plane axes about +z, from +x (left) towards +y
        (posterior), in degrees.

    Notes
    -----
    The inside-test is ``(p/a)² + (r/b)² + (w/c)² <= 1`` with (p, r, w) the
    offset from the centre in the rotated frame. Because rotations are about z
    only, every axial cross-section is an ellipse with semi-axes ``a s, b s``,
    ``s = sqrt(1 - (w/c)²)``: the longest axial chord is ``2 max(a, b)``.
    """

    center_lps_mm: Vec3
    semi_axes_mm: Vec3
    rotation_deg: float = 0.0

    @property
    def volume_mm3(self) -> float:
        """Exact volume ``4/3 π a b c`` in mm³ (infinite for a cylinder)."""
        a, b, c = self.semi_axes_mm
        return 4.0 / 3.0 * math.pi * a * b * c

    def _local(
        self, x: FloatArray, y: FloatArray, z: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        cx, cy, cz = self.center_lps_mm
        angle = math.radians(self.rotation_deg)
        cos, sin = math.cos(angle), math.sin(angle)
        dx, dy = np.subtract(x, cx), np.subtract(y, cy)
        return dx * cos + dy * sin, dy * cos - dx * sin, np.subtract(z, cz)

    def quadratic(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """Return ``(p/a)² + (r/b)² + (w/c)²``: 1 on the surface, < 1 inside."""
        p, r, w = self._local(x, y, z)
        a, b, c = self.semi_axes_mm
        q = (p / a) ** 2 + (r / b) ** 2
        if math.isfinite(c):
            q = q + (w / c) ** 2
        return np.asarray(q, dtype=float)

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        """Return True where the point lies inside or on the surface."""
        return self.quadratic(x, y, z) <= 1.0

    def occupancy(
        self, x: FloatArray, y: FloatArray, z: FloatArray, ramp_mm: float
    ) -> npt.NDArray[np.float32]:
        """Return a smooth inside-weight from the first-order distance ``(q - 1)/|∇q|``."""
        p, r, w = self._local(x, y, z)
        a, b, c = self.semi_axes_mm
        q = (p / a) ** 2 + (r / b) ** 2
        gradient_sq = (2.0 * p / a**2) ** 2 + (2.0 * r / b**2) ** 2
        if math.isfinite(c):
            q = q + (w / c) ** 2
            gradient_sq = gradient_sq + (2.0 * w / c**2) ** 2
        distance_mm = (q - 1.0) / np.maximum(np.sqrt(gradient_sq), 1e-9)
        return _ramp(distance_mm, ramp_mm)

    def bounds_lps_mm(self) -> tuple[Vec3, Vec3]:
        """Return the (low, high) corners of the tight axis-aligned bounding box."""
        a, b, c = self.semi_axes_mm
        angle = math.radians(self.rotation_deg)
        half_x = math.hypot(a * math.cos(angle), b * math.sin(angle))
        half_y = math.hypot(a * math.sin(angle), b * math.cos(angle))
        half_z = c if math.isfinite(c) else _FAR_MM
        cx, cy, cz = self.center_lps_mm
        return (cx - half_x, cy - half_y, cz - half_z), (cx + half_x, cy + half_y, cz + half_z)

    def x_chord(self, y: FloatArray, z: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return the exact interval of x inside the solid on the lines (y, z) = const.

        Empty intervals come back as ``(+F, +F)`` with a large F, so that their
        length is zero and they sort last.
        """
        cx, cy, cz = self.center_lps_mm
        a, b, c = self.semi_axes_mm
        angle = math.radians(self.rotation_deg)
        cos, sin = math.cos(angle), math.sin(angle)
        v = np.subtract(y, cy)
        budget = np.ones_like(v)
        if math.isfinite(c):
            budget = budget - (np.subtract(z, cz) / c) ** 2
        # (u cos + v sin)²/a² + (v cos - u sin)²/b² = budget, a quadratic in u = x - cx
        qa = cos**2 / a**2 + sin**2 / b**2
        qb = 2.0 * v * cos * sin * (1.0 / a**2 - 1.0 / b**2)
        qc = v**2 * (sin**2 / a**2 + cos**2 / b**2) - budget
        discriminant = qb**2 - 4.0 * qa * qc
        root = np.sqrt(np.maximum(discriminant, 0.0))
        hit = discriminant > 0.0
        low = np.where(hit, cx + (-qb - root) / (2.0 * qa), _FAR_MM)
        high = np.where(hit, cx + (-qb + root) / (2.0 * qa), _FAR_MM)
        return low, high

    def translated(self, offset_mm: Sequence[float]) -> Ellipsoid:
        """Return the same solid moved by ``offset_mm`` (LPS)."""
        return Ellipsoid(_add(self.center_lps_mm, offset_mm), self.semi_axes_mm, self.rotation_deg)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready description (``c`` = null for a cylinder)."""
        a, b, c = self.semi_axes_mm
        return {
            "center_lps_mm": list(self.center_lps_mm),
            "semi_axes_mm": [a, b, c if math.isfinite(c) else None],
            "rotation_deg": self.rotation_deg,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ellipsoid:
        """Inverse of :meth:`to_json`."""
        a, b, c = data["semi_axes_mm"]
        return cls(
            _vec3(data["center_lps_mm"]),
            (float(a), float(b), math.inf if c is None else float(c)),
            float(data["rotation_deg"]),
        )


@dataclass(frozen=True)
class Capsule:
    """All points within ``radius_mm`` of the segment from ``start_lps_mm`` to ``end_lps_mm``.

    Used for the portal vein trunk; its signed distance is exact.
    """

    start_lps_mm: Vec3
    end_lps_mm: Vec3
    radius_mm: float

    def signed_distance_mm(self, x: FloatArray, y: FloatArray, z: FloatArray) -> FloatArray:
        """Return the distance to the surface in mm, negative inside."""
        start = np.asarray(self.start_lps_mm)
        axis = np.asarray(self.end_lps_mm) - start
        px, py, pz = np.subtract(x, start[0]), np.subtract(y, start[1]), np.subtract(z, start[2])
        t = np.clip((px * axis[0] + py * axis[1] + pz * axis[2]) / float(axis @ axis), 0.0, 1.0)
        dx, dy, dz = px - t * axis[0], py - t * axis[1], pz - t * axis[2]
        return np.asarray(np.sqrt(dx * dx + dy * dy + dz * dz) - self.radius_mm, dtype=float)

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        """Return True where the point lies inside or on the surface."""
        return self.signed_distance_mm(x, y, z) <= 0.0

    def occupancy(
        self, x: FloatArray, y: FloatArray, z: FloatArray, ramp_mm: float
    ) -> npt.NDArray[np.float32]:
        """Return a smooth inside-weight from the exact signed distance."""
        return _ramp(self.signed_distance_mm(x, y, z), ramp_mm)

    def bounds_lps_mm(self) -> tuple[Vec3, Vec3]:
        """Return the (low, high) corners of an axis-aligned bounding box."""
        low = np.minimum(self.start_lps_mm, self.end_lps_mm) - self.radius_mm
        high = np.maximum(self.start_lps_mm, self.end_lps_mm) + self.radius_mm
        return _vec3(low), _vec3(high)

    def translated(self, offset_mm: Sequence[float]) -> Capsule:
        """Return the same solid moved by ``offset_mm`` (LPS)."""
        return Capsule(
            _add(self.start_lps_mm, offset_mm), _add(self.end_lps_mm, offset_mm), self.radius_mm
        )


def _union_length(low: FloatArray, high: FloatArray) -> FloatArray:
    """Length of the union of K intervals per line; ``low``, ``high`` shaped (K, N)."""
    empty = ~(high > low)
    low = np.where(empty, _FAR_MM, low)
    high = np.where(empty, _FAR_MM, high)
    order = np.argsort(low, axis=0)
    low = np.take_along_axis(low, order, axis=0)
    high = np.take_along_axis(high, order, axis=0)
    total = np.zeros(low.shape[1])
    run_low, run_high = low[0], high[0]
    for k in range(1, low.shape[0]):
        starts_new_run = low[k] > run_high
        total += np.where(starts_new_run, run_high - run_low, 0.0)
        run_low = np.where(starts_new_run, low[k], run_low)
        run_high = np.where(starts_new_run, high[k], np.maximum(run_high, high[k]))
    result: FloatArray = total + (run_high - run_low)
    return result


@dataclass(frozen=True)
class LiverModel:
    """The liver: a union of lobe ellipsoids minus vessels that groove it (the IVC).

    Parameters
    ----------
    lobes : tuple of Ellipsoid
        Right lobe, left lobe, caudate lobe; the organ is their union.
    excluded : tuple of Ellipsoid
        Solids cut out of the union (the inferior vena cava, an elliptic cylinder).

    Notes
    -----
    The volume has no closed form. :meth:`volume_mm3` integrates it
    semi-analytically: along every line parallel to x the organ is a union of
    intervals whose ends are exact roots of the ellipsoid quadratics, so the
    chord length is exact; the chord lengths are integrated over (y, z) with the
    midpoint rule on a 0.1 mm grid. Against closed forms (one ellipsoid, two
    overlapping spheres, a sphere with a cylindrical hole) the relative error is
    about 1e-5, i.e. ~0.02 cm³ for the liver (tested).
    """

    lobes: tuple[Ellipsoid, ...]
    excluded: tuple[Ellipsoid, ...] = ()

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        """Return True where the point lies inside the organ."""
        inside = np.zeros(np.broadcast(x, y, z).shape, dtype=bool)
        for lobe in self.lobes:
            inside |= lobe.contains(x, y, z)
        for vessel in self.excluded:
            inside &= ~vessel.contains(x, y, z)
        return inside

    def bounds_lps_mm(self) -> tuple[Vec3, Vec3]:
        """Return the (low, high) corners of a box holding every lobe."""
        corners = [lobe.bounds_lps_mm() for lobe in self.lobes]
        low = np.min([c[0] for c in corners], axis=0)
        high = np.max([c[1] for c in corners], axis=0)
        return _vec3(low), _vec3(high)

    def translated(self, offset_mm: Sequence[float]) -> LiverModel:
        """Return the same organ moved by ``offset_mm`` (LPS)."""
        return LiverModel(
            tuple(lobe.translated(offset_mm) for lobe in self.lobes),
            tuple(vessel.translated(offset_mm) for vessel in self.excluded),
        )

    def volume_mm3(self, step_mm: float = 0.1) -> float:
        """Return the organ volume in mm³ (exact chords, midpoint rule over y and z)."""
        return _liver_volume_mm3(self, step_mm)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready description."""
        return {
            "definition": "union of lobes minus excluded (elliptic cylinders have c = null)",
            "lobes": [lobe.to_json() for lobe in self.lobes],
            "excluded": [vessel.to_json() for vessel in self.excluded],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LiverModel:
        """Inverse of :meth:`to_json`."""
        return cls(
            tuple(Ellipsoid.from_json(d) for d in data["lobes"]),
            tuple(Ellipsoid.from_json(d) for d in data["excluded"]),
        )


@functools.lru_cache(maxsize=8)
def _liver_volume_mm3(model: LiverModel, step_mm: float) -> float:
    low, high = model.bounds_lps_mm()
    ys = np.arange(low[1] + step_mm / 2, high[1], step_mm)
    zs = np.arange(low[2] + step_mm / 2, high[2], step_mm)
    total_mm2 = 0.0
    for start in range(0, zs.size, 256):
        y, z = (a.ravel() for a in np.meshgrid(ys, zs[start : start + 256]))
        chords = [lobe.x_chord(y, z) for lobe in model.lobes]
        lobe_low = np.stack([c[0] for c in chords])
        lobe_high = np.stack([c[1] for c in chords])
        length = _union_length(lobe_low, lobe_high)
        if model.excluded:
            cut_low, cut_high = [], []
            for vessel in model.excluded:
                v_low, v_high = vessel.x_chord(y, z)
                cut_low.append(np.maximum(lobe_low, v_low))
                cut_high.append(np.minimum(lobe_high, v_high))
            length -= _union_length(np.concatenate(cut_low), np.concatenate(cut_high))
        total_mm2 += float(length.sum())
    return total_mm2 * step_mm * step_mm


# ---------------------------------------------------------------------------
# Anatomy (baseline frame) and tissues
# ---------------------------------------------------------------------------

INFERIOR_VENA_CAVA = Ellipsoid((-24.0, 34.0, 0.0), (11.0, 10.0, math.inf))
LIVER = LiverModel(
    lobes=(
        Ellipsoid((-78.0, 4.0, 0.0), (58.0, 76.0, 66.0), -10.0),  # right lobe
        Ellipsoid((-12.0, -42.0, 14.0), (62.0, 36.0, 44.0), -12.0),  # left lobe (II-IV)
        Ellipsoid((-16.0, 6.0, 8.0), (18.0, 21.0, 34.0), 0.0),  # caudate lobe (I)
    ),
    excluded=(INFERIOR_VENA_CAVA,),
)
"""The baseline liver; its volume is :func:`liver_volume_cm3`."""

ANATOMY_LAYERS: tuple[tuple[str, Solid], ...] = (
    ("fat", Ellipsoid((0.0, 0.0, 0.0), (170.0, 135.0, math.inf))),
    ("muscle", Ellipsoid((0.0, 0.0, 0.0), (150.0, 115.0, math.inf))),
    ("visceral_fat", Ellipsoid((0.0, 0.0, 0.0), (140.0, 105.0, math.inf))),
    ("muscle", Ellipsoid((-32.0, 106.0, 0.0), (22.0, 17.0, math.inf))),  # paraspinal
    ("muscle", Ellipsoid((32.0, 106.0, 0.0), (22.0, 17.0, math.inf))),
    ("bone", Ellipsoid((0.0, 62.0, 0.0), (19.0, 17.0, math.inf))),  # vertebral body
    ("bone", Ellipsoid((0.0, 104.0, 0.0), (5.0, 14.0, math.inf))),  # spinous process
    ("csf", Ellipsoid((0.0, 87.0, 0.0), (7.0, 6.0, math.inf))),  # spinal canal
    ("kidney", Ellipsoid((-72.0, 62.0, -72.0), (27.0, 20.0, 52.0), 60.0)),
    ("kidney", Ellipsoid((74.0, 60.0, -58.0), (27.0, 20.0, 52.0), -60.0)),
    ("spleen", Ellipsoid((92.0, 38.0, 22.0), (27.0, 45.0, 50.0), 30.0)),
    ("aorta", Ellipsoid((18.0, 32.0, 0.0), (12.0, 12.0, math.inf))),
    ("portal_vein", Capsule((22.0, 8.0, -80.0), (-34.0, -8.0, -8.0), 7.0)),
    ("liver", LIVER.lobes[0]),
    ("liver", LIVER.lobes[1]),
    ("liver", LIVER.lobes[2]),
    ("ivc", INFERIOR_VENA_CAVA),
)
"""Solids in painting order (later ones cover earlier ones), baseline frame."""

CT_PHASES = ("native", "arterial", "venous", "delayed")
CT_HU: Mapping[str, Mapping[str, float]] = {
    # tissue: HU in native, late arterial, portal venous, delayed phase
    "air": dict(zip(CT_PHASES, (-1000, -1000, -1000, -1000), strict=True)),
    "fat": dict(zip(CT_PHASES, (-105, -105, -100, -100), strict=True)),
    "visceral_fat": dict(zip(CT_PHASES, (-90, -88, -85, -85), strict=True)),
    "muscle": dict(zip(CT_PHASES, (48, 55, 62, 58), strict=True)),
    "bone": dict(zip(CT_PHASES, (560, 565, 570, 565), strict=True)),
    "csf": dict(zip(CT_PHASES, (10, 10, 12, 12), strict=True)),
    "kidney": dict(zip(CT_PHASES, (32, 175, 165, 135), strict=True)),
    "spleen": dict(zip(CT_PHASES, (45, 115, 125, 100), strict=True)),
    "aorta": dict(zip(CT_PHASES, (40, 300, 160, 110), strict=True)),
    "portal_vein": dict(zip(CT_PHASES, (40, 120, 180, 120), strict=True)),
    "ivc": dict(zip(CT_PHASES, (40, 95, 155, 110), strict=True)),
    "liver": dict(zip(CT_PHASES, (58, 75, 110, 90), strict=True)),
    "focus_hypervascular": dict(zip(CT_PHASES, (45, 160, 88, 70), strict=True)),
    "focus_hypovascular": dict(zip(CT_PHASES, (38, 52, 70, 66), strict=True)),
    "necrosis": dict(zip(CT_PHASES, (20, 20, 21, 21), strict=True)),
}
"""Noise-free CT numbers per tissue and phase (Hounsfield units)."""

MR_CONTRASTS = ("T2", "T1", "S0", "ADC")
MR_SIGNAL: Mapping[str, Mapping[str, float]] = {
    # tissue: T2 TSE, T1 VIBE fat-saturated (arbitrary units), DWI S0 (a.u.), ADC (10^-6 mm²/s)
    "air": dict(zip(MR_CONTRASTS, (0, 0, 0, 0), strict=True)),
    "fat": dict(zip(MR_CONTRASTS, (720, 110, 40, 200), strict=True)),
    "visceral_fat": dict(zip(MR_CONTRASTS, (680, 110, 40, 200), strict=True)),
    "muscle": dict(zip(MR_CONTRASTS, (170, 420, 240, 1400), strict=True)),
    "bone": dict(zip(MR_CONTRASTS, (380, 520, 120, 500), strict=True)),
    "csf": dict(zip(MR_CONTRASTS, (1300, 160, 900, 3000), strict=True)),
    "kidney": dict(zip(MR_CONTRASTS, (560, 430, 800, 2000), strict=True)),
    "spleen": dict(zip(MR_CONTRASTS, (520, 450, 700, 850), strict=True)),
    "aorta": dict(zip(MR_CONTRASTS, (40, 300, 60, 3000), strict=True)),
    "portal_vein": dict(zip(MR_CONTRASTS, (60, 320, 80, 3000), strict=True)),
    "ivc": dict(zip(MR_CONTRASTS, (50, 300, 70, 3000), strict=True)),
    "liver": dict(zip(MR_CONTRASTS, (250, 600, 500, 1100), strict=True)),
    "focus_hypervascular": dict(zip(MR_CONTRASTS, (620, 340, 720, 760), strict=True)),
    "focus_hypovascular": dict(zip(MR_CONTRASTS, (560, 320, 680, 820), strict=True)),
    "necrosis": dict(zip(MR_CONTRASTS, (950, 230, 620, 2400), strict=True)),
}
"""Noise-free MR signal per tissue; DWI is ``S0 exp(-b ADC)``."""


def liver_volume_cm3() -> float:
    """Return the analytic liver volume in cm³ (same at every timepoint).

    The organ has no closed-form volume; see :class:`LiverModel` for the
    semi-analytic integration, rounded here to 0.001 cm³.
    """
    return round(LIVER.volume_mm3() / MM3_PER_CM3, 3)


# ---------------------------------------------------------------------------
# Dates and the scripted course
# ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Return the same day of the month ``months`` calendar months later (clamped)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


TACE_DATE = date(2026, 3, 16)
BASELINE_CT_DATE = date(2026, 3, 2)
BASELINE_MR_DATE = date(2026, 3, 4)
TIMEPOINT_DATES: Mapping[str, date] = {
    "baseline": BASELINE_CT_DATE,
    "follow_up_1": TACE_DATE + timedelta(weeks=8),
    "follow_up_2": add_months(TACE_DATE, 5),
    "follow_up_3": add_months(TACE_DATE, 8),
}
TIMEPOINT_LABELS = tuple(TIMEPOINT_DATES)
PATIENT_OFFSETS_LPS_MM: Mapping[str, Vec3] = {
    "baseline": (0.0, 0.0, 0.0),
    "follow_up_1": (2.4, -3.1, 4.0),
    "follow_up_2": (-1.7, 2.2, -3.0),
    "follow_up_3": (3.1, 1.3, 6.0),
}
"""Where the patient lies at each visit relative to baseline (LPS mm); also the MRI."""


@dataclass(frozen=True)
class _FocusCourse:
    """One focus over time: baseline geometry (baseline frame) and its scripted course.

    ``volume_ratio`` and ``necrotic_scale`` have one entry per timepoint; a
    volume ratio of 0 means the focus is not there yet. Semi-axes scale by the
    cube root of the volume ratio; the necrotic core is the concentric similar
    solid scaled by ``necrotic_scale`` (0: none). ``center_shift_mm`` nudges the
    centre along z by less than half a CT slice at each timepoint (asymmetric
    shrinkage), chosen so that voxel counts on the full CT grid stay within 2 %
    of the analytic volume.
    """

    name: str
    couinaud_segment: str
    center_mm: Vec3
    semi_axes_mm: Vec3
    rotation_deg: float
    hypervascular: bool
    volume_ratio: tuple[float, float, float, float]
    necrotic_scale: tuple[float, float, float, float]
    center_shift_mm: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


_COURSES: tuple[_FocusCourse, ...] = (
    # Large segment VIII focus, necrotic centre (r 12 of 27 mm) at baseline.
    _FocusCourse(
        "F1", "VIII", (-68.0, -12.0, 18.0), (27.0, 27.0, 27.0), 0.0, True,
        (1.0, 0.55, 0.50, 0.62), (12.0 / 27.0, 0.80, 0.82, 0.70),
    ),
    _FocusCourse(
        "F2", "VI", (-100.0, 22.0, -28.0), (18.0, 12.0, 14.0), 30.0, True,
        (1.0, 0.50, 0.40, 0.45), (0.0, 0.70, 0.60, 0.50),
    ),
    _FocusCourse(
        "F3", "I", (-14.0, 8.0, 8.0), (8.5, 8.5, 8.5), 0.0, True,
        (1.0, 0.70, 0.75, 1.10), (0.0, 0.0, 0.0, 0.0), (0.0, 0.0, -0.45, 0.25),
    ),
    _FocusCourse(
        "F4", "IV", (-4.0, -48.0, 18.0), (12.0, 8.5, 9.5), -20.0, False,
        (1.0, 0.85, 0.80, 0.90), (0.0, 0.0, 0.0, 0.0),
    ),
    _FocusCourse(
        "F5", "III", (30.0, -52.0, 2.0), (3.5, 3.5, 3.5), 0.0, True,
        (1.0, 0.60, 0.50, 0.50), (0.0, 0.0, 0.0, 0.0),
    ),
    _FocusCourse(
        "F6", "VII", (-96.0, 38.0, 28.0), (10.5, 10.5, 10.5), 0.0, True,
        (1.0, 0.45, 0.35, 0.30), (0.0, 0.50, 0.0, 0.0), (0.0, 0.0, -0.5, 0.0),
    ),
    _FocusCourse(
        "F7", "V", (-66.0, -42.0, -20.0), (14.0, 10.0, 12.0), 45.0, True,
        (1.0, 0.60, 0.70, 1.30), (0.0, 0.60, 0.40, 0.0),
    ),
    # New focus at the last visit only (progression).
    _FocusCourse(
        "F8", "II", (18.0, -38.0, 32.0), (8.0, 8.0, 8.0), 0.0, True,
        (0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, -0.3),
    ),
)  # fmt: skip


# ---------------------------------------------------------------------------
# Sampling solids on grids
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SamplingGrid:
    """A voxel grid without voxels: where a series' voxel centres are.

    Parameters
    ----------
    index_to_lps : numpy.ndarray, shape (4, 4)
        Affine from (z, y, x, 1) indices to LPS mm, slices sorted along the normal.
    shape : tuple of 3 int
        Voxel counts (z, y, x).
    """

    index_to_lps: FloatArray
    shape: tuple[int, int, int]


class GridLike(Protocol):
    """Anything with an ``index_to_lps`` affine and a (z, y, x) ``shape`` (ImageVolume too)."""

    @property
    def index_to_lps(self) -> FloatArray: ...

    @property
    def shape(self) -> tuple[int, int, int]: ...


def index_box(
    grid: GridLike, bounds_lps_mm: tuple[Vec3, Vec3], margin_mm: float = 0.0
) -> tuple[int, int, int, int, int, int] | None:
    """Return the (k0, k1, j0, j1, i0, i1) index ranges holding a box, or None if outside.

    Parameters
    ----------
    grid : GridLike
        Any grid; oblique grids get a conservative box.
    bounds_lps_mm : (low, high)
        Box corners in LPS mm (infinite extents may be given as ±1e6).
    margin_mm : float
        Grow the box by this much on every side first.
    """
    (x0, y0, z0), (x1, y1, z1) = bounds_lps_mm
    corners = np.array(
        [
            (x, y, z)
            for x in (x0 - margin_mm, x1 + margin_mm)
            for y in (y0 - margin_mm, y1 + margin_mm)
            for z in (z0 - margin_mm, z1 + margin_mm)
        ]
    )
    index = lps_to_index(np.asarray(grid.index_to_lps, dtype=float), corners)
    low = np.floor(index.min(axis=0)).astype(int)
    high = np.ceil(index.max(axis=0)).astype(int) + 1
    shape = np.asarray(grid.shape)
    low, high = np.clip(low, 0, shape), np.clip(high, 0, shape)
    if np.any(high <= low):
        return None
    return int(low[0]), int(high[0]), int(low[1]), int(high[1]), int(low[2]), int(high[2])


def plane_points_lps(
    grid: GridLike, k: int, rows: slice, columns: slice
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return x, y, z (LPS mm) of the voxel centres of slice ``k``, shape (rows, columns)."""
    affine = np.asarray(grid.index_to_lps, dtype=float)
    j = np.arange(grid.shape[1])[rows].astype(float)[:, None]
    i = np.arange(grid.shape[2])[columns].astype(float)[None, :]
    base = affine[:3, 3] + k * affine[:3, 0]
    x, y, z = (base[d] + j * affine[d, 1] + i * affine[d, 2] for d in range(3))
    return x, y, z


def sample_solid(solid: Region, grid: GridLike) -> BoolArray:
    """Return the region's inside-test at every voxel centre of ``grid``, shape (z, y, x)."""
    mask = np.zeros(tuple(grid.shape), dtype=bool)
    box = index_box(grid, solid.bounds_lps_mm(), margin_mm=1.0)
    if box is None:
        return mask
    k0, k1, j0, j1, i0, i1 = box
    rows, columns = slice(j0, j1), slice(i0, i1)
    for k in range(k0, k1):
        x, y, z = plane_points_lps(grid, k, rows, columns)
        mask[k, rows, columns] = solid.contains(x, y, z)
    return mask


def _vec3(values: Any) -> Vec3:
    x, y, z = (float(v) for v in values)
    return x, y, z


def _add(a: Sequence[float], b: Sequence[float]) -> Vec3:
    return float(a[0]) + float(b[0]), float(a[1]) + float(b[1]), float(a[2]) + float(b[2])
