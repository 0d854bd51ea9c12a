"""A whole-liver CT phantom with realistic noise, neighbours and tumours, with analytic truth.

The development set for whole-liver segmentation. The demo phantom's liver is
nearly flat and its neighbours are clean; the blocks of
:mod:`tace_planner.imaging.phantom_realistic` hold one tumour in a slab of liver.
Here the whole organ sits in an abdomen, as on a portal-venous CT:

- the liver of the demo phantom (right, left and caudate lobes, grooved by the
  IVC, with a gallbladder fossa), each lobe jittered per seed (±3 mm, ±7 % size,
  ±4°) so that no test depends on one shape;
- the dome under a 5 mm diaphragm (muscle) with the lung base above it and in
  the costophrenic recesses, −550 HU at the diaphragm to −800 HU deeper, and
  the heart (myocardium 105 HU, blood 165 HU) on the diaphragm over the left lobe;
- the hilum: the portal vein trunk (180 HU) entering the liver, portal branches
  and three hepatic veins (150–170 HU) inside it; the IVC (150 HU) in its groove;
- neighbours of plausible HU: gallbladder (bile 12 HU, wall), right kidney
  (175 HU) under the right lobe, stomach (wall 70 HU, water and gas) against the
  left lobe, spleen, aorta, spine, paraspinal and abdominal-wall muscle, fat;
- parenchyma 100–120 HU with a texture (smooth field, 8 HU SD at 4 mm), a
  point-spread blur and correlated noise of 10–18 HU SD (seed-dependent);
- eight tumours of both attenuations (hypo −40…−8 HU, hyper +12…+35 HU): one
  necrotic with an enhancing rim, one calcified, one at the dome, one
  subcapsular, one against the IVC, one small, one near-isoattenuating.

Truth: voxel-centre inside-tests of the analytic solids. The liver truth is the
union of the lobes minus the IVC and the gallbladder; tumours are clipped to it
(they lie inside the liver) and the liver truth includes them and the vessels
inside it. Grid: 80 × 170 × 180 voxels of 2.5 × 1.5 × 1.5 mm (z, y, x), LPS mm,
HU float32; deterministic per seed, built in a few seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.phantom_model import (
    LIVER,
    Capsule,
    Ellipsoid,
    LiverModel,
    SamplingGrid,
    Vec3,
    sample_solid,
)
from tace_planner.imaging.phantom_variants import HarmonicBlob, _smooth_field

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

SPACING_MM = (2.5, 1.5, 1.5)
SHAPE_ZYX = (80, 170, 180)
ORIGIN_LPS_MM = (-172.0, -138.0, -92.5)
"""Centre of the first voxel (x, y, z): the grid spans x −172…97, y −138…116, z −92.5…105."""

LIVER_SEED_LPS_MM = (-95.0, 10.0, -5.0)
"""A click in the right lobe's parenchyma, away from the tumours and large vessels."""

FRAME_OF_REFERENCE_UID = "1.2.826.0.1.3680043.10.1161.3"

_TISSUE_HU = {
    "air": -1000.0,
    "fat": -100.0,
    "visceral_fat": -85.0,
    "muscle": 60.0,
    "bone": 560.0,
    "aorta": 165.0,
    "ivc": 150.0,
    "portal_vein": 180.0,
    "hepatic_vein": 155.0,
    "kidney": 175.0,
    "spleen": 120.0,
    "stomach_wall": 70.0,
    "water": 12.0,
    "bile": 12.0,
}


@dataclass(frozen=True)
class TumourSpec:
    """One tumour: where, how large, how it looks.

    Attributes
    ----------
    name : str
        "F1" …
    where : str
        Plain description ("dome", "subcapsular", …).
    center_lps_mm : tuple of 3 float
        Centre before the liver's jitter is applied (it moves with its lobe).
    radius_mm : float
        Mean radius of the harmonic blob.
    contrast_hu : float
        Tumour minus liver parenchyma.
    features : tuple of str
        Any of "necrosis", "calcification", "rim".
    lobe : int
        Index of the lobe it belongs to (0 right, 1 left, 2 caudate).
    """

    name: str
    where: str
    center_lps_mm: Vec3
    radius_mm: float
    contrast_hu: float
    features: tuple[str, ...] = ()
    lobe: int = 0


