"""Follow-up contours proposed on the full-size phantom (0.78 mm pixels, 2.5 mm slices).

The clinical grid: each follow-up's portal-venous CT is registered to the baseline and
every baseline focus carried over and contoured again, as ``followup propagate`` does
(without the database; the small phantom's test covers the service). The proposals are
held to the phantom's analytic volumes.
"""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.imaging.phantom import phantom_truth
from tace_planner.imaging.phantom_truth import truth_masks
from tace_planner.imaging.phantom_variants import render_phantom_ct
from tace_planner.imaging.propagation import propagate_lesion
from tace_planner.imaging.registration import carry_mask_registered, register_follow_up

pytestmark = [pytest.mark.slow]

VOLUME_TOLERANCE = 0.15
"""The tolerance the small phantom's test uses (the phantom's truth.json gives none)."""
MEASURABLE_MM = 10.0
FOLLOW_UPS = ("follow_up_1", "follow_up_2", "follow_up_3")


def test_full_size_follow_ups_are_registered_and_proposed_within_tolerance() -> None:
    """Measured (benchmarks/propagate.py --size full): offsets within 0.1 mm, liver Dice
    0.99, all 18 measurable focus-visits within 15 % (within 6 %; before the local grid
    and the edge fit, 17 of 18: F2 at follow-up 1, an ellipsoid with a large necrotic
    core, was 19 % over)."""
    truth = phantom_truth("full", seed=0)
    grid = truth.timepoint("baseline").series_by_folder("CT_venous").grid
    baseline = render_phantom_ct(grid, timepoint="baseline", seed=0)
    masks = truth_masks(truth, baseline, "baseline")
    within, measurable = 0, 0
    for n, label in enumerate(FOLLOW_UPS, start=1):
        follow_up = render_phantom_ct(grid, timepoint=label, seed=n)
        follow_liver = truth_masks(truth, follow_up, label)["liver"]
        result = register_follow_up(
            baseline, follow_up, baseline_liver=masks["liver"], follow_up_liver=follow_liver
        )
        assert result.ok, result.message
        offset = np.asarray(truth.timepoint(label).patient_offset_lps_mm)
        assert np.linalg.norm(np.asarray(result.translation_mm) - offset) <= 1.0
        assert result.liver_dice is not None
        assert result.liver_dice > 0.97
        guard = carry_mask_registered(
            masks["liver"], baseline.index_to_lps, result.baseline_to_follow_up, follow_up
        )
        for focus in truth.timepoint(label).foci:
            if focus.name not in masks or 2 * max(focus.semi_axes_mm) < MEASURABLE_MM:
                continue
            proposal = propagate_lesion(
                focus.name, masks[focus.name], baseline, result.baseline_to_follow_up,
                follow_up, follow_up_liver=guard,
            )  # fmt: skip
            measurable += 1
            assert proposal.found, (label, focus.name, proposal.messages)
            ratio = proposal.volume_cm3 / focus.volume_cm3
            assert abs(ratio - 1.0) <= 0.25, (label, focus.name, ratio)
            within += abs(ratio - 1.0) <= VOLUME_TOLERANCE
    assert measurable == 18
    assert within == 18
