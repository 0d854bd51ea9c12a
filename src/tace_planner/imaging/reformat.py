"""Display planes of (z, y, x) volumes: axial, coronal and sagittal slices in patient millimetres.

A view shows one plane of voxels (a slice along one voxel axis) on a screen
frame in LPS millimetres: ``u`` grows to the right of the screen along
``right_lps``, ``v`` grows downwards along ``down_lps``, and the plane lies at
``position_mm`` along ``normal_lps``. No voxel is interpolated: a coronal slice
of a (z, y, x) volume is the array view ``voxels[:, row, :]``, and a 2 × 3
``pixel_to_screen`` matrix (from the affine) puts it where it belongs, shear
included, so a tilted-gantry or oblique series is drawn with its true shape.

Display convention (radiological): patient right on the screen's left in
axial and coronal views, anterior up in axial views, superior up in coronal and
sagittal views (anterior on the left). The acquisition plane (a slice along
voxel axis 0) is never transposed, only mirrored where the convention asks for
it, as a PACS shows images as stored; reformatted planes are transposed too
when needed. The orientation letters of the screen edges come from the affine
(:func:`direction_letters`), so a view never claims a direction it does not show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from tace_planner.domain.annotations import (
    RoiStatistics,
    ellipse_area_mm2,
    inside_ellipse,
    roi_statistics,
)

Orientation = Literal["axial", "coronal", "sagittal"]
ORIENTATIONS: tuple[Orientation, ...] = ("axial", "coronal", "sagittal")
Vec3 = tuple[float, float, float]

#: Screen right, screen down and plane normal of each orientation in LPS.
SCREEN_AXES_LPS: dict[str, tuple[Vec3, Vec3, Vec3]] = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0)),
}

#: A direction cosine at least this large adds its letter to an edge label (≈ 6°).
SECONDARY_LETTER_COSINE = 0.1
#: Angles below this are treated as zero (shear, skew, obliquity), degrees.
ANGLE_TOLERANCE_DEG = 0.05

_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))  # (negative, positive) per LPS axis


def direction_letters(direction_lps: npt.ArrayLike) -> str:
    """Patient-direction letters of an LPS direction, strongest first (e.g. "L", "PS").

    Parameters
    ----------
    direction_lps : array-like, shape (3,)
        Any non-zero vector in LPS.

    Returns
    -------
    str
        "L"/"R", "P"/"A", "S"/"I" for every component whose cosine is at least
        :data:`SECONDARY_LETTER_COSINE`, ordered by magnitude.
    """
    vector = np.asarray(direction_lps, dtype=float)
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        return ""
    cosines = vector / norm
    order = np.argsort(-np.abs(cosines), kind="stable")
    letters = [
        _LETTERS[axis][1 if cosines[axis] > 0 else 0]
        for n, axis in enumerate(order)
        if n == 0 or abs(cosines[axis]) >= SECONDARY_LETTER_COSINE
    ]
    return "".join(letters)


def _unit(vector: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norm = float(np.linalg.norm(vector))
    if norm < 1e-12:
        raise ValueError("degenerate affine: a voxel axis has zero length")
    return vector / norm


def _angle_deg(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """Angle between two lines (not oriented), 0 to 90 degrees."""
    cosine = abs(float(np.dot(_unit(a), _unit(b))))
    return math.degrees(math.acos(min(1.0, cosine)))


@dataclass(frozen=True, eq=False)
class PlaneGeometry:
    """How the planes of one volume along one orientation map to the screen.

    Attributes
    ----------
    orientation : str
        "axial", "coronal" or "sagittal".
    slice_axis, row_axis, column_axis : int
        Voxel axes (0 = z, 1 = y, 2 = x): the one stepped through, the one
        running down the displayed image, the one running across it.
    shape_zyx : tuple of int
        The volume's shape.
    right_lps, down_lps, normal_lps : numpy.ndarray, shape (3,)
        Orthonormal screen frame in LPS: ``right`` is the image column
        direction, ``down`` the row direction made orthogonal to it, and
        ``normal`` the plane normal (pointing along the orientation's
        conventional normal: S, P or L).
    pixel_to_screen : numpy.ndarray, shape (2, 3)
        Maps (column, row, 1) pixel indices of slice 0 to screen (u, v) in mm;
        slice ``k`` adds ``k × slice_offset_screen``.
    slice_offset_screen : numpy.ndarray, shape (2,)
        Screen (u, v) shift in mm from one slice to the next (non-zero only
        when the stack is sheared relative to the plane).
    first_position_mm, step_position_mm : float
        Position of slice 0 along ``normal_lps`` and the step per slice (may
        be negative).
    """

    orientation: str
    slice_axis: int
    row_axis: int
    column_axis: int
    shape_zyx: tuple[int, int, int]
    index_to_lps: npt.NDArray[np.float64]
    right_lps: npt.NDArray[np.float64]
    down_lps: npt.NDArray[np.float64]
    normal_lps: npt.NDArray[np.float64]
    pixel_to_screen: npt.NDArray[np.float64]
    slice_offset_screen: npt.NDArray[np.float64]
    first_position_mm: float
    step_position_mm: float

    # ------------------------------------------------------------ slices
    @property
    def slice_count(self) -> int:
        """Number of planes along this orientation."""
        return self.shape_zyx[self.slice_axis]

    @property
    def image_shape(self) -> tuple[int, int]:
        """(rows, columns) of one displayed plane."""
        return self.shape_zyx[self.row_axis], self.shape_zyx[self.column_axis]

    @property
    def is_acquisition_plane(self) -> bool:
        """True when the planes are the acquired slices (voxel axis 0)."""
        return self.slice_axis == 0

    def position_mm(self, index: int) -> float:
        """Position of plane ``index`` along ``normal_lps``, in mm."""
        return self.first_position_mm + index * self.step_position_mm

    def fractional_index(self, position_mm: float) -> float:
        """Plane index (not rounded, not clamped) at ``position_mm`` along the normal."""
        return (position_mm - self.first_position_mm) / self.step_position_mm

    def index_at(self, position_mm: float) -> int:
        """The plane nearest to ``position_mm``, clamped to the volume."""
        index = round(self.fractional_index(position_mm))
        return min(max(index, 0), self.slice_count - 1)

    def contains(self, position_mm: float) -> bool:
        """True when ``position_mm`` lies within half a step of a plane of the volume."""
        index = self.fractional_index(position_mm)
        return -0.5 <= index <= self.slice_count - 0.5

    def extract(self, array: npt.NDArray[np.generic], index: int) -> npt.NDArray[np.generic]:
        """Plane ``index`` of a (z, y, x) array on this grid, rows down, columns across.

        A view of ``array`` (no copy); transposed when the row axis comes after
        the column axis.
        """
        selector: list[int | slice] = [slice(None)] * 3
        selector[self.slice_axis] = index
        plane = array[tuple(selector)]
        return plane.T if self.row_axis > self.column_axis else plane

    # ------------------------------------------------------------ mapping
    def screen_transform(self, index: int) -> npt.NDArray[np.float64]:
        """2 × 3 matrix from (column, row, 1) pixel indices of plane ``index`` to (u, v) mm."""
        matrix = self.pixel_to_screen.copy()
        matrix[:, 2] += index * self.slice_offset_screen
        return matrix

    def screen_to_lps(
        self, u_mm: float, v_mm: float, position_mm: float
    ) -> npt.NDArray[np.float64]:
        """The LPS point at screen (u, v) on the plane at ``position_mm``."""
        return u_mm * self.right_lps + v_mm * self.down_lps + position_mm * self.normal_lps

    def lps_to_screen(self, point_lps: npt.ArrayLike) -> tuple[float, float, float]:
        """(u, v, position along the normal) of an LPS point, in mm."""
        point = np.asarray(point_lps, dtype=float)
        return (
            float(point @ self.right_lps),
            float(point @ self.down_lps),
            float(point @ self.normal_lps),
        )

    def lps_to_index(self, point_lps: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fractional (z, y, x) voxel index of an LPS point."""
        point = np.asarray(point_lps, dtype=float)
        return np.linalg.solve(self.index_to_lps[:3, :3], point - self.index_to_lps[:3, 3])

    def voxel_at(self, u_mm: float, v_mm: float, index: int) -> tuple[int, int, int] | None:
        """The (z, y, x) voxel under screen (u, v) on plane ``index``, or None outside."""
        point = self.screen_to_lps(u_mm, v_mm, self.position_mm(index))
        voxel = np.rint(self.lps_to_index(point)).astype(int)
        voxel[self.slice_axis] = index  # the plane is exact; rounding must not leave it
        if np.any(voxel < 0) or np.any(voxel >= np.asarray(self.shape_zyx)):
            return None
        z, y, x = (int(v) for v in voxel)
        return z, y, x

    def screen_bounds(self) -> tuple[float, float, float, float]:
        """(u_min, v_min, u_max, v_max) in mm of the whole volume's outer voxel edges."""
        z, y, x = self.shape_zyx
        corners = np.array(
            [[a, b, c] for a in (-0.5, z - 0.5) for b in (-0.5, y - 0.5) for c in (-0.5, x - 0.5)]
        )
        points = corners @ self.index_to_lps[:3, :3].T + self.index_to_lps[:3, 3]
        u = points @ self.right_lps
        v = points @ self.down_lps
        return float(u.min()), float(v.min()), float(u.max()), float(v.max())

    def pixel_spacing_mm(self) -> tuple[float, float]:
        """(row spacing, column spacing) in mm of the displayed plane."""
        steps = self.index_to_lps[:3, :3]
        return (
            float(np.linalg.norm(steps[:, self.row_axis])),
            float(np.linalg.norm(steps[:, self.column_axis])),
        )

    def pixel_area_mm2(self) -> float:
        """Area of one displayed pixel in mm² (exact for skewed planes)."""
        steps = self.index_to_lps[:3, :3]
        return float(np.linalg.norm(np.cross(steps[:, self.row_axis], steps[:, self.column_axis])))

    # ------------------------------------------------------------ trust
    @property
    def edge_letters(self) -> dict[str, str]:
        """Patient-direction letters of the four screen edges (from the affine)."""
        return {
            "left": direction_letters(-self.right_lps),
            "right": direction_letters(self.right_lps),
            "top": direction_letters(-self.down_lps),
            "bottom": direction_letters(self.down_lps),
        }

    @property
    def skew_deg(self) -> float:
        """How far the displayed pixel grid departs from a right angle (0 = rectangular)."""
        steps = self.index_to_lps[:3, :3]
        return 90.0 - _angle_deg(steps[:, self.row_axis], steps[:, self.column_axis])

    @property
    def oblique_deg(self) -> float:
        """Angle between this plane and the true axial, coronal or sagittal plane."""
        return _angle_deg(self.normal_lps, np.asarray(SCREEN_AXES_LPS[self.orientation][2]))

    @property
    def stack_shear_deg(self) -> float:
        """Angle between the step from plane to plane and the plane normal (gantry tilt)."""
        step = self.index_to_lps[:3, self.slice_axis]
        return _angle_deg(step, self.normal_lps)


