"""Measurements of a segmentation: volume, RECIST diameters, HU statistics, enhancement.

Every function takes a bool mask shaped (z, y, x) on a grid given by its 4 × 4
``index_to_lps`` affine (or anything with such an attribute, e.g. an
``ImageVolume``), and returns a frozen result with its method, an
:class:`~tace_planner.domain.explanation.Explanation` and the ``trust`` of the
series geometry it was measured on (``"ok"``, ``"warning"``; an
``"unmeasurable"`` series is refused for volumes and lengths).

Conventions
-----------
- Volume = voxel count × voxel volume, the voxel volume being
  ``|det(affine[:3, :3])|`` (spacing from the slice positions, exact for
  oblique and tilted grids).
- Axial diameters are measured on the lesion's outline: the half level of the
  mask smoothed over max(1 pixel, 3 % of its size), sub-pixel, so that the
  voxel staircase and single noisy edge voxels do not lengthen them; a
  digitised disc of diameter D measures D within a third of a pixel. Lesions
  too thin for that (one voxel wide) are measured on the outer edges of their
  voxels, so a line of n voxels measures n voxels. The 3D diameter uses the
  mid-points of the voxels' outer faces (up to a voxel longer than the shape).
- The longest axial diameter is the largest Feret diameter over the patient's
  axial slices (RECIST 1.1, Eisenhauer, Eur J Cancer 2009): the acquired
  slices of an axial series, or the mask reformatted to axial planes for a
  coronal or sagittal one (:func:`measure_recist_axes`). The short axis is the
  longest diameter perpendicular to it on the same slice, inside the lesion.
- An empty mask raises :class:`EmptyMaskError`: "no lesion" is never reported
  as 0 mm or 0 cm³ by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError, TacePlannerError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.geometry import index_to_lps
from tace_planner.domain.units import MM3_PER_CM3

Trust = Literal["ok", "warning", "unmeasurable"]
"""Geometry status of the series a measurement was made on (``GeometryReport.status``)."""

Vec3 = tuple[float, float, float]
BoolArray = npt.NDArray[np.bool_]

_OUTLINE_FRACTION = 0.03
"""Outline smoothing for diameters, as a share of the lesion's extent (at least one pixel)."""

TRUSTS: tuple[Trust, ...] = ("ok", "warning", "unmeasurable")


class EmptyMaskError(InvalidInputError):
    """The mask holds no voxel: there is nothing to measure."""

    def __init__(self, what: str = "mask") -> None:
        super().__init__(what, "is empty: contour the lesion before measuring it")


class UnmeasurableGeometryError(TacePlannerError):
    """The series' geometry is unmeasurable (gaps, uneven slices): no lengths or volumes."""


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeMeasurement:
    """Volume of a mask.

    Attributes
    ----------
    volume_cm3 : float
        ``voxel_count × voxel_volume_cm3``.
    voxel_count : int
    voxel_volume_cm3 : float
        ``|det(affine[:3, :3])| / 1000``.
    method, trust, explanation
        How, on what geometry, and the numbers.
    """

    volume_cm3: float
    voxel_count: int
    voxel_volume_cm3: float
    method: str
    trust: Trust
    explanation: Explanation


@dataclass(frozen=True)
class AxialDiameters:
    """RECIST long and short axes on the axial slice where the long axis is longest.

    Attributes
    ----------
    long_axis_mm : float
        Largest in-plane Feret diameter over all slices.
    slice_index : int
        The (z) index of that slice.
    long_axis_lps : tuple of 2 (x, y, z)
        Its end points in LPS mm (on the outline).
    long_axis_index : tuple of 2 (z, y, x)
        The same end points as fractional voxel indices (for drawing).
    short_axis_mm : float
        Longest chord perpendicular to the long axis on the same slice.
    short_axis_lps, short_axis_index : tuple of 2 points
        Its end points, LPS mm and fractional (z, y, x).
    method, trust, explanation
    """

    long_axis_mm: float
    slice_index: int
    long_axis_lps: tuple[Vec3, Vec3]
    long_axis_index: tuple[Vec3, Vec3]
    short_axis_mm: float
    short_axis_lps: tuple[Vec3, Vec3]
    short_axis_index: tuple[Vec3, Vec3]
    method: str
    trust: Trust
    explanation: Explanation
    plane: str = "acquired"
    """"acquired" (measured on the series' own axial slices) or "reformatted axial"."""
    axis_check: str = ""
    """"" when the long axis lies inside its outline; else why the measurement is flagged."""

    @property
    def axis_consistent(self) -> bool:
        """True when the long axis passed the check against the contour."""
        return not self.axis_check


