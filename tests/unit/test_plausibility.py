"""Plausibility of a contour click and of the contour it produced (issue 12, item 4)."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.plausibility import (
    ImplausibleClickError,
    click_hu,
    describe_leak,
    judge_click,
    judge_parenchyma,
    reaches_distance,
)

AFFINE = np.eye(4)  # z step 2 mm (S), y 1 mm (P), x 1 mm (L)
AFFINE[:3, :3] = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])


def test_fat_click_asks_for_confirmation_in_the_words_of_the_issue() -> None:
    verdict = judge_click(-42.0, None)
    assert verdict.status == "confirm"
    assert verdict.question.startswith("−42 HU: fat, not a liver focus")
    assert verdict.question.endswith("— contour anyway?")
    assert "Kvist, Am J Clin Nutr 1988" in verdict.reason


@pytest.mark.parametrize(
    ("hu", "inside", "status", "words"),
    [
        (-850.0, None, "refuse", "air"),
        (-850.0, True, "refuse", "air"),
        (-100.0, True, "confirm", "fat"),
        (-42.0, False, "confirm", "outside the liver contour"),
        (650.0, False, "confirm", "bone"),
        (650.0, None, "confirm", "bone"),
        (650.0, True, "ok", ""),  # calcified focus or lipiodol inside the liver
        (80.0, False, "confirm", "80 HU outside the liver contour"),
        (80.0, True, "ok", ""),
        (80.0, None, "ok", ""),
        (-25.0, None, "ok", ""),  # a cystic or necrotic focus is not fat
        (None, False, "confirm", "The click outside the liver contour"),
        (None, None, "ok", ""),
    ],
)
def test_click_rules(hu: float | None, inside: bool | None, status: str, words: str) -> None:
    verdict = judge_click(hu, inside)
    assert verdict.status == status
    assert words in verdict.reason
    assert "§" not in verdict.reason
    assert "[D]" not in verdict.reason


def test_implausible_click_error_says_what_to_do() -> None:
    confirm = ImplausibleClickError(judge_click(-42.0, None))
    assert confirm.needs_confirmation
    assert isinstance(confirm, InvalidInputError)
    assert "confirm to contour anyway" in str(confirm)
    refuse = ImplausibleClickError(judge_click(-900.0, None))
    assert not refuse.needs_confirmation
    assert "click on the tissue of the focus" in str(refuse)


def test_click_hu_is_the_median_of_a_small_ball() -> None:
    voxels = np.full((10, 20, 20), 60.0, dtype=np.float32)
    voxels[5, 10, 10] = -1000.0  # one noisy voxel does not decide
    assert click_hu(voxels, AFFINE, (10.0, 10.0, 10.0)) == 60.0
    voxels[:, :, :12] = -42.0
    assert click_hu(voxels, AFFINE, (5.0, 10.0, 10.0)) == -42.0
    with pytest.raises(InvalidInputError, match="outside the volume"):
        click_hu(voxels, AFFINE, (500.0, 0.0, 0.0))


def test_a_contour_inside_the_liver_does_not_leak() -> None:
    liver = np.zeros((10, 40, 40), dtype=bool)
    liver[:, 5:35, 5:35] = True
    focus = np.zeros_like(liver)
    focus[3:7, 15:25, 15:25] = True
    report = describe_leak(focus, liver, AFFINE)
    assert report.outside_fraction == 0.0
    assert report.message == ""


def test_a_leak_is_named_with_its_direction_and_the_gesture_that_fixes_it() -> None:
    liver = np.zeros((10, 40, 40), dtype=bool)
    liver[:, :, :20] = True  # the liver is on the patient's right (low x = right in LPS)
    focus = np.zeros_like(liver)
    focus[4:6, 15:25, 12:32] = True  # 8 columns inside, 12 outside towards the left
    report = describe_leak(focus, liver, AFFINE)
    assert report.outside_fraction == pytest.approx(12 / 20)
    assert report.direction == "the patient's left"
    assert report.message.startswith("The contour leaks outside the liver towards the patient's")
    assert "60 %" in report.message
    assert report.message.endswith("Shift-click in the leak to exclude it.")


def test_a_small_spill_is_not_a_leak_and_no_liver_means_no_judgement() -> None:
    liver = np.zeros((10, 40, 40), dtype=bool)
    liver[:, :, :30] = True
    focus = np.zeros_like(liver)
    focus[2:8, 10:30, 10:31] = True  # 1 column of 21 outside: < 5 %
    assert describe_leak(focus, liver, AFFINE).message == ""
    none = describe_leak(focus, None, AFFINE)
    assert none.outside_fraction is None
    assert none.message == ""


def test_reaching_the_size_limit_is_reported() -> None:
    focus = np.zeros((10, 120, 120), dtype=bool)
    focus[5, 10:110, 60] = True  # 100 mm long through the click at y = 60
    assert reaches_distance(focus, AFFINE, (60.0, 60.0, 10.0), 50.0)
    assert not reaches_distance(focus, AFFINE, (60.0, 60.0, 10.0), 60.0)
    report = describe_leak(focus, None, AFFINE, reaches_limit=True, limit_mm=50.0)
    assert "size limit (50 mm from the click)" in report.message
    assert report.message.endswith("Shift-click in the leak to exclude it.")


def test_a_contour_wholly_outside_the_liver_is_not_called_a_leak() -> None:
    liver = np.zeros((10, 40, 40), dtype=bool)
    liver[:, :, :10] = True
    focus = np.zeros_like(liver)
    focus[4:6, 15:25, 20:30] = True
    report = describe_leak(focus, liver, AFFINE)
    assert report.outside_fraction == 1.0
    assert report.message.startswith("The contour lies entirely outside the liver contour")
    assert report.message.endswith("undo it, or correct the liver contour.")


def test_a_click_at_the_parenchymas_level_is_asked_about() -> None:
    verdict = judge_parenchyma(108.6, 111.2)
    assert verdict.status == "confirm"
    assert verdict.reason == (
        "109 HU: the level of the liver parenchyma (median 111 HU inside the liver contour), "
        "not a visible focus"
    )
    assert verdict.question.endswith("not a visible focus — contour anyway?")
    assert judge_parenchyma(-3.0, 2.0).reason.startswith("−3 HU: ")
