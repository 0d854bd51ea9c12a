"""A battery of realistic liver-tumour phantoms: the development set for interactive contouring.

The demo phantom's liver is nearly flat (~2 HU SD) and its foci are clean
spheres; real contrast CT is not. Measured on real portal-venous CT: liver
parenchyma 15–29 HU SD (voxel-to-voxel noise 7–19 HU), tumours 3–40 HU from the
liver on either side, tumour SD 15–89 HU (necrosis, calcification, vessels
inside), tumours against the IVC, portal branches and the capsule or dome. Each
case here reproduces one or more of these on a local block of liver with analytic
truth:

- correlated noise of 8–20 HU SD plus a parenchymal texture (smooth field, 6–10 HU
  SD at 4 mm);
- lesions hypo- or hyper-attenuating by 5–40 HU; lobulated or irregular outlines;
- heterogeneous lesions: a necrotic core, calcifications, an enhancing rim, a
  vessel running through (all inside the truth — they are part of the tumour);
- neighbours: the IVC, a portal branch, the liver surface (subcapsular), the dome
  (the surface above the lesion), a second focus touching the first.

:func:`realistic_battery` returns ≥ 20 cases, deterministic for a seed. Grid: 40 ×
150 × 150 voxels of 2.5 × 0.8 × 0.8 mm (z, y, x), LPS mm, HU float32. The click a
user would make first is the lesion's deepest point (``seed_index``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tace_planner.domain.units import MM3_PER_CM3
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.phantom_model import Ellipsoid, plane_points_lps, sample_solid
from tace_planner.imaging.phantom_variants import (
    HarmonicBlob,
    SphereUnion,
    _box_points,
    _lesion_solid,
    _smooth_field,
    _supersampled_occupancy,
    _TiltedTube,
    axial_grid,
)

BoolArray = npt.NDArray[np.bool_]

LIVER_HU = 110.0
FAT_HU = -90.0
SPACING_MM = (2.5, 0.8, 0.8)
_GRID = axial_grid((40, 150, 150), 0.8, 2.5, -50.0)


@dataclass(frozen=True)
class RealisticSpec:
    """What one realistic case holds.

    Attributes
    ----------
    name, description : str
    contrast_hu : float
        Lesion minus liver (liver 110 HU).
    noise_sd_hu : float
        Correlated voxel noise SD.
    texture_sd_hu : float
        Parenchymal texture SD (smooth field at 4 mm).
    shape : {"harmonic", "lobulated", "small", "large"}
    features : tuple of str
        Any of "necrosis", "calcification", "rim", "vessel_through".
    neighbour : {"none", "ivc", "portal", "surface", "dome", "touching"}
    """

    name: str
    description: str
    contrast_hu: float
    noise_sd_hu: float
    texture_sd_hu: float = 8.0
    shape: str = "harmonic"
    features: tuple[str, ...] = ()
    neighbour: str = "none"


@dataclass(frozen=True)
class RealisticCase:
    """One case: the image, the truth and the first click."""

    spec: RealisticSpec
    volume: ImageVolume
    lesion_mask: BoolArray
    liver_mask: BoolArray
    seed_index: tuple[int, int, int]
    lesion_volume_cm3: float
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The spec's name."""
        return self.spec.name