@dataclass(frozen=True)
class Diameter3D:
    """Longest distance between two points of the lesion's outline, in any direction."""

    diameter_mm: float
    endpoints_lps: tuple[Vec3, Vec3]
    endpoints_index: tuple[Vec3, Vec3]
    method: str
    trust: Trust
    explanation: Explanation


@dataclass(frozen=True)
class HuStatistics:
    """Attenuation inside a mask on one series (one contrast phase).

    Attributes
    ----------
    mean_hu, sd_hu, median_hu : float
        Mean, sample SD (n − 1; 0 for one voxel) and median in HU.
    voxel_count : int
    phase : str
        Label of the series measured ("arterial", "venous", …), as given.
    """

    mean_hu: float
    sd_hu: float
    median_hu: float
    voxel_count: int
    phase: str
    method: str
    trust: Trust
    explanation: Explanation


@dataclass(frozen=True)
class EnhancementThreshold:
    """The arterial-phase HU above which a tumour voxel counts as enhancing (viable).

    Attributes
    ----------
    reference : {"absolute", "liver"}
        "absolute": the threshold is ``value_hu``. "liver": it is the mean HU
        of the (non-tumour) liver on the same arterial series plus ``value_hu``.
    value_hu : float
        HU, or HU above the liver's mean.

    Notes
    -----
    Default: absolute 40 HU, an **institutional default without a published
    source** (``recist.json``, ``enhancing_threshold_hu``). It is not the
    mRECIST definition: mRECIST (Lencioni & Llovet, Semin Liver Dis 2010)
    measures viable tumour as arterially enhancing tissue judged against the
    liver, validated for hepatocellular carcinoma only. A liver-relative
    rule (``reference="liver"``) is offered; every result records the rule
    and the threshold it used.
    """

    reference: Literal["absolute", "liver"] = "absolute"
    value_hu: float = 40.0

    def threshold_hu(self, liver_mean_hu: float | None = None) -> float:
        """Return the threshold in HU (``liver_mean_hu`` needed for ``reference="liver"``)."""
        if self.reference == "absolute":
            return float(self.value_hu)
        if liver_mean_hu is None:
            raise InvalidInputError(
                "liver mean HU", "a liver-relative threshold needs the liver's arterial mean HU"
            )
        return float(liver_mean_hu) + float(self.value_hu)

    def source(self) -> str:
        """Where the rule comes from, for the explanation a clinician reads."""
        if self.reference == "absolute":
            return (
                f"institutional default, no published source: {self.value_hu:g} HU on the "
                "arterial phase"
            )
        return (
            f"institutional default, no published source: {self.value_hu:+g} HU relative to "
            "the liver's arterial mean"
        )

    def describe(self) -> str:
        """Return the threshold's rule as text."""
        if self.reference == "absolute":
            return f"HU ≥ {self.value_hu:g}"
        return f"HU ≥ liver mean {self.value_hu:+g}"


DEFAULT_ENHANCEMENT_THRESHOLD = EnhancementThreshold()


@dataclass(frozen=True)
class EnhancementMeasurement:
    """Enhancing (viable) and necrotic shares of a lesion on the arterial phase."""

    enhancing_fraction: float
    necrotic_fraction: float
    enhancing_voxels: int
    voxel_count: int
    threshold_hu: float
    threshold: EnhancementThreshold
    method: str
    trust: Trust
    explanation: Explanation


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _affine(grid: Any) -> npt.NDArray[np.float64]:
    matrix = np.asarray(getattr(grid, "index_to_lps", grid), dtype=float)
    if matrix.shape != (4, 4):
        raise ValueError(f"index_to_lps must be 4 x 4, got {matrix.shape}")
    return matrix


def _mask(mask: npt.ArrayLike, what: str = "mask") -> BoolArray:
    array = np.asarray(mask)
    if array.ndim != 3:
        raise ValueError(f"{what} must be (z, y, x), got shape {array.shape}")
    array = array.astype(bool, copy=False)
    if not array.any():
        raise EmptyMaskError(what)
    return array


