"""Carrying a baseline focus to a follow-up: where the contour starts and when a focus is gone."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.phantom import phantom_truth
from tace_planner.imaging.phantom_truth import truth_masks
from tace_planner.imaging.phantom_variants import render_phantom_ct
from tace_planner.imaging.propagation import deepest_point_lps, propagate_lesion

COARSE = np.array(
    [[0, 0, 3.125, -198.4375], [0, 3.125, 0, -198.4375], [5.0, 0, 0, -85.0], [0, 0, 0, 1]]
)
"""The small phantom's grid: 3.125 mm pixels, 5 mm slices."""


def _ball(shape: tuple[int, int, int], centre_lps: np.ndarray, radius_mm: float) -> np.ndarray:
    index = np.indices(shape).reshape(3, -1).T
    lps = index @ COARSE[:3, :3].T + COARSE[:3, 3]
    return (np.linalg.norm(lps - centre_lps, axis=1) <= radius_mm).reshape(shape)


def test_the_deepest_point_of_a_coarse_ball_is_its_centre() -> None:
    """Many voxels tie for the deepest on 3 mm pixels: their centre is the ball's, not a tie."""
    shape = (12, 24, 24)
    centre = COARSE[:3, :3] @ np.array([5.5, 11.5, 11.5]) + COARSE[:3, 3]
    mask = _ball(shape, centre, 8.0)
    volume = ImageVolume(np.zeros(shape, np.float32), COARSE)
    assert np.linalg.norm(np.subtract(deepest_point_lps(mask, volume), centre)) <= 1.0


@pytest.mark.parametrize("seed", range(6))
def test_plain_liver_where_a_focus_was_is_not_found(seed: int) -> None:
    """A carried 8 mm focus over liver with 11 HU noise: proposed as gone, at every seed."""
    shape = (12, 24, 24)
    rng = np.random.default_rng(seed)
    voxels = (110.0 + 11.0 * rng.standard_normal(shape)).astype(np.float32)
    volume = ImageVolume(voxels, COARSE)
    centre = COARSE[:3, :3] @ np.array([5.5, 11.5, 11.5]) + COARSE[:3, 3]
    proposal = propagate_lesion("F9", _ball(shape, centre, 8.0), volume, np.eye(4), volume)
    assert not proposal.found
    assert proposal.volume_cm3 == 0.0


@pytest.mark.parametrize(
    ("label", "seed"), [("follow_up_1", 1), ("follow_up_2", 2), ("follow_up_3", 3)]
)
def test_every_measurable_focus_is_found_at_the_coarse_follow_ups(label: str, seed: int) -> None:
    """The small phantom (5 mm slices): a 15 mm focus whose carried point falls on its edge
    slice, where partial volume makes it look like liver, is still found and contoured
    (its tissue is also read on the slice next to it where the focus shows)."""
    truth = phantom_truth("small", seed=0)
    grid = truth.timepoint("baseline").series_by_folder("CT_venous").grid
    baseline = render_phantom_ct(grid, timepoint="baseline", seed=0)
    follow_up = render_phantom_ct(grid, timepoint=label, seed=seed)
    masks = truth_masks(truth, baseline, "baseline")
    liver = truth_masks(truth, follow_up, label)["liver"]
    transform = np.eye(4)
    transform[:3, 3] = truth.timepoint(label).patient_offset_lps_mm
    for focus in truth.timepoint(label).foci:
        if focus.name not in masks or 2 * max(focus.semi_axes_mm) < 10.0:
            continue
        proposal = propagate_lesion(
            focus.name, masks[focus.name], baseline, transform, follow_up, follow_up_liver=liver
        )
        assert proposal.found, (focus.name, proposal.messages)
        assert proposal.volume_cm3 > 0.3 * focus.volume_cm3, focus.name
