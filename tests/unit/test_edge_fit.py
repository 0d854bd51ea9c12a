"""The finer local grid and the partial-volume edge fit of a follow-up proposal."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.edge_fit import fit_edge_offset
from tace_planner.imaging.local_grid import local_grid, odd_factors

COARSE = np.array([[0, 0, 3.125, -40.0], [0, 3.125, 0, -40.0], [5.0, 0, 0, -30.0], [0, 0, 0, 1]])
"""3.125 mm pixels, 5 mm slices (the small phantom's grid)."""
SHAPE = (12, 26, 26)
CENTRE = np.array([0.4, -1.1, 1.3])
"""LPS mm: off every voxel centre."""


def _distance_lps(affine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    index = np.indices(shape).reshape(3, -1).T
    lps = index @ affine[:3, :3].T + affine[:3, 3]
    return np.linalg.norm(lps - CENTRE, axis=1).reshape(shape)


def _ball_ct(radius_mm: float, contrast_hu: float, noise_hu: float = 0.0) -> ImageVolume:
    """A ball in liver (110 HU), its edge spread over one pixel as the phantom paints it."""
    inside = np.clip(0.5 - (_distance_lps(COARSE, SHAPE) - radius_mm) / 3.125, 0.0, 1.0)
    voxels = 110.0 + contrast_hu * inside
    voxels += noise_hu * np.random.default_rng(3).standard_normal(SHAPE)
    return ImageVolume(voxels.astype(np.float32), COARSE)


BOX = (slice(1, 11), slice(4, 22), slice(4, 22))


def test_odd_factors_put_a_fine_voxel_at_every_coarse_centre() -> None:
    assert odd_factors((5.0, 3.125, 3.125), 1.0) == (5, 3, 3)
    assert odd_factors((2.5, 0.78, 0.78), 1.0) == (3, 1, 1)
    volume = _ball_ct(8.0, -22.0)
    grid = local_grid(volume, BOX)
    assert grid.factors == (5, 3, 3)
    assert grid.fine.shape == (50, 54, 54)
    # The middle fine voxel of each coarse voxel is that voxel's centre, same value.
    centres = grid.centres(np.asarray(grid.fine.voxels))
    assert np.allclose(centres, np.asarray(volume.voxels)[BOX], atol=1e-3)
    middle = grid.fine.index_to_lps @ np.array([2.0, 1.0, 1.0, 1.0])
    assert np.allclose(middle, COARSE @ np.array([1.0, 4.0, 4.0, 1.0]))
    assert grid.fine.spacing_mm == pytest.approx((1.0, 3.125 / 3, 3.125 / 3))


def test_a_coarse_mask_survives_the_round_trip_through_the_fine_grid() -> None:
    volume = _ball_ct(8.0, -22.0)
    grid = local_grid(volume, BOX)
    coarse = _distance_lps(COARSE, SHAPE) <= 8.0
    assert np.array_equal(grid.coarse_mask(grid.refine(coarse), SHAPE), coarse & _in(BOX))


def _in(box: tuple[slice, ...]) -> np.ndarray:
    out = np.zeros(SHAPE, dtype=bool)
    out[box] = True
    return out


@pytest.mark.parametrize("drawn_mm", [6.5, 8.0, 9.5])
def test_the_edge_moves_to_where_the_partial_volume_puts_it(drawn_mm: float) -> None:
    """A contour drawn 1.5 mm too small or too large (a voxel layer: ±45 % of the
    volume) is moved to the ball's true surface: its volume within 8 % of the ball's."""
    volume = _ball_ct(8.0, -22.0)
    grid = local_grid(volume, BOX)
    drawn = _distance_lps(grid.fine.index_to_lps, grid.fine.shape) <= drawn_mm
    fit = fit_edge_offset(volume, grid, drawn, 110.0)
    assert fit.fitted
    assert fit.offset_mm == pytest.approx(8.0 - drawn_mm, abs=0.35)
    assert fit.contrast_hu == pytest.approx(-22.0, abs=3.0)
    true_cm3 = 4.0 / 3.0 * np.pi * 8.0**3 / 1000.0
    assert int(fit.mask.sum()) * volume.voxel_volume_cm3 == pytest.approx(true_cm3, rel=0.08)


def test_the_fit_stays_inside_the_allowed_voxels() -> None:
    volume = _ball_ct(8.0, -22.0)
    grid = local_grid(volume, BOX)
    drawn = _distance_lps(grid.fine.index_to_lps, grid.fine.shape) <= 8.0
    allowed = np.ones(SHAPE, dtype=bool)
    allowed[:6] = False  # the liver ends at the ball's equator
    fit = fit_edge_offset(volume, grid, drawn, 110.0, allowed=allowed)
    assert fit.mask.any()
    assert not (fit.mask & ~allowed).any()


def test_no_contrast_keeps_the_contour_as_drawn() -> None:
    """Plain liver under the contour: nothing places the edge, the contour is kept."""
    volume = _ball_ct(8.0, 0.0, noise_hu=0.0)
    grid = local_grid(volume, BOX)
    drawn = _distance_lps(grid.fine.index_to_lps, grid.fine.shape) <= 8.0
    fit = fit_edge_offset(volume, grid, drawn, 110.0)
    assert not fit.fitted
    assert fit.offset_mm == 0.0
    assert np.array_equal(fit.mask, grid.coarse_mask(drawn, SHAPE))
