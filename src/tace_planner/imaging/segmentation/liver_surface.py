"""Surface and edge steps of the whole-liver segmentation (:mod:`.liver`), on bool masks.

Taking in what the parenchyma encloses or notches (hole filling, a rolling-ball
closing, tumour caps at the capsule) and placing the edge
(half occupancy on the working grid, then on the image grid against fat, with
lung or gas taken as the wall in front of them). Masks are (z, y, x), spacings
(dz, dy, dx) in mm. scipy is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.imaging.segmentation.common import BoolArray, ball, grow_box, mask_box
from tace_planner.imaging.segmentation.morphology import fill_holes

LUNG_OR_GAS_HU = -150.0
"""Darker than fat: lung or bowel gas, which never touch the liver directly."""
WALL_HU = 55.0
"""The diaphragm or bowel wall between the liver and lung or gas (muscle on portal-venous CT,
institutional default): the edge is placed against it, not against the air beyond."""

ENTRY_SLICES = 3
"""A vessel followed from outside the liver must enter it within this many slices."""

CLEAR_SLICES = 6
"""How far (slices) a vessel's calibre is looked for where it runs clear of the region."""

TUMOUR_EDGE_LEVEL = 1.0 / 3.0
"""Occupancy at which the edge of a tumour against fat is placed (a half for parenchyma)."""


def closing_mm(region: BoolArray, radius_mm: float, spacing: np.ndarray) -> BoolArray:
    """Closing with a ball of ``radius_mm`` through Euclidean distance maps (any radius, O(n))."""
    from scipy import ndimage

    box = mask_box(region)
    if box is None:
        return region
    pad = np.ceil(radius_mm / spacing).astype(int) + 2
    crop = region[box]
    padded = np.pad(crop, [(int(p), int(p)) for p in pad])
    grown = ndimage.distance_transform_edt(~padded, sampling=spacing) <= radius_mm
    closed = ndimage.distance_transform_edt(grown, sampling=spacing) > radius_mm
    inner = tuple(slice(int(p), int(p) + n) for p, n in zip(pad, crop.shape, strict=True))
    out = region.copy()
    out[box] |= closed[inner]
    return out


def take_in_notches(
    region: BoolArray,
    tissue: BoolArray,
    spacing: np.ndarray,
    *,
    envelope_radius_mm: float,
    sliver_radius_mm: float,
) -> BoolArray:
    """Add the tumour-like tissue in the notches of the surface, without slivers.

    A notch is what a rolling ball of ``envelope_radius_mm`` closes: the part of
    a notch the ball cannot reach (the mouth of a wide notch, into which the ball
    sinks, is left to :func:`extend_surface_tumours`). Only ``tissue`` joins, and
    an opening with a ball of ``sliver_radius_mm`` drops thin slivers.
    """
    from scipy import ndimage

    if not region.any():
        return region
    notches = tissue & ~region & closing_mm(region, envelope_radius_mm, spacing)
    notches = ndimage.binary_opening(notches, ball(sliver_radius_mm, spacing))
    return fill_holes(region | notches) if notches.any() else region


def extend_surface_tumours(
    region: BoolArray, parenchyma: BoolArray, tissue: BoolArray, spacing: np.ndarray, cap_mm: float
) -> BoolArray:
    """Carry tumours that reach the outline on to the surface, ``cap_mm`` at most.

    Where a tumour replaces the parenchyma up to the capsule (at the dome's apex,
    under the capsule) no parenchyma lies beyond it to close a notch against; the
    tumour's cap is continued through adjacent soft tissue for at most
    ``cap_mm`` (the few millimetres of a cap; a thin diaphragm above it is the
    price of not cutting the tumour).
    """
    from scipy import ndimage

    tumours = region & ~parenchyma
    if not tumours.any():
        return region
    outline = ndimage.binary_dilation(~region, ndimage.generate_binary_structure(3, 1))
    labels, _ = ndimage.label(tumours)
    touching = np.unique(labels[outline & tumours])
    touching = touching[touching > 0]
    if touching.size == 0:
        return region
    surface = np.isin(labels, touching)
    reach = ndimage.distance_transform_edt(~surface, sampling=spacing) <= cap_mm
    cap = reach & tissue & ~region
    grown = ndimage.binary_propagation(surface, mask=surface | cap)
    return fill_holes(region | grown)


