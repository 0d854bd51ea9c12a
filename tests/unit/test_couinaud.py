"""The Couinaud proposal against the phantom's scripted segments (phantom_model._COURSES)."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.anatomy import segment_of
from tace_planner.imaging.couinaud import propose_segment
from tace_planner.imaging.phantom import phantom_truth
from tace_planner.imaging.phantom_truth import truth_masks
from tace_planner.imaging.phantom_variants import axial_grid


@pytest.fixture(scope="module")
def truth():
    return phantom_truth("small")


@pytest.mark.parametrize("timepoint", ["baseline", "follow_up_3"])
def test_every_phantom_focus_gets_its_scripted_segment(truth, timepoint):
    grid = axial_grid((70, 160, 160), 2.0, 2.5, -90.0)
    liver = truth_masks(truth, grid, timepoint)["liver"]
    foci = truth.timepoint(timepoint).foci
    assert len(foci) >= 7
    for focus in foci:
        proposal = propose_segment(liver, grid.index_to_lps, focus.center_lps_mm)
        assert segment_of(proposal.code) == segment_of(focus.couinaud_segment), focus.name
        assert 0.0 <= proposal.confidence <= 1.0
        assert "Bismuth, World J Surg 1982" in proposal.explanation
        assert "confirm" in proposal.explanation


def test_the_proposal_does_not_depend_on_the_grid(truth):
    """Another spacing and a grid stored right-to-left give the same segments."""
    fine = axial_grid((90, 200, 200), 1.6, 2.0, -90.0)
    flipped = np.array(fine.index_to_lps, dtype=float)
    flipped[:3, 2] *= -1.0  # x index now runs towards the patient's right
    flipped[0, 3] = -fine.index_to_lps[0, 3]
    grid = type(fine)(flipped, fine.shape)
    liver = truth_masks(truth, grid, "baseline")["liver"]
    codes = {
        f.name: propose_segment(liver, grid.index_to_lps, f.center_lps_mm).code
        for f in truth.timepoint("baseline").foci
    }
    assert codes == {
        "F1": "VIII", "F2": "VI", "F3": "I", "F4": "IVa", "F5": "III", "F6": "VII", "F7": "V",
    }  # fmt: skip


def test_a_focus_near_a_dividing_plane_gets_a_low_confidence(truth):
    grid = axial_grid((70, 160, 160), 2.0, 2.5, -90.0)
    liver = truth_masks(truth, grid, "baseline")["liver"]
    proposal = propose_segment(liver, grid.index_to_lps, (-100.0, 22.0, -28.0))
    assert proposal.confidence_label == "high"
    portal_z = proposal.landmarks.portal_z_mm
    near = propose_segment(liver, grid.index_to_lps, (-100.0, 22.0, portal_z - 1.0))
    assert near.code == "VI"
    assert near.confidence < 0.1
    assert near.confidence_label == "low"


def test_a_centroid_outside_the_liver_halves_the_confidence_and_says_so(truth):
    grid = axial_grid((70, 160, 160), 2.0, 2.5, -90.0)
    liver = truth_masks(truth, grid, "baseline")["liver"]
    outside = propose_segment(liver, grid.index_to_lps, (-150.0, 10.0, -30.0))
    assert outside.confidence <= 0.5
    assert "outside the liver contour" in outside.explanation


def test_an_empty_liver_is_refused():
    with pytest.raises(ValueError, match="too small"):
        propose_segment(np.zeros((4, 4, 4), bool), np.eye(4), (0.0, 0.0, 0.0))
