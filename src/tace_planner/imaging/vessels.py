"""Find the abdominal aorta and the portal vein on an axial CT and measure their HU.

When a CT series' headers do not tell its contrast phase, the blood does: the mean
attenuation of the aorta and of the portal vein (see
:func:`tace_planner.imaging.dicom.classify.phase_from_vessel_hu`). This module finds
both vessels with simple, explainable image rules; it is a helper that suggests a
phase, and every number it returns says where it was measured.

Method (per axial slice, in patient millimetres, LPS: +x left, +y posterior)
-------------------------------------------------------------------------------
1. Body: the largest connected region above −300 HU; its centroid gives the midline.
2. Vertebral body: the largest region above 200 HU (holes filled) whose centroid lies
   posterior to the body centroid and within 35 mm of the midline.
3. Aorta: soft-tissue-or-brighter regions (> −30 HU, vertebral body removed, thin
   bridges cut by an opening of ~2 mm) that are round (solidity ≥ 0.85,
   eccentricity ≤ 0.8), 12–40 mm across, and centred 0–50 mm anterior of the
   vertebral body's front edge and from 20 mm right to 45 mm left of its centre.
   The roundest, nearest to the expected place wins. Its HU is the mean of a
   central disc of 60 % of its radius (no partial volume at the wall).
4. Portal vein: round-ish regions 9–25 mm across, 8–70 mm anterior and up to 80 mm
   right (10 mm left) of the aorta centre, not the aorta, not touching the liver
   mass (large regions are rejected by size), homogeneous (SD of the core < 35 HU).
   The portal vein is harder than the aorta (bowel, the superior mesenteric
   vessels and the pancreas lie nearby in patients); it is reported only when
   found on at least two slices with HU agreeing within 30 HU, else None.

The aorta is measured on up to five slices nearest the middle of the searched
range, the portal vein on every searched slice; each vessel's HU is the median over
slices. Up to 24 slices spread over the central 80 % of the volume are searched.

scipy and scikit-image are imported inside the functions (start-up stays fast).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.geometry import slice_normal
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.classify import Classification, phase_from_vessel_hu

BODY_MIN_HU = -300.0
SOFT_TISSUE_MIN_HU = -30.0
BONE_MIN_HU = 200.0
AORTA_DIAMETER_MM = (12.0, 40.0)
PORTAL_VEIN_DIAMETER_MM = (9.0, 25.0)
CORE_FRACTION = 0.6
MAX_CORE_SD_HU = 35.0
PV_AGREEMENT_HU = 30.0
MAX_SEARCH_SLICES = 24
AORTA_SLICES = 5


@dataclass(frozen=True, slots=True)
class VesselSample:
    """One vessel found on one slice.

    Parameters
    ----------
    slice_index : int
        z index in the volume.
    center_lps_mm : tuple of 3 float
        Centroid of the vessel's cross-section, LPS millimetres.
    diameter_mm : float
        Equivalent-circle diameter of the cross-section.
    mean_hu, sd_hu : float
        Mean and standard deviation of the core disc (60 % of the radius).
    pixels : int
        Pixels in the core disc.
    """

    slice_index: int
    center_lps_mm: tuple[float, float, float]
    diameter_mm: float
    mean_hu: float
    sd_hu: float
    pixels: int


@dataclass(frozen=True, slots=True)
class VesselHU:
    """Mean attenuation of the aorta and, when found, the portal vein.

    Parameters
    ----------
    aorta_hu : float
        Median over :attr:`aorta_samples` of the core mean HU.
    portal_vein_hu : float or None
        Median over :attr:`portal_vein_samples`; None when the portal vein was not
        found on at least two slices that agree.
    aorta_samples, portal_vein_samples : tuple of VesselSample
        Where each value was measured (for display and for the explanation).
    note : str
        Why the portal vein is missing, or "".
    """

    aorta_hu: float
    portal_vein_hu: float | None
    aorta_samples: tuple[VesselSample, ...]
    portal_vein_samples: tuple[VesselSample, ...] = ()
    note: str = ""

    def describe(self) -> str:
        """One sentence saying what was measured where."""
        first = self.aorta_samples[0]
        text = (
            f"aorta {self.aorta_hu:.0f} HU (median of {len(self.aorta_samples)} slice(s), "
            f"Ø {first.diameter_mm:.0f} mm at z = {first.center_lps_mm[2]:.1f} mm)"
        )
        if self.portal_vein_hu is not None:
            text += (
                f"; portal vein {self.portal_vein_hu:.0f} HU "
                f"(median of {len(self.portal_vein_samples)} slice(s))"
            )
        else:
            text += f"; portal vein not found ({self.note or 'no candidate'})"
        return text


@dataclass(frozen=True, slots=True)
class _Region:
    label: int
    center_lps_mm: tuple[float, float, float]
    center_index: tuple[float, float]
    area_mm2: float
    diameter_mm: float
    solidity: float
    eccentricity: float


def _slice_coordinates(
    volume: ImageVolume, k: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """x and y (LPS mm) of every pixel of slice k, and the slice's z."""
    affine = volume.index_to_lps
    _, rows, columns = volume.shape
    j = np.arange(rows, dtype=float)[:, None]
    i = np.arange(columns, dtype=float)[None, :]
    base = affine[:3, 3] + k * affine[:3, 0]
    x = base[0] + j * affine[0, 1] + i * affine[0, 2]
    y = base[1] + j * affine[1, 1] + i * affine[1, 2]
    z = float(base[2] + (rows / 2) * affine[2, 1] + (columns / 2) * affine[2, 2])
    return x, y, z


