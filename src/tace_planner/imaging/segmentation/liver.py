"""Semi-automatic liver segmentation from one click on a portal-venous CT (a Task).

Method
------
1. **Working grid.** The volume is block-averaged to voxels of about
   ``working_voxel_mm`` (3 mm): 40–60 times fewer voxels and a noise SD 6–7
   times lower, so that a plain HU band separates the liver from fat, muscle,
   kidney and contrast-filled vessels.
2. **Liver model.** Median and robust SD (MAD) in a 10 mm ball around the click.
3. **Band and growing.** Voxels within ``max(band_sd × SD, min_band_hu)`` of the
   median; an opening with a ball of ``opening_radius_mm`` cuts bridges to
   touching organs (stomach, heart, spleen, IVC wall); the component holding
   the click is kept and dilated back inside the band.
4. **Filling.** Holes are filled in 3D and per axial slice: foci, necrosis and
   vessels enclosed by the liver belong to it (the liver volume of
   F = V_mts / V_liv includes the tumour).
5. **Half-occupancy edge.** A working voxel on the outline holds part liver,
   part neighbour; it belongs to the liver when its HU is past half-way from
   the neighbour's HU (sampled one voxel further out) to the liver's, so the
   coarse outline is unbiased for volume.
6. **Back to the image grid** by nearest neighbour (each working voxel covers
   its block).

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
from tace_planner.imaging.segmentation.common import BoolArray, ball, seeds_to_index
from tace_planner.imaging.segmentation.intensity import MAD_TO_SD

_STEPS = 7
_PLAUSIBLE_CM3 = (600.0, 3500.0)

LIVER_SEED_HU_RANGE = (-50.0, 250.0)
"""CT HU at a liver click that can be liver (institutional default): below is fat or air,
above is bone or a contrast-filled vessel."""
LIVER_REFUSED_CM3 = (300.0, 5000.0)
"""A grown "liver" outside this range is refused (institutional default; volumes outside the
usual 594–2,250 cm³, Feng, World J Gastroenterol 2017, are only flagged)."""


@dataclass(frozen=True)
class LiverParameters:
    """Settings of :func:`segment_liver`.

    Attributes
    ----------
    working_voxel_mm : float
        Target edge of the working voxels (block averaging).
    seed_radius_mm : float
        Radius of the ball around the click that gives the liver's HU.
    band_sd : float
        Half-width of the HU band in robust SDs of that ball.
    min_band_hu : float
        Lower limit of the band's half-width (HU).
    opening_radius_mm : float
        Radius of the ball that cuts bridges to neighbouring organs.
    """

    working_voxel_mm: float = 3.0
    seed_radius_mm: float = 10.0
    band_sd: float = 4.0
    min_band_hu: float = 25.0
    opening_radius_mm: float = 7.0


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
    work_spacing = spacing * factors
    work_seed = np.minimum(seed // factors, np.asarray(coarse.shape) - 1)
    yield Progress(1, _STEPS, "Learning the liver's HU around the click")
    liver_hu, liver_sd = _seed_model(coarse, work_seed, params.seed_radius_mm, work_spacing)
    half_band = max(params.band_sd * liver_sd, params.min_band_hu)
    band = (liver_hu - half_band, liver_hu + half_band)
    candidates = (coarse >= band[0]) & (coarse <= band[1])
    yield Progress(2, _STEPS, "Growing the liver")
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
    yield Progress(3, _STEPS, "Filling foci and vessels")
    region = _fill(region)
    yield Progress(4, _STEPS, "Placing the edge at half occupancy")
    region = _half_occupancy_edge(coarse, region, liver_hu)
    region = _fill(region)
    yield Progress(5, _STEPS, "Back to the image grid")
    mask = _upsample(region, factors, volume.shape)
    volume_cm3 = float(np.count_nonzero(mask)) * volume.voxel_volume_cm3
    if not _PLAUSIBLE_CM3[0] <= volume_cm3 <= _PLAUSIBLE_CM3[1]:
        warnings.append(
            f"The liver measures {volume_cm3:.0f} cm³, outside the usual "
            f"{_PLAUSIBLE_CM3[0]:.0f}–{_PLAUSIBLE_CM3[1]:.0f} cm³: check for leaks or gaps."
        )
    yield Progress(6, _STEPS, "Done")
    explanation = Explanation(
        summary="Liver from one click: HU band grown on a 3 mm grid, holes filled",
        formula="liver = component of the click in |HU − median| ≤ half-band, opened, filled",
        inputs={
            "median HU at the click": f"{liver_hu:.1f} HU",
            "robust SD at the click": f"{liver_sd:.1f} HU",
            "band": f"{band[0]:.0f} to {band[1]:.0f} HU",
            "working voxel": " × ".join(f"{s:.2f}" for s in work_spacing) + " mm",
            "opening radius": f"{params.opening_radius_mm:g} mm",
        },
        result=f"{volume_cm3:.1f} cm³ (voxel count × voxel volume)",
        source="TACE Planner liver segmentation (imaging/segmentation/liver.py)",
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
    coarse: npt.NDArray[np.float32], region: BoolArray, liver_hu: float
) -> BoolArray:
    """Move the outline by at most one working voxel to the half-occupancy level.

    For each voxel on either side of the outline, the neighbour tissue's HU is
    the mean of the second ring outside (one voxel further out); the voxel is
    liver when ``(v − neighbour) / (liver − neighbour) ≥ ½``.
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
    contrast = liver_hu - neighbour
    usable = np.abs(contrast) > 10.0  # no edge to place against liver-like neighbours
    occupancy = np.where(usable, (coarse - neighbour) / np.where(usable, contrast, 1.0), 1.0)
    out = region.copy()
    out[outer1 & usable & (occupancy >= 0.5)] = True
    out[inner1 & usable & (occupancy < 0.5)] = False
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