REALISTIC_SPECS: tuple[RealisticSpec, ...] = (
    RealisticSpec("hypo_40", "40 HU below liver, noise 12 HU", -40, 12),
    RealisticSpec("hypo_25_noisy", "25 HU below liver, noise 20 HU", -25, 20),
    RealisticSpec("hypo_15", "15 HU below liver, noise 15 HU", -15, 15),
    RealisticSpec("hypo_10_small", "18 mm, 10 HU below liver, noise 10 HU", -10, 10, 6, "small"),
    RealisticSpec("hyper_30", "30 HU above liver (arterial-like), noise 15 HU", 30, 15),
    RealisticSpec("hyper_15", "15 HU above liver, noise 12 HU", 15, 12),
    RealisticSpec("hyper_8", "8 HU above liver, noise 8 HU", 8, 8, 6),
    RealisticSpec("hypo_5", "5 HU below liver, noise 8 HU, flat texture", -5, 8, 3),
    RealisticSpec("necrotic_core", "30 HU below liver with a necrotic core", -30, 15, 8,
                  "large", ("necrosis",)),
    RealisticSpec("calcified", "20 HU below liver with calcifications", -20, 15, 8,
                  "harmonic", ("calcification",)),
    RealisticSpec("rim_enhancing", "hypodense centre, enhancing rim", -25, 15, 8,
                  "harmonic", ("rim",)),
    RealisticSpec("vessel_through", "25 HU below liver, a vessel runs through", -25, 15, 8,
                  "harmonic", ("vessel_through",)),
    RealisticSpec("mixed_necrosis_calc", "necrosis and calcification, 20 HU above liver", 20, 15,
                  8, "large", ("necrosis", "calcification")),
    RealisticSpec("against_ivc", "30 HU below liver, touching the IVC", -30, 15, 8,
                  "harmonic", (), "ivc"),
    RealisticSpec("against_portal", "20 HU below liver, against a portal branch", -20, 15, 8,
                  "harmonic", (), "portal"),
    RealisticSpec("subcapsular", "25 HU below liver, at the capsule", -25, 15, 8,
                  "harmonic", (), "surface"),
    RealisticSpec("dome", "25 HU below liver, under the dome", -25, 15, 8,
                  "harmonic", (), "dome"),
    RealisticSpec("touching_foci", "two foci touching (30 and 15 HU below liver)", -30, 15, 8,
                  "harmonic", (), "touching"),
    RealisticSpec("lobulated_hypo", "lobulated, 25 HU below liver, noise 18 HU", -25, 18, 8,
                  "lobulated"),
    RealisticSpec("lobulated_hyper", "lobulated, 20 HU above liver, noise 15 HU", 20, 15, 8,
                  "lobulated"),
    RealisticSpec("large_hypo_noisy", "45 mm, 20 HU below liver, noise 18 HU", -20, 18, 10,
                  "large"),
    RealisticSpec("small_hyper", "18 mm, 25 HU above liver, noise 12 HU", 25, 12, 8, "small"),
)  # fmt: skip
"""The battery: 22 lesions, each with its analytic truth."""


def _lesion(spec: RealisticSpec, rng: np.random.Generator) -> SphereUnion | HarmonicBlob:
    if spec.shape in ("lobulated", "small"):
        return _lesion_solid(spec, rng)  # type: ignore[arg-type]  # same shapes as the hard cases
    radius = 22.0 if spec.shape == "large" else 14.0
    coefficients = tuple(float(c) for c in rng.uniform(-0.12, 0.12, size=12))
    return HarmonicBlob((0.0, 0.0, 0.0), radius, coefficients)


def _sphere(center: tuple[float, float, float], radius: float):
    def inside(x: npt.NDArray, y: npt.NDArray, z: npt.NDArray) -> BoolArray:
        return np.asarray(
            (x - center[0]) ** 2 + (y - center[1]) ** 2 + (z - center[2]) ** 2 <= radius**2
        )

    return inside


def _paint(image: npt.NDArray[np.float32], inside, value: float, box=None) -> None:
    """Set voxels (with partial volume) of ``inside`` to ``value`` HU."""
    shape = image.shape
    box = box or (0, shape[0], 0, shape[1], 0, shape[2])
    k0, k1, j0, j1, i0, i1 = box
    weight = _supersampled_occupancy(inside, _GRID, box, (2, 2, 2))
    region = image[k0:k1, j0:j1, i0:i1]
    region += weight * (np.float32(value) - region)