def volume_shear_deg(index_to_lps: npt.ArrayLike) -> float:
    """Angle by which the slice step leaves the acquisition-plane normal (gantry tilt), degrees."""
    affine = np.asarray(index_to_lps, dtype=float)
    normal = np.cross(affine[:3, 1], affine[:3, 2])
    return _angle_deg(affine[:3, 0], normal)


def acquisition_orientation(index_to_lps: npt.ArrayLike) -> Orientation:
    """The conventional plane closest to the acquired slices (voxel axis 0)."""
    affine = np.asarray(index_to_lps, dtype=float)
    normal = _unit(np.cross(affine[:3, 1], affine[:3, 2]))
    scores = [abs(float(normal @ np.asarray(SCREEN_AXES_LPS[o][2]))) for o in ORIENTATIONS]
    return ORIENTATIONS[int(np.argmax(scores))]


def plane_geometry(
    index_to_lps: npt.ArrayLike, shape_zyx: tuple[int, int, int], orientation: str
) -> PlaneGeometry:
    """Work out how to show a volume's planes closest to ``orientation``.

    Parameters
    ----------
    index_to_lps : array-like, shape (4, 4)
        Affine from (z, y, x, 1) to LPS millimetres (may be sheared).
    shape_zyx : tuple of int
        Voxel counts.
    orientation : {"axial", "coronal", "sagittal"}
        The wanted plane.

    Returns
    -------
    PlaneGeometry

    Raises
    ------
    ValueError
        Unknown orientation, or an affine with a zero-length axis.
    """
    if orientation not in SCREEN_AXES_LPS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    affine = np.asarray(index_to_lps, dtype=float)
    steps = affine[:3, :3]
    std_right, std_down, std_normal = (np.asarray(v) for v in SCREEN_AXES_LPS[orientation])

    def plane_normal(axis: int) -> npt.NDArray[np.float64]:
        a, b = (i for i in range(3) if i != axis)
        return _unit(np.cross(steps[:, a], steps[:, b]))

    # Prefer the acquisition plane on ties, so a volume is shown as stored.
    scores = [abs(float(plane_normal(axis) @ std_normal)) - 1e-9 * axis for axis in range(3)]
    slice_axis = int(np.argmax(scores))
    first, second = (i for i in range(3) if i != slice_axis)
    if slice_axis == 0:
        row_axis, column_axis = first, second  # as stored: never transposed
    else:
        first_across = abs(float(_unit(steps[:, first]) @ std_right))
        second_across = abs(float(_unit(steps[:, second]) @ std_right))
        row_axis, column_axis = (
            (first, second) if second_across >= first_across else (second, first)
        )

    right = _unit(steps[:, column_axis])
    if float(right @ std_right) < 0:
        right = -right
    row_step = steps[:, row_axis]
    down = _unit(row_step - float(row_step @ right) * right)
    if float(down @ std_down) < 0:
        down = -down
    normal = np.cross(right, down)
    if float(normal @ std_normal) < 0:
        normal = -normal

    origin = affine[:3, 3]
    slice_step = steps[:, slice_axis]
    pixel_to_screen = np.array(
        [
            [steps[:, column_axis] @ right, row_step @ right, origin @ right],
            [steps[:, column_axis] @ down, row_step @ down, origin @ down],
        ]
    )
    step_position = float(slice_step @ normal)
    if abs(step_position) < 1e-9:
        raise ValueError("degenerate affine: the slice step lies in the plane")
    return PlaneGeometry(
        orientation=orientation,
        slice_axis=slice_axis,
        row_axis=row_axis,
        column_axis=column_axis,
        shape_zyx=(int(shape_zyx[0]), int(shape_zyx[1]), int(shape_zyx[2])),
        index_to_lps=affine,
        right_lps=right,
        down_lps=down,
        normal_lps=normal,
        pixel_to_screen=pixel_to_screen,
        slice_offset_screen=np.array([slice_step @ right, slice_step @ down]),
        first_position_mm=float(origin @ normal),
        step_position_mm=step_position,
    )