def _crop(array: BoolArray) -> tuple[BoolArray, npt.NDArray[np.float64]]:
    """The mask cropped to its bounding box, and the (z, y, x) index of the crop's origin."""
    where = [np.flatnonzero(array.any(axis=tuple(a for a in range(3) if a != d))) for d in range(3)]
    low = [int(w[0]) for w in where]
    high = [int(w[-1]) + 1 for w in where]
    crop = array[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    return crop, np.asarray(low, dtype=float)


def _check_trust(trust: str, geometric: bool) -> Trust:
    if trust not in TRUSTS:
        raise ValueError(f"trust must be one of {TRUSTS}, got {trust!r}")
    if geometric and trust == "unmeasurable":
        raise UnmeasurableGeometryError(
            "the series' slice geometry is unmeasurable (gaps or uneven spacing): "
            "volumes and diameters would be wrong; load a complete series"
        )
    return trust  # type: ignore[return-value]


def _vec(point: npt.ArrayLike) -> Vec3:
    x, y, z = (float(v) for v in np.asarray(point, dtype=float))
    return x, y, z


def _trust_note(trust: Trust) -> str:
    return "" if trust == "ok" else " (series geometry: warning — check the slices)"


# ---------------------------------------------------------------------------
# Volume
# ---------------------------------------------------------------------------


def measure_volume(mask: npt.ArrayLike, grid: Any, *, trust: Trust = "ok") -> VolumeMeasurement:
    """Return the volume of a mask in cm³ (voxel count × voxel volume).

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
    grid : numpy.ndarray (4, 4) or object with ``index_to_lps``
        The grid the mask was drawn on.
    trust : {"ok", "warning"}
        Geometry status of the series.

    Raises
    ------
    EmptyMaskError
        No voxel in the mask.
    UnmeasurableGeometryError
        ``trust == "unmeasurable"``.
    """
    checked = _check_trust(trust, geometric=True)
    array = _mask(mask)
    affine = _affine(grid)
    count = int(np.count_nonzero(array))
    voxel_cm3 = abs(float(np.linalg.det(affine[:3, :3]))) / MM3_PER_CM3
    volume = count * voxel_cm3
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    explanation = Explanation(
        summary="Volume from the contour" + _trust_note(checked),
        formula="V = voxel count × voxel volume; voxel volume = |det(index→LPS)| / 1000",
        inputs={
            "voxel count": f"{count}",
            "voxel size (dz, dy, dx)": " × ".join(f"{s:.3f}" for s in spacing) + " mm",
            "voxel volume": f"{voxel_cm3 * MM3_PER_CM3:.4f} mm³",
        },
        result=f"{volume:.2f} cm³",
        source="voxel count × voxel volume of the contour",
    )
    return VolumeMeasurement(volume, count, voxel_cm3, "voxel count × voxel volume", checked,
                             explanation)  # fmt: skip


# ---------------------------------------------------------------------------
# Diameters
# ---------------------------------------------------------------------------


def _edge_midpoints(plane: BoolArray) -> npt.NDArray[np.float64]:
    """(j, i) of the mid-points of the outer edges of a 2D mask's pixels, shape (n, 2)."""
    padded = np.pad(plane, 1)
    points = []
    for dj, di in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        neighbour = padded[1 + dj : padded.shape[0] - 1 + dj, 1 + di : padded.shape[1] - 1 + di]
        j, i = np.nonzero(plane & ~neighbour)
        points.append(np.stack([j + 0.5 * dj, i + 0.5 * di], axis=1))
    return np.concatenate(points).astype(float)


def _outline_points(plane: BoolArray) -> npt.NDArray[np.float64]:
    """(j, i) of points on a 2D mask's outline, sub-pixel, shape (n, 2).

    The outline is the 0.5 level of the mask's indicator smoothed by a Gaussian
    of ``max(1 pixel, 3 % of the mask's extent)``, found where it crosses
    between neighbouring pixels (linear interpolation, as marching squares).
    The smoothing removes the staircase of the voxel edges and single-voxel
    bumps that calipers ignore; its own shrinkage is σ²/2r (under 0.05 pixel
    for a 10 mm lesion). Masks too thin to survive the smoothing (a line one
    voxel wide, a few voxels) use the mid-points of their outer voxel edges.
    """
    from scipy import ndimage

    rows, columns = np.nonzero(plane)
    extent = max(int(np.ptp(rows)), int(np.ptp(columns))) + 1
    sigma = max(1.0, _OUTLINE_FRACTION * extent)
    pad = int(np.ceil(3 * sigma)) + 1
    u = ndimage.gaussian_filter(np.pad(plane, pad).astype(float), sigma, truncate=3.0) - 0.5
    if np.count_nonzero(u >= 0) < 0.5 * rows.size:
        return _edge_midpoints(plane)
    points = []
    for axis in (0, 1):
        a = u[:-1, :] if axis == 0 else u[:, :-1]
        b = u[1:, :] if axis == 0 else u[:, 1:]
        j, i = np.nonzero((a >= 0) != (b >= 0))
        t = a[j, i] / (a[j, i] - b[j, i])
        points.append(np.stack([j + t, i], axis=1) if axis == 0 else np.stack([j, i + t], axis=1))
    outline = np.concatenate(points) - pad
    return outline if len(outline) >= 3 else _edge_midpoints(plane)


def _hull(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Vertices of the convex hull (all points when they are few or degenerate)."""
    from scipy.spatial import ConvexHull, QhullError

    if len(points) <= 64:
        return points
    try:
        return points[ConvexHull(points).vertices]
    except QhullError:  # collinear or coplanar: every point is a candidate
        return points


def _farthest_pair(points: npt.NDArray[np.float64]) -> tuple[int, int, float]:
    """Indices and distance of the two farthest points (brute force over hull vertices)."""
    best = (0, 0, 0.0)
    chunk = 2048
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        d2 = ((block[:, None, :] - points[None, :, :]) ** 2).sum(axis=-1)
        flat = int(np.argmax(d2))
        a, b = divmod(flat, d2.shape[1])
        if d2[a, b] > best[2] ** 2:
            best = (start + a, b, float(np.sqrt(d2[a, b])))
    return best


def _plane_frame(affine: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """2 × 2 map from in-plane index offsets (dj, di) to mm in an orthonormal in-plane frame."""
    columns = affine[:3, 1:3]  # y index step, x index step (LPS mm)
    e1 = columns[:, 1] / np.linalg.norm(columns[:, 1])
    e2 = columns[:, 0] - (columns[:, 0] @ e1) * e1
    e2 /= np.linalg.norm(e2)
    return np.array(
        [[columns[:, 0] @ e1, columns[:, 1] @ e1], [columns[:, 0] @ e2, columns[:, 1] @ e2]]
    )


def measure_axial_diameters(
    mask: npt.ArrayLike, grid: Any, *, trust: Trust = "ok"
) -> AxialDiameters:
    """Return the RECIST longest axial diameter, its slice and end points, and the short axis.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
    grid : numpy.ndarray (4, 4) or object with ``index_to_lps``
    trust : {"ok", "warning"}

    Raises
    ------
    EmptyMaskError, UnmeasurableGeometryError

    Notes
    -----
    Per slice: the outline points (outer edge mid-points of the voxels) are
    mapped to mm in the slice plane, reduced to their convex hull, and the
    farthest pair is the Feret diameter. The slice with the largest one wins
    (ties: the lowest index). Short axis: the longest diameter perpendicular
    to the long axis on that slice that lies inside the lesion (see
    :func:`_short_axis`; a concave lesion is not measured across its gap).
    The slices are the grid's own: use :func:`measure_recist_axes` for a
    series that may not be axial. RECIST 1.1 (Eisenhauer, Eur J Cancer 2009).
    """
    checked = _check_trust(trust, geometric=True)
    array, origin = _crop(_mask(mask))
    affine = _affine(grid)
    to_mm = _plane_frame(affine)
    best: tuple[float, int, np.ndarray, np.ndarray, BoolArray] | None = None
    for k in np.flatnonzero(array.any(axis=(1, 2))):
        for component in _components(array[k]):
            points = _outline_points(component)
            hull = _hull(points @ to_mm.T)
            a, b, length = _farthest_pair(hull)
            if best is None or length > best[0] + 1e-9:
                best = (length, int(k), hull[a], hull[b], component)
    assert best is not None
    long_mm, k, p_mm, q_mm, component = best
    back = np.linalg.inv(to_mm)
    short_mm, s_mm, t_mm = _short_axis(component, to_mm, p_mm, q_mm)
    inside = _fraction_inside(component, to_mm, p_mm, q_mm)
    axis_check = ""
    if inside < AXIS_INSIDE_MIN:
        axis_check = (
            f"The long axis ({long_mm:.1f} mm) runs {100 * (1 - inside):.0f} % of its length "
            "outside the contour (a crescent shape, or two structures joined): check the "
            "contour and measure the lesion with a ruler."
        )
    ends_index = [origin + np.array([k, *(back @ m)]) for m in (p_mm, q_mm)]
    short_index = [origin + np.array([k, *(back @ m)]) for m in (s_mm, t_mm)]
    k += int(origin[0])
    ends_lps = [_vec(index_to_lps(affine, e)) for e in ends_index]
    short_lps = [_vec(index_to_lps(affine, e)) for e in short_index]
    explanation = Explanation(
        summary="Longest axial diameter (RECIST 1.1) and perpendicular short axis"
        + _trust_note(checked),
        formula="long axis = max over slices of the in-plane Feret diameter of the outline; "
        "short axis = longest chord perpendicular to it on that slice",
        inputs={
            "slice index": f"{k}",
            "slices with the lesion": f"{int(np.count_nonzero(array.any(axis=(1, 2))))}",
            "long axis inside the contour": f"{100 * inside:.0f} %",
            "pixel size (dy, dx)": " × ".join(
                f"{s:.3f}" for s in np.linalg.norm(affine[:3, 1:3], axis=0)
            )
            + " mm",
        },
        result=f"{long_mm:.1f} mm × {short_mm:.1f} mm",
        source="RECIST 1.1, Eisenhauer et al., Eur J Cancer 2009",
    )
    return AxialDiameters(
        long_axis_mm=float(long_mm),
        slice_index=k,
        long_axis_lps=(ends_lps[0], ends_lps[1]),
        long_axis_index=(_vec(ends_index[0]), _vec(ends_index[1])),
        short_axis_mm=float(short_mm),
        short_axis_lps=(short_lps[0], short_lps[1]),
        short_axis_index=(_vec(short_index[0]), _vec(short_index[1])),
        method="Feret diameter of the voxel outline per axial slice",
        trust=checked,
        explanation=explanation,
        axis_check=axis_check,
    )


AXIS_INSIDE_MIN = 0.9
"""Share of the long axis that must lie in its outline (dilated by one pixel)."""


def _components(plane: BoolArray) -> list[BoolArray]:
    """The connected parts of a slice of the mask (8-connected), each as its own plane.

    The long axis joins two points of one part: a contour that holds two
    separate structures on a slice (a focus and a leak into a vessel) is not
    measured across the gap between them.
    """
    from scipy import ndimage

    labels, count = ndimage.label(plane, structure=np.ones((3, 3), dtype=bool))
    if count <= 1:
        return [plane]
    return [labels == n for n in range(1, count + 1)]


def _fraction_inside(plane: BoolArray, to_mm: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    """Share of the segment p→q (in-plane mm) lying in ``plane`` dilated by one pixel."""
    from scipy import ndimage

    near = ndimage.binary_dilation(plane, structure=np.ones((3, 3), dtype=bool))
    pixel = float(min(np.linalg.norm(to_mm, axis=0)))
    count = max(2, int(np.ceil(np.linalg.norm(q - p) / (0.25 * pixel))) + 1)
    points = p + np.linspace(0.0, 1.0, count)[:, None] * (q - p)
    index = np.rint(points @ np.linalg.inv(to_mm).T).astype(int)
    valid = np.all((index >= 0) & (index < np.asarray(plane.shape)), axis=1)
    hits = np.zeros(count, dtype=bool)
    hits[valid] = near[index[valid, 0], index[valid, 1]]
    return float(np.count_nonzero(hits)) / count


_MAX_REFORMAT_EDGE = 160
"""The axial reformat has at most about this many voxels along each edge (memory bound)."""

AXIAL_TOLERANCE_DEG = 30.0
"""A series whose slice normal is within this angle of the patient's S axis is measured on
its own slices (axial, or an axial with gantry tilt); others are reformatted to axial."""


def acquisition_plane(grid: Any) -> str:
    """ "axial", "coronal" or "sagittal": the patient plane closest to the grid's slices."""
    affine = _affine(grid)
    normal = np.cross(affine[:3, 1], affine[:3, 2])
    normal = normal / np.linalg.norm(normal)
    return ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(normal)))]