def half_occupancy_edge(
    coarse: npt.NDArray[np.float32], region: BoolArray, liver_hu: float, *, keep: BoolArray
) -> BoolArray:
    """Move the outline by at most one working voxel to the half-occupancy level.

    For each voxel on either side of the outline, the neighbour tissue's HU is
    the local mean of the second ring outside (one voxel further out) and the
    inside HU the local mean of the voxels deeper than the outline (liver or a
    tumour at the surface); the voxel is liver when
    ``(v − neighbour) / (inside − neighbour) ≥ ½``.
    """
    from scipy import ndimage

    if not region.any():
        return region
    cross = ndimage.generate_binary_structure(3, 1)
    outer1 = ndimage.binary_dilation(region, cross) & ~region
    outer2 = ndimage.binary_dilation(region | outer1, cross) & ~(region | outer1)
    inner1 = region & ~ndimage.binary_erosion(region, cross, border_value=1)
    weight = outer2.astype(np.float32)
    total = ndimage.uniform_filter(coarse * weight, size=5)
    norm = ndimage.uniform_filter(weight, size=5)
    neighbour = np.where(norm > 1e-3, total / np.maximum(norm, 1e-3), liver_hu)
    neighbour = np.where(neighbour < LUNG_OR_GAS_HU, WALL_HU, neighbour)
    deep = (region & ~inner1).astype(np.float32)
    deep_total = ndimage.uniform_filter(coarse * deep, size=5)
    deep_norm = ndimage.uniform_filter(deep, size=5)
    inside = np.where(deep_norm > 1e-3, deep_total / np.maximum(deep_norm, 1e-3), liver_hu)
    contrast = inside - neighbour
    # Only against darker neighbours (fat, muscle, bile, the wall before lung or gas): next
    # to a brighter IVC, portal vein or kidney a bright voxel may be a hyper-attenuating
    # tumour as well as a partial volume, and the band's edge is kept.
    usable = contrast > 10.0
    occupancy = np.where(usable, (coarse - neighbour) / np.where(usable, contrast, 1.0), 1.0)
    out = region.copy()
    out[outer1 & usable & (occupancy >= 0.5)] = True
    out[inner1 & ~keep & usable & (occupancy < 0.5)] = False
    return out


def upsample(region: BoolArray, factors: np.ndarray, shape: tuple[int, int, int]) -> BoolArray:
    """Nearest-neighbour upsampling by whole blocks, cropped to ``shape``."""
    fz, fy, fx = (int(f) for f in factors)
    out = np.zeros(shape, dtype=bool)
    planes = np.flatnonzero(region.any(axis=(1, 2)))
    for k in planes:
        plane = np.repeat(np.repeat(region[k], fy, axis=0), fx, axis=1)[: shape[1], : shape[2]]
        out[k * fz : min((k + 1) * fz, shape[0])] = plane
    return out


