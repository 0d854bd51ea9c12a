"""Semi-automatic whole-liver segmentation from one click on a portal-venous CT (a Task).

The liver of F = V_mts / V_liv is the whole organ: parenchyma, the vessels
inside it and every tumour, whatever its attenuation, including tumours at the
dome, under the capsule and against the IVC (the reference standard of the
SLIVER07 liver segmentation challenge: Heimann et al., IEEE Trans Med Imaging
2009). The steps follow the classical intensity-plus-morphology pipeline
reviewed by Campadelli et al. (Artif Intell Med 2009) and Gotra et al.
(Insights Imaging 2017): grow the parenchyma, then take in what it encloses.

Method
------
1. **Working grid.** The volume is block-averaged to voxels of about
   ``working_voxel_mm`` (3 mm), then median-filtered (3 voxels along each axis):
   the noise SD falls 10–20 times, so a narrow HU band holds the parenchyma and
   leaves out muscle, the diaphragm, the IVC, the kidney and the tumours.
2. **Parenchyma model.** Median and robust SD (MAD) in a ball of
   ``seed_radius_mm`` around the click.
3. **Growing.** Voxels within ``clip(band_sd × SD, min_band_hu, max_band_hu)`` of
   the median; an opening with a ball of ``opening_radius_mm`` cuts bridges to
   touching organs; the component of the click is kept and dilated back inside
   the band.
4. **Filling.** Holes are filled in 3D and per axial slice: tumours, necrosis,
   calcifications and vessels enclosed by parenchyma belong to the liver.
5. **Envelope.** Tumours that reach the surface leave notches, not holes. A
   closing with a ball of ``envelope_radius_mm`` (a rolling ball over the
   surface) and an enclosure test (the liver seen along most of 26 directions)
   mark the notches; of them, soft tissue from ``liver − tumour_below_hu`` to
   ``liver + tumour_above_hu`` joins the liver (fat, lung, bile, bright vessels
   and the kidney do not); an opening with a ball of ``sliver_radius_mm`` drops
   thin slivers (diaphragm, vessel walls at the hilum). A tumour that replaces
   the parenchyma up to the capsule (the dome's apex) is carried on to the
   surface through soft tissue for ``cap_mm`` at most. Holes are filled again.
6. **Half-occupancy edge.** A working voxel on the outline holds part liver,
   part neighbour; it belongs to the liver when its HU is past half-way from
   the neighbour's HU (sampled one voxel further out) to the inside's, against
   darker neighbours only; lung or gas beyond means a wall (diaphragm, bowel)
   lies between, and the edge is placed against the wall.
7. **Back to the image grid**, then the edge is refined on the image itself
   where the liver meets fat, lung or air: within one working voxel of the
   outline, a voxel is liver when its (lightly smoothed) HU is past half-way
   from the local outside HU to the local inside HU.

The result carries the numbers used and warnings (implausible volume, click
not on liver-like tissue). Each step yields progress; closing the task stops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.common import (
    BoolArray,
    ball,
    grow_box,
    mask_box,
    seeds_to_index,
)
from tace_planner.imaging.segmentation.intensity import MAD_TO_SD

_STEPS = 7
_PLAUSIBLE_CM3 = (600.0, 3500.0)

LIVER_SEED_HU_RANGE = (-50.0, 250.0)
"""CT HU at a liver click that can be liver (institutional default): below is fat or air,
above is bone or a contrast-filled vessel."""
LIVER_REFUSED_CM3 = (300.0, 5000.0)
"""A grown "liver" outside this range is refused (institutional default; volumes outside the
usual 594–2,250 cm³, Feng, World J Gastroenterol 2017, are only flagged)."""

LUNG_OR_GAS_HU = -150.0
"""Darker than fat: lung or bowel gas, which never touch the liver directly."""
WALL_HU = 55.0
"""The diaphragm or bowel wall between the liver and lung or gas (muscle on portal-venous CT,
institutional default): the edge is placed against it, not against the air beyond."""

TUMOUR_EDGE_LEVEL = 1.0 / 3.0
"""Occupancy at which the edge of a tumour against fat is placed (a half for parenchyma)."""


@dataclass(frozen=True)
class LiverParameters:
    """Settings of :func:`segment_liver` (institutional defaults).

    Attributes
    ----------
    working_voxel_mm : float
        Target edge of the working voxels (block averaging).
    seed_radius_mm : float
        Radius of the ball around the click that gives the parenchyma's HU.
    band_sd, min_band_hu, max_band_hu : float
        Half-width of the parenchyma band: ``band_sd`` robust SDs of that ball,
        clipped to ``[min_band_hu, max_band_hu]`` (HU).
    opening_radius_mm : float
        Radius of the ball that cuts bridges to neighbouring organs.
    envelope_radius_mm : float
        Radius of the rolling ball whose closing takes in tumours at the surface
        (a notch up to about twice as wide is closed).
    tumour_below_hu, tumour_above_hu : float
        Soft tissue from ``liver − tumour_below_hu`` to ``liver + tumour_above_hu``
        HU in a notch joins the liver (hypo- and hyper-attenuating tumours).
    sliver_radius_mm : float
        Radius of the opening that drops slivers from what the envelope adds.
    enclosed_fraction : float
        A voxel in the mouth of a notch joins when it sees the liver along
        at least this fraction of 26 directions.
    cap_mm : float
        A tumour that reaches the outline is carried this far on through soft
        tissue (its cap at the dome or under the capsule).
    edge_contrast_hu : float
        The edge is refined on the image only against neighbours at least this
        far from the liver's HU (fat, lung, air).
    """

    working_voxel_mm: float = 3.0
    seed_radius_mm: float = 12.0
    band_sd: float = 3.0
    min_band_hu: float = 18.0
    max_band_hu: float = 35.0
    opening_radius_mm: float = 6.0
    envelope_radius_mm: float = 35.0
    tumour_below_hu: float = 75.0
    tumour_above_hu: float = 42.0
    sliver_radius_mm: float = 2.5
    enclosed_fraction: float = 0.6
    cap_mm: float = 6.0
    edge_contrast_hu: float = 40.0


@dataclass(frozen=True, eq=False)
class LiverResult:
    """A liver mask on the image grid and how it was found.

    Attributes
    ----------
    mask : numpy.ndarray of bool, shape (z, y, x)
        The liver, foci and enclosed vessels included.
    liver_hu, liver_sd_hu : float
        Median and robust SD around the click, on the working grid.
    band_hu : tuple of 2 float
        The HU band grown in.
    working_spacing_mm : tuple of 3 float
        Voxel size of the working grid (dz, dy, dx).
    warnings : tuple of str
        Plain sentences for the user.
    explanation : Explanation
        Method and numbers.
    """

    mask: BoolArray
    liver_hu: float
    liver_sd_hu: float
    band_hu: tuple[float, float]
    working_spacing_mm: tuple[float, float, float]
    warnings: tuple[str, ...]
    explanation: Explanation


def segment_liver(
    volume: ImageVolume, seed_lps: Sequence[float], *, parameters: LiverParameters | None = None
) -> Task[LiverResult]:
    """Segment the liver from one click inside it (portal-venous CT).

    Parameters
    ----------
    volume : ImageVolume
        CT in HU, (z, y, x); portal-venous phase.
    seed_lps : (x, y, z)
        A click inside the liver parenchyma (away from foci and large vessels), LPS mm.
    parameters : LiverParameters, optional
        Defaults when omitted.

    Yields
    ------
    Progress
        Seven steps (downsampling, model, growing, filling, edge, upsampling, done).

    Returns
    -------
    LiverResult

    Raises
    ------
    InvalidInputError
        The click lies outside the volume.
    """
    from scipy import ndimage

    params = parameters or LiverParameters()
    seed = seeds_to_index(volume, [seed_lps], "liver seed")[0]
    spacing = np.asarray(volume.spacing_mm)
    factors = np.maximum(np.rint(params.working_voxel_mm / spacing), 1).astype(int)
    yield Progress(0, _STEPS, "Averaging to the working grid")
    coarse = _block_mean(volume.voxels, factors)
    smooth = coarse
    for axis in range(3):  # separable 3-point medians: robust, and fast on large grids
        size = [3 if a == axis else 1 for a in range(3)]
        smooth = ndimage.median_filter(smooth, size=size, mode="nearest")
    work_spacing = spacing * factors
    work_seed = np.minimum(seed // factors, np.asarray(coarse.shape) - 1)
    yield Progress(1, _STEPS, "Learning the liver's HU around the click")
    liver_hu, liver_sd = _seed_model(smooth, work_seed, params.seed_radius_mm, work_spacing)
    half_band = float(np.clip(params.band_sd * liver_sd, params.min_band_hu, params.max_band_hu))
    band = (liver_hu - half_band, liver_hu + half_band)
    candidates = (smooth >= band[0]) & (smooth <= band[1])
    yield Progress(2, _STEPS, "Growing the parenchyma")
    footprint = ball(params.opening_radius_mm, work_spacing)
    opened = ndimage.binary_opening(candidates, footprint)
    labels, _ = ndimage.label(opened)
    label = _label_near(labels, work_seed)
    warnings: list[str] = []
    if label == 0:
        warnings.append("The click is not on liver-like tissue; nothing was grown.")
        region = np.zeros(coarse.shape, dtype=bool)
    else:
        region = ndimage.binary_dilation(labels == label, footprint) & candidates
        region = _largest_with(region, work_seed)
    yield Progress(3, _STEPS, "Taking in tumours, necrosis and vessels")
    parenchyma = region
    region = _fill(region)
    tissue = (smooth >= liver_hu - params.tumour_below_hu) & (
        smooth <= liver_hu + params.tumour_above_hu
    )
    region = _take_in_notches(region, tissue, work_spacing, params)
    region = _extend_surface_tumours(region, parenchyma, tissue, work_spacing, params)
    region = _largest_with(region, work_seed)
    taken_in = region & ~parenchyma
    yield Progress(4, _STEPS, "Placing the edge at half occupancy")
    region = _half_occupancy_edge(coarse, region, liver_hu, keep=taken_in)
    region = _fill(region)
    yield Progress(5, _STEPS, "Back to the image grid")
    mask = _upsample(region, factors, volume.shape)
    keep = _upsample(taken_in & region, factors, volume.shape)
    mask = _refine_edge(volume.voxels, mask, keep, factors, spacing, params.edge_contrast_hu)
    volume_cm3 = float(np.count_nonzero(mask)) * volume.voxel_volume_cm3
    if not _PLAUSIBLE_CM3[0] <= volume_cm3 <= _PLAUSIBLE_CM3[1]:
        warnings.append(
            f"The liver measures {volume_cm3:.0f} cm³, outside the usual "
            f"{_PLAUSIBLE_CM3[0]:.0f}–{_PLAUSIBLE_CM3[1]:.0f} cm³: check for leaks or gaps."
        )
    yield Progress(6, _STEPS, "Done")
    explanation = Explanation(
        summary=(
            "Whole liver from one click: parenchyma grown in an HU band on a smoothed 3 mm "
            "grid; tumours, necrosis and vessels it encloses or notches taken in"
        ),
        formula=(
            "liver = fill(component of the click in |HU − median| ≤ half-band, opened) "
            "+ soft tissue in the notches closed by a rolling ball"
        ),
        inputs={
            "median HU at the click": f"{liver_hu:.1f} HU",
            "robust SD at the click": f"{liver_sd:.1f} HU",
            "band": f"{band[0]:.0f} to {band[1]:.0f} HU",
            "working voxel": " × ".join(f"{s:.2f}" for s in work_spacing) + " mm",
            "opening radius": f"{params.opening_radius_mm:g} mm",
            "rolling-ball radius": f"{params.envelope_radius_mm:g} mm",
            "tumour HU taken in": (
                f"{liver_hu - params.tumour_below_hu:.0f} to "
                f"{liver_hu + params.tumour_above_hu:.0f} HU"
            ),
        },
        result=f"{volume_cm3:.1f} cm³ (voxel count × voxel volume)",
        source=(
            "region growing, hole filling and morphological closing (Campadelli, Artif Intell "
            "Med 2009; Gotra, Insights Imaging 2017); liver including tumours as in "
            "Heimann, IEEE Trans Med Imaging 2009"
        ),
    )
    yield Progress(7, _STEPS, "Done")
    return LiverResult(
        mask=mask,
        liver_hu=liver_hu,
        liver_sd_hu=liver_sd,
        band_hu=(float(band[0]), float(band[1])),
        working_spacing_mm=(float(work_spacing[0]), float(work_spacing[1]), float(work_spacing[2])),
        warnings=tuple(warnings),
        explanation=explanation,
    )


def _closing_mm(region: BoolArray, radius_mm: float, spacing: np.ndarray) -> BoolArray:
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


def _take_in_notches(
    region: BoolArray, tissue: BoolArray, spacing: np.ndarray, params: LiverParameters
) -> BoolArray:
    """Add the tumour-like tissue in the notches of the surface, without slivers.

    A notch is what a rolling ball of ``envelope_radius_mm`` closes (the part
    of a notch the ball cannot reach) or a voxel that sees the liver within
    ``2 × envelope_radius_mm`` along at least ``enclosed_fraction`` of 26
    directions (also the mouth of a wide notch, into which the ball sinks). A
    flat neighbour (body wall, diaphragm, stomach) sees the liver along at most
    about half of the directions. Two passes: the first addition makes what
    remains of a notch more enclosed.
    """
    from scipy import ndimage

    sliver = ball(params.sliver_radius_mm, spacing)
    for _ in range(2):
        if not region.any():
            return region
        candidates = tissue & ~region
        closed = _closing_mm(region, params.envelope_radius_mm, spacing)
        enclosed = _enclosure(region, 2.0 * params.envelope_radius_mm, spacing)
        notches = candidates & (closed | (enclosed >= params.enclosed_fraction))
        notches = ndimage.binary_opening(notches, sliver)
        if not notches.any():
            break
        region = _fill(region | notches)
    return region


def _extend_surface_tumours(
    region: BoolArray,
    parenchyma: BoolArray,
    tissue: BoolArray,
    spacing: np.ndarray,
    params: LiverParameters,
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
    reach = ndimage.distance_transform_edt(~surface, sampling=spacing) <= params.cap_mm
    cap = reach & tissue & ~region
    grown = ndimage.binary_propagation(surface, mask=surface | cap)
    return _fill(region | grown)


def _enclosure(region: BoolArray, reach_mm: float, spacing: np.ndarray) -> npt.NDArray[np.float32]:
    """Fraction of the 26 grid directions along which ``region`` lies within ``reach_mm``."""
    hits = np.zeros(region.shape, dtype=np.float32)
    directions = [
        (dz, dy, dx)
        for dz in (-1, 0, 1)
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if (dz, dy, dx) != (0, 0, 0)
    ]
    for direction in directions:
        step_mm = float(np.linalg.norm(np.asarray(direction) * spacing))
        seen = np.zeros(region.shape, dtype=bool)
        ray = region
        for _ in range(max(int(reach_mm / step_mm), 1)):
            ray = _shift(ray, direction)
            seen |= ray
        hits += seen
    return hits / np.float32(len(directions))


def _shift(mask: BoolArray, direction: tuple[int, int, int]) -> BoolArray:
    """``out[i] = mask[i + direction]`` (False beyond the edge): what lies one step away."""
    out = np.zeros_like(mask)
    source, target = [], []
    for d, n in zip(direction, mask.shape, strict=True):
        source.append(slice(max(d, 0), n + min(d, 0)))
        target.append(slice(max(-d, 0), n + min(-d, 0)))
    out[tuple(target)] = mask[tuple(source)]
    return out


def _block_mean(voxels: npt.NDArray[np.floating], factors: np.ndarray) -> npt.NDArray[np.float32]:
    """Mean over blocks of ``factors`` voxels; a partial last block is averaged over what it has."""
    fz, fy, fx = (int(f) for f in factors)
    z, y, x = voxels.shape
    out_shape = (-(-z // fz), -(-y // fy), -(-x // fx))
    full = (z // fz * fz, y // fy * fy, x // fx * fx)
    out = np.empty(out_shape, dtype=np.float32)
    # Sum whole blocks slab by slab (keeps temporaries small), then the ragged edges.
    for k in range(out_shape[0]):
        slab = voxels[k * fz : min((k + 1) * fz, z)]
        slab_sum = slab.sum(axis=0, dtype=np.float32)
        core = slab_sum[: full[1], : full[2]].reshape(full[1] // fy, fy, full[2] // fx, fx)
        row = np.empty(out_shape[1:], dtype=np.float32)
        row[: full[1] // fy, : full[2] // fx] = core.sum(axis=(1, 3)) / (fy * fx)
        if full[1] < y:
            row[-1, : full[2] // fx] = (
                slab_sum[full[1] :, : full[2]].reshape(-1, full[2] // fx, fx).mean(axis=(0, 2))
            )
        if full[2] < x:
            for j in range(out_shape[1]):
                row[j, -1] = slab_sum[j * fy : (j + 1) * fy, full[2] :].mean()
        out[k] = row / slab.shape[0]
    return out


def _seed_model(
    coarse: npt.NDArray[np.float32], seed: np.ndarray, radius_mm: float, spacing: np.ndarray
) -> tuple[float, float]:
    footprint = ball(radius_mm, spacing)
    reach = np.array(footprint.shape) // 2
    low = np.maximum(seed - reach, 0)
    high = np.minimum(seed + reach + 1, coarse.shape)
    crop = coarse[low[0] : high[0], low[1] : high[1], low[2] : high[2]]
    f = footprint[
        reach[0] - (seed[0] - low[0]) : reach[0] + (high[0] - seed[0]),
        reach[1] - (seed[1] - low[1]) : reach[1] + (high[1] - seed[1]),
        reach[2] - (seed[2] - low[2]) : reach[2] + (high[2] - seed[2]),
    ]
    values = crop[f]
    median = float(np.median(values))
    return median, MAD_TO_SD * float(np.median(np.abs(values - median)))


def _label_near(labels: npt.NDArray[np.int32], seed: np.ndarray) -> int:
    """The label at the seed, or the nearest labelled voxel's within 3 working voxels."""
    label = int(labels[tuple(seed)])
    if label:
        return label
    low = np.maximum(seed - 3, 0)
    crop = labels[low[0] : seed[0] + 4, low[1] : seed[1] + 4, low[2] : seed[2] + 4]
    where = np.argwhere(crop > 0)
    if where.size == 0:
        return 0
    nearest = where[np.argmin(((where + low - seed) ** 2).sum(axis=1))]
    return int(crop[tuple(nearest)])


