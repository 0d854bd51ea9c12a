"""The outline of a lesion on one slice: sub-pixel points, hull, Feret pair and short axis.

Plane geometry for the diameters (:mod:`tace_planner.domain.measurements_diameters`):
points are (j, i) pixel indices of a 2D mask, or millimetres in an orthonormal
in-plane frame (:func:`plane_frame`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tace_planner.domain.measurements_base import BoolArray

_OUTLINE_FRACTION = 0.03
"""Outline smoothing for diameters, as a share of the lesion's extent (at least one pixel)."""


def _edge_midpoints(plane: BoolArray) -> npt.NDArray[np.float64]:
    """(j, i) of the mid-points of the outer edges of a 2D mask's pixels, shape (n, 2)."""
    padded = np.pad(plane, 1)
    points = []
    for dj, di in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        neighbour = padded[1 + dj : padded.shape[0] - 1 + dj, 1 + di : padded.shape[1] - 1 + di]
        j, i = np.nonzero(plane & ~neighbour)
        points.append(np.stack([j + 0.5 * dj, i + 0.5 * di], axis=1))
    return np.concatenate(points).astype(float)


def outline_points(plane: BoolArray) -> npt.NDArray[np.float64]:
    """(j, i) of points on a 2D mask's outline, sub-pixel, shape (n, 2).

    The outline is the 0.5 level of the mask's indicator smoothed by a Gaussian
    of ``max(1 pixel, 3 % of the mask's extent)``, found where it crosses
    between neighbouring pixels (linear interpolation, as marching squares).
    The smoothing removes the staircase of the voxel edges and single-voxel
    bumps that calipers ignore; its own shrinkage is σ²/2r (under 0.05 pixel
    for a 10 mm lesion). Masks too thin to survive the smoothing (a line one
    voxel wide, a few voxels) use the mid-points of their outer voxel edges.
    """
    u, pad, order = _indicator(plane)
    if order == 0:
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


def convex_hull_points(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Vertices of the convex hull (all points when they are few or degenerate)."""
    from scipy.spatial import ConvexHull, QhullError

    if len(points) <= 64:
        return points
    try:
        return points[ConvexHull(points).vertices]
    except QhullError:  # collinear or coplanar: every point is a candidate
        return points


def farthest_pair(points: npt.NDArray[np.float64]) -> tuple[int, int, float]:
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


def plane_frame(affine: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """2 × 2 map from in-plane index offsets (dj, di) to mm in an orthonormal in-plane frame."""
    columns = affine[:3, 1:3]  # y index step, x index step (LPS mm)
    e1 = columns[:, 1] / np.linalg.norm(columns[:, 1])
    e2 = columns[:, 0] - (columns[:, 0] @ e1) * e1
    e2 /= np.linalg.norm(e2)
    return np.array(
        [[columns[:, 0] @ e1, columns[:, 1] @ e1], [columns[:, 0] @ e2, columns[:, 1] @ e2]]
    )


def plane_components(plane: BoolArray) -> list[BoolArray]:
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


def fraction_inside(plane: BoolArray, to_mm: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
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


def _indicator(plane: BoolArray) -> tuple[npt.NDArray[np.float64], int, int]:
    """The outline's indicator: the mask smoothed over ``max(1 pixel, 3 % of its extent)``, − ½.

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


def short_axis(
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
