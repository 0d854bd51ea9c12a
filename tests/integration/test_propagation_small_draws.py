"""Follow-up proposals on the small phantom's coarse grid, held to the truth over noise draws.

3.125 mm pixels and 5 mm slices: a 1.5–2 cm³ focus is 30–40 voxels, most of them on
its edge, and one voxel layer is a third of its volume. Each follow-up's venous CT is
rendered with the phantom's tissues, partial volume and 11 HU noise
(:func:`~tace_planner.imaging.phantom_variants.render_phantom_ct`) for several noise
draws; every baseline focus is carried by the visit's known patient offset (the
registration has its own tests) and proposed there
(:func:`~tace_planner.imaging.propagation.propagate_lesion`). Counted: the
measurable focus-visits (≥ 10 mm) whose proposed volume is within 15 % of the
phantom's analytic volume.
"""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.imaging.phantom import phantom_truth
from tace_planner.imaging.phantom_truth import truth_masks
from tace_planner.imaging.phantom_variants import render_phantom_ct
from tace_planner.imaging.propagation import propagate_lesion

pytestmark = [pytest.mark.slow]

VOLUME_TOLERANCE = 0.15
MEASURABLE_MM = 10.0
FOLLOW_UPS = ("follow_up_1", "follow_up_2", "follow_up_3")
DRAWS = (11, 12, 13)
"""Noise draws of the follow-ups (the baseline is draw 0)."""


def _within(draw: int) -> tuple[int, int, list[str]]:
    truth = phantom_truth("small", seed=0)
    grid = truth.timepoint("baseline").series_by_folder("CT_venous").grid
    baseline = render_phantom_ct(grid, timepoint="baseline", seed=0)
    masks = truth_masks(truth, baseline, "baseline")
    within, measurable, misses = 0, 0, []
    for n, label in enumerate(FOLLOW_UPS, start=1):
        follow_up = render_phantom_ct(grid, timepoint=label, seed=draw * 10 + n)
        liver = truth_masks(truth, follow_up, label)["liver"]
        transform = np.eye(4)
        transform[:3, 3] = truth.timepoint(label).patient_offset_lps_mm
        for focus in truth.timepoint(label).foci:
            if focus.name not in masks or 2 * max(focus.semi_axes_mm) < MEASURABLE_MM:
                continue
            proposal = propagate_lesion(
                focus.name, masks[focus.name], baseline, transform, follow_up,
                follow_up_liver=liver,
            )  # fmt: skip
            measurable += 1
            error = proposal.volume_cm3 / focus.volume_cm3 - 1.0
            if abs(error) <= VOLUME_TOLERANCE:
                within += 1
            else:  # a focus said not found (0 cm³) is a miss too
                misses.append(f"{label} {focus.name} {error:+.0%}")
    return within, measurable, misses


def test_coarse_follow_up_proposals_within_the_volume_tolerance() -> None:
    """Measured on these three draws: 44 of 54 focus-visits within 15 % (the contour
    drawn on the coarse voxels, before the local grid and the edge fit: 35 of 54). The
    misses are the 15–17 mm foci F3 and F6 and the necrotic F2: about ±10 % of a
    1.5–2 cm³ focus's volume is all its ~45 edge voxels can fix under 11 HU of noise at
    22 HU of contrast (see :mod:`tace_planner.imaging.edge_fit`), and one of them (F3 at
    follow-up 2 of draw 13) is said not found, 0 cm³: its level, read on a few voxels,
    is within three standard errors of the liver's.
    """
    within, measurable, misses = 0, 0, []
    for draw in DRAWS:
        w, m, missed = _within(draw)
        within, measurable, misses = within + w, measurable + m, misses + missed
    assert measurable == 18 * len(DRAWS)
    assert within >= 42, misses