def refine_edge(
    voxels: npt.NDArray[np.floating],
    mask: BoolArray,
    keep: BoolArray,
    factors: np.ndarray,
    spacing: np.ndarray,
    min_contrast_hu: float,
) -> BoolArray:
    """Move the blocky outline to the half-way HU on the image grid, against fat, lung or air.

    Within one working voxel of the outline, the inside HU is the local mean
    (windows of three working voxels) of the voxels at least one working voxel
    inside, the outside HU that of the ring of image voxels just outside (lung
    or gas there means the diaphragm or a bowel wall lies between: taken as
    ``WALL_HU``); where they differ by ``min_contrast_hu`` or more a voxel is
    liver when its HU, lightly smoothed in-plane, is past half-way. Elsewhere
    (vessels, tumours next to liver) the outline is kept, and what was taken in
    as tumour, necrosis or vessel (``keep``) is never removed: a hypo-attenuating
    tumour is not parenchyma that fades into its neighbour.
    """
    from scipy import ndimage

    box = mask_box(mask)
    if box is None:
        return mask
    reach = [int(f) for f in factors]
    box = grow_box(box, [2 * r + 1 for r in reach], mask.shape)
    crop = mask[box]
    size = [2 * r + 1 for r in reach]
    inner = ndimage.minimum_filter(crop, size=size, mode="nearest")
    outer = ~ndimage.maximum_filter(crop, size=size, mode="constant", cval=False)
    shell = ~inner & ~outer
    if not shell.any():
        return mask
    sigma = [0.0, 0.6 / float(spacing[1]), 0.6 / float(spacing[2])]
    image = ndimage.gaussian_filter(np.asarray(voxels[box], dtype=np.float32), sigma)
    window = [3 * s for s in size]

    def local_mean(where: BoolArray) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        weight = where.astype(np.float32)
        total = ndimage.uniform_filter(image * weight, size=window, mode="constant")
        count = ndimage.uniform_filter(weight, size=window, mode="constant")
        return total / np.maximum(count, 1e-6), count

    inside_hu, inside_n = local_mean(inner)
    tumour_hu, tumour_n = local_mean(keep[box])  # a tumour at the outline: its own HU
    inside_hu = np.where(tumour_n > 0.02, tumour_hu, inside_hu)
    inside_n = np.maximum(inside_n, tumour_n)
    ring = ndimage.binary_dilation(crop, np.ones((1, 3, 3), dtype=bool)) & ~crop
    outside_hu, outside_n = local_mean(ring)  # the tissue right next to the outline
    outside_hu = np.where(outside_hu < LUNG_OR_GAS_HU, np.float32(WALL_HU), outside_hu)
    contrast = inside_hu - outside_hu
    usable = shell & (inside_n > 0.02) & (outside_n > 0.02) & (contrast >= min_contrast_hu)
    refined = crop.copy()
    level = (image - outside_hu) / np.where(usable, contrast, 1.0)
    # Next to a tumour the edge is taken at a third of the way: the liver holds the whole
    # tumour, at the cost of less than half a voxel over the tumour's face on the capsule.
    cut = np.where(tumour_n > 0.02, np.float32(TUMOUR_EDGE_LEVEL), np.float32(0.5))
    refined[usable] = level[usable] >= cut[usable]
    refined = ndimage.binary_opening(refined, np.ones((1, 3, 3), dtype=bool)) | inner | keep[box]
    out = mask.copy()
    out[box] = fill_holes(refined)
    return out


@dataclass(frozen=True)
class VesselPath:
    """A vessel followed through the liver: where it ran free, then its path inside.

    ``start`` is its cross-section (working grid, 2D) where it runs clear of the
    region before it enters; ``sections`` the slice index and cross-section (2D) of
    every slice inside.
    """

    start: BoolArray
    sections: tuple[tuple[int, BoolArray], ...]

    def mask(self, shape: tuple[int, int, int]) -> BoolArray:
        """The path on the working grid."""
        out = np.zeros(shape, dtype=bool)
        for z, section in self.sections:
            out[z] |= section
        return out


def through_vessels(
    smooth: npt.NDArray[np.float32],
    region: BoolArray,
    liver_hu: float,
    spacing: np.ndarray,
    *,
    above_hu: float,
    area_mm2: tuple[float, float],
) -> list[VesselPath]:
    """Vessels that run through ``region`` from below to above, and their path inside it.

    The inferior vena cava runs in the liver's groove from below the liver to the
    diaphragm; where the liver wraps around it, hole filling and the rolling ball
    (:func:`take_in_notches`) take it in, and on portal-venous CT it lies within the
    band of hyper-attenuating tumours. It is not liver, and a focus against it would
    leak into it unchecked. Each axial cross-section of a vessel outside ``region``
    (at least ``above_hu`` brighter than the liver, its area within ``area_mm2``)
    whose next slice reaches into ``region`` is followed slice by slice: the
    vessel-bright voxels next to the previous cross-section, at most the vessel's
    area of them, nearest its centre (a tumour or a hepatic vein against the vessel
    is not followed into: its voxels lie farther out than the vessel's own). The
    vessel's area and shape (``VesselPath.start``) are taken a few slices farther
    out where it runs clear of the region (:func:`_clear_section`): a vessel in a
    groove already runs against the liver before it enters. A cross-section that
    comes out of ``region`` again on the far side, or leaves the scan inside it at
    its calibre, marks a vessel running through it; one that ends inside (a portal
    vein entering at the hilum and branching, a tumour at the edge) is not followed.
    Nothing is found when the vessel is no brighter than the liver (it is then grown
    as parenchyma; a limit of the method).
    """
    from scipy import ndimage

    paths: list[VesselPath] = []
    if not region.any():
        return paths
    pixel = float(spacing[1] * spacing[2])
    least, most = (a / pixel for a in area_mm2)
    vessel = smooth >= liver_hu + above_hu
    square = ndimage.generate_binary_structure(2, 2)
    near_region = np.stack([ndimage.binary_dilation(s, square) if s.any() else s for s in region])
    free = vessel & ~region
    # A start must be next to the region on the neighbouring slice (where it enters).
    touching = {step: np.roll(near_region, -step, axis=0) & free for step in (1, -1)}
    touching[1][-1] = False
    touching[-1][0] = False
    for z in range(region.shape[0]):
        if not (touching[1][z].any() or touching[-1][z].any()):
            continue
        labels, _ = ndimage.label(free[z], square)
        sizes = np.bincount(labels.ravel())
        for step in (1, -1):
            for k in np.unique(labels[touching[step][z]]):
                if k == 0 or not least <= sizes[k] <= most:
                    continue
                start = labels == k
                clear = _clear_section(start, z, -step, vessel, near_region)
                path = _follow(start, float(clear.sum()), z + step, step, vessel, region)
                if path:
                    paths.append(VesselPath(clear, tuple(path)))
    return paths


