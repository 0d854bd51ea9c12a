"""Registration of a follow-up to the baseline: geometry conventions and recovered shifts."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.phantom import phantom_truth
from tace_planner.imaging.phantom_truth import truth_masks
from tace_planner.imaging.phantom_variants import render_phantom_ct
from tace_planner.imaging.registration import (
    _matrix_of,
    _to_sitk,
    carry_mask_registered,
    carry_point,
    register_follow_up,
)


def test_sitk_image_has_the_volume_geometry_for_an_oblique_flipped_grid() -> None:
    angle = np.deg2rad(20.0)
    rotation = np.array(
        [[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]]
    )
    affine = np.eye(4)
    # columns: z (slice normal, flipped), y, x with spacings 2.5, 0.8, 0.7 mm
    affine[:3, 0] = -2.5 * rotation[:, 2]
    affine[:3, 1] = 0.8 * rotation[:, 1]
    affine[:3, 2] = 0.7 * rotation[:, 0]
    affine[:3, 3] = (10.0, -20.0, 30.0)
    image = _to_sitk(np.zeros((4, 5, 6), np.float32), affine)
    for index in [(0, 0, 0), (3, 4, 5), (1, 2, 3)]:
        expected = affine @ np.array([*index, 1.0])
        got = image.TransformIndexToPhysicalPoint([index[2], index[1], index[0]])
        assert np.allclose(got, expected[:3])


def test_matrix_of_an_itk_transform_maps_points_as_itk_does() -> None:
    import SimpleITK as sitk

    transform = sitk.Euler3DTransform((5.0, -3.0, 2.0), 0.1, -0.2, 0.3, (1.0, 2.0, 3.0))
    matrix = _matrix_of(transform)
    for point in [(0.0, 0.0, 0.0), (10.0, -4.0, 7.5)]:
        assert np.allclose(carry_point(matrix, point), transform.TransformPoint(point))


@pytest.mark.parametrize("label", ["follow_up_1", "follow_up_2", "follow_up_3"])
def test_phantom_follow_up_offsets_are_recovered_within_1_mm(label: str) -> None:
    truth = phantom_truth("small", seed=0)
    grid = truth.timepoint("baseline").series_by_folder("CT_venous").grid
    baseline = render_phantom_ct(grid, timepoint="baseline", seed=0)
    follow_up = render_phantom_ct(grid, timepoint=label, seed=7)
    liver = truth_masks(truth, grid, "baseline")["liver"]
    follow_liver = truth_masks(truth, grid, label)["liver"]
    result = register_follow_up(
        baseline, follow_up, baseline_liver=liver, follow_up_liver=follow_liver
    )
    offset = np.asarray(truth.timepoint(label).patient_offset_lps_mm)
    assert result.ok, result.message
    assert np.linalg.norm(np.asarray(result.translation_mm) - offset) <= 1.0
    assert result.liver_dice is not None
    assert result.liver_dice > 0.95
    carried = carry_mask_registered(liver, grid.index_to_lps, result.baseline_to_follow_up,
                                    follow_up)  # fmt: skip
    assert carried.shape == follow_up.shape


def test_a_liver_mask_off_the_grid_is_refused_naming_it() -> None:
    volume = ImageVolume(np.zeros((4, 5, 6), np.float32), np.eye(4))
    with pytest.raises(ValueError, match="follow-up liver"):
        register_follow_up(volume, volume, follow_up_liver=np.zeros((2, 2, 2), bool))


@pytest.fixture(scope="module")
def small_baseline() -> tuple[ImageVolume, np.ndarray]:
    truth = phantom_truth("small", seed=0)
    grid = truth.timepoint("baseline").series_by_folder("CT_venous").grid
    return render_phantom_ct(grid, timepoint="baseline", seed=0), truth_masks(
        truth, grid, "baseline"
    )["liver"]


def test_a_rotated_and_shifted_follow_up_is_recovered_within_1_mm(small_baseline) -> None:
    """The patient turned 4 degrees about the table axis and moved: every liver point lands
    within 1 mm of where the known motion puts it."""
    import SimpleITK as sitk

    baseline, liver = small_baseline
    centre = carry_point(baseline.index_to_lps, np.argwhere(liver).mean(axis=0))
    motion = sitk.Euler3DTransform(centre, 0.0, 0.0, np.deg2rad(4.0), (3.0, -4.0, 5.0))
    image = _to_sitk(np.asarray(baseline.voxels), baseline.index_to_lps)
    # follow-up(q) = baseline(motion^-1 q): the anatomy at p lies at motion(p).
    moved = sitk.Resample(image, image, motion.GetInverse(), sitk.sitkLinear, -1000.0)
    follow_up = ImageVolume(sitk.GetArrayFromImage(moved), baseline.index_to_lps)
    result = register_follow_up(baseline, follow_up, baseline_liver=liver)
    assert result.ok, result.message
    expected = _matrix_of(motion)
    points = np.argwhere(liver)[:: max(1, int(liver.sum()) // 500)]
    for index in points:
        point = carry_point(baseline.index_to_lps, index)
        error = np.subtract(carry_point(result.baseline_to_follow_up, point),
                            carry_point(expected, point))  # fmt: skip
        assert np.linalg.norm(error) <= 1.0


@pytest.mark.parametrize("kind", ["air", "mirrored", "elsewhere"])
def test_a_registration_of_unrelated_images_is_said_to_fail(small_baseline, kind: str) -> None:
    """No body, another anatomy (the patient mirrored head to foot and left to right), or no
    overlap once started: the result says it failed, proposes nothing; nothing raises."""
    baseline, liver = small_baseline
    voxels = np.asarray(baseline.voxels)
    affine = np.asarray(baseline.index_to_lps)
    if kind == "air":
        follow_up = ImageVolume(np.full(voxels.shape, -1000.0, np.float32), affine)
    elif kind == "mirrored":
        follow_up = ImageVolume(np.ascontiguousarray(voxels[::-1, :, ::-1]), affine)
    else:  # a body slab far below the baseline's liver: nothing in common
        slab = np.full(voxels.shape, -1000.0, np.float32)
        slab[:2] = 40.0
        follow_up = ImageVolume(slab, affine)
    result = register_follow_up(baseline, follow_up, baseline_liver=liver)
    assert not result.ok
    assert result.message.startswith("Registration failed")
    assert "contour them by hand" in result.message


def test_livers_that_do_not_overlap_after_registration_fail_it(small_baseline) -> None:
    """The images match but the follow-up liver contour lies elsewhere: the overlap is shown
    and below its threshold the registration is said to have failed."""
    baseline, liver = small_baseline
    wrong_liver = np.roll(liver, 12, axis=2)  # 37.5 mm to the side
    result = register_follow_up(
        baseline, baseline, baseline_liver=liver, follow_up_liver=wrong_liver
    )
    assert result.correlation > 0.9
    assert result.liver_dice is not None
    assert result.liver_dice < 0.8
    assert not result.ok
    assert "liver overlap (Dice)" in result.message
    assert result.message.startswith("Registration failed")
    same = register_follow_up(baseline, baseline, baseline_liver=liver)
    assert same.ok
    assert "liver overlap not measured" in same.message
