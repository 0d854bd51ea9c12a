"""Display planes: which voxels, where on screen, which letters, for clean and sheared grids."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tace_planner.domain.geometry import affine_from_dicom_geometry, index_to_lps
from tace_planner.imaging.reformat import (
    acquisition_orientation,
    direction_letters,
    ellipse_statistics,
    percentile_window,
    plane_geometry,
    volume_shear_deg,
)

AXIAL_IOP = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL_IOP = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SHAPE = (12, 20, 30)  # z, y, x


def axial_affine(dz: float = 2.5, dy: float = 0.8, dx: float = 0.7, tilt_deg: float = 0.0):
    """Axial CT grid: rows step posterior (dy), columns step left (dx), slices superior."""
    step = (0.0, dz * math.tan(math.radians(tilt_deg)), dz)
    return affine_from_dicom_geometry(AXIAL_IOP, (dy, dx), (-10.0, -8.0, 30.0), step)


def screen_of_voxel(geometry, voxel):
    """Screen (u, v) of a voxel centre through the plane's pixel transform."""
    k = voxel[geometry.slice_axis]
    row, column = voxel[geometry.row_axis], voxel[geometry.column_axis]
    return geometry.screen_transform(k) @ np.array([column, row, 1.0])


def test_axial_plane_is_the_stored_slice_with_radiological_letters() -> None:
    voxels = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    geometry = plane_geometry(axial_affine(), SHAPE, "axial")

    plane = geometry.extract(voxels, 5)
    np.testing.assert_array_equal(plane, voxels[5])
    assert np.shares_memory(plane, voxels)  # a view, not a copy
    assert geometry.edge_letters == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert geometry.position_mm(5) == pytest.approx(30.0 + 5 * 2.5)  # superior coordinate
    # Pixel (row 0, column 0) is the patient's right-anterior corner: top left.
    u0, v0 = screen_of_voxel(geometry, (5, 0, 0))
    u1, v1 = screen_of_voxel(geometry, (5, SHAPE[1] - 1, SHAPE[2] - 1))
    assert u0 < u1
    assert v0 < v1
    assert geometry.pixel_spacing_mm() == pytest.approx((0.8, 0.7))


def test_coronal_reformat_is_a_view_with_superior_up() -> None:
    voxels = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    geometry = plane_geometry(axial_affine(), SHAPE, "coronal")

    assert geometry.slice_axis == 1
    plane = geometry.extract(voxels, 7)
    np.testing.assert_array_equal(plane, voxels[:, 7, :])
    assert np.shares_memory(plane, voxels)
    assert geometry.edge_letters == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    # Rows are slices; the highest slice (most superior) is drawn at the top.
    assert (
        screen_of_voxel(geometry, (SHAPE[0] - 1, 7, 0))[1] < screen_of_voxel(geometry, (0, 7, 0))[1]
    )
    # Aspect: one row is one slice step (2.5 mm), one column 0.7 mm.
    matrix = geometry.screen_transform(0)[:, :2]
    assert abs(matrix[1, 1]) == pytest.approx(2.5)
    assert abs(matrix[0, 0]) == pytest.approx(0.7)
    assert geometry.position_mm(7) == pytest.approx(-8.0 + 7 * 0.8)  # posterior coordinate


def test_sagittal_reformat_has_anterior_left_and_superior_up() -> None:
    geometry = plane_geometry(axial_affine(), SHAPE, "sagittal")

    assert geometry.slice_axis == 2
    assert geometry.edge_letters == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    voxels = np.zeros(SHAPE, dtype=np.float32)
    assert geometry.extract(voxels, 3).shape == (SHAPE[0], SHAPE[1])


def test_coronal_acquisition_is_shown_as_stored() -> None:
    affine = affine_from_dicom_geometry(CORONAL_IOP, (1.5, 1.5), (-50, -60, 70), (0, 6.0, 0))
    assert acquisition_orientation(affine) == "coronal"
    geometry = plane_geometry(affine, SHAPE, "coronal")
    assert geometry.is_acquisition_plane
    assert (geometry.row_axis, geometry.column_axis) == (1, 2)
    assert geometry.edge_letters == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    # Its axial reformat: slices are rows of the coronal images, anterior up.
    axial = plane_geometry(affine, SHAPE, "axial")
    assert axial.slice_axis == 1
    assert axial.edge_letters == {"left": "R", "right": "L", "top": "A", "bottom": "P"}