def _clear_section(
    section: BoolArray, z: int, step: int, vessel: BoolArray, near_region: BoolArray
) -> BoolArray:
    """The vessel's cross-section on the nearest slice (``step`` away from the region)
    where it touches nothing of the region, within :data:`CLEAR_SLICES`.

    Next to the region its bright voxels mix with the liver's edge, and a vessel in a
    groove has part of its lumen against the liver: its calibre is taken where it runs
    clear. Without such a slice, the part of ``section`` away from the region.
    """
    from scipy import ndimage

    first, z0 = section, z
    for _ in range(CLEAR_SLICES):
        if not (section & near_region[z]).any():
            return section
        z += step
        if not 0 <= z < vessel.shape[0]:
            break
        labels, _ = ndimage.label(vessel[z], np.ones((3, 3), dtype=bool))
        found = np.unique(labels[_dilate(section)])
        found = found[found > 0]
        if len(found) != 1 or (labels == found[0]).sum() > 2 * section.sum():
            break  # lost, split or merged with something else: not the same vessel
        section = labels == found[0]
    clear = first & ~near_region[z0]
    return clear if clear.any() else first


def _dilate(section: BoolArray) -> BoolArray:
    """One-pixel dilation (8-neighbours) of a small blob, on its bounding box only."""
    rows = np.flatnonzero(section.any(axis=1))
    cols = np.flatnonzero(section.any(axis=0))
    r0, r1 = max(int(rows[0]) - 1, 0), min(int(rows[-1]) + 2, section.shape[0])
    c0, c1 = max(int(cols[0]) - 1, 0), min(int(cols[-1]) + 2, section.shape[1])
    from scipy import ndimage

    out = np.zeros_like(section)
    out[r0:r1, c0:c1] = ndimage.binary_dilation(section[r0:r1, c0:c1], np.ones((3, 3), bool))
    return out


def _follow(
    start: BoolArray, area: float, z: int, step: int, vessel: BoolArray, region: BoolArray
) -> list[tuple[int, BoolArray]]:
    """Follow one cross-section through ``region``; the path if it comes out (or leaves
    the scan at its calibre), else []."""
    section, path, entered = start, [], False
    outside_for = 0
    while 0 <= z < region.shape[0]:
        candidate = vessel[z] & _dilate(section)
        size = int(candidate.sum())
        if size < 0.4 * area:
            return []  # lost inside (ends, branches off, or too faint to follow)
        if size > area:
            center = np.argwhere(section).mean(axis=0)
            points = np.argwhere(candidate)
            nearest = np.argsort(((points - center) ** 2).sum(axis=1), kind="stable")
            points = points[nearest[: round(area)]]
            candidate = np.zeros_like(candidate)
            candidate[points[:, 0], points[:, 1]] = True
        if (candidate & region[z]).any():
            entered = True
            path.append((z, candidate))
        elif entered:
            return path  # out on the far side: it runs through
        else:
            outside_for += 1
            if outside_for > ENTRY_SLICES:
                return []  # runs beside the region, not into it
        section = candidate
        z += step
    # It leaves the scan at its calibre inside the region (a scan range that ends at
    # the dome): a vessel that ends or branches would have been lost before.
    return path


