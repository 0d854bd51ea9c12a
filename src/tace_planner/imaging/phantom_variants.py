"""In-memory CT phantoms for segmentation tests and benchmarks, with voxel truth.

Two kinds of volume, both built without writing DICOM:

- :func:`render_phantom_ct` paints the demo phantom (the anatomy of
  :mod:`tace_planner.imaging.phantom_model`, the foci of one timepoint) on any
  axial grid, e.g. the full 512 × 512 CT grid or the 300 × 512 × 512 benchmark
  grid, with the same tissues, HU and partial-volume ramp as the DICOM writer.
- :func:`hard_variants` builds small liver blocks holding one *hard* tumour each,
  the way real metastases look on portal-venous CT and the demo phantom does not:
  10–40 HU from the surrounding liver, soft (blurred) edges, lobulated or
  irregular outlines, correlated noise of 15–25 HU SD, a smooth liver texture
  (SD 2 HU at 8 mm), a vessel or the liver surface close by. Grid: 40 × 150 ×
  150 voxels of 2.5 × 0.8 × 0.8 mm. Each case is deterministic for its seed.

Truth masks are voxel-centre inside-tests of the analytic solids (as
:func:`~tace_planner.imaging.phantom_truth.truth_masks`); images get their
partial volume by supersampling, then the point-spread blur, then noise.

Frames and units: LPS millimetres, arrays (z, y, x), HU as float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.geometry import index_to_lps
from tace_planner.domain.units import MM3_PER_CM3
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.phantom_model import (
    ANATOMY_LAYERS,
    CT_HU,
    PATIENT_OFFSETS_LPS_MM,
    Ellipsoid,
    GridLike,
    SamplingGrid,
    Solid,
    Vec3,
    index_box,
    plane_points_lps,
    sample_solid,
)
from tace_planner.imaging.phantom_truth import foci_at

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
InsideTest = Callable[[FloatArray, FloatArray, FloatArray], BoolArray]

PHANTOM_CT_NOISE_SD_HU = 11.0
"""Noise of the demo phantom's CT series (same value as the DICOM writer)."""


# ---------------------------------------------------------------------------
# The demo phantom on any axial grid
# ---------------------------------------------------------------------------


def axial_grid(
    shape_zyx: tuple[int, int, int], pixel_mm: float, slice_mm: float, first_z_mm: float
) -> SamplingGrid:
    """Return an axial grid centred on the patient axis like the phantom's CT series.

    Parameters
    ----------
    shape_zyx : tuple of 3 int
        Slices, rows, columns.
    pixel_mm, slice_mm : float
        In-plane pixel size and slice step in mm.
    first_z_mm : float
        z (LPS, superior positive) of the first slice; slices ascend in z.
    """
    _, rows, columns = shape_zyx
    affine = np.zeros((4, 4))
    affine[3, 3] = 1.0
    affine[2, 0] = slice_mm  # z index -> +z (superior)
    affine[1, 1] = pixel_mm  # y index -> +y (posterior)
    affine[0, 2] = pixel_mm  # x index -> +x (left)
    affine[:3, 3] = (
        -columns * pixel_mm / 2.0 + pixel_mm / 2.0,
        -rows * pixel_mm / 2.0 + pixel_mm / 2.0,
        first_z_mm,
    )
    return SamplingGrid(affine, shape_zyx)


def _phantom_layers(timepoint: str) -> list[tuple[str, Solid]]:
    offset = PATIENT_OFFSETS_LPS_MM[timepoint]
    layers: list[tuple[str, Solid]] = [
        (tissue, solid.translated(offset)) for tissue, solid in ANATOMY_LAYERS
    ]
    for focus in foci_at(timepoint):
        tissue = "focus_hypervascular" if focus.hypervascular else "focus_hypovascular"
        layers.append((tissue, focus.solid))
        core = focus.necrotic_core
        if core is not None:
            layers.append(("necrosis", core))
    return layers


