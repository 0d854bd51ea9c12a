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
   the median, minus thin dark sheets (a black top-hat: darker than their grey
   closing over ``valley_radius_mm``, e.g. the diaphragm between the dome and
   the heart, which partial volume lifts into the band); an opening with a ball
   of ``opening_radius_mm`` cuts bridges to touching organs; the component of
   the click is kept and dilated back inside the band.
4. **Filling.** Holes are filled in 3D and per axial slice: tumours, necrosis,
   calcifications and vessels enclosed by parenchyma belong to the liver.
5. **Envelope.** Tumours that reach the surface leave notches, not holes. A
   closing with a ball of ``envelope_radius_mm`` (a rolling ball over the
   surface) marks the notches; of them, soft tissue from ``liver − tumour_below_hu`` to
   ``liver + tumour_above_hu`` joins the liver (fat, lung, bile, bright vessels
   and the kidney do not); an opening with a ball of ``sliver_radius_mm`` drops
   thin slivers (diaphragm, vessel walls at the hilum). A tumour that replaces
   the parenchyma up to the capsule (the dome's apex) is carried on to the
   surface through soft tissue for ``cap_mm`` at most. Holes are filled again.
   **The vena cava is left out.** On portal-venous CT the IVC is as bright as a
   hyper-attenuating tumour, and where the liver wraps around its groove the
   filling and the envelope take it in (a third of it on the whole-liver
   phantom), and a focus against it then leaks into it inside the liver contour.
   A vessel at least ``vessel_above_hu`` brighter than the liver that is followed
   slice by slice from below the liver through it and out above it (or the
   reverse, or out of a scan that ends inside the liver) is not liver: its path
   is removed, on the image grid as the cross-section it has where it runs clear
   of the liver, along its centre line (:func:`~.liver_surface.through_vessels`).
   A portal vein that enters at the hilum and branches, a vessel that only runs
   beside the liver, or a tumour, does not come out on the far side and stays.
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
    seeds_to_index,
)
from tace_planner.imaging.segmentation.intensity import MAD_TO_SD
from tace_planner.imaging.segmentation.liver_surface import (
    drop_vessel_rims,
    extend_surface_tumours,
    half_occupancy_edge,
    refine_edge,
    take_in_notches,
    through_vessels,
    upsample,
    vessel_sections,
)
from tace_planner.imaging.segmentation.morphology import fill_holes

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
    valley_radius_mm, valley_hu : float
        A voxel darker by more than ``max(valley_hu, half-band / 2)`` than the grey
        closing with a box reaching ``valley_radius_mm`` lies in a thin dark sheet (the
        diaphragm, a fissure) and does not carry the growth.
    envelope_radius_mm : float
        Radius of the rolling ball whose closing takes in tumours at the surface
        (a notch up to about twice as wide is closed).
    tumour_below_hu, tumour_above_hu : float
        Soft tissue from ``liver − tumour_below_hu`` to ``liver + tumour_above_hu``
        HU in a notch joins the liver (hypo- and hyper-attenuating tumours).
    sliver_radius_mm : float
        Radius of the opening that drops slivers from what the envelope adds.
    cap_mm : float
        A tumour that reaches the outline is carried this far on through soft
        tissue (its cap at the dome or under the capsule).
    edge_contrast_hu : float
        The edge is refined on the image only against neighbours at least this
        far from the liver's HU (fat, lung, air).
    vessel_above_hu : float
        A vessel at least this much brighter than the liver that runs through it
        from below to above (the inferior vena cava) is left out of it.
    vessel_area_mm2 : tuple of 2 float
        Cross-section areas of such a vessel where it is followed from (the inferior
        vena cava is about 15–35 mm across).
    """

    working_voxel_mm: float = 3.0
    seed_radius_mm: float = 12.0
    band_sd: float = 3.0
    min_band_hu: float = 18.0
    max_band_hu: float = 35.0
    opening_radius_mm: float = 6.0
    valley_radius_mm: float = 4.5
    valley_hu: float = 12.0
    envelope_radius_mm: float = 35.0
    tumour_below_hu: float = 75.0
    tumour_above_hu: float = 42.0
    sliver_radius_mm: float = 2.5
    cap_mm: float = 6.0
    edge_contrast_hu: float = 40.0
    vessel_above_hu: float = 20.0
    vessel_area_mm2: tuple[float, float] = (50.0, 1000.0)


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
    notes : tuple of str
        What the segmentation left out that the user may want to look at (the
        inferior vena cava in its groove), as plain sentences.
    """

    mask: BoolArray
    liver_hu: float
    liver_sd_hu: float
    band_hu: tuple[float, float]
    working_spacing_mm: tuple[float, float, float]
    warnings: tuple[str, ...]
    explanation: Explanation
    notes: tuple[str, ...] = ()


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
    # Thin dark sheets (the diaphragm between the dome and the heart, a fissure) are
    # barriers even where partial volume lifts them into the band: a black top-hat.
    reach = np.maximum(np.floor(params.valley_radius_mm / work_spacing), 1).astype(int)
    valley = ndimage.grey_closing(smooth, size=tuple(2 * reach + 1)) - smooth
    candidates &= valley <= max(params.valley_hu, half_band / 2.0)
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
    region = fill_holes(region)
    tissue = (smooth >= liver_hu - params.tumour_below_hu) & (
        smooth <= liver_hu + params.tumour_above_hu
    )
    region = take_in_notches(
        region,
        tissue,
        work_spacing,
        envelope_radius_mm=params.envelope_radius_mm,
        sliver_radius_mm=params.sliver_radius_mm,
    )
    region = extend_surface_tumours(region, parenchyma, tissue, work_spacing, params.cap_mm)
    region = _largest_with(region, work_seed)
    # The vena cava in its groove is not liver (and a focus against it would leak into
    # it): left out again after every step that fills.
    paths = through_vessels(
        smooth,
        region,
        liver_hu,
        work_spacing,
        above_hu=params.vessel_above_hu,
        area_mm2=params.vessel_area_mm2,
    )
    vessel = np.zeros_like(region)
    for path in paths:
        vessel |= path.mask(region.shape) & region
    region = _largest_with(region & ~vessel, work_seed)
    taken_in = region & ~parenchyma
    yield Progress(4, _STEPS, "Placing the edge at half occupancy")
    region = half_occupancy_edge(coarse, region, liver_hu, keep=taken_in)
    region = fill_holes(region) & ~vessel
    yield Progress(5, _STEPS, "Back to the image grid")
    mask = upsample(region, factors, volume.shape)
    keep = upsample(taken_in & region, factors, volume.shape)
    mask = refine_edge(volume.voxels, mask, keep, factors, spacing, params.edge_contrast_hu)
    left_out_cm3 = 0.0
    if paths:
        # Its edge drawn smooth on the image grid (not in working blocks).
        sections = vessel_sections(paths, factors, volume.shape, spacing)
        before = mask | upsample(vessel, factors, volume.shape)
        mask = drop_vessel_rims(before & ~sections, sections, spacing)
        left_out_cm3 = float(np.count_nonzero(before & ~mask)) * volume.voxel_volume_cm3
    volume_cm3 = float(np.count_nonzero(mask)) * volume.voxel_volume_cm3
    if not _PLAUSIBLE_CM3[0] <= volume_cm3 <= _PLAUSIBLE_CM3[1]:
        warnings.append(
            f"The liver measures {volume_cm3:.0f} cm³, outside the usual "
            f"{_PLAUSIBLE_CM3[0]:.0f}–{_PLAUSIBLE_CM3[1]:.0f} cm³: check for leaks or gaps."
        )
    yield Progress(6, _STEPS, "Done")
    summary = (
        "Whole liver from one click: parenchyma grown in an HU band on a smoothed 3 mm "
        "grid; tumours, necrosis and vessels it encloses or notches taken in"
    )
    if paths:
        summary += "; the inferior vena cava running through its groove left out"
    explanation = Explanation(
        summary=summary,
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
            "inferior vena cava left out": (
                f"{left_out_cm3:.1f} cm³ (brighter than the liver by "
                f"{params.vessel_above_hu:g} HU or more, running through it)"
                if paths
                else "none found running through the liver"
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
        notes=(
            (
                f"The inferior vena cava running through the liver's groove was left out "
                f"({left_out_cm3:.0f} cm³): check the liver contour there.",
            )
            if paths
            else ()
        ),
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