def _is_axial(affine: npt.NDArray[np.float64]) -> bool:
    normal = np.cross(affine[:3, 1], affine[:3, 2])
    cosine = abs(float(normal[2])) / float(np.linalg.norm(normal))
    return cosine >= np.cos(np.radians(AXIAL_TOLERANCE_DEG))


def axial_reformat(
    mask: npt.ArrayLike, grid: Any, *, spacing_mm: float | None = None
) -> tuple[BoolArray, npt.NDArray[np.float64]]:
    """The mask resampled onto axial patient planes, and that grid's index→LPS affine.

    The new grid's axes are (z, y, x) = (S, P, L) of the patient (LPS), its
    voxels cubes of ``spacing_mm`` (default: the finest spacing of the source,
    at least 0.5 mm), covering the mask's bounding box. The mask is sampled by
    linear interpolation of its indicator, kept where ≥ ½ (the outline where
    the partial-volume mask would be half full).
    """
    from scipy import ndimage

    array, origin = _crop(_mask(mask))
    affine = _affine(grid)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    step = float(spacing_mm) if spacing_mm else max(float(spacing.min()), 0.5)
    padded = np.pad(array, 1).astype(np.float32)
    start = origin - 1.0
    corners = np.array(
        [[z, y, x] for z in (0, padded.shape[0] - 1) for y in (0, padded.shape[1] - 1)
         for x in (0, padded.shape[2] - 1)], dtype=float,
    ) + start  # fmt: skip
    lps = index_to_lps(affine, corners)
    low, high = lps.min(axis=0), lps.max(axis=0)
    step = max(step, float(np.prod(high - low)) ** (1 / 3) / _MAX_REFORMAT_EDGE)
    counts = np.ceil((high - low) / step).astype(int) + 1  # (x, y, z) in LPS
    new_affine = np.eye(4)
    new_affine[:3, 0] = (0.0, 0.0, step)  # z index -> S
    new_affine[:3, 1] = (0.0, step, 0.0)  # y index -> P
    new_affine[:3, 2] = (step, 0.0, 0.0)  # x index -> L
    new_affine[:3, 3] = low
    shape = (int(counts[2]), int(counts[1]), int(counts[0]))
    kk, jj, ii = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    target = np.stack([kk.ravel(), jj.ravel(), ii.ravel()], axis=1)
    source = np.linalg.solve(affine, (new_affine @ np.c_[target, np.ones(len(target))].T)).T
    source = source[:, :3] - start
    values = ndimage.map_coordinates(padded, source.T, order=1, mode="constant", cval=0.0)
    return values.reshape(shape) >= 0.5, new_affine