def render_phantom_ct(
    grid: GridLike,
    *,
    timepoint: str = "baseline",
    phase: str = "venous",
    noise_sd_hu: float = PHANTOM_CT_NOISE_SD_HU,
    seed: int = 0,
    frame_of_reference_uid: str = "",
) -> ImageVolume:
    """Paint the demo phantom's CT on ``grid`` (in memory, no DICOM).

    Parameters
    ----------
    grid : GridLike
        An axial grid in the LPS frame of ``timepoint`` (e.g. :func:`axial_grid`
        or a ``SeriesTruth.grid``).
    timepoint : str
        "baseline", "follow_up_1", …: which foci are painted and where.
    phase : {"native", "arterial", "venous", "delayed"}
        Contrast phase, selects the HU of :data:`~tace_planner.imaging.phantom_model.CT_HU`.
    noise_sd_hu : float
        SD of the added white Gaussian noise (HU).
    seed : int
        Seed of the noise.
    frame_of_reference_uid : str
        Copied to the volume.

    Returns
    -------
    ImageVolume
        float32 HU, shape ``grid.shape`` (z, y, x). The partial-volume ramp is
        one in-plane pixel wide, as in the DICOM phantom, so
        :func:`~tace_planner.imaging.phantom_truth.truth_masks` on the same grid
        is its voxel truth.
    """
    affine = np.asarray(grid.index_to_lps, dtype=float)
    ramp_mm = float(np.linalg.norm(affine[:3, 2]))
    values = {tissue: np.float32(v[phase]) for tissue, v in CT_HU.items()}
    layers = _phantom_layers(timepoint)
    boxes = [index_box(grid, solid.bounds_lps_mm(), margin_mm=ramp_mm) for _, solid in layers]
    shape = tuple(int(n) for n in grid.shape)
    out = np.empty(shape, dtype=np.float32)
    rng = np.random.default_rng(seed)
    z_invariant: dict[int, npt.NDArray[np.float32]] = {}
    axial = affine[2, 1] == 0.0 and affine[2, 2] == 0.0
    for k in range(shape[0]):
        image = np.full(shape[1:], values["air"], dtype=np.float32)
        for n, ((tissue, solid), box) in enumerate(zip(layers, boxes, strict=True)):
            if box is None or not box[0] <= k < box[1]:
                continue
            rows, columns = slice(box[2], box[3]), slice(box[4], box[5])
            low, high = solid.bounds_lps_mm()
            if axial and high[2] - low[2] > 1.0e5 and n in z_invariant:
                weight = z_invariant[n]
            else:
                weight = solid.occupancy(*plane_points_lps(grid, k, rows, columns), ramp_mm)
                if axial and high[2] - low[2] > 1.0e5:
                    z_invariant[n] = weight
            region = image[rows, columns]
            region += weight * (values[tissue] - region)
        image += rng.standard_normal(shape[1:], dtype=np.float32) * np.float32(noise_sd_hu)
        out[k] = image
    return ImageVolume(out, affine.copy(), frame_of_reference_uid)