def _largest_with(region: BoolArray, seed: np.ndarray) -> BoolArray:
    from scipy import ndimage

    labels, count = ndimage.label(region)
    if count <= 1:
        return region
    label = _label_near(labels, seed)
    return np.asarray(labels == label) if label else region


def _fill(region: BoolArray) -> BoolArray:
    from scipy import ndimage

    filled = ndimage.binary_fill_holes(region)
    for k in range(filled.shape[0]):
        if filled[k].any():
            filled[k] = ndimage.binary_fill_holes(filled[k])
    return np.asarray(filled, dtype=bool)


def _half_occupancy_edge(
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


def _upsample(region: BoolArray, factors: np.ndarray, shape: tuple[int, int, int]) -> BoolArray:
    """Nearest-neighbour upsampling by whole blocks, cropped to ``shape``."""
    fz, fy, fx = (int(f) for f in factors)
    out = np.zeros(shape, dtype=bool)
    planes = np.flatnonzero(region.any(axis=(1, 2)))
    for k in planes:
        plane = np.repeat(np.repeat(region[k], fy, axis=0), fx, axis=1)[: shape[1], : shape[2]]
        out[k * fz : min((k + 1) * fz, shape[0])] = plane
    return out


def _refine_edge(
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
    out[box] = _fill(refined)
    return out


def refuse_implausible_liver(result: LiverResult, volume: ImageVolume, *, hounsfield: bool) -> None:
    """Refuse a liver grown from a click that cannot be liver, with the reason.

    Parameters
    ----------
    result : LiverResult
        What :func:`segment_liver` grew.
    volume : ImageVolume
        The series it grew on.
    hounsfield : bool
        The series is CT (its values are HU): the click's HU is checked against
        :data:`LIVER_SEED_HU_RANGE`.

    Raises
    ------
    InvalidInputError
        The click's HU is air, fat or bone, or the region's volume lies outside
        :data:`LIVER_REFUSED_CM3`.
    """
    low, high = LIVER_SEED_HU_RANGE
    if hounsfield and not low <= result.liver_hu <= high:
        tissue = "air or fat" if result.liver_hu < low else "bone or a contrast-filled vessel"
        raise InvalidInputError(
            "liver seed",
            f"the click measures {result.liver_hu:.0f} HU, which is {tissue}, not liver "
            f"(liver clicks must lie within {low:.0f} to {high:.0f} HU, institutional "
            "default): click in the liver parenchyma",
        )
    volume_cm3 = float(np.count_nonzero(result.mask)) * volume.voxel_volume_cm3
    low_cm3, high_cm3 = LIVER_REFUSED_CM3
    if not low_cm3 <= volume_cm3 <= high_cm3:
        raise InvalidInputError(
            "liver seed",
            f"the region grown from the click measures {volume_cm3:.0f} cm³, which cannot "
            f"be a liver (accepted {low_cm3:.0f}–{high_cm3:.0f} cm³, institutional "
            "default): click in the liver parenchyma, or contour it by hand",
        )
