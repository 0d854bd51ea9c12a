"""Two foci holding the same volume: the plan warns, naming both and the volume counted twice.

V_mts is the sum of the foci's volumes (F = V_mts / V_liv × 100 %), so a volume two
contours both hold is counted twice. The rule lives in the domain; the volumes are
counted on the stored, cropped masks (services/focus_overlap.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.dosing_advisories import (
    FOCI_SHARED_MIN_CM3,
    counts_twice,
    shared_volume_advisories,
)
from tace_planner.imaging.mask_codec import pack_mask
from tace_planner.services.focus_overlap import FocusCrop
from tace_planner.store.models import SegmentationRow


def test_each_overlapping_pair_is_warned_with_both_names_and_the_volume() -> None:
    advisories = shared_volume_advisories([("F1", "F7", 0.8127), ("F2", "F3", 0.004)])
    (advisory,) = advisories
    assert advisory.code == "burden.foci_overlap.F1.F7"
    assert advisory.severity == "warning"
    assert advisory.message == (
        "The contours of F1 and F7 overlap by 0.81 cm³: that volume is counted in both foci, "
        "so the tumour volume is overstated by 0.81 cm³, and the tumour burden F with it. "
        "Erase the overlap from one of the two contours to count it once."
    )
    assert "institutional default" in advisory.source
    for internal in ("voxel", "mask", "V_mts", "_"):
        assert internal not in advisory.message


def test_the_threshold_is_a_hundredth_of_a_cm3() -> None:
    assert FOCI_SHARED_MIN_CM3 == 0.01
    assert counts_twice(0.01)
    assert not counts_twice(0.0099)
    assert shared_volume_advisories([("F1", "F2", 0.0099)]) == ()
    assert len(shared_volume_advisories([("F1", "F2", 0.01)])) == 1
    assert shared_volume_advisories([("F1", "F2", 0.5)], min_cm3=1.0) == ()


def _row(mask: np.ndarray) -> SegmentationRow:
    box, data = pack_mask(mask)
    return SegmentationRow(
        grid_shape={"shape": list(mask.shape), "bbox": list(box)}, mask_packed=data
    )


def test_shared_voxels_are_counted_on_the_crops_of_the_stored_masks() -> None:
    grid = (6, 20, 30)
    first, second = np.zeros(grid, bool), np.zeros(grid, bool)
    first[1:4, 2:10, 3:12] = True
    second[2:5, 8:15, 10:20] = True  # 2 × 2 × 2 voxels in common with ``first``
    stored = FocusCrop.of_row("F1", _row(first))
    assert stored is not None
    assert stored.count == int(first.sum())
    assert stored.shared_with(second) == 8  # a hand edit, as painted
    other = FocusCrop.of_row("F2", _row(second))
    assert other is not None
    assert other.shared_voxels(stored) == stored.shared_voxels(other) == 8
    # Boxes that do not meet: nothing decoded.
    untouched = FocusCrop("F3", (0, 2, 16, 20, 25, 30), lambda: pytest.fail("decoded"))
    assert stored.shared_voxels(untouched) == 0


def test_an_empty_or_unstored_mask_shares_nothing() -> None:
    assert FocusCrop.of_row("F1", _row(np.zeros((2, 3, 4), bool))) is None
    assert FocusCrop.of_row("F1", SegmentationRow(grid_shape={}, mask_packed=b"")) is None
    grid = {"shape": [2, 3, 4], "bbox": [0, 2, 0, 3, 0, 4]}
    corrupt = SegmentationRow(grid_shape=grid, mask_packed=b"not a mask")
    crop = FocusCrop.of_row("F1", corrupt)
    assert crop is not None
    assert crop.count == 0