def _is_axial(volume: ImageVolume) -> bool:
    affine = volume.index_to_lps
    orientation = [*(affine[:3, 2] / np.linalg.norm(affine[:3, 2]))]
    orientation += [*(affine[:3, 1] / np.linalg.norm(affine[:3, 1]))]
    try:
        normal = slice_normal(orientation)
    except ValueError:
        return False
    return abs(float(normal[2])) >= 0.95


def _regions(
    mask: npt.NDArray[np.bool_],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    z: float,
    pixel_area_mm2: float,
) -> tuple[npt.NDArray[np.int32], list[_Region]]:
    from skimage.measure import label, regionprops

    labels = label(mask, connectivity=1)
    regions = []
    for props in regionprops(labels):
        rows, columns = props.coords[:, 0], props.coords[:, 1]
        area = props.area * pixel_area_mm2
        regions.append(
            _Region(
                label=int(props.label),
                center_lps_mm=(float(x[rows, columns].mean()), float(y[rows, columns].mean()), z),
                center_index=(float(rows.mean()), float(columns.mean())),
                area_mm2=float(area),
                diameter_mm=2.0 * math.sqrt(area / math.pi),
                solidity=float(props.solidity),
                eccentricity=float(props.eccentricity),
            )
        )
    return labels.astype(np.int32), regions


def _core(
    image: npt.NDArray[np.float32],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int32],
    region: _Region,
) -> tuple[float, float, int]:
    cx, cy, _ = region.center_lps_mm
    radius = CORE_FRACTION * region.diameter_mm / 2.0
    inside = ((x - cx) ** 2 + (y - cy) ** 2 <= radius**2) & (labels == region.label)
    values = image[inside]
    if values.size == 0:
        return math.nan, math.nan, 0
    return float(values.mean()), float(values.std()), int(values.size)


def _sample(
    k: int,
    region: _Region,
    image: npt.NDArray[np.float32],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int32],
) -> VesselSample | None:
    mean, sd, pixels = _core(image, x, y, labels, region)
    if pixels == 0 or not math.isfinite(mean):
        return None
    return VesselSample(k, region.center_lps_mm, region.diameter_mm, mean, sd, pixels)


def _find_on_slice(
    volume: ImageVolume, k: int, opening_px: int
) -> tuple[VesselSample | None, VesselSample | None]:
    """Return (aorta, portal vein) samples found on slice k (either may be None)."""
    from scipy import ndimage

    image = np.asarray(volume.voxels[k], dtype=np.float32)
    x, y, z = _slice_coordinates(volume, k)
    _, dy, dx = volume.spacing_mm
    pixel_area = dy * dx

    body_labels, body_count = ndimage.label(image > BODY_MIN_HU)
    if body_count == 0:
        return None, None
    sizes = ndimage.sum_labels(np.ones_like(image), body_labels, range(1, body_count + 1))
    body = body_labels == (int(np.argmax(sizes)) + 1)
    mid_x, mid_y = float(x[body].mean()), float(y[body].mean())

    bone = ndimage.binary_fill_holes((image > BONE_MIN_HU) & body)
    bone_labels, bone_regions = _regions(bone, x, y, z, pixel_area)
    vertebrae = [
        r
        for r in bone_regions
        if r.center_lps_mm[1] > mid_y and abs(r.center_lps_mm[0] - mid_x) < 35.0
    ]
    if not vertebrae:
        return None, None
    vertebra = max(vertebrae, key=lambda r: r.area_mm2)
    vertebra_mask = bone_labels == vertebra.label
    vert_x = vertebra.center_lps_mm[0]
    vert_front = float(y[vertebra_mask].min())

    tissue = (image > SOFT_TISSUE_MIN_HU) & body
    tissue &= ~ndimage.binary_dilation(vertebra_mask, iterations=1)
    structure = ndimage.generate_binary_structure(2, 1)
    tissue = ndimage.binary_opening(tissue, structure=structure, iterations=opening_px)
    labels, regions = _regions(tissue, x, y, z, pixel_area)

    def round_enough(r: _Region) -> bool:
        return r.solidity >= 0.85 and r.eccentricity <= 0.8

    aortas = [
        r
        for r in regions
        if AORTA_DIAMETER_MM[0] <= r.diameter_mm <= AORTA_DIAMETER_MM[1]
        and round_enough(r)
        and vert_front - 50.0 <= r.center_lps_mm[1] <= vert_front + 5.0
        and vert_x - 20.0 <= r.center_lps_mm[0] <= vert_x + 45.0
    ]
    if not aortas:
        return None, None
    expected = (vert_x + 10.0, vert_front - 15.0)
    aorta_region = min(
        aortas,
        key=lambda r: math.dist(r.center_lps_mm[:2], expected) / 10.0 + r.eccentricity * 2.0,
    )
    aorta = _sample(k, aorta_region, image, x, y, labels)
    if aorta is None or aorta.sd_hu > MAX_CORE_SD_HU:
        return None, None

    ax, ay, _ = aorta_region.center_lps_mm
    veins = []
    for r in regions:
        if r.label == aorta_region.label:
            continue
        rx, ry, _ = r.center_lps_mm
        if not (
            PORTAL_VEIN_DIAMETER_MM[0] <= r.diameter_mm <= PORTAL_VEIN_DIAMETER_MM[1]
            and r.solidity >= 0.8
            and r.eccentricity <= 0.9
            and ax - 80.0 <= rx <= ax + 10.0
            and ay - 70.0 <= ry <= ay - 8.0
        ):
            continue
        sample = _sample(k, r, image, x, y, labels)
        if sample is not None and sample.sd_hu <= MAX_CORE_SD_HU and sample.mean_hu > 0.0:
            veins.append((math.dist((rx, ry), (ax - 20.0, ay - 30.0)), sample))
    vein = min(veins, key=lambda pair: pair[0])[1] if veins else None
    return aorta, vein


