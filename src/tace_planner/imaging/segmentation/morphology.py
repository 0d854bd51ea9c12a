"""Mask clean-up: hole filling, smoothing, island removal, bridge cutting.

Every public function takes a bool mask shaped (z, y, x) and returns a new one
of the same shape; the input is never modified. Work is confined to the
mask's bounding box (plus a margin), so the cost follows the lesion, not the
volume. scipy is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tace_planner.imaging.segmentation.common import (
    BoolArray,
    grow_box,
    mask_box,
)


def _check(mask: npt.ArrayLike) -> BoolArray:
    array = np.asarray(mask)
    if array.ndim != 3:
        raise ValueError(f"mask must be (z, y, x), got shape {array.shape}")
    return array.astype(bool, copy=False)


def fill_holes(mask: npt.ArrayLike, *, per_slice: bool = True) -> BoolArray:
    """Fill enclosed holes: in 3D, then (``per_slice``) in every axial slice.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
        The segmentation.
    per_slice : bool
        Also fill holes that are enclosed within an axial slice but open
        towards the slice above or below (a necrotic cup), the way a reader
        outlines a lesion slice by slice.

    Returns
    -------
    numpy.ndarray of bool, shape (z, y, x)
        A new mask, a superset of ``mask``.
    """
    from scipy import ndimage

    source = _check(mask)
    out = source.copy()
    box = mask_box(source)
    if box is None:
        return out
    box = grow_box(box, (1, 1, 1), source.shape)
    crop = ndimage.binary_fill_holes(source[box])
    if per_slice:
        for k in range(crop.shape[0]):
            if crop[k].any():
                crop[k] = ndimage.binary_fill_holes(crop[k])
    out[box] = crop
    return out


def remove_islands(
    mask: npt.ArrayLike,
    spacing_mm: Sequence[float],
    *,
    min_volume_mm3: float | None = None,
    keep_largest: bool = False,
    keep_index: Sequence[Sequence[int]] = (),
) -> BoolArray:
    """Remove connected components (26-connectivity) that are small or not wanted.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
        The segmentation.
    spacing_mm : sequence of 3 float
        (dz, dy, dx) in mm, to turn voxel counts into mm³.
    min_volume_mm3 : float, optional
        Components smaller than this are removed.
    keep_largest : bool
        Keep only the largest component (ties: the first found).
    keep_index : sequence of (z, y, x)
        Voxels whose components are always kept (e.g. the clicked seeds).

    Returns
    -------
    numpy.ndarray of bool, shape (z, y, x)
        A new mask, a subset of ``mask``.
    """
    from scipy import ndimage

    source = _check(mask)
    out = np.zeros_like(source)
    box = mask_box(source)
    if box is None:
        return out
    labels, count = ndimage.label(source[box], structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    voxel_mm3 = float(np.prod(np.asarray(spacing_mm, dtype=float)))
    keep = np.ones(count + 1, dtype=bool)
    keep[0] = False
    if min_volume_mm3 is not None:
        keep &= sizes * voxel_mm3 >= min_volume_mm3
    if keep_largest and count:
        largest = int(np.argmax(sizes))
        keep &= np.arange(count + 1) == largest
    for z, y, x in keep_index:
        local = (z - box[0].start, y - box[1].start, x - box[2].start)
        if all(0 <= v < n for v, n in zip(local, labels.shape, strict=True)):
            keep[labels[local]] = labels[local] != 0
    out[box] = keep[labels]
    return out


def smooth_mask(
    mask: npt.ArrayLike, spacing_mm: Sequence[float], sigma_mm: float = 1.0
) -> BoolArray:
    """Smooth a mask's outline: Gaussian-blur it as 0/1 and keep values ≥ 0.5.

    The 0.5 level of a blurred step edge stays where the edge was; on a curved
    outline the level is lowered by the first-order curvature term of
    :func:`edge_level`, so a ball keeps its volume. Spikes, notches and
    staircase steps smaller than ``sigma_mm`` go away.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
        The segmentation.
    spacing_mm : sequence of 3 float
        (dz, dy, dx) in mm.
    sigma_mm : float
        Gaussian SD in mm (per axis converted to voxels; axes whose voxel is
        more than 2.5 × ``sigma_mm`` are not smoothed).
    """
    from scipy import ndimage

    source = _check(mask)
    if sigma_mm <= 0:
        return source.copy()
    out = np.zeros_like(source)
    box = mask_box(source)
    if box is None:
        return out
    sigma = [sigma_mm / s if sigma_mm / s >= 0.4 else 0.0 for s in spacing_mm]
    margin = [int(np.ceil(3 * s)) + 1 for s in sigma]
    box = grow_box(box, margin, source.shape)
    blurred = ndimage.gaussian_filter(source[box].astype(np.float32), sigma, truncate=3.0)
    out[box] = blurred >= edge_level(source[box], spacing_mm, sigma_mm)
    return out


def edge_level(region: BoolArray, spacing: Sequence[float], sigma_mm: float) -> float:
    """Fraction of the lesion–liver step at the true edge after Gaussian smoothing.

    A convex outline blurred by a Gaussian of SD σ reads below half-way on its
    true edge: for a ball of radius R the value there is ``½ − σ / (R √(2π))``
    (first order in σ/R, each smoothed axis contributing half of it). The
    threshold is set to that level so that smoothing does not shrink small foci.
    """
    count = int(np.count_nonzero(region))
    if count == 0:
        return 0.5
    volume_mm3 = count * float(np.prod(spacing))
    radius = (3.0 * volume_mm3 / (4.0 * np.pi)) ** (1.0 / 3.0)
    smoothed_axes = [sigma_mm if sigma_mm / s >= 0.4 else 0.0 for s in spacing]
    if region.shape[0] == 1:
        smoothed_axes[0] = 0.0
        radius = np.sqrt(count * float(np.prod(spacing[1:])) / np.pi)
    shift = (smoothed_axes[0] + (smoothed_axes[1] + smoothed_axes[2]) / 2) / (
        2.0 * np.sqrt(2.0 * np.pi) * max(radius, 1.0)
    )
    return float(np.clip(0.5 - shift, 0.3, 0.5))


def box_size(radius_mm: float, spacing_mm: Sequence[float], flat: bool = False) -> list[int]:
    """Odd window sizes (z, y, x) of a box reaching ``radius_mm`` (at least one voxel in-plane)."""
    reach = [int(np.floor(radius_mm / s + 1e-9)) for s in spacing_mm]
    reach[1], reach[2] = max(reach[1], 1), max(reach[2], 1)
    if flat:
        reach[0] = 0
    return [2 * r + 1 for r in reach]


def dilate_box(mask: BoolArray, radius_mm: float, spacing_mm: Sequence[float]) -> BoolArray:
    """Binary dilation by a box reaching ``radius_mm`` per axis (separable, fast)."""
    from scipy import ndimage

    size = box_size(radius_mm, spacing_mm, flat=mask.shape[0] == 1)
    return np.asarray(ndimage.maximum_filter(mask, size=size, mode="constant", cval=False))


def cut_bridges(
    region: BoolArray, radius_mm: float, spacing_mm: Sequence[float], keep_index: np.ndarray
) -> BoolArray:
    """Cut thin bridges (leaks) narrower than about ``2 × radius_mm`` off a region.

    Opening by reconstruction with a box reaching ``radius_mm`` (separable
    minimum and maximum filters): the opened components holding a
    ``keep_index`` voxel are kept and dilated back inside the region, so the
    kept part's outline is not eroded. Returns the region unchanged if the
    opening would lose every seed.
    """
    from scipy import ndimage

    size = box_size(radius_mm, spacing_mm, flat=region.shape[0] == 1)
    eroded = ndimage.minimum_filter(region, size=size, mode="constant", cval=False)
    opened = ndimage.maximum_filter(eroded, size=size, mode="constant", cval=False)
    labels, _ = ndimage.label(opened)
    wanted = {int(labels[tuple(i)]) for i in keep_index} - {0}
    if not wanted:
        return region
    core = np.isin(labels, sorted(wanted))
    return region & ndimage.maximum_filter(core, size=size, mode="constant", cval=False)


def components_with(region: BoolArray, keep_index: np.ndarray) -> BoolArray:
    """Return the face-connected components of ``region`` that hold a ``keep_index`` voxel."""
    from scipy import ndimage

    labels, _ = ndimage.label(region)
    wanted = {int(labels[tuple(i)]) for i in keep_index} - {0}
    if not wanted:
        return np.zeros_like(region)
    if len(wanted) == 1:
        return np.asarray(labels == wanted.pop())
    return np.isin(labels, sorted(wanted))