def vessel_sections(
    paths: list[VesselPath], factors: np.ndarray, shape: tuple[int, int, int], spacing: np.ndarray
) -> BoolArray:
    """The vessels' paths drawn on the image grid as smooth cross-sections.

    On every slice of a path the vessel's cross-section is the ellipse of its free
    start (same area and second moments: the vena cava keeps its calibre through
    the groove), centred on the path's centre line (the centres of the followed
    cross-sections, a running median over five slices). Where the vessel runs
    against a tumour as bright as itself, the followed cross-section may lean into
    the tumour: the start's shape and the smoothed line do not, and the edge does
    not follow the working voxels' 3 mm blocks.
    """
    fz, fy, fx = (int(f) for f in factors)
    out = np.zeros(shape, dtype=bool)
    rows = np.arange(shape[1], dtype=float)[:, None] * spacing[1]
    cols = np.arange(shape[2], dtype=float)[None, :] * spacing[2]
    scale = np.array([fy * spacing[1], fx * spacing[2]])
    offset = np.array([0.5 * (fy - 1) * spacing[1], 0.5 * (fx - 1) * spacing[2]])
    seen = set()
    for path in paths:
        key = (path.start.tobytes(), tuple((z, s.tobytes()) for z, s in path.sections))
        if key in seen:
            continue  # the same path, followed from another start
        seen.add(key)
        points = np.argwhere(path.start) * scale + offset
        area = len(points) * float(scale[0] * scale[1])
        cov = np.cov(points.T) if len(points) > 2 else np.zeros((2, 2))
        cov = cov + np.diag(scale**2 / 12.0)  # the pixels' own extent
        values, vectors = np.linalg.eigh(cov)
        axes = 2.0 * np.sqrt(np.maximum(values, 1e-6))
        axes *= np.sqrt(area / (np.pi * axes[0] * axes[1]))
        centres = np.array([np.argwhere(s).mean(axis=0) * scale + offset for _, s in path.sections])
        slices = [z for z, _ in path.sections]
        if len(slices) > 1:
            # The slices either side, where it was not yet in the region but the later
            # hole filling takes it in when the liver wraps around it there.
            step = slices[1] - slices[0]
            slices = [slices[0] - step, *slices, slices[-1] + step]
            centres = np.concatenate([centres[:1], centres, centres[-1:]])
        for i, z in enumerate(slices):
            if not 0 <= z < -(-shape[0] // fz):
                continue
            window = centres[max(i - 2, 0) : i + 3]
            centre = np.median(window, axis=0)
            if len(window) > 2:
                # Followed nearest where it was, an oblique vessel's cross-section lags
                # about a slice behind it: moved on by its median step.
                centre = centre + np.median(np.diff(window, axis=0), axis=0)
            # Only the box around the ellipse is evaluated.
            low = np.maximum(np.floor((centre - axes.max()) / spacing[1:]) - 1, 0).astype(int)
            high = np.ceil((centre + axes.max()) / spacing[1:]).astype(int) + 2
            r, c = rows[low[0] : high[0]], cols[:, low[1] : high[1]]
            u = (r - centre[0]) * vectors[0, 0] + (c - centre[1]) * vectors[1, 0]
            v = (r - centre[0]) * vectors[0, 1] + (c - centre[1]) * vectors[1, 1]
            inside = (u / axes[0]) ** 2 + (v / axes[1]) ** 2 <= 1.0
            out[z * fz : min((z + 1) * fz, shape[0]), low[0] : high[0], low[1] : high[1]] |= inside
    return out


def drop_vessel_rims(
    mask: BoolArray, sections: BoolArray, spacing: np.ndarray, ring_mm: float = 4.0
) -> BoolArray:
    """Drop the slivers of a slice that a removed vessel left on its far side.

    The vessel drawn from its free cross-section can be a little narrower than where
    the liver wrapped around it; the crescent of vessel wall and partial volume left
    on its far side (between it and the fat) is cut off from the liver in that slice.
    A piece of a slice that lies wholly within ``ring_mm`` of the vessel is dropped;
    any other piece (a lobe's tip, cut by the slice) stays.
    """
    from scipy import ndimage

    out = mask.copy()
    square = np.ones((3, 3), dtype=bool)
    for z in np.flatnonzero(sections.any(axis=(1, 2))):
        labels, count = ndimage.label(out[z], square)
        if count < 2:
            continue  # one piece: nothing cut off (no distance map needed)
        ring = ndimage.distance_transform_edt(~sections[z], sampling=spacing[1:]) <= ring_mm
        near = np.unique(labels[ring & out[z]])
        for k in near[near > 0]:
            piece = labels == k
            if not (piece & ~ring).any():
                out[z][piece] = False
    return out