def _search_slices(count: int) -> list[int]:
    low, high = round(0.1 * (count - 1)), round(0.9 * (count - 1))
    if high < low:
        return []
    indices = np.linspace(low, high, num=min(MAX_SEARCH_SLICES, high - low + 1))
    return sorted({round(float(v)) for v in indices})


def _looks_like_ct(volume: ImageVolume) -> bool:
    sample = np.asarray(volume.voxels[:: max(1, volume.shape[0] // 8)], dtype=np.float32)
    return bool((sample < -500.0).any() and (sample > -50.0).any())


def measure_vessel_hu(volume: ImageVolume) -> VesselHU | None:
    """Find the aorta (and, if possible, the portal vein) and return their mean HU.

    Parameters
    ----------
    volume : ImageVolume
        An axial CT volume in Hounsfield units covering the upper abdomen.

    Returns
    -------
    VesselHU or None
        None when the volume is not axial, does not look like CT in HU, or no
        aorta was found on any searched slice (see the module notes for the rules).
    """
    if volume.shape[0] < 1 or not _is_axial(volume) or not _looks_like_ct(volume):
        return None
    _, dy, dx = volume.spacing_mm
    opening_px = max(1, round(2.0 / min(dy, dx)))
    slices = _search_slices(volume.shape[0])
    aortas: list[VesselSample] = []
    veins: list[VesselSample] = []
    for k in slices:
        aorta, vein = _find_on_slice(volume, k, opening_px)
        if aorta is not None:
            aortas.append(aorta)
        if vein is not None:
            veins.append(vein)
    if not aortas:
        return None
    middle = (slices[0] + slices[-1]) / 2.0
    central = sorted(aortas, key=lambda s: abs(s.slice_index - middle))[:AORTA_SLICES]
    central.sort(key=lambda s: s.slice_index)
    aorta_hu = float(np.median([s.mean_hu for s in central]))
    portal_vein_hu, chosen, note = _portal_vein(veins)
    return VesselHU(
        aorta_hu=aorta_hu,
        portal_vein_hu=portal_vein_hu,
        aorta_samples=tuple(central),
        portal_vein_samples=chosen,
        note=note,
    )


def _portal_vein(
    samples: list[VesselSample],
) -> tuple[float | None, tuple[VesselSample, ...], str]:
    if len(samples) < 2:
        return None, (), f"candidate on {len(samples)} slice(s); 2 needed"
    median = float(np.median([s.mean_hu for s in samples]))
    agreeing = tuple(s for s in samples if abs(s.mean_hu - median) <= PV_AGREEMENT_HU)
    if len(agreeing) < 2:
        return None, (), "candidates disagree by more than 30 HU"
    return float(np.median([s.mean_hu for s in agreeing])), agreeing, ""


def phase_from_volume(volume: ImageVolume) -> Classification:
    """Suggest the contrast phase of a CT volume from its aorta and portal vein HU.

    Returns
    -------
    Classification
        From :func:`~tace_planner.imaging.dicom.classify.phase_from_vessel_hu`,
        with the measurement sites in ``reason``; phase "unknown" when no aorta
        was found.
    """
    measured = measure_vessel_hu(volume)
    if measured is None:
        return Classification(phase="unknown", reason="aorta not found on the images")
    guess = phase_from_vessel_hu(measured.aorta_hu, measured.portal_vein_hu)
    return Classification(
        phase=guess.phase, plane="axial", reason=f"{guess.reason}; {measured.describe()}"
    )