def percentile_window(
    voxels: npt.NDArray[np.floating], low_pct: float = 1.0, high_pct: float = 99.5
) -> tuple[float, float]:
    """A (width, level) display window spanning two percentiles (MR has no HU scale).

    Samples about 16 slices, so it costs a few milliseconds on a large volume.
    """
    sample = voxels[:: max(1, voxels.shape[0] // 16)]
    low, high = np.percentile(sample, [low_pct, high_pct])
    width = max(float(high - low), 1.0)
    return width, float(low) + width / 2


def ellipse_statistics(
    voxels: npt.NDArray[np.floating],
    geometry: PlaneGeometry,
    index: int,
    centre_lps: npt.ArrayLike,
    axis1_end_lps: npt.ArrayLike,
    axis2_end_lps: npt.ArrayLike,
) -> RoiStatistics:
    """Statistics of the pixels of plane ``index`` whose centres lie inside an ellipse.

    Parameters
    ----------
    voxels : numpy.ndarray, shape (z, y, x)
        The volume (HU for CT).
    geometry : PlaneGeometry
        The plane orientation of ``voxels``.
    index : int
        The plane.
    centre_lps, axis1_end_lps, axis2_end_lps : array-like, shape (3,)
        The ellipse in LPS mm (see :func:`tace_planner.domain.annotations.inside_ellipse`).

    Returns
    -------
    RoiStatistics
        With ``area_mm2`` = π·a·b of the drawn ellipse.

    Raises
    ------
    ValueError
        Degenerate ellipse, or no pixel centre inside it.
    """
    centre = np.asarray(centre_lps, dtype=float)
    axis1 = np.asarray(axis1_end_lps, dtype=float) - centre
    axis2 = np.asarray(axis2_end_lps, dtype=float) - centre
    corners = np.array([centre + s * axis1 + t * axis2 for s in (-1, 1) for t in (-1, 1)])
    indices = np.array([geometry.lps_to_index(c) for c in corners])
    rows, columns = geometry.image_shape
    r0 = max(int(np.floor(indices[:, geometry.row_axis].min())), 0)
    r1 = min(int(np.ceil(indices[:, geometry.row_axis].max())) + 1, rows)
    c0 = max(int(np.floor(indices[:, geometry.column_axis].min())), 0)
    c1 = min(int(np.ceil(indices[:, geometry.column_axis].max())) + 1, columns)
    area = ellipse_area_mm2(centre, axis1 + centre, axis2 + centre)
    if r1 <= r0 or c1 <= c0:
        raise ValueError("the ellipse lies outside the image")
    steps = geometry.index_to_lps[:3, :3]
    base = geometry.index_to_lps[:3, 3] + index * steps[:, geometry.slice_axis]
    rr, cc = np.mgrid[r0:r1, c0:c1]
    points = (
        base
        + rr[..., None] * steps[:, geometry.row_axis]
        + cc[..., None] * steps[:, geometry.column_axis]
    )
    inside = inside_ellipse(points, centre, axis1 + centre, axis2 + centre)
    plane = geometry.extract(voxels, index)[r0:r1, c0:c1]
    return roi_statistics(plane, inside, area_mm2=area)
