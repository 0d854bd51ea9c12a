"""The body's box in a CT volume (imaging/body.py)."""

from __future__ import annotations

import numpy as np

from tace_planner.imaging.body import BODY_HU, body_extent


def test_body_extent_is_the_box_of_the_tissue_above_air() -> None:
    voxels = np.full((8, 40, 50), -1000.0, dtype=np.float32)
    voxels[3, 10:21, 5:31] = 40.0  # the body, on one of the sampled slices
    voxels[5, 30, 45] = BODY_HU - 100.0  # lung-like: not above the body threshold
    assert body_extent(voxels) == ((10, 21), (5, 31))
    assert body_extent(np.full((4, 6, 7), -1000.0)) == ((0, 6), (0, 7))  # air: the slice


def test_body_extent_is_the_union_over_the_volume() -> None:
    """The head of the scan and its foot hold different parts of the body: the box holds both."""
    voxels = np.full((64, 20, 20), -1000.0, dtype=np.float32)
    voxels[:32, 4:9, 6:15] = 30.0  # upper half
    voxels[32:, 10:18, 2:8] = 30.0  # lower half
    assert body_extent(voxels) == ((4, 18), (2, 15))
