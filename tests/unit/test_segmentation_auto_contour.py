"""Auto contour on small synthetic volumes: one click, extra clicks, leak guards, 2D, errors."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.geometry import index_to_lps
from tace_planner.domain.progress import run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation import (
    AutoContourParameters,
    auto_contour,
    auto_contour_2d,
    auto_contour_task,
)

SPACING = (2.5, 0.8, 0.8)
SHAPE = (32, 110, 110)
LIVER_HU = 110.0


def _affine() -> np.ndarray:
    affine = np.zeros((4, 4))
    affine[0, 2], affine[1, 1], affine[2, 0], affine[3, 3] = SPACING[2], SPACING[1], SPACING[0], 1
    affine[:3, 3] = (-44.0, -44.0, -40.0)
    return affine


def _points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k, j, i = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij")
    p = index_to_lps(_affine(), np.stack([k, j, i], -1).astype(float))
    return p[..., 0], p[..., 1], p[..., 2]


X, Y, Z = _points()


def ball(center, radius) -> np.ndarray:
    return (X - center[0]) ** 2 + (Y - center[1]) ** 2 + (Z - center[2]) ** 2 <= radius**2


def image(*layers, noise=8.0, seed=0, background=LIVER_HU) -> ImageVolume:
    """Paint (mask, HU) layers over liver and add Gaussian noise."""
    voxels = np.full(SHAPE, background, dtype=np.float32)
    for mask, value in layers:
        voxels[mask] = value
    voxels += np.random.default_rng(seed).normal(0, noise, SHAPE).astype(np.float32)
    return ImageVolume(voxels, _affine(), "1.2.3")


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_one_click_contours_a_hypodense_ball() -> None:
    lesion = ball((0, 0, 0), 10.0)
    result = auto_contour(image((lesion, 80.0)), [(0.0, 0.0, 0.0)])
    mask = result.full_mask()
    assert dice(mask, lesion) > 0.93
    assert mask.sum() == pytest.approx(lesion.sum(), rel=0.06)
    assert result.direction == "hypo"
    assert result.threshold_hu == pytest.approx(95.0, abs=4.0)  # half-way between 80 and 110
    assert result.warnings == ()
    assert "T =" in result.explanation.result


def test_one_click_contours_a_hyperdense_ball_and_pastes() -> None:
    lesion = ball((5, -3, 2), 8.0)
    result = auto_contour(image((lesion, 150.0)), [(5.0, -3.0, 2.0)])
    assert result.direction == "hyper"
    target = np.zeros(SHAPE, dtype=bool)
    result.paste_into(target)
    assert np.array_equal(target, result.full_mask())
    assert dice(target, lesion) > 0.9


def test_click_in_a_necrotic_centre_takes_the_whole_focus() -> None:
    lesion = ball((0, 0, 0), 14.0)
    core = ball((0, 0, 0), 7.0)
    result = auto_contour(image((lesion, 88.0), (core, 20.0)), [(0.0, 0.0, 0.0)])
    assert dice(result.full_mask(), lesion) > 0.93


def test_two_include_clicks_contour_two_foci() -> None:
    a, b = ball((-15, 0, 0), 7.0), ball((15, 0, 0), 7.0)
    result = auto_contour(image((a, 80.0), (b, 80.0)), [(-15.0, 0.0, 0.0), (15.0, 0.0, 0.0)])
    assert dice(result.full_mask(), a | b) > 0.9


def test_exclude_click_splits_off_a_touching_focus() -> None:
    a, b = ball((-9, 0, 0), 9.0), ball((9, 0, 0), 9.0)  # touching, same HU
    volume = image((a | b, 80.0))
    both = auto_contour(volume, [(-9.0, 0.0, 0.0)]).full_mask()
    assert dice(both, a | b) > 0.9
    one = auto_contour(volume, [(-9.0, 0.0, 0.0)], [(9.0, 0.0, 0.0)]).full_mask()
    assert dice(one, a) > 0.85
    assert not one[tuple(np.argwhere(b & ~a).mean(axis=0).astype(int))]


def test_include_click_on_a_missed_part_adds_it() -> None:
    lesion = ball((0, 0, 0), 9.0)
    lobe = ball((14, 0, 0), 5.0) & ~lesion  # a faint lobe, nearly liver-like
    volume = image((lesion, 75.0), (lobe, 104.0), noise=4.0)
    first = auto_contour(volume, [(0.0, 0.0, 0.0)]).full_mask()
    refined = auto_contour(volume, [(0.0, 0.0, 0.0), (14.0, 0.0, 0.0)]).full_mask()
    assert refined.sum() > first.sum()
    assert refined[tuple(np.argwhere(lobe).mean(axis=0).astype(int))]


def test_liver_mask_keeps_the_contour_inside_the_liver() -> None:
    liver = X < 12.0  # the liver ends 12 mm left of the lesion's centre; fat beyond
    lesion = ball((8, 0, 0), 10.0) & liver
    volume = image((~liver, -90.0), (lesion, 85.0))
    result = auto_contour(volume, [(5.0, 0.0, 0.0)], liver_mask=liver)
    mask = result.full_mask()
    assert not (mask & ~liver).any()
    assert dice(mask, lesion) > 0.85


def test_without_liver_mask_the_fat_next_to_a_lesion_does_not_leak() -> None:
    liver = X < 12.0
    lesion = ball((8, 0, 0), 10.0) & liver
    volume = image((~liver, -90.0), (lesion, 85.0))
    mask = auto_contour(volume, [(5.0, 0.0, 0.0)]).full_mask()
    assert dice(mask, lesion) > 0.8
    assert mask.sum() < 1.3 * lesion.sum()


def test_click_outside_the_liver_mask_drops_the_constraint_with_a_warning() -> None:
    lesion = ball((0, 0, 0), 8.0)
    liver = X < -20.0
    result = auto_contour(image((lesion, 80.0)), [(0.0, 0.0, 0.0)], liver_mask=liver)
    assert any("outside the liver mask" in w for w in result.warnings)
    assert dice(result.full_mask(), lesion) > 0.9


def test_max_radius_stops_a_leak_and_says_so() -> None:
    dark = X < 30.0  # a huge hypodense region, nothing to stop at
    # The liver's HU is given: the dark region fills the box the liver would be learnt in.
    params = AutoContourParameters(max_radius_mm=15.0, background_hu=LIVER_HU)
    result = auto_contour(image((dark, 60.0)), [(0.0, 0.0, 0.0)], parameters=params)
    mask = result.full_mask()
    assert mask.any()
    assert np.sqrt(X[mask] ** 2 + Y[mask] ** 2 + Z[mask] ** 2).max() <= 15.0 + 1e-6
    assert any("15 mm limit" in w for w in result.warnings)


def test_2d_contour_is_one_slice_of_the_clicked_plane() -> None:
    lesion = ball((0, 0, 0), 10.0)
    result = auto_contour_2d(image((lesion, 80.0)), [(0.0, 0.0, 0.0)])
    assert result.box[0].stop - result.box[0].start == 1
    k = result.box[0].start
    assert Z[k, 0, 0] == pytest.approx(0.0)
    assert dice(result.full_mask()[k], lesion[k]) > 0.93
    assert result.full_mask()[[i for i in range(SHAPE[0]) if i != k]].sum() == 0


def test_no_contrast_gives_a_warning() -> None:
    result = auto_contour(image(noise=8.0), [(0.0, 0.0, 0.0)])
    assert any("hardly differs" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("include", "kwargs", "match"),
    [
        ([], {}, "include seed"),
        ([(500.0, 0.0, 0.0)], {}, "outside the volume"),
        ([(0.0, 0.0, 0.0)], {"liver_mask": np.ones((2, 2, 2), bool)}, "liver mask"),
    ],
)
def test_bad_input_is_refused(include, kwargs, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        auto_contour(image(), include, **kwargs)


def test_task_form_gives_the_same_contour() -> None:
    lesion = ball((0, 0, 0), 8.0)
    volume = image((lesion, 80.0))
    steps = []
    result = run_sync(auto_contour_task(volume, [(0.0, 0.0, 0.0)]), steps.append)
    assert [s.done for s in steps] == [0, 1]
    assert np.array_equal(result.full_mask(), auto_contour(volume, [(0.0, 0.0, 0.0)]).full_mask())


def test_an_exclude_click_on_the_include_click_is_refused() -> None:
    lesion = ball((0, 0, 0), 10.0)
    volume = image((lesion, 80.0))
    with pytest.raises(InvalidInputError, match="both inside and outside"):
        auto_contour(volume, [(0.0, 0.0, 0.0)], [(0.0, 0.0, 0.0)])
    with pytest.raises(InvalidInputError, match="both inside and outside"):
        auto_contour(volume, [(0.0, 0.0, 0.0), (3.0, 0.0, 0.0)], [(3.1, 0.1, 0.0)])