TUMOURS: tuple[TumourSpec, ...] = (
    TumourSpec("F1", "dome, hypo-attenuating", (-78.0, 6.0, 56.0), 14.0, -40.0),
    TumourSpec("F2", "subcapsular, hypo-attenuating", (-124.0, 8.0, -12.0), 13.0, -30.0),
    TumourSpec("F3", "against the IVC, hyper-attenuating", (-43.0, 28.0, 22.0), 12.0, 30.0),
    TumourSpec("F4", "necrotic, hypo-attenuating", (-82.0, -28.0, 8.0), 20.0, -25.0,
               ("necrosis", "rim")),
    TumourSpec("F5", "calcified, hypo-attenuating", (4.0, -44.0, 22.0), 11.0, -20.0,
               ("calcification",), 1),
    TumourSpec("F6", "hyper-attenuating", (-100.0, 30.0, -38.0), 12.0, 35.0),
    TumourSpec("F7", "small, hyper-attenuating", (28.0, -50.0, 6.0), 8.0, 12.0, (), 1),
    TumourSpec("F8", "near-isoattenuating, hypo", (-62.0, 40.0, -30.0), 11.0, -8.0),
)  # fmt: skip
"""Eight tumours of both attenuations at the hard places."""


@dataclass(frozen=True, eq=False)
class LiverPhantom:
    """A whole-liver CT and its truth.

    Attributes
    ----------
    volume : ImageVolume
        Portal-venous-like CT, float32 HU, (z, y, x).
    liver_mask : numpy.ndarray of bool
        The whole liver: parenchyma, the vessels inside it and every tumour.
    tumour_masks : dict of str to numpy.ndarray of bool
        Each tumour's truth, inside ``liver_mask``.
    liver : LiverModel
        The analytic organ (before the tumours, which lie inside it).
    liver_hu, noise_sd_hu : float
        Parenchyma HU and the SD of the added noise.
    seed_lps_mm : tuple of 3 float
        A click in the parenchyma.
    """

    volume: ImageVolume
    liver_mask: BoolArray
    tumour_masks: dict[str, BoolArray]
    liver: LiverModel
    liver_hu: float
    noise_sd_hu: float
    seed_lps_mm: Vec3
    tumours: tuple[TumourSpec, ...] = TUMOURS

    def tumour_hu(self, name: str) -> float:
        """Nominal HU of a tumour (liver HU + contrast)."""
        spec = next(t for t in self.tumours if t.name == name)
        return self.liver_hu + spec.contrast_hu


def liver_grid() -> SamplingGrid:
    """The phantom's axial grid (ascending z, rows posterior, columns left)."""
    affine = np.eye(4)
    affine[:3, :3] = 0.0
    affine[2, 0], affine[1, 1], affine[0, 2] = SPACING_MM
    affine[:3, 3] = ORIGIN_LPS_MM
    return SamplingGrid(affine, SHAPE_ZYX)


def _jitter_liver(rng: np.random.Generator) -> tuple[LiverModel, list[np.ndarray]]:
    """The demo liver with each lobe moved, scaled and turned a little; returns the shifts."""
    lobes, shifts = [], []
    for lobe in LIVER.lobes:
        shift = rng.uniform(-3.0, 3.0, size=3)
        scale = rng.uniform(0.93, 1.07, size=3)
        turn = float(rng.uniform(-4.0, 4.0))
        center = tuple(float(c + s) for c, s in zip(lobe.center_lps_mm, shift, strict=True))
        axes = tuple(float(a * s) for a, s in zip(lobe.semi_axes_mm, scale, strict=True))
        lobes.append(Ellipsoid(center, axes, lobe.rotation_deg + turn))  # type: ignore[arg-type]
        shifts.append(shift)
    ivc = LIVER.excluded[0]
    gallbladder = Ellipsoid((-52.0, -46.0, -40.0), (14.0, 16.0, 30.0), 35.0)
    return LiverModel(tuple(lobes), (ivc, gallbladder)), shifts


def _tumour_solid(spec: TumourSpec, shift: np.ndarray, rng: np.random.Generator) -> HarmonicBlob:
    coefficients = tuple(float(c) for c in rng.uniform(-0.1, 0.1, size=12))
    center = tuple(float(c + s) for c, s in zip(spec.center_lps_mm, shift, strict=True))
    return HarmonicBlob(center, spec.radius_mm, coefficients)  # type: ignore[arg-type]


def _points(grid: SamplingGrid) -> tuple[FloatArray, FloatArray, FloatArray]:
    """x, y, z of every voxel centre, broadcastable (z, 1, 1), (1, y, 1), (1, 1, x)."""
    nz, ny, nx = grid.shape
    x0, y0, z0 = ORIGIN_LPS_MM
    dz, dy, dx = SPACING_MM
    z = (z0 + dz * np.arange(nz))[:, None, None]
    y = (y0 + dy * np.arange(ny))[None, :, None]
    x = (x0 + dx * np.arange(nx))[None, None, :]
    return x, y, z


def _mask(inside: Callable[..., BoolArray], grid: SamplingGrid) -> BoolArray:
    x, y, z = _points(grid)
    return np.broadcast_to(inside(x, y, z), grid.shape).copy()