# ---------------------------------------------------------------------------
# Hard tumours
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SphereUnion:
    """A lobulated solid: the union of spheres (centres in LPS mm, radii in mm)."""

    centers_lps_mm: tuple[Vec3, ...]
    radii_mm: tuple[float, ...]

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        """Return True where the point lies inside any sphere."""
        inside = np.zeros(np.broadcast(x, y, z).shape, dtype=bool)
        for (cx, cy, cz), r in zip(self.centers_lps_mm, self.radii_mm, strict=True):
            inside |= (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= r * r
        return inside

    def bounds_lps_mm(self) -> tuple[Vec3, Vec3]:
        """Return the (low, high) corners of a box holding every sphere."""
        c = np.asarray(self.centers_lps_mm)
        r = np.asarray(self.radii_mm)[:, None]
        low, high = (c - r).min(axis=0), (c + r).max(axis=0)
        return (float(low[0]), float(low[1]), float(low[2])), (
            float(high[0]),
            float(high[1]),
            float(high[2]),
        )


@dataclass(frozen=True)
class HarmonicBlob:
    """A sphere whose radius varies with direction by low-order spherical harmonics.

    ``r(u) = radius_mm * (1 + Σ c_k Y_k(u))`` for the unit direction ``u`` from
    the centre; the ``Y_k`` are the real harmonics of degree 2 and 3 written
    as polynomials of u = (ux, uy, uz) (seven of degree 3 and five of degree 2,
    unnormalised), ``coefficients`` has 12 entries.
    """

    center_lps_mm: Vec3
    radius_mm: float
    coefficients: tuple[float, ...]

    @staticmethod
    def _harmonics(ux: FloatArray, uy: FloatArray, uz: FloatArray) -> list[FloatArray]:
        return [
            ux * uy,
            uy * uz,
            ux * uz,
            ux * ux - uy * uy,
            3 * uz * uz - 1,
            uy * (3 * ux * ux - uy * uy),
            ux * uy * uz,
            uy * (5 * uz * uz - 1),
            uz * (5 * uz * uz - 3),
            ux * (5 * uz * uz - 1),
            uz * (ux * ux - uy * uy),
            ux * (ux * ux - 3 * uy * uy),
        ]

    def radius_at(self, ux: FloatArray, uy: FloatArray, uz: FloatArray) -> FloatArray:
        """Return the surface radius in mm along unit directions."""
        scale = np.ones(np.broadcast(ux, uy, uz).shape)
        for c, y in zip(self.coefficients, self._harmonics(ux, uy, uz), strict=True):
            scale = scale + c * y
        return np.asarray(self.radius_mm * scale, dtype=float)

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        """Return True where the point lies inside the blob."""
        cx, cy, cz = self.center_lps_mm
        dx, dy, dz = x - cx, y - cy, z - cz
        r = np.sqrt(dx * dx + dy * dy + dz * dz)
        safe = np.maximum(r, 1e-9)
        return np.asarray(r <= self.radius_at(dx / safe, dy / safe, dz / safe))

    def radius_range_mm(self) -> tuple[float, float]:
        """Return the smallest and largest surface radius over 4,000 directions (mm)."""
        ux, uy, uz = _fibonacci_directions(4000)
        radius = self.radius_at(ux, uy, uz)
        return float(radius.min()), float(radius.max())

    def bounds_lps_mm(self) -> tuple[Vec3, Vec3]:
        """Return a box holding the blob (largest sampled radius + 5 %)."""
        reach = 1.05 * self.radius_range_mm()[1]
        cx, cy, cz = self.center_lps_mm
        return (cx - reach, cy - reach, cz - reach), (cx + reach, cy + reach, cz + reach)


def _fibonacci_directions(n: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return ``n`` near-uniform unit vectors (x, y, z) on the sphere."""
    i = np.arange(n) + 0.5
    polar = np.arccos(1.0 - 2.0 * i / n)
    azimuth = math.pi * (1.0 + math.sqrt(5.0)) * i
    return np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)


@dataclass(frozen=True)
class HardCase:
    """One hard-tumour phantom: image, truth and the click a user would make.

    Attributes
    ----------
    name, description : str
        Identifier and one sentence on what makes it hard.
    volume : ImageVolume
        Portal-venous-like CT, float32 HU, (z, y, x).
    lesion_mask, liver_mask : numpy.ndarray of bool, shape (z, y, x)
        Voxel-centre truth; the liver includes the lesion.
    seed_lps_mm : tuple of 3 float
        The one click: the lesion's centre (inside it).
    lesion_volume_cm3 : float
        Volume of the analytic solid (Monte-Carlo free: supersampled at 1/5 voxel).
    contrast_hu, noise_sd_hu, blur_sd_mm : float
        Lesion minus liver, noise SD and Gaussian point-spread SD.
    """

    name: str
    description: str
    volume: ImageVolume
    lesion_mask: BoolArray
    liver_mask: BoolArray
    seed_lps_mm: Vec3
    lesion_volume_cm3: float
    contrast_hu: float
    noise_sd_hu: float
    blur_sd_mm: float


@dataclass(frozen=True)
class HardSpec:
    """What makes one hard case hard.

    Attributes
    ----------
    name, description : str
    contrast_hu : float
        Lesion minus liver (liver 110 HU, portal-venous).
    noise_sd_hu : float
        SD of the added noise (white noise smoothed over 0.6 pixel, rescaled:
        correlated like CT noise).
    blur_sd_mm : float
        Gaussian point-spread SD applied to the whole image.
    shape : {"lobulated", "harmonic", "small"}
        Union of five spheres (~22 mm), a 28 mm sphere modulated by degree 2–3
        spherical harmonics (±12 % each), or an 18 mm modulated sphere.
    neighbour : {"none", "vessel", "surface"}
        A bright (180 HU) 8 mm vessel 2 mm from the lesion, or the liver surface
        (fat, −90 HU) cutting through the lesion.
    """

    name: str
    description: str
    contrast_hu: float
    noise_sd_hu: float
    blur_sd_mm: float
    shape: str  # "lobulated", "harmonic", "small"
    neighbour: str = "none"  # "vessel", "surface", "none"


HARD_SPECS: tuple[HardSpec, ...] = (
    HardSpec("low_contrast_hypo", "irregular, 15 HU below liver, noise 20 HU", -15.0, 20.0, 1.0,
          "harmonic"),
    HardSpec("low_contrast_hyper", "irregular, 12 HU above liver, noise 15 HU", 12.0, 15.0, 1.0,
          "harmonic"),
    HardSpec("blurred_edges", "30 HU below liver, point-spread SD 2.5 mm", -30.0, 18.0, 2.5,
          "harmonic"),
    HardSpec("lobulated", "union of five spheres, 25 HU below liver, noise 20 HU", -25.0, 20.0, 1.2,
          "lobulated"),
    HardSpec("heavy_noise", "35 HU below liver, noise 25 HU", -35.0, 25.0, 1.0, "lobulated"),
    HardSpec("near_vessel", "20 HU below liver, a bright portal branch 2 mm away", -20.0, 18.0, 1.0,
          "harmonic", "vessel"),
    HardSpec("subcapsular", "25 HU below liver, touching the liver surface", -25.0, 20.0, 1.0,
          "harmonic", "surface"),
    HardSpec("small_low_contrast", "18 mm, 20 HU below liver, noise 15 HU", -20.0, 15.0, 1.0,
          "small"),
)  # fmt: skip
"""The hard cases: every one must be contoured from its centre with Dice ≥ 0.85."""

_LIVER_HU = 110.0
_TEXTURE_SD_HU = 2.0
_FAT_HU = -90.0
_VESSEL_HU = 180.0
_CASE_GRID = axial_grid((40, 150, 150), 0.8, 2.5, -50.0)


def _lesion_solid(spec: HardSpec, rng: np.random.Generator) -> SphereUnion | HarmonicBlob:
    if spec.shape == "lobulated":
        offsets = rng.normal(0.0, 1.0, size=(4, 3))
        offsets /= np.linalg.norm(offsets, axis=1, keepdims=True)
        radii = rng.uniform(6.0, 9.0, size=4)
        reach = 9.0 + 0.3 * radii[:, None]
        centers = [(0.0, 0.0, 0.0), *(tuple(o) for o in offsets * reach)]
        return SphereUnion(
            tuple((float(c[0]), float(c[1]), float(c[2])) for c in centers),
            (11.0, *(float(r) for r in radii)),
        )
    radius = 9.0 if spec.shape == "small" else 14.0
    coefficients = tuple(float(c) for c in rng.uniform(-0.12, 0.12, size=12))
    return HarmonicBlob((0.0, 0.0, 0.0), radius, coefficients)


def _box_points(
    grid: SamplingGrid, box: tuple[int, ...], shift: Sequence[float] = (0.0, 0.0, 0.0)
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """LPS x, y, z of the voxel centres (moved by ``shift`` voxels) in ``box``."""
    k0, k1, j0, j1, i0, i1 = box
    index = np.stack(
        np.meshgrid(np.arange(k0, k1), np.arange(j0, j1), np.arange(i0, i1), indexing="ij"),
        axis=-1,
    ).astype(float)
    points = index_to_lps(grid.index_to_lps, index + np.asarray(shift, dtype=float))
    return points[..., 0], points[..., 1], points[..., 2]


def _supersampled_occupancy(
    inside: InsideTest, grid: SamplingGrid, box: tuple[int, ...], factor: tuple[int, int, int]
) -> npt.NDArray[np.float32]:
    """Fraction of each voxel's sub-samples inside, over ``box`` (k0, k1, j0, j1, i0, i1)."""
    k0, k1, j0, j1, i0, i1 = box
    offsets = [(np.arange(f) + 0.5) / f - 0.5 for f in factor]
    occupancy = np.zeros((k1 - k0, j1 - j0, i1 - i0), dtype=np.float32)
    for dz in offsets[0]:
        for dy in offsets[1]:
            for dx in offsets[2]:
                occupancy += inside(*_box_points(grid, box, (dz, dy, dx)))
    return occupancy / np.float32(np.prod(factor))


def _smooth_field(
    shape: tuple[int, int, int],
    spacing: Sequence[float],
    scale_mm: float,
    sd: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    """A smooth random field (Gaussian-filtered white noise) of SD ``sd`` at ``scale_mm``."""
    from scipy import ndimage

    field = ndimage.gaussian_filter(
        rng.standard_normal(shape).astype(np.float32), [scale_mm / s for s in spacing]
    )
    return (field * np.float32(sd / max(float(field.std()), 1e-9))).astype(np.float32)


def make_hard_case(spec: HardSpec, seed: int = 0) -> HardCase:
    """Build one hard case (see :data:`HARD_SPECS`); deterministic for ``seed``."""
    from scipy import ndimage

    rng = np.random.default_rng([seed, HARD_SPECS.index(spec) if spec in HARD_SPECS else 99])
    grid = _CASE_GRID
    shape = grid.shape
    spacing = (2.5, 0.8, 0.8)
    lesion = _lesion_solid(spec, rng)
    # The liver: a large ellipsoid; for "surface" its edge passes through the lesion.
    liver_center = (0.0, 0.0, 0.0)
    if spec.neighbour == "surface":
        liver_center = (-(80.0 - 10.0), 0.0, 0.0)  # right edge 10 mm right of the lesion centre
    liver = Ellipsoid(liver_center, (80.0, 75.0, 70.0))
    liver_weight = np.zeros(shape, dtype=np.float32)
    for k in range(shape[0]):
        liver_weight[k] = liver.occupancy(*plane_points_lps(grid, k, slice(None), slice(None)), 0.8)
    image = _FAT_HU + liver_weight * np.float32(_LIVER_HU - _FAT_HU)
    image += liver_weight * _smooth_field(shape, spacing, 8.0, _TEXTURE_SD_HU, rng)  # liver texture
    if spec.neighbour == "vessel":
        reach = lesion.radius_mm * 1.35 if isinstance(lesion, HarmonicBlob) else 20.0
        vessel = _TiltedTube((0.0, -(reach + 2.0 + 4.0), 0.0), 4.0)
        whole = (0, shape[0], 0, shape[1], 0, shape[2])
        weight = _supersampled_occupancy(vessel.contains, grid, whole, (1, 2, 2))
        image += weight * (np.float32(_VESSEL_HU) - image)
    box = index_box(grid, lesion.bounds_lps_mm(), margin_mm=2.0)
    assert box is not None
    k0, k1, j0, j1, i0, i1 = box
    occupancy = _supersampled_occupancy(lesion.contains, grid, box, (5, 3, 3))
    inside_liver = liver.contains(*_box_points(grid, box))
    occupancy *= inside_liver
    region = image[k0:k1, j0:j1, i0:i1]
    region += occupancy * np.float32(spec.contrast_hu)
    sigma = [spec.blur_sd_mm / s for s in spacing]
    image = ndimage.gaussian_filter(image, sigma).astype(np.float32)
    noise = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), (0.0, 0.6, 0.6))
    image += noise * np.float32(spec.noise_sd_hu / float(noise.std()))
    lesion_mask = sample_solid(lesion, grid) & sample_solid(liver, grid)
    liver_mask = sample_solid(liver, grid)
    fine = _supersampled_occupancy(lesion.contains, grid, box, (10, 5, 5)) * inside_liver
    voxel_cm3 = float(abs(np.linalg.det(grid.index_to_lps[:3, :3]))) / MM3_PER_CM3
    return HardCase(
        name=spec.name,
        description=spec.description,
        volume=ImageVolume(image, grid.index_to_lps.copy(), "1.2.826.0.1.3680043.10.1161.1"),
        lesion_mask=lesion_mask,
        liver_mask=liver_mask,
        seed_lps_mm=(0.0, 0.0, 0.0),
        lesion_volume_cm3=float(fine.sum()) * voxel_cm3,
        contrast_hu=spec.contrast_hu,
        noise_sd_hu=spec.noise_sd_hu,
        blur_sd_mm=spec.blur_sd_mm,
    )


@dataclass(frozen=True)
class _TiltedTube:
    """An infinite cylinder through ``point_lps_mm`` along (1, 0, 1)/√2 (crosses slices)."""

    point_lps_mm: Vec3
    radius_mm: float

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        px, py, pz = (np.subtract(v, c) for v, c in zip((x, y, z), self.point_lps_mm, strict=True))
        along = (px + pz) / math.sqrt(2.0)
        dx, dy, dz = px - along / math.sqrt(2.0), py, pz - along / math.sqrt(2.0)
        return np.asarray(dx * dx + dy * dy + dz * dz <= self.radius_mm**2)


def hard_variants(seed: int = 0) -> tuple[HardCase, ...]:
    """Return every hard case of :data:`HARD_SPECS`, deterministic for ``seed``."""
    return tuple(make_hard_case(spec, seed) for spec in HARD_SPECS)
