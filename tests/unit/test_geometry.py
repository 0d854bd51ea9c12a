"""Geometry: PixelSpacing order, affines, index <-> LPS round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tace_planner.domain.geometry import (
    affine_from_dicom_geometry,
    index_to_lps,
    lps_to_index,
    position_along_normal,
    slice_normal,
)
from tace_planner.domain.volume import ImageVolume, mask_volume_cm3

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_pixel_spacing_is_row_spacing_first() -> None:
    # (0028,0030): 0.5 mm between rows (y), 0.8 mm between columns (x).
    affine = affine_from_dicom_geometry(AXIAL, (0.5, 0.8), (10.0, 20.0, 30.0), (0, 0, 2.5))
    assert index_to_lps(affine, (0, 1, 0)) == pytest.approx((10.0, 20.5, 30.0))
    assert index_to_lps(affine, (0, 0, 1)) == pytest.approx((10.8, 20.0, 30.0))
    assert index_to_lps(affine, (2, 0, 0)) == pytest.approx((10.0, 20.0, 35.0))


def test_axial_normal_points_superior_and_coronal_normal_anterior() -> None:
    assert slice_normal(AXIAL) == pytest.approx((0, 0, 1))
    # Coronal: rows run to patient left, columns run inferior.
    assert slice_normal((1, 0, 0, 0, 0, -1)) == pytest.approx((0, 1, 0))
    assert position_along_normal(AXIAL, (5, 6, -7.5)) == pytest.approx(-7.5)


def test_parallel_cosines_are_refused() -> None:
    with pytest.raises(ValueError, match="parallel"):
        slice_normal((1, 0, 0, 1, 0, 0))


@given(
    st.tuples(*[st.floats(-300, 300)] * 3),
    st.floats(0.2, 5.0),
    st.floats(0.2, 5.0),
    st.floats(0.5, 10.0),
    st.floats(-0.5, 0.5),
)
def test_index_lps_round_trip(origin, row_mm, col_mm, step_mm, tilt) -> None:
    orientation = (1.0, 0.0, 0.0, 0.0, np.cos(tilt), -np.sin(tilt))
    affine = affine_from_dicom_geometry(orientation, (row_mm, col_mm), origin, (0, 0, step_mm))
    index = np.array([[3.0, 17.0, 41.0], [0.0, 0.0, 0.0]])
    assert lps_to_index(affine, index_to_lps(affine, index)) == pytest.approx(index, abs=1e-6)


def test_voxel_volume_and_mask_volume() -> None:
    affine = affine_from_dicom_geometry(AXIAL, (0.5, 0.8), (0, 0, 0), (0, 0, 2.5))
    volume = ImageVolume(np.zeros((4, 10, 10), np.float32), affine, "1.2.3")
    assert volume.spacing_mm == pytest.approx((2.5, 0.5, 0.8))
    assert volume.voxel_volume_cm3 == pytest.approx(2.5 * 0.5 * 0.8 / 1000)
    mask = np.zeros((4, 10, 10), bool)
    mask[1:3, 2:7, 0:4] = True  # 40 voxels
    assert mask_volume_cm3(mask, volume) == pytest.approx(40 * 1.0 / 1000)
    with pytest.raises(ValueError, match="does not match"):
        mask_volume_cm3(np.zeros((3, 10, 10), bool), volume)
    assert not volume.voxels.flags.writeable
