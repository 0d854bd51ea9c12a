"""Editing tools: brush and threshold paint, fill between slices, clean-up, resampling, flooding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.geometry import index_to_lps
from tace_planner.domain.progress import run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation import (
    MaskPatch,
    carry_mask,
    fill_holes,
    flood_fill,
    flood_fill_index,
    flood_fill_task,
    interpolate_between_slices,
    paint,
    remove_islands,
    resample_mask,
    smooth_mask,
)

SPACING = (2.5, 0.8, 0.6)


def _volume(shape=(20, 80, 90), voxels=None, spacing=SPACING, frame="1.2.3") -> ImageVolume:
    affine = np.zeros((4, 4))
    affine[0, 2], affine[1, 1], affine[2, 0], affine[3, 3] = spacing[2], spacing[1], spacing[0], 1
    affine[:3, 3] = (-20.0, -30.0, 10.0)
    data = np.zeros(shape, dtype=np.float32) if voxels is None else voxels.astype(np.float32)
    return ImageVolume(data, affine, frame)


def _at(volume: ImageVolume, index) -> tuple[float, float, float]:
    x, y, z = index_to_lps(volume.index_to_lps, index)
    return float(x), float(y), float(z)


# --- paint ------------------------------------------------------------------


def test_disc_brush_paints_a_disc_on_one_slice() -> None:
    volume = _volume()
    mask = np.zeros(volume.shape, dtype=bool)
    patch = paint(mask, volume, [_at(volume, (5, 40, 45))], 6.0)
    assert not mask.any()  # the input is not modified
    patch.apply(mask)
    assert np.flatnonzero(mask.any(axis=(1, 2))).tolist() == [5]
    # Area within a pixel ring of π r².
    area = mask.sum() * SPACING[1] * SPACING[2]
    assert area == pytest.approx(math.pi * 36.0, rel=0.06)
    j, i = np.nonzero(mask[5])
    d = np.hypot((j - 40) * SPACING[1], (i - 45) * SPACING[2])
    assert d.max() <= 6.0
    patch.revert(mask)
    assert not mask.any()


def test_sphere_brush_spans_slices_in_mm() -> None:
    volume = _volume()
    mask = np.zeros(volume.shape, dtype=bool)
    paint(mask, volume, [_at(volume, (10, 40, 45))], 6.0, shape="sphere").apply(mask)
    assert np.flatnonzero(mask.any(axis=(1, 2))).tolist() == [8, 9, 10, 11, 12]
    volume_mm3 = mask.sum() * np.prod(SPACING)
    assert volume_mm3 == pytest.approx(4 / 3 * math.pi * 216, rel=0.1)


def test_stroke_sweeps_the_brush_along_the_points() -> None:
    volume = _volume()
    mask = np.zeros(volume.shape, dtype=bool)
    stroke = [_at(volume, (4, 40, 10)), _at(volume, (4, 40, 80))]
    paint(mask, volume, stroke, 2.0).apply(mask)
    columns = np.flatnonzero(mask[4].any(axis=0))
    assert columns[0] <= 10
    assert columns[-1] >= 80
    assert len(columns) == columns[-1] - columns[0] + 1  # no gaps


def test_threshold_paint_only_touches_voxels_in_the_range() -> None:
    voxels = np.zeros((20, 80, 90))
    voxels[:, :, 45:] = 100.0  # right half bright
    volume = _volume(voxels=voxels)
    mask = np.zeros(volume.shape, dtype=bool)
    paint(mask, volume, [_at(volume, (5, 40, 45))], 8.0, hu_range=(50.0, 150.0)).apply(mask)
    assert mask.any()
    assert (voxels[mask] == 100.0).all()


def test_erase_removes_and_the_patch_undoes() -> None:
    volume = _volume()
    mask = np.zeros(volume.shape, dtype=bool)
    mask[5, 30:50, 30:60] = True
    before = mask.copy()
    patch = paint(mask, volume, [_at(volume, (5, 40, 45))], 4.0, erase=True)
    patch.apply(mask)
    assert mask.sum() < before.sum()
    assert not mask[5, 40, 45]
    assert patch.changed_voxels == before.sum() - mask.sum()
    patch.revert(mask)
    assert np.array_equal(mask, before)


def test_patch_between_two_masks() -> None:
    a = np.zeros((5, 6, 7), dtype=bool)
    b = a.copy()
    b[1:3, 2, 3:5] = True
    patch = MaskPatch.between(a, b)
    assert patch.box == (slice(1, 3), slice(2, 3), slice(3, 5))
    c = a.copy()
    patch.apply(c)
    assert np.array_equal(c, b)
    assert MaskPatch.between(a, a).is_empty


@pytest.mark.parametrize(
    ("radius", "hu_range", "match"),
    [(0.0, None, "radius"), (2.0, (10.0, 0.0), "HU range")],
)
def test_paint_refuses_bad_input(radius: float, hu_range, match: str) -> None:
    volume = _volume()
    with pytest.raises(InvalidInputError, match=match):
        paint(np.zeros(volume.shape, bool), volume, [_at(volume, (1, 1, 1))], radius,
              hu_range=hu_range)  # fmt: skip


def test_paint_outside_the_volume_is_refused() -> None:
    volume = _volume()
    with pytest.raises(InvalidInputError, match="outside"):
        paint(np.zeros(volume.shape, bool), volume, [(500.0, 500.0, 500.0)], 2.0)


# --- fill between slices ------------------------------------------------------


def _disc(shape2d, center, radius_px) -> np.ndarray:
    j, i = np.ogrid[: shape2d[0], : shape2d[1]]
    return (j - center[0]) ** 2 + (i - center[1]) ** 2 <= radius_px**2


def test_interpolation_grows_a_disc_linearly_between_key_slices() -> None:
    mask = np.zeros((9, 60, 60), dtype=bool)
    mask[0] = _disc((60, 60), (30, 30), 6)
    mask[8] = _disc((60, 60), (30, 30), 14)
    filled = interpolate_between_slices(mask, (2.0, 1.0, 1.0))
    assert np.array_equal(filled[0], mask[0])
    assert np.array_equal(filled[8], mask[8])
    radii = [math.sqrt(filled[k].sum() / math.pi) for k in range(9)]
    expected = np.linspace(radii[0], radii[8], 9)
    assert np.allclose(radii, expected, atol=0.8)


def test_interpolation_moves_a_shape_and_keeps_existing_slices() -> None:
    mask = np.zeros((5, 40, 80), dtype=bool)
    mask[0] = _disc((40, 80), (20, 30), 10)
    mask[4] = _disc((40, 80), (20, 42), 10)  # overlapping outlines, shifted by 12 px
    filled = interpolate_between_slices(mask, (2.0, 1.0, 1.0))
    centers = [np.argwhere(filled[k]).mean(axis=0)[1] for k in range(5)]
    assert np.all(np.diff(centers) > 0)
    assert centers[2] == pytest.approx(36.0, abs=1.0)
    gap_limited = interpolate_between_slices(mask, (2.0, 1.0, 1.0), max_gap=2)
    assert np.array_equal(gap_limited, mask)


def test_interpolation_of_a_single_key_slice_changes_nothing() -> None:
    mask = np.zeros((4, 10, 10), dtype=bool)
    mask[2, 3:6, 3:6] = True
    assert np.array_equal(interpolate_between_slices(mask, (1, 1, 1)), mask)


# --- clean-up -----------------------------------------------------------------


def test_fill_holes_in_3d_and_per_slice() -> None:
    mask = np.zeros((7, 20, 20), dtype=bool)
    mask[1:6, 4:16, 4:16] = True
    mask[2:5, 8:12, 8:12] = False  # enclosed cavity
    mask[4:6, 9:11, 9:11] = False  # a cup open towards the top slice
    mask[5, 9:11, 9:11] = False
    filled = fill_holes(mask)
    assert filled[1:6, 4:16, 4:16].all()
    assert not fill_holes(mask, per_slice=False)[5, 9, 9]


def test_remove_islands_by_size_largest_and_seed() -> None:
    mask = np.zeros((10, 30, 30), dtype=bool)
    mask[1:8, 2:12, 2:12] = True  # big
    mask[2:3, 20:22, 20:22] = True  # 4 voxels
    mask[5, 25, 25] = True  # 1 voxel
    spacing = (2.0, 1.0, 1.0)
    assert remove_islands(mask, spacing, min_volume_mm3=5.0).sum() == 7 * 100 + 4
    assert remove_islands(mask, spacing, keep_largest=True).sum() == 700
    kept = remove_islands(mask, spacing, keep_largest=True, keep_index=[(5, 25, 25)])
    assert kept.sum() == 701


def test_smooth_mask_keeps_a_ball_and_removes_a_spike() -> None:
    spacing = (1.0, 1.0, 1.0)
    z, y, x = np.ogrid[:40, :40, :40]
    ball = (z - 20) ** 2 + (y - 20) ** 2 + (x - 20) ** 2 <= 12**2
    spiky = ball.copy()
    spiky[20, 20, 32:38] = True
    smoothed = smooth_mask(spiky, spacing, 1.5)
    assert not smoothed[20, 20, 35]
    assert smoothed.sum() == pytest.approx(ball.sum(), rel=0.03)


# --- resampling between grids ---------------------------------------------------


def test_resample_to_the_same_grid_is_identity() -> None:
    volume = _volume()
    mask = np.zeros(volume.shape, dtype=bool)
    mask[3:9, 20:40, 30:50] = True
    assert np.array_equal(carry_mask(mask, volume, volume), mask)


def test_resample_by_lps_position_to_a_shifted_finer_grid() -> None:
    source = _volume()
    mask = np.zeros(source.shape, dtype=bool)
    mask[6:10, 20:40, 30:60] = True  # a box in LPS
    low = index_to_lps(source.index_to_lps, (5.5, 19.5, 29.5))
    high = index_to_lps(source.index_to_lps, (9.5, 39.5, 59.5))
    affine = np.zeros((4, 4))
    affine[0, 2], affine[1, 1], affine[2, 0], affine[3, 3] = 0.3, 0.4, 1.25, 1.0
    affine[:3, 3] = source.index_to_lps[:3, 3] + (1.1, -2.0, 0.3)
    target = ImageVolume(np.zeros((40, 180, 200), np.float32), affine, "1.2.3")
    carried = carry_mask(mask, source, target)
    # Every target voxel whose centre lies inside the box (not on its faces) is in the mask.
    k, j, i = np.meshgrid(*[np.arange(n) for n in target.shape], indexing="ij")
    centres = index_to_lps(affine, np.stack([k, j, i], -1).astype(float))
    inside = np.all((centres > low + 1e-6) & (centres < high - 1e-6), axis=-1)
    near = np.all((centres > low - 1e-6) & (centres < high + 1e-6), axis=-1)
    assert carried[inside].all()
    assert not carried[~near].any()


def _grid_affine(spacing_zyx, origin_lps, rotation_deg: float = 0.0) -> np.ndarray:
    """An axial-like (z, y, x) grid: x along L, y along P, z along S, turned about S."""
    turn = math.radians(rotation_deg)
    column = np.array([math.cos(turn), math.sin(turn), 0.0])  # x index direction
    row = np.array([-math.sin(turn), math.cos(turn), 0.0])  # y index direction
    affine = np.eye(4)
    affine[:3, 0] = np.array([0.0, 0.0, 1.0]) * spacing_zyx[0]
    affine[:3, 1] = row * spacing_zyx[1]
    affine[:3, 2] = column * spacing_zyx[2]
    affine[:3, 3] = origin_lps
    return affine


def _sphere_on(affine: np.ndarray, shape, centre, radius_mm: float) -> np.ndarray:
    """Distance of every voxel centre of a grid from ``centre`` (mm)."""
    k, j, i = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    points = index_to_lps(affine, np.stack([k, j, i], -1))
    return np.linalg.norm(points - np.asarray(centre), axis=-1)


@pytest.mark.parametrize(("rotation_deg", "head_first"), [(0.0, False), (0.0, True), (17.0, False)])
def test_a_sphere_resampled_onto_another_grid_matches_the_sphere_sampled_there(
    rotation_deg: float, head_first: bool
) -> None:
    # Grid A: 2.5 mm slices, 0.8 mm pixels (a portal-venous series); grid B: 1.25 mm slices,
    # 0.7 x 1.1 mm pixels, shifted by fractions of a voxel and maybe turned (another phase).
    centre, radius = np.array([-60.3, 20.7, 101.2]), 12.0
    shape_a, spacing_a = (24, 70, 70), (2.5, 0.8, 0.8)
    affine_a = _grid_affine(spacing_a, (-88.0, -7.0, 72.0))
    shape_b = (48, 60, 90)
    affine_b = _grid_affine((1.25, 1.1, 0.7), (-92.35, -12.9, 71.4), rotation_deg)
    if head_first:  # slices stored from the head down: z index runs towards the feet
        affine_b[:3, 3] += affine_b[:3, 0] * (shape_b[0] - 1)
        affine_b[:3, 0] *= -1
    sphere_a = _sphere_on(affine_a, shape_a, centre, radius) <= radius
    distance_b = _sphere_on(affine_b, shape_b, centre, radius)
    carried = resample_mask(sphere_a, affine_a, affine_b, shape_b)
    # Nearest neighbour is off by at most half of A's voxel diagonal.
    slack = 0.5 * math.sqrt(sum(d * d for d in spacing_a)) + 1e-6
    assert carried[distance_b <= radius - slack].all()
    assert not carried[distance_b > radius + slack].any()
    truth_b = distance_b <= radius
    dice = 2 * (carried & truth_b).sum() / (carried.sum() + truth_b.sum())
    assert dice > 0.93
    volume_b = carried.sum() * abs(np.linalg.det(affine_b[:3, :3]))
    assert volume_b == pytest.approx(4 / 3 * math.pi * radius**3, rel=0.06)


def test_carry_between_frames_of_reference_is_refused() -> None:
    a, b = _volume(frame="1.2.3"), _volume(frame="9.9.9")
    with pytest.raises(InvalidInputError, match="Frame of Reference"):
        carry_mask(np.zeros(a.shape, bool), a, b)


def test_resample_empty_mask() -> None:
    assert not resample_mask(np.zeros((2, 3, 4), bool), np.eye(4), np.eye(4), (5, 5, 5)).any()


# --- flood fill -----------------------------------------------------------------


@given(st.integers(0, 10_000), st.sampled_from([0.35, 0.5, 0.6]))
@settings(max_examples=25, deadline=None)
def test_tiled_flood_fill_equals_a_global_connected_component(seed: int, level: float) -> None:
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    voxels = ndimage.gaussian_filter(rng.random((70, 140, 150)), 1.5)
    voxels = (voxels - voxels.min()) / np.ptp(voxels)
    start = tuple(int(v) for v in rng.integers(0, voxels.shape))
    low, high = level - 0.2, level + 0.2
    box, region = flood_fill_index(voxels, start, low, high)
    full = np.zeros(voxels.shape, bool)
    full[box] = region
    inside = (voxels >= low) & (voxels <= high)
    labels, _ = ndimage.label(inside)
    expected = labels == labels[start] if inside[start] else np.zeros_like(inside)
    assert np.array_equal(full, expected)


def test_flood_fill_from_lps_and_as_task() -> None:
    voxels = np.zeros((20, 80, 90))
    voxels[2:9, 10:30, 10:40] = 100.0
    voxels[12:15, 50:60, 50:60] = 100.0  # not connected
    volume = _volume(voxels=voxels)
    seed = _at(volume, (4, 15, 15))
    mask = flood_fill(volume, seed, 50.0, 150.0)
    assert mask.sum() == 7 * 20 * 30
    assert np.array_equal(run_sync(flood_fill_task(volume, seed, 50.0, 150.0)), mask)
    assert not flood_fill(volume, _at(volume, (0, 0, 0)), 50.0, 150.0).any()
    with pytest.raises(InvalidInputError, match="HU range"):
        flood_fill(volume, seed, 150.0, 50.0)
