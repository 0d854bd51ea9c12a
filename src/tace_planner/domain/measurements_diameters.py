"""Diameters of a lesion: RECIST long and short axes on its slices, and the longest 3D one."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.explanation import Explanation
from tace_planner.domain.geometry import index_to_lps
from tace_planner.domain.measurements_base import (
    BoolArray,
    Trust,
    check_trust,
    crop_to_mask,
    grid_affine,
    mask_array,
    trust_note,
    vec3,
)
from tace_planner.domain.measurements_outline import (
    convex_hull_points,
    farthest_pair,
    fraction_inside,
    outline_points,
    plane_components,
    plane_frame,
    short_axis,
)
from tace_planner.domain.measurements_results import AxialDiameters, Diameter3D

AXIS_INSIDE_MIN = 0.9
"""Share of the long axis that must lie in its outline (dilated by one pixel)."""


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
    :func:`short_axis`; a concave lesion is not measured across its gap).
    The slices are the grid's own: use :func:`measure_recist_axes` for a
    series that may not be axial. RECIST 1.1 (Eisenhauer, Eur J Cancer 2009).
    """
    checked = check_trust(trust, geometric=True)
    array, origin = crop_to_mask(mask_array(mask))
    affine = grid_affine(grid)
    to_mm = plane_frame(affine)
    best: tuple[float, int, np.ndarray, np.ndarray, BoolArray] | None = None
    for k in np.flatnonzero(array.any(axis=(1, 2))):
        for component in plane_components(array[k]):
            points = outline_points(component)
            hull = convex_hull_points(points @ to_mm.T)
            a, b, length = farthest_pair(hull)
            if best is None or length > best[0] + 1e-9:
                best = (length, int(k), hull[a], hull[b], component)
    assert best is not None
    long_mm, k, p_mm, q_mm, component = best
    back = np.linalg.inv(to_mm)
    short_mm, s_mm, t_mm = short_axis(component, to_mm, p_mm, q_mm)
    inside = fraction_inside(component, to_mm, p_mm, q_mm)
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
    ends_lps = [vec3(index_to_lps(affine, e)) for e in ends_index]
    short_lps = [vec3(index_to_lps(affine, e)) for e in short_index]
    explanation = Explanation(
        summary="Longest axial diameter (RECIST 1.1) and perpendicular short axis"
        + trust_note(checked),
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
        long_axis_index=(vec3(ends_index[0]), vec3(ends_index[1])),
        short_axis_mm=float(short_mm),
        short_axis_lps=(short_lps[0], short_lps[1]),
        short_axis_index=(vec3(short_index[0]), vec3(short_index[1])),
        method="Feret diameter of the voxel outline per axial slice",
        trust=checked,
        explanation=explanation,
        axis_check=axis_check,
    )


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
    checked = check_trust(trust, geometric=True)
    array, origin = crop_to_mask(mask_array(mask))
    affine = grid_affine(grid)
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
    keep = convex_hull_points(points)
    a, b, diameter = farthest_pair(keep)
    back = np.linalg.solve(affine[:3, :3], (keep[[a, b]] - affine[:3, 3]).T).T
    explanation = Explanation(
        summary="Longest 3D diameter of the contour" + trust_note(checked),
        formula="max distance between two outline points (voxel face mid-points), any direction",
        inputs={"outline points": f"{len(points)}", "hull points": f"{len(keep)}"},
        result=f"{diameter:.1f} mm",
        source="Institutional default: maximum Feret diameter of the contour outline",
    )
    return Diameter3D(
        diameter_mm=float(diameter),
        endpoints_lps=(vec3(keep[a]), vec3(keep[b])),
        endpoints_index=(vec3(back[0]), vec3(back[1])),
        method="Feret diameter of the voxel outline in 3D",
        trust=checked,
        explanation=explanation,
    )
