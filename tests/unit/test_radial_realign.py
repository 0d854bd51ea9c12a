"""The first contour's realignment (``Star.realign``) against an independent reference.

With an evidence of +1 inside a ray's true edge and -1 beyond it, each ray's
cumulative evidence is a tent that peaks at its edge, and the aligned, pooled sum of
the neighbours' tents peaks at the *weighted median* of their misses (true edge less
current edge). So every ray must move by that weighted median, rounded to the sampling
step and clipped to the reach: computed here with numpy alone, from the pool weights.
On an analytic lobulated surface the move must bring the rounded pooled contour
closer to the truth (radii and the volume, which grows as r cubed).
"""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.imaging.segmentation.radial import STEP_MM, Star, pool_matrix

SPACING = np.array([1.0, 1.0, 1.0])


def _lobulated_star(flat: bool = False) -> tuple[Star, np.ndarray, np.ndarray]:
    """A star, the true edge per ray of a three-lobed focus, and the sign evidence."""
    count = 256 if flat else 800
    star = Star.sample(np.zeros((40, 40, 40), np.float32), SPACING, np.array([20.0, 20.0, 20.0]),
                       30.0, count, flat)  # fmt: skip
    z, y, x = star.dirs.T
    azimuth = np.arctan2(y, x)
    truth = 12.0 + 3.0 * np.cos(3.0 * azimuth) * np.sqrt(np.clip(1.0 - z**2, 0.0, 1.0))
    evidence = np.where(star.radii[None, :] < truth[:, None], 1.0, -1.0)
    return star, truth, evidence


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


@pytest.mark.parametrize("flat", [False, True])
def test_each_ray_moves_by_the_weighted_median_of_its_neighbours_misses(flat: bool) -> None:
    star, truth, evidence = _lobulated_star(flat)
    star.low[:] = 1.0
    star.solve(evidence, arc_mm=6.0)
    before = star.radius.copy()
    reach = 1.5
    star.realign(evidence, reach, arc_mm=6.0)
    moved = star.radius - before
    typical = max(float(np.median(before)), 4.0)
    pool = pool_matrix(len(star.dirs), flat, min(6.0 / typical, 0.5)).toarray()
    misses = truth - before
    checked = 0
    for ray in range(len(star.dirs)):
        expected = _weighted_median(misses, pool[ray])
        expected = np.clip(STEP_MM * np.round(expected / STEP_MM), -reach, reach)
        # A weighted median lying on a tent's flat top (a miss within half a step of
        # a sample) may round either way: those rays are not compared.
        if abs(abs(expected / STEP_MM - np.round(expected / STEP_MM)) - 0.5) < 0.05:
            continue
        assert moved[ray] == pytest.approx(expected, abs=STEP_MM + 1e-9), ray
        checked += 1
    assert checked > 0.8 * len(star.dirs)
    assert np.abs(moved).max() <= reach + 1e-9


def test_the_realigned_contour_is_closer_to_a_lobulated_truth() -> None:
    star, truth, evidence = _lobulated_star()
    star.low[:] = 1.0
    star.solve(evidence, arc_mm=6.0)
    pooled = star.radius.copy()
    star.realign(evidence, STEP_MM, arc_mm=6.0)
    realigned = star.radius
    assert np.abs(realigned - truth).mean() < np.abs(pooled - truth).mean() - 0.05
    # the volume of a star is the mean of r³ over the directions (times 4π/3)
    volume_error = lambda r: abs(float(np.mean(r**3)) / float(np.mean(truth**3)) - 1.0)  # noqa: E731
    assert volume_error(realigned) < volume_error(pooled)
    # the lobes' peaks move out, the valleys in: the pooling's rounding is undone
    assert float(np.mean(realigned[truth > 14.0] - pooled[truth > 14.0])) > 0.0
    assert float(np.mean(realigned[truth < 10.0] - pooled[truth < 10.0])) < 0.0


def test_the_realignment_keeps_the_clicks_bounds() -> None:
    star, _, evidence = _lobulated_star()
    star.low[:] = 1.0
    star.solve(evidence, arc_mm=6.0)
    capped = np.arange(len(star.dirs)) % 3 == 0
    star.high = np.where(capped, star.radius, star.high)
    star.low = np.where(~capped, star.radius, star.low)
    before = star.radius.copy()
    star.realign(evidence, 2.0, arc_mm=6.0)
    assert np.all(star.radius[capped] <= before[capped] + 1e-9)
    assert np.all(star.radius[~capped] >= before[~capped] - 1e-9)
    assert np.any(star.radius != before)