def measure_recist_axes(mask: npt.ArrayLike, grid: Any, *, trust: Trust = "ok") -> AxialDiameters:
    """RECIST long and short axes in the patient's axial plane, whatever the acquisition plane.

    An axial series (slice normal within :data:`AXIAL_TOLERANCE_DEG` of S) is
    measured on its own slices (:func:`measure_axial_diameters`). A coronal,
    sagittal or steeply oblique series is reformatted to axial planes first
    (:func:`axial_reformat`): the long axis is then never a coronal or sagittal
    length. The end points are in LPS mm; ``slice_index`` and the ``*_index``
    points of a reformatted result refer to the reformatted grid.

    Raises
    ------
    EmptyMaskError, UnmeasurableGeometryError
    """
    affine = _affine(grid)
    if _is_axial(affine):
        return measure_axial_diameters(mask, affine, trust=trust)
    _check_trust(trust, geometric=True)
    plane = acquisition_plane(affine)
    reformatted, new_affine = axial_reformat(mask, affine)
    if not reformatted.any():
        raise InvalidInputError(
            "contour",
            f"is too thin to measure on axial planes reformatted from this {plane} series",
        )
    result = measure_axial_diameters(reformatted, new_affine, trust=trust)
    step = float(new_affine[2, 0])
    explanation = Explanation(
        summary=f"RECIST axes measured on axial planes reformatted from a {plane} series",
        formula=result.explanation.formula
        + "; mask resampled to axial planes (linear interpolation, kept where ≥ ½)",
        inputs={**result.explanation.inputs, "acquired plane": plane,
                "reformatted voxel": f"{step:.2f} mm"},
        result=result.explanation.result,
        source=result.explanation.source,
    )  # fmt: skip
    return AxialDiameters(
        long_axis_mm=result.long_axis_mm,
        slice_index=result.slice_index,
        long_axis_lps=result.long_axis_lps,
        long_axis_index=result.long_axis_index,
        short_axis_mm=result.short_axis_mm,
        short_axis_lps=result.short_axis_lps,
        short_axis_index=result.short_axis_index,
        method=result.method + ", on the mask reformatted to axial planes",
        trust=result.trust,
        explanation=explanation,
        plane="reformatted axial",
        axis_check=result.axis_check,
    )