def make_liver_phantom(seed: int = 0) -> LiverPhantom:
    """Build the whole-liver phantom; deterministic for ``seed``."""
    from scipy import ndimage

    rng = np.random.default_rng([seed, 1161, 3])
    grid = liver_grid()
    shape = grid.shape
    liver_hu = float(rng.uniform(100.0, 120.0))
    noise_sd = float(rng.uniform(10.0, 18.0))
    model, shifts = _jitter_liver(rng)
    x, y, z = _points(grid)
    hu = np.full(shape, _TISSUE_HU["air"], dtype=np.float32)

    def paint(region: npt.ArrayLike, value: float | npt.NDArray[np.float32]) -> None:
        where = np.broadcast_to(np.asarray(region, dtype=bool), shape)
        hu[where] = np.broadcast_to(value, shape)[where] if np.ndim(value) else value

    def ellipse(cx: float, cy: float, a: float, b: float) -> BoolArray:
        return ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1.0  # type: ignore[no-any-return]

    # Body wall, cavity, spine.
    paint(ellipse(0.0, -10.0, 168.0, 128.0), _TISSUE_HU["fat"])
    paint(ellipse(0.0, -10.0, 152.0, 114.0), _TISSUE_HU["muscle"])
    cavity = ellipse(0.0, -10.0, 142.0, 104.0)
    paint(cavity, _TISSUE_HU["visceral_fat"])
    for cx in (-32.0, 32.0):
        paint(ellipse(cx, 100.0, 22.0, 14.0), _TISSUE_HU["muscle"])
    paint(ellipse(0.0, 66.0, 19.0, 17.0), _TISSUE_HU["bone"])
    paint(ellipse(0.0, 100.0, 5.0, 10.0), _TISSUE_HU["bone"])
    paint(ellipse(18.0, 36.0, 12.0, 12.0), _TISSUE_HU["aorta"])

    # Organs below and beside the liver.
    kidney = Ellipsoid((-70.0, 62.0, -74.0), (27.0, 20.0, 50.0), 60.0)
    paint(_mask(kidney.contains, grid), _TISSUE_HU["kidney"])
    spleen = Ellipsoid((95.0, 40.0, 20.0), (26.0, 44.0, 48.0), 30.0)
    paint(_mask(spleen.contains, grid), _TISSUE_HU["spleen"])
    stomach = Ellipsoid((62.0, -30.0, 10.0), (30.0, 36.0, 40.0), 20.0)
    stomach_inner = Ellipsoid((62.0, -30.0, 10.0), (25.0, 31.0, 35.0), 20.0)
    paint(_mask(stomach.contains, grid), _TISSUE_HU["stomach_wall"])
    inner = _mask(stomach_inner.contains, grid)
    paint(inner, _TISSUE_HU["water"])
    paint(inner & (y < -52.0), _TISSUE_HU["air"])  # gas on top: anterior, the patient supine

    # The liver, its texture and its vessels.
    liver_organ = _mask(model.contains, grid)
    texture = _smooth_field(shape, SPACING_MM, 4.0, 8.0, rng)
    paint(liver_organ, np.float32(liver_hu) + texture)
    ivc, gallbladder = model.excluded
    paint(_mask(ivc.contains, grid) & (z < 80.0), _TISSUE_HU["ivc"])
    gallbladder_wall = Ellipsoid(
        gallbladder.center_lps_mm,
        tuple(a + 2.0 for a in gallbladder.semi_axes_mm),  # type: ignore[arg-type]
        gallbladder.rotation_deg,
    )
    paint(_mask(gallbladder_wall.contains, grid) & ~liver_organ, _TISSUE_HU["stomach_wall"])
    paint(_mask(gallbladder.contains, grid), _TISSUE_HU["bile"])
    right_shift = shifts[0]
    vessels = [
        (Capsule((22.0, 8.0, -80.0), (-30.0, -6.0, -10.0), 7.0), "portal_vein"),
        (Capsule((-30.0, -6.0, -10.0), (-80.0, 6.0, -4.0), 5.0), "portal_vein"),
        (Capsule((-80.0, 6.0, -4.0), (-112.0, 20.0, 10.0), 3.0), "portal_vein"),
        (Capsule((-30.0, -6.0, -10.0), (10.0, -30.0, 14.0), 4.0), "portal_vein"),
        (Capsule((-24.0, 34.0, 52.0), (-105.0 + right_shift[0], 20.0, 38.0), 4.5), "hepatic_vein"),
        (Capsule((-24.0, 34.0, 52.0), (-52.0, -40.0, 30.0), 4.0), "hepatic_vein"),
        (Capsule((-24.0, 34.0, 52.0), (14.0, -40.0, 40.0), 4.0), "hepatic_vein"),
    ]
    vessel_in_liver = np.zeros(shape, dtype=bool)
    for capsule, tissue in vessels:
        inside = _mask(capsule.contains, grid)
        # Outside the liver only the portal trunk runs (the hilum); branches stay inside.
        keep = inside if capsule.radius_mm >= 7.0 else inside & liver_organ
        paint(keep, _TISSUE_HU[tissue])
        vessel_in_liver |= inside & liver_organ

    # Tumours (clipped to the liver; their own texture).
    tumour_masks: dict[str, BoolArray] = {}
    own = _smooth_field(shape, SPACING_MM, 3.0, 6.0, rng)
    for spec in TUMOURS:
        solid = _tumour_solid(spec, shifts[spec.lobe], rng)
        truth = sample_solid(solid, grid) & liver_organ
        tumour_masks[spec.name] = truth
        paint(truth, np.float32(liver_hu + spec.contrast_hu) + own)
        cx, cy, cz = solid.center_lps_mm
        r2 = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2
        if "rim" in spec.features:
            shell = (r2 >= (0.7 * spec.radius_mm) ** 2) & (r2 <= (0.9 * spec.radius_mm) ** 2)
            paint(truth & shell, np.float32(liver_hu + 30.0))
        if "necrosis" in spec.features:
            paint(truth & (r2 <= (0.5 * spec.radius_mm) ** 2), np.float32(22.0))
        if "calcification" in spec.features:
            for _ in range(4):
                offset = rng.normal(size=3)
                offset *= rng.uniform(0.2, 0.6) * spec.radius_mm / np.linalg.norm(offset)
                radius = rng.uniform(1.8, 2.8)
                ox, oy, oz = cx + offset[0], cy + offset[1], cz + offset[2]
                dot = (x - ox) ** 2 + (y - oy) ** 2 + (z - oz) ** 2 <= radius**2
                paint(truth & dot, np.float32(450.0))
    liver_mask = liver_organ.copy()

    # Diaphragm and lung bases above the dome and in the recesses.
    thorax = np.broadcast_to(cavity, shape) & (z >= 8.0)
    free = hu == np.float32(_TISSUE_HU["visceral_fat"])  # not an organ
    outside_mm = ndimage.distance_transform_edt(~liver_organ, sampling=SPACING_MM)
    paint(thorax & free & (outside_mm <= 5.0), _TISSUE_HU["muscle"])
    # The heart on the diaphragm over the left lobe: myocardium as bright as liver.
    heart = Ellipsoid((15.0, -15.0, 100.0), (60.0, 50.0, 48.0), 0.0)
    heart_in = _mask(heart.contains, grid) & thorax & (outside_mm > 5.0)
    blood = _mask(Ellipsoid((15.0, -15.0, 100.0), (48.0, 38.0, 36.0), 0.0).contains, grid)
    paint(heart_in, _TISSUE_HU["muscle"] + 45.0)  # myocardium, ~105 HU
    paint(heart_in & blood, _TISSUE_HU["aorta"])
    free &= ~heart_in
    lung_base_z = np.maximum(60.0 - 0.3 * np.abs(x + 10.0), 20.0)  # lower at the sides
    lung = thorax & free & (outside_mm > 5.0) & (z >= lung_base_z)
    lung &= ~np.broadcast_to(ellipse(0.0, 40.0, 30.0, 50.0), shape)  # mediastinum
    deep = ndimage.distance_transform_edt(lung, sampling=SPACING_MM)
    paint(lung, (-800.0 + 250.0 * np.exp(-deep / 8.0)).astype(np.float32))

    # Point spread, then correlated noise.
    image = ndimage.gaussian_filter(hu, (0.4, 0.6, 0.6)).astype(np.float32)
    noise = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), (0.0, 0.7, 0.7))
    image += noise * np.float32(noise_sd / float(noise.std()))
    volume = ImageVolume(image, grid.index_to_lps.copy(), FRAME_OF_REFERENCE_UID)
    return LiverPhantom(
        volume=volume,
        liver_mask=liver_mask,
        tumour_masks=tumour_masks,
        liver=model,
        liver_hu=liver_hu,
        noise_sd_hu=noise_sd,
        seed_lps_mm=LIVER_SEED_LPS_MM,
    )


def truth_liver_mask(phantom: LiverPhantom) -> BoolArray:
    """The liver truth resampled from its analytic model (equals ``phantom.liver_mask``)."""
    return sample_solid(phantom.liver, liver_grid())


def tumour_volume_cm3(phantom: LiverPhantom, name: str) -> float:
    """A tumour's truth volume (voxel count × voxel volume), cm³."""
    return float(phantom.tumour_masks[name].sum()) * math.prod(SPACING_MM) / 1000.0
