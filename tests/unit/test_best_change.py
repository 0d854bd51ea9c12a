"""The waterfall's best change per case, from a case course built by hand."""

from __future__ import annotations

import pytest

from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.propagation import CaseCourse, LesionCourse, best_change


def _lesion(name: str, diameters, volumes) -> LesionCourse:
    return LesionCourse(1, name, tuple(diameters), tuple(volumes), (), ())


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
