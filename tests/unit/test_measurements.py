"""Measurements on analytic shapes with anisotropic spacing (independent references: geometry).

Volumes are checked against ``4/3 π a b c``, diameters against the shapes' axes
(within one pixel: a digitised outline is exact only to its voxels), the RECIST
long axis per clinical-reference §4.1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tace_planner.domain.errors import InvalidInputError, TacePlannerError
from tace_planner.domain.measurements import (
    EmptyMaskError,
    EnhancementThreshold,
    UnmeasurableGeometryError,
    measure_axial_diameters,
    measure_enhancement,
    measure_hu,
    measure_longest_3d_diameter,
    measure_volume,
)
from tace_planner.domain.volume import ImageVolume

SPACING = (2.5, 0.7, 0.9)  # dz, dy, dx in mm: thick slices, non-square pixels
SHAPE = (40, 140, 120)


def _affine(spacing=SPACING, origin=(-48.75, -49.0, -50.0)) -> np.ndarray:
    """Axial grid: x index -> +x (left), y index -> +y (posterior), z index -> +z."""
    dz, dy, dx = spacing
    affine = np.zeros((4, 4))
    affine[0, 2], affine[1, 1], affine[2, 0], affine[3, 3] = dx, dy, dz, 1.0
    affine[:3, 3] = origin
    return affine


def _lps(affine: np.ndarray, shape=SHAPE) -> tuple[np.ndarray, ...]:
    k, j, i = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    index = np.stack([k, j, i], axis=-1).astype(float)
    points = index @ affine[:3, :3].T + affine[:3, 3]
    return points[..., 0], points[..., 1], points[..., 2]


def ellipsoid(semi_axes, rotation_deg=0.0, center=(0.0, 0.0, 0.0), affine=None):
    affine = _affine() if affine is None else affine
    x, y, z = _lps(affine)
    a, b, c = semi_axes
    angle = math.radians(rotation_deg)
    dx, dy, dz = x - center[0], y - center[1], z - center[2]
    p = dx * math.cos(angle) + dy * math.sin(angle)
    r = dy * math.cos(angle) - dx * math.sin(angle)
    return (p / a) ** 2 + (r / b) ** 2 + (dz / c) ** 2 <= 1.0


def test_sphere_volume_within_one_percent_of_four_thirds_pi_r_cubed() -> None:
    mask = ellipsoid((15.0, 15.0, 15.0))
    result = measure_volume(mask, _affine())
    assert result.volume_cm3 == pytest.approx(4 / 3 * math.pi * 15.0**3 / 1000, rel=0.01)
    assert result.voxel_count == int(mask.sum())
    assert result.voxel_volume_cm3 == pytest.approx(2.5 * 0.7 * 0.9 / 1000)
    assert result.trust == "ok"
    assert "voxel count" in result.explanation.inputs


def test_volume_uses_the_affine_determinant_for_an_oblique_grid() -> None:
    rotation = np.array([[0.8, -0.6, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
    affine = _affine()
    affine[:3, :3] = rotation @ affine[:3, :3]
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[1:3, 1:3, 1:3] = True
    assert measure_volume(mask, affine).volume_cm3 == pytest.approx(8 * 2.5 * 0.7 * 0.9 / 1000)


def test_volume_accepts_an_image_volume_as_grid() -> None:
    mask = ellipsoid((10.0, 10.0, 10.0))
    grid = ImageVolume(np.zeros(SHAPE, dtype=np.float32), _affine())
    assert measure_volume(mask, grid).volume_cm3 == measure_volume(mask, _affine()).volume_cm3


@pytest.mark.parametrize("rotation_deg", [0.0, 30.0, 75.0])
def test_rotated_ellipsoid_long_and_short_axis_within_one_pixel(rotation_deg: float) -> None:
    mask = ellipsoid((20.0, 12.0, 15.0), rotation_deg)
    result = measure_axial_diameters(mask, _affine())
    pixel = max(SPACING[1:])
    assert abs(result.long_axis_mm - 40.0) <= pixel
    assert abs(result.short_axis_mm - 24.0) <= pixel
    # The widest slice is the central one (z = 0 at index 20).
    assert result.slice_index == 20
    # End points lie on that slice, in LPS and in index space, and are as far apart as reported.
    p, q = (np.asarray(e) for e in result.long_axis_lps)
    assert np.linalg.norm(p - q) == pytest.approx(result.long_axis_mm)
    assert p[2] == pytest.approx(0.0)
    assert q[2] == pytest.approx(0.0)
    assert result.long_axis_index[0][0] == pytest.approx(20.0)
    # The long axis runs along the rotated major axis.
    direction = (q - p)[:2] / np.linalg.norm((q - p)[:2])
    major = np.array([math.cos(math.radians(rotation_deg)), math.sin(math.radians(rotation_deg))])
    assert abs(direction @ major) > 0.99
    # The short axis is perpendicular to it.
    s, t = (np.asarray(e) for e in result.short_axis_lps)
    assert abs((t - s) @ (q - p)) / (np.linalg.norm(t - s) * np.linalg.norm(q - p)) < 0.05
    assert np.linalg.norm(t - s) == pytest.approx(result.short_axis_mm)


def test_longest_3d_diameter_of_an_ellipsoid_is_its_major_axis() -> None:
    mask = ellipsoid((12.0, 10.0, 22.0))  # long along z
    result = measure_longest_3d_diameter(mask, _affine())
    assert abs(result.diameter_mm - 44.0) <= SPACING[0]
    p, q = (np.asarray(e) for e in result.endpoints_lps)
    assert np.linalg.norm(p - q) == pytest.approx(result.diameter_mm)
    assert abs(p[2] - q[2]) > 40.0


def test_one_voxel_thick_lesion_measures_its_voxels() -> None:
    mask = np.zeros(SHAPE, dtype=bool)
    mask[7, 30, 40:52] = True  # a line of 12 voxels along x, one slice, one row
    axial = measure_axial_diameters(mask, _affine())
    assert axial.long_axis_mm == pytest.approx(12 * 0.9)
    assert axial.short_axis_mm == pytest.approx(0.7)
    assert measure_longest_3d_diameter(mask, _affine()).diameter_mm == pytest.approx(12 * 0.9)
    assert measure_volume(mask, _affine()).volume_cm3 == pytest.approx(12 * 2.5 * 0.7 * 0.9 / 1e3)


def test_single_voxel_lesion() -> None:
    mask = np.zeros(SHAPE, dtype=bool)
    mask[3, 4, 5] = True
    axial = measure_axial_diameters(mask, _affine())
    assert axial.long_axis_mm == pytest.approx(0.9)
    assert axial.slice_index == 3


def test_mask_touching_the_volume_border_is_measured_to_the_border() -> None:
    # A ball centred on the outer faces of the first slice and the first column: the
    # volume holds a quarter of it, and the mask measures that quarter.
    affine = _affine()
    center = affine[:3, 3] + np.array([-0.45, 30.0, -1.25])  # half a voxel outside
    mask = ellipsoid((10.0, 10.0, 10.0), center=tuple(center))
    assert mask[0].any()
    assert mask[:, :, 0].any()
    expected_cm3 = 4 / 3 * math.pi * 1000 / 4 / 1000
    assert measure_volume(mask, affine).volume_cm3 == pytest.approx(expected_cm3, rel=0.03)
    axial = measure_axial_diameters(mask, affine)
    assert axial.slice_index == 0
    assert abs(axial.long_axis_mm - 20.0) <= 0.9


@pytest.mark.parametrize(
    "measure", [measure_volume, measure_axial_diameters, measure_longest_3d_diameter]
)
def test_empty_mask_raises_a_clear_error_not_zero(measure) -> None:
    with pytest.raises(EmptyMaskError, match="empty"):
        measure(np.zeros(SHAPE, dtype=bool), _affine())


def test_empty_mask_error_is_a_tace_planner_error() -> None:
    assert issubclass(EmptyMaskError, InvalidInputError)
    assert issubclass(UnmeasurableGeometryError, TacePlannerError)


def test_unmeasurable_geometry_is_refused_for_lengths_and_volumes() -> None:
    mask = ellipsoid((10.0, 10.0, 10.0))
    with pytest.raises(UnmeasurableGeometryError):
        measure_volume(mask, _affine(), trust="unmeasurable")
    with pytest.raises(UnmeasurableGeometryError):
        measure_axial_diameters(mask, _affine(), trust="unmeasurable")
    result = measure_volume(mask, _affine(), trust="warning")
    assert result.trust == "warning"
    assert "warning" in result.explanation.summary


def test_hu_statistics_inside_the_mask() -> None:
    rng = np.random.default_rng(1)
    image = rng.normal(100.0, 10.0, SHAPE).astype(np.float32)
    mask = ellipsoid((15.0, 15.0, 15.0))
    image[mask] += 50.0
    stats = measure_hu(image, mask, phase="venous", trust="unmeasurable")
    values = image[mask].astype(float)
    assert stats.mean_hu == pytest.approx(values.mean())
    assert stats.sd_hu == pytest.approx(values.std(ddof=1))
    assert stats.median_hu == pytest.approx(np.median(values))
    assert stats.voxel_count == values.size
    assert stats.phase == "venous"
    assert stats.trust == "unmeasurable"  # attenuation does not depend on slice positions
    with pytest.raises(EmptyMaskError):
        measure_hu(image, np.zeros(SHAPE, dtype=bool))
    with pytest.raises(ValueError, match="does not match"):
        measure_hu(image[:-1], mask)


def test_enhancing_fraction_of_a_necrotic_sphere() -> None:
    # Viable rim 160 HU around a necrotic core 20 HU (radius 12 of 20): truth 1 − (12/20)³.
    rng = np.random.default_rng(2)
    mask = ellipsoid((20.0, 20.0, 20.0))
    core = ellipsoid((12.0, 12.0, 12.0))
    image = np.where(core, 20.0, np.where(mask, 160.0, 75.0)) + rng.normal(0, 11, SHAPE)
    result = measure_enhancement(image, mask)
    truth = 1 - core.sum() / mask.sum()
    assert result.enhancing_fraction == pytest.approx(truth, abs=0.01)
    assert result.necrotic_fraction == pytest.approx(1 - result.enhancing_fraction)
    assert result.threshold_hu == 40.0
    relative = measure_enhancement(
        image, mask, EnhancementThreshold("liver", 15.0), liver_mean_hu=75.0
    )
    assert relative.threshold_hu == 90.0
    assert relative.enhancing_fraction == pytest.approx(truth, abs=0.01)
    with pytest.raises(InvalidInputError, match="liver"):
        measure_enhancement(image, mask, EnhancementThreshold("liver", 15.0))


def test_explanations_serialise() -> None:
    mask = ellipsoid((10.0, 8.0, 9.0), 20.0)
    for result in (
        measure_volume(mask, _affine()),
        measure_axial_diameters(mask, _affine()),
        measure_longest_3d_diameter(mask, _affine()),
    ):
        data = result.explanation.to_json()
        assert data["formula"]
        assert data["result"]


def test_explanation_sources_read_as_clinical_text() -> None:
    """A clinician reads the source line of every "why?" box: no file paths or module names."""
    mask = ellipsoid((10.0, 8.0, 9.0), 20.0)
    image = np.where(mask, 60.0, 100.0)
    for result in (
        measure_volume(mask, _affine()),
        measure_axial_diameters(mask, _affine()),
        measure_longest_3d_diameter(mask, _affine()),
        measure_hu(image, mask, phase="venous"),
    ):
        source = result.explanation.to_json()["source"]
        assert source
        assert ".py" not in source, source
        assert "domain/" not in source, source