def make_realistic_case(spec: RealisticSpec, seed: int = 0) -> RealisticCase:
    """Build one case of :data:`REALISTIC_SPECS`; deterministic for ``seed``."""
    from scipy import ndimage

    index = REALISTIC_SPECS.index(spec) if spec in REALISTIC_SPECS else 99
    rng = np.random.default_rng([seed, 7, index])
    grid = _GRID
    shape = grid.shape
    lesion = _lesion(spec, rng)
    reach = lesion.radius_mm * 1.3 if isinstance(lesion, HarmonicBlob) else 21.0
    liver_center: tuple[float, float, float] = (0.0, 0.0, 0.0)
    if spec.neighbour == "surface":
        liver_center = (-(80.0 - 0.6 * reach), 0.0, 0.0)
    if spec.neighbour == "dome":
        liver_center = (0.0, 0.0, -(35.0 - 0.5 * reach))
    liver = Ellipsoid(liver_center, (80.0, 75.0, 35.0 if spec.neighbour == "dome" else 70.0))
    liver_weight = np.zeros(shape, dtype=np.float32)
    for k in range(shape[0]):
        liver_weight[k] = liver.occupancy(*plane_points_lps(grid, k, slice(None), slice(None)), 0.8)
    outside_hu = -500.0 if spec.neighbour == "dome" else FAT_HU  # lung base above the dome
    image = np.float32(outside_hu) + liver_weight * np.float32(LIVER_HU - outside_hu)
    texture = _smooth_field(shape, SPACING_MM, 4.0, spec.texture_sd_hu, rng)
    image += liver_weight * texture
    whole = (0, shape[0], 0, shape[1], 0, shape[2])
    if spec.neighbour == "ivc":
        _paint(image, _TiltedTube((0.0, -(reach + 1.0 + 11.0), 0.0), 11.0).contains, 150.0, whole)
    if spec.neighbour == "portal":
        _paint(image, _TiltedTube((0.0, reach + 0.5 + 4.0, 0.0), 4.0).contains, 175.0, whole)
    lesion_hu = LIVER_HU + spec.contrast_hu
    bounds = lesion.bounds_lps_mm()
    from tace_planner.imaging.phantom_model import index_box

    box = index_box(grid, bounds, margin_mm=2.0)
    assert box is not None
    inside_liver_box = liver.contains(*_box_points(grid, box))
    occupancy = _supersampled_occupancy(lesion.contains, grid, box, (5, 3, 3)) * inside_liver_box
    k0, k1, j0, j1, i0, i1 = box
    region = image[k0:k1, j0:j1, i0:i1]
    # The lesion replaces the liver (its own texture: heterogeneous tumours).
    lesion_texture = _smooth_field(region.shape, SPACING_MM, 3.0, 6.0, rng)
    region += occupancy * (np.float32(lesion_hu) + lesion_texture - region)
    r = lesion.radius_mm if isinstance(lesion, HarmonicBlob) else 11.0
    if "necrosis" in spec.features:
        _paint(image, _sphere((1.0, -1.0, 0.0), 0.5 * r), 25.0, box)
    if "rim" in spec.features:
        shell_out, shell_in = _sphere((0, 0, 0), 0.95 * r), _sphere((0, 0, 0), 0.72 * r)

        def rim(x: npt.NDArray, y: npt.NDArray, z: npt.NDArray) -> BoolArray:
            return shell_out(x, y, z) & ~shell_in(x, y, z) & lesion.contains(x, y, z)

        _paint(image, rim, LIVER_HU + 35.0, box)
    if "calcification" in spec.features:
        for _ in range(4):
            direction = rng.normal(size=3)
            direction *= rng.uniform(0.2, 0.6) * r / np.linalg.norm(direction)
            _paint(image, _sphere(tuple(direction), rng.uniform(1.5, 2.5)), 450.0, box)
    if "vessel_through" in spec.features:
        tube = _TiltedTube((0.0, 0.3 * r, 0.0), 2.0).contains

        def vessel(x: npt.NDArray, y: npt.NDArray, z: npt.NDArray) -> BoolArray:
            return tube(x, y, z) & liver.contains(x, y, z)

        _paint(image, vessel, 170.0, whole)
    if spec.neighbour == "touching":
        other = HarmonicBlob((0.0, reach + 9.0, 0.0), 10.0, tuple([0.0] * 12))
        other_box = index_box(grid, other.bounds_lps_mm(), margin_mm=2.0)
        assert other_box is not None
        _paint(image, other.contains, LIVER_HU - 15.0, other_box)
    blur = [1.0 / s for s in SPACING_MM]
    image = ndimage.gaussian_filter(image, blur).astype(np.float32)
    noise = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), (0.0, 0.7, 0.7))
    image += noise * np.float32(spec.noise_sd_hu / float(noise.std()))
    lesion_mask = sample_solid(lesion, grid) & sample_solid(liver, grid)
    liver_mask = sample_solid(liver, grid)
    if spec.neighbour == "touching":
        lesion_mask &= ~sample_solid(
            HarmonicBlob((0.0, reach + 9.0, 0.0), 10.0, tuple([0.0] * 12)), grid
        )
    depth = ndimage.distance_transform_edt(lesion_mask, sampling=SPACING_MM)
    seed = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    voxel_cm3 = math.prod(SPACING_MM) / MM3_PER_CM3
    return RealisticCase(
        spec=spec,
        volume=ImageVolume(image, grid.index_to_lps.copy(), "1.2.826.0.1.3680043.10.1161.2"),
        lesion_mask=lesion_mask,
        liver_mask=liver_mask,
        seed_index=seed,  # type: ignore[arg-type]
        lesion_volume_cm3=float(lesion_mask.sum()) * voxel_cm3,
        extras={"liver_sd_hu": float(image[liver_mask & ~lesion_mask].std())},
    )


def realistic_battery(seed: int = 0) -> tuple[RealisticCase, ...]:
    """Every case of :data:`REALISTIC_SPECS`, deterministic for ``seed``."""
    return tuple(make_realistic_case(spec, seed) for spec in REALISTIC_SPECS)