def _indicator(plane: BoolArray) -> tuple[npt.NDArray[np.float64], int, int]:
    """The outline's indicator: the mask smoothed as in :func:`_outline_points`, minus ½.

    Returns the padded field, its pad, and the interpolation order to sample it
    with (1 for the smoothed field; 0, nearest, for masks too thin to smooth,
    whose outline is then the outer voxel edges).
    """
    from scipy import ndimage

    rows, columns = np.nonzero(plane)
    extent = max(int(np.ptp(rows)), int(np.ptp(columns))) + 1
    sigma = max(1.0, _OUTLINE_FRACTION * extent)
    pad = int(np.ceil(3 * sigma)) + 1
    u = ndimage.gaussian_filter(np.pad(plane, pad).astype(float), sigma, truncate=3.0) - 0.5
    if np.count_nonzero(u >= 0) < 0.5 * rows.size:
        return np.pad(plane, pad).astype(float) - 0.5, pad, 0
    return u, pad, 1


def _short_axis(
    plane: BoolArray, to_mm: np.ndarray, p: np.ndarray, q: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Longest diameter perpendicular to p→q *inside* the lesion, in in-plane mm.

    Lines perpendicular to the long axis are laid every half pixel along it;
    along each, the outline's indicator is sampled every tenth of a pixel and
    the longest run inside the lesion is kept, its ends placed where the
    indicator crosses the outline. A line that leaves the lesion and enters it
    again (a concave or crescent-shaped lesion) counts its longest inside run,
    never the span across the gap. Returns (length, end, end).
    """
    from scipy import ndimage

    axis = q - p
    length = float(np.linalg.norm(axis))
    if length == 0.0:
        return 0.0, p, q
    u = axis / length
    w = np.array([-u[1], u[0]])
    pixel = float(min(np.linalg.norm(to_mm, axis=0)))
    field, pad, order = _indicator(plane)
    back = np.linalg.inv(to_mm)
    along = np.arange(0.0, length + 1e-9, 0.5 * pixel)
    step = 0.1 * pixel
    across = np.arange(-length, length + step, step)
    points = p + along[:, None, None] * u + across[None, :, None] * w  # (lines, samples, 2)
    index = points.reshape(-1, 2) @ back.T + pad
    values = ndimage.map_coordinates(field, index.T, order=order, mode="constant", cval=-0.5)
    values = values.reshape(len(along), len(across))
    inside = values >= 0
    best = (0.0, p, p)
    for line in np.flatnonzero(inside.any(axis=1)):
        row, flags = values[line], inside[line]
        edges = np.flatnonzero(np.diff(flags.astype(np.int8)))
        starts = list(edges[~flags[edges]] + 1)  # outside -> inside
        stops = list(edges[flags[edges]])  # inside -> outside
        if flags[0]:
            starts.insert(0, 0)
        if flags[-1]:
            stops.append(len(flags) - 1)
        for start, stop in zip(starts, stops, strict=True):
            low = across[0]
            if start > 0:
                low = across[start] - _crossing(row, start - 1, order) * step
            high = (
                across[stop] + _crossing(row, stop, order) * step
                if stop < len(row) - 1
                else across[-1]
            )
            if high - low > best[0]:
                base = p + along[line] * u
                best = (float(high - low), base + low * w, base + high * w)
    return best


def _crossing(values: np.ndarray, k: int, order: int) -> float:
    """Where, between samples k and k + 1 (0 … 1 of a step), the indicator crosses zero.

    Measured from sample k + 1 back for an entry (k outside) and from sample k
    forward for an exit (k inside); nearest sampling puts the crossing half-way.
    """
    a, b = float(values[k]), float(values[k + 1])
    if order == 0 or a == b:
        return 0.5
    t = a / (a - b)  # fraction from k to k + 1
    return 1.0 - t if a < 0 else t


def measure_longest_3d_diameter(
    mask: npt.ArrayLike, grid: Any, *, trust: Trust = "ok"
) -> Diameter3D:
    """Return the longest distance between two points of the lesion's outline (any direction).

    The outline points are the mid-points of the voxels' outer faces in LPS mm;
    the farthest pair of their convex hull's vertices is the diameter.

    Raises
    ------
    EmptyMaskError, UnmeasurableGeometryError
    """
    checked = _check_trust(trust, geometric=True)
    array, origin = _crop(_mask(mask))
    affine = _affine(grid)
    padded = np.pad(array, 1)
    faces = []
    for axis in range(3):
        for step in (-1, 1):
            shifted = np.roll(padded, -step, axis=axis)[1:-1, 1:-1, 1:-1]
            where = np.argwhere(array & ~shifted).astype(float)
            where[:, axis] += 0.5 * step
            faces.append(where)
    index = np.concatenate(faces) + origin
    points = index_to_lps(affine, index)
    keep = _hull(points)
    a, b, diameter = _farthest_pair(keep)
    back = np.linalg.solve(affine[:3, :3], (keep[[a, b]] - affine[:3, 3]).T).T
    explanation = Explanation(
        summary="Longest 3D diameter of the contour" + _trust_note(checked),
        formula="max distance between two outline points (voxel face mid-points), any direction",
        inputs={"outline points": f"{len(points)}", "hull points": f"{len(keep)}"},
        result=f"{diameter:.1f} mm",
        source="TACE Planner measurements (domain/measurements.py)",
    )
    return Diameter3D(
        diameter_mm=float(diameter),
        endpoints_lps=(_vec(keep[a]), _vec(keep[b])),
        endpoints_index=(_vec(back[0]), _vec(back[1])),
        method="Feret diameter of the voxel outline in 3D",
        trust=checked,
        explanation=explanation,
    )


# ---------------------------------------------------------------------------
# Attenuation
# ---------------------------------------------------------------------------


def measure_hu(
    voxels: npt.ArrayLike, mask: npt.ArrayLike, *, phase: str = "", trust: Trust = "ok"
) -> HuStatistics:
    """Return mean, SD and median HU inside a mask drawn on the same grid as ``voxels``.

    To measure a mask on another phase of the same frame of reference, carry it
    first (``imaging.segmentation.resample.carry_mask``).

    Raises
    ------
    EmptyMaskError
    ValueError
        ``voxels`` and ``mask`` differ in shape.
    """
    checked = _check_trust(trust, geometric=False)
    array = _mask(mask)
    image = np.asarray(voxels)
    if image.shape != array.shape:
        raise ValueError(f"mask shape {array.shape} does not match the image {image.shape}")
    values = image[array].astype(np.float64)
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    median = float(np.median(values))
    label = phase or "this series"
    explanation = Explanation(
        summary=f"Attenuation inside the contour on {label}",
        formula="mean = Σ HU / n; SD = √(Σ (HU − mean)² / (n − 1))",
        inputs={"voxels (n)": f"{values.size}", "phase": label},
        result=f"{mean:.1f} ± {sd:.1f} HU (median {median:.1f} HU)",
        source="TACE Planner measurements (domain/measurements.py)",
    )
    return HuStatistics(mean, sd, median, int(values.size), phase, "voxel statistics", checked,
                        explanation)  # fmt: skip


def measure_enhancement(
    arterial_voxels: npt.ArrayLike,
    mask: npt.ArrayLike,
    threshold: EnhancementThreshold = DEFAULT_ENHANCEMENT_THRESHOLD,
    *,
    liver_mean_hu: float | None = None,
    trust: Trust = "ok",
) -> EnhancementMeasurement:
    """Return the enhancing (viable) and necrotic fractions of a lesion on the arterial phase.

    Parameters
    ----------
    arterial_voxels : numpy.ndarray, shape (z, y, x)
        Late-arterial CT in HU, on the mask's grid.
    mask : numpy.ndarray of bool, shape (z, y, x)
        The whole lesion.
    threshold : EnhancementThreshold
        The rule (see its Notes for the default and why).
    liver_mean_hu : float, optional
        Mean arterial HU of the non-tumour liver, for a liver-relative rule.

    Returns
    -------
    EnhancementMeasurement
        ``enhancing = voxels with HU ≥ threshold / all voxels``; necrotic = 1 − enhancing.

    Raises
    ------
    EmptyMaskError
    InvalidInputError
        A liver-relative rule without ``liver_mean_hu``.
    """
    checked = _check_trust(trust, geometric=False)
    array = _mask(mask)
    image = np.asarray(arterial_voxels)
    if image.shape != array.shape:
        raise ValueError(f"mask shape {array.shape} does not match the image {image.shape}")
    level = threshold.threshold_hu(liver_mean_hu)
    values = image[array]
    enhancing = int(np.count_nonzero(values >= level))
    fraction = enhancing / values.size
    inputs = {
        "rule": threshold.describe(),
        "threshold": f"{level:.1f} HU",
        "lesion voxels": f"{values.size}",
        "enhancing voxels": f"{enhancing}",
    }
    if liver_mean_hu is not None:
        inputs["liver mean (arterial)"] = f"{liver_mean_hu:.1f} HU"
    explanation = Explanation(
        summary="Enhancing (viable) share of the lesion on the arterial phase",
        formula="enhancing fraction = voxels with HU ≥ threshold / lesion voxels; "
        "necrotic fraction = 1 − enhancing fraction",
        inputs=inputs,
        result=f"enhancing {100 * fraction:.1f} %, necrotic {100 * (1 - fraction):.1f} %",
        source=threshold.source(),
    )
    return EnhancementMeasurement(
        enhancing_fraction=fraction,
        necrotic_fraction=1.0 - fraction,
        enhancing_voxels=enhancing,
        voxel_count=int(values.size),
        threshold_hu=level,
        threshold=threshold,
        method="voxels at or above an arterial HU threshold",
        trust=checked,
        explanation=explanation,
    )
