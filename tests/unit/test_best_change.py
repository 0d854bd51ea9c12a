"""The waterfall's best change per case, from a case course built by hand.

The sum of diameters is the RECIST 1.1 sum of the target-lesion diameters (Eisenhauer et
al., Eur J Cancer 2009): the sum the −30 % / +20 % guide lines of the waterfall apply to.
"""

from __future__ import annotations

import pytest

from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.propagation import CaseCourse, LesionCourse, best_change


def _lesion(name: str, diameters, volumes, *, target: bool = True) -> LesionCourse:
    return LesionCourse(1, name, tuple(diameters), tuple(volumes), (), (), is_target=target)


def _course(*lesions: LesionCourse) -> CaseCourse:
    points = tuple(TimepointChoice(n, f"t{n}", "baseline" if n == 0 else "follow_up")
                   for n in range(3))  # fmt: skip
    return CaseCourse(7, points, (0, 60, 150), lesions)


def test_best_change_is_the_lowest_sum_over_complete_follow_ups() -> None:
    course = _course(
        _lesion("F1", (50.0, 30.0, 40.0), (20.0, 8.0, 12.0)),
        _lesion("F2", (50.0, 40.0, 0.0), (10.0, 6.0, 0.0)),  # disappeared at t2
    )
    best = best_change(course, "case 7")
    # sums 100 → 70 → 40 mm; volumes 30 → 14 → 12 cm³
    assert best.diameter_sum_percent == pytest.approx(-60.0)
    assert best.volume_percent == pytest.approx(-60.0)


def test_a_follow_up_missing_a_baseline_focus_does_not_count() -> None:
    course = _course(
        _lesion("F1", (50.0, 30.0, 20.0), (20.0, 8.0, 4.0)),
        _lesion("F2", (50.0, 60.0, None), (10.0, 12.0, None)),
    )
    best = best_change(course)
    assert best.diameter_sum_percent == pytest.approx(-10.0)  # only t1: 90 mm
    assert best.volume_percent == pytest.approx(-33.333, abs=0.01)


def test_no_follow_up_gives_no_change() -> None:
    course = _course(_lesion("F1", (50.0, None, None), (20.0, None, None)))
    best = best_change(course)
    assert best.diameter_sum_percent is None
    assert best.volume_percent is None


def test_the_sum_of_diameters_is_the_recist_sum_of_the_targets_alone() -> None:
    # two targets 50 + 39.7 = 89.7 mm → 40 + 32 = 72 mm (−19.7 %); a non-target focus
    # that shrank more (20 → 10 mm) does not enter the sum the RECIST lines apply to
    course = _course(
        _lesion("F1", (50.0, 40.0, 45.0), (20.0, 8.0, 9.0)),
        _lesion("F2", (39.7, 32.0, 36.0), (10.0, 6.0, 7.0)),
        _lesion("F3", (20.0, 10.0, 12.0), (4.0, 0.5, 0.6), target=False),
    )
    best = best_change(course)
    assert best.diameter_sum_percent == pytest.approx(100.0 * (72.0 / 89.7 - 1.0))
    assert course.sums_of_diameters_mm == pytest.approx((89.7, 72.0, 81.0))
    # the volume stays the total of every baseline focus: 34 → 14.5 cm³
    assert best.volume_percent == pytest.approx(100.0 * (14.5 / 34.0 - 1.0))


def test_no_target_lesion_gives_no_sum_of_diameters() -> None:
    course = _course(_lesion("F1", (50.0, 30.0, 20.0), (20.0, 8.0, 4.0), target=False))
    best = best_change(course)
    assert best.diameter_sum_percent is None  # no bar against the RECIST lines
    assert best.volume_percent == pytest.approx(-80.0)
    assert course.sums_of_diameters_mm == (None, None, None)
