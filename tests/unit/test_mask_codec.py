"""Mask storage codec: exact round trip (Hypothesis), compactness, refusal of bad data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tace_planner.domain.errors import InvalidInputError
from tace_planner.imaging.mask_codec import EMPTY_BOX, pack_mask, unpack_mask

masks = st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9)).flatmap(
    lambda shape: arrays(np.bool_, shape)
)


@given(masks)
@settings(max_examples=200, deadline=None)
def test_round_trip_is_exact(mask: np.ndarray) -> None:
    box, data = pack_mask(mask)
    assert np.array_equal(unpack_mask(box, data, mask.shape), mask)


@given(masks)
@settings(max_examples=100, deadline=None)
def test_box_is_tight(mask: np.ndarray) -> None:
    box, _ = pack_mask(mask)
    if not mask.any():
        assert box == EMPTY_BOX
        return
    z0, z1, y0, y1, x0, x1 = box
    assert mask[z0:z1, y0:y1, x0:x1].sum() == mask.sum()
    inner = mask[z0:z1, y0:y1, x0:x1]
    for axis in range(3):
        assert np.take(inner, 0, axis=axis).any()
        assert np.take(inner, -1, axis=axis).any()


def test_large_sparse_mask_is_small() -> None:
    mask = np.zeros((300, 512, 512), dtype=bool)
    mask[100:140, 200:260, 220:270] = True
    box, data = pack_mask(mask)
    assert box == (100, 140, 200, 260, 220, 270)
    assert len(data) < 2_000
    assert np.array_equal(unpack_mask(box, data, mask.shape), mask)


def test_empty_mask() -> None:
    box, data = pack_mask(np.zeros((3, 4, 5), dtype=bool))
    assert box == EMPTY_BOX
    assert not unpack_mask(box, data, (3, 4, 5)).any()


def test_bad_data_is_refused() -> None:
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[1:3, 1:3, 1:3] = True
    box, data = pack_mask(mask)
    with pytest.raises(InvalidInputError, match="too short"):
        unpack_mask(box, b"\x01", mask.shape)
    with pytest.raises(InvalidInputError, match="format"):
        unpack_mask(box, b"\x09" + data[1:], mask.shape)
    with pytest.raises(InvalidInputError, match="does not match the box"):
        unpack_mask((0, 1, 0, 1, 0, 1), data, mask.shape)
    with pytest.raises(InvalidInputError, match="does not fit"):
        unpack_mask(box, data, (2, 2, 2))
    with pytest.raises(InvalidInputError, match="corrupt"):
        unpack_mask(box, data[:-3] + b"xyz", mask.shape)