def test_mirrored_storage_is_mirrored_back_on_screen_without_transpose() -> None:
    """Rows stored right-to-left (IOP -1,0,0): column 0 must land on the screen's right."""
    affine = affine_from_dicom_geometry(
        (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (1.0, 1.0), (0, 0, 0), (0, 0, 1.0)
    )
    geometry = plane_geometry(affine, SHAPE, "axial")
    assert (geometry.row_axis, geometry.column_axis) == (1, 2)
    assert geometry.edge_letters["left"] == "R"
    assert screen_of_voxel(geometry, (0, 0, 0))[0] > screen_of_voxel(geometry, (0, 0, 5))[0]


def test_letters_follow_the_affine_for_an_oblique_plane() -> None:
    angle = math.radians(20.0)
    iop = (math.cos(angle), math.sin(angle), 0.0, -math.sin(angle), math.cos(angle), 0.0)
    affine = affine_from_dicom_geometry(iop, (1.0, 1.0), (0, 0, 0), (0, 0, 1.0))
    geometry = plane_geometry(affine, SHAPE, "axial")
    assert geometry.edge_letters["right"] == "LP"
    assert geometry.edge_letters["bottom"] == "PR"
    assert direction_letters((0.0, 0.0, -2.0)) == "I"
    assert direction_letters((0.05, 0.0, 1.0)) == "S"


def test_tilted_gantry_is_reported_and_drawn_sheared() -> None:
    tilt = 15.0
    affine = axial_affine(tilt_deg=tilt)
    assert volume_shear_deg(affine) == pytest.approx(tilt)
    axial = plane_geometry(affine, SHAPE, "axial")
    assert axial.stack_shear_deg == pytest.approx(tilt)
    assert axial.skew_deg == pytest.approx(0.0, abs=1e-9)  # each acquired slice is exact
    sagittal = plane_geometry(affine, SHAPE, "sagittal")
    assert sagittal.skew_deg == pytest.approx(tilt)  # rows and slices not at right angles
    coronal = plane_geometry(affine, SHAPE, "coronal")
    assert coronal.oblique_deg == pytest.approx(tilt)


@pytest.mark.parametrize("orientation", ["axial", "coronal", "sagittal"])
@pytest.mark.parametrize("tilt", [0.0, 20.0])
def test_every_voxel_lands_where_its_affine_says(orientation: str, tilt: float) -> None:
    affine = axial_affine(tilt_deg=tilt)
    geometry = plane_geometry(affine, SHAPE, orientation)
    rng = np.random.default_rng(1)
    for voxel in rng.integers(0, SHAPE, size=(20, 3)):
        u, v = screen_of_voxel(geometry, voxel)
        k = voxel[geometry.slice_axis]
        lps = geometry.screen_to_lps(u, v, geometry.position_mm(k))
        np.testing.assert_allclose(lps, index_to_lps(affine, voxel), atol=1e-9)
        assert geometry.voxel_at(u, v, k) == tuple(int(i) for i in voxel)


@settings(max_examples=60, deadline=None)
@given(
    angles=st.tuples(*[st.floats(-math.pi, math.pi) for _ in range(3)]),
    spacing=st.tuples(*[st.floats(0.3, 6.0) for _ in range(3)]),
    shear=st.floats(-0.4, 0.4),
    orientation=st.sampled_from(["axial", "coronal", "sagittal"]),
)
def test_screen_mapping_round_trips_for_any_grid(angles, spacing, shear, orientation) -> None:
    a, b, c = angles
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    rotation = rz @ ry @ rx
    affine = np.eye(4)
    affine[:3, 0] = rotation[:, 0] * spacing[0] + shear * rotation[:, 1]
    affine[:3, 1] = rotation[:, 1] * spacing[1]
    affine[:3, 2] = rotation[:, 2] * spacing[2]
    affine[:3, 3] = (3.0, -7.0, 11.0)
    geometry = plane_geometry(affine, SHAPE, orientation)
    assert float(geometry.normal_lps @ geometry.right_lps) == pytest.approx(0.0, abs=1e-9)
    assert float(geometry.normal_lps @ geometry.down_lps) == pytest.approx(0.0, abs=1e-9)
    voxel = (4, 9, 13)
    u, v = screen_of_voxel(geometry, voxel)
    lps = geometry.screen_to_lps(u, v, geometry.position_mm(voxel[geometry.slice_axis]))
    np.testing.assert_allclose(lps, index_to_lps(affine, voxel), atol=1e-6)


def test_slice_index_from_position_is_clamped() -> None:
    geometry = plane_geometry(axial_affine(), SHAPE, "axial")
    assert geometry.index_at(30.0 + 4 * 2.5 + 1.0) == 4
    assert geometry.index_at(-1000.0) == 0
    assert geometry.index_at(1000.0) == SHAPE[0] - 1
    assert geometry.contains(30.0 - 1.2)
    assert not geometry.contains(30.0 - 1.3)


def test_screen_bounds_cover_the_outer_voxel_edges() -> None:
    geometry = plane_geometry(axial_affine(), SHAPE, "axial")
    u0, v0, u1, v1 = geometry.screen_bounds()
    assert u1 - u0 == pytest.approx(SHAPE[2] * 0.7)
    assert v1 - v0 == pytest.approx(SHAPE[1] * 0.8)


def test_unknown_orientation_is_refused() -> None:
    with pytest.raises(ValueError, match="orientation"):
        plane_geometry(axial_affine(), SHAPE, "oblique")


def test_ellipse_statistics_count_pixel_centres_with_anisotropic_pixels() -> None:
    """A 10 mm x 10 mm circle on 0.5 x 2 mm pixels: area and mean from the right pixels."""
    affine = affine_from_dicom_geometry(AXIAL_IOP, (2.0, 0.5), (0, 0, 0), (0, 0, 5.0))
    shape = (3, 40, 120)
    rows, columns = np.mgrid[0 : shape[1], 0 : shape[2]]
    y_mm, x_mm = rows * 2.0, columns * 0.5
    disc = (x_mm - 30.0) ** 2 + (y_mm - 40.0) ** 2 <= 10.0**2
    voxels = np.zeros(shape, dtype=np.float32)
    voxels[1][disc] = 100.0
    geometry = plane_geometry(affine, shape, "axial")

    stats = ellipse_statistics(voxels, geometry, 1, (30, 40, 5), (40, 40, 5), (30, 50, 5))
    assert stats.pixel_count == int(disc.sum())
    assert stats.mean == pytest.approx(100.0)
    assert stats.sd == pytest.approx(0.0)
    assert stats.area_mm2 == pytest.approx(math.pi * 100.0)
    assert stats.pixel_count * 1.0 == pytest.approx(math.pi * 100.0, rel=0.05)  # 1 mm² pixels


def test_percentile_window_spans_the_signal() -> None:
    voxels = np.linspace(0, 1000, 40 * 10 * 10, dtype=np.float32).reshape(40, 10, 10)
    width, level = percentile_window(voxels)
    assert 900 < width < 1000
    assert level == pytest.approx(500, abs=20)
