"""Doubling time and specific growth rate (Schwartz 1961; Mehrara 2007)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tace_planner.domain.growth import volume_growth


def test_a_volume_that_doubles_in_30_days_has_dt_30() -> None:
    result = volume_growth(10.0, 20.0, 30.0)
    assert result.flag == "growing"
    assert result.doubling_time_days == pytest.approx(30.0, rel=1e-12)
    assert result.sgr_per_day == pytest.approx(math.log(2) / 30, rel=1e-12)
    assert result.sgr_percent_per_day == pytest.approx(100 * math.log(2) / 30, rel=1e-12)


def test_shrinking_gives_a_negative_dt_and_says_so() -> None:
    result = volume_growth(40.0, 10.0, 60.0)  # two halvings in 60 days
    assert result.flag == "shrinking"
    assert result.doubling_time_days == pytest.approx(-30.0, rel=1e-12)
    assert result.sgr_per_day < 0
    assert "shrank" in result.explanation.summary


def test_no_change_leaves_dt_undefined_and_sgr_zero() -> None:
    result = volume_growth(15.0, 15.0, 56.0)
    assert result.flag == "no_change"
    assert result.doubling_time_days is None
    assert result.sgr_per_day == 0.0
    assert "undefined" in result.explanation.summary


@pytest.mark.parametrize(
    ("v0", "v1", "days", "reason"),
    [
        (0.0, 5.0, 30.0, "volumes"),
        (5.0, -1.0, 30.0, "volumes"),
        (5.0, 6.0, 0.0, "Δt"),
        (5.0, math.nan, 30.0, "finite"),
    ],
)
def test_impossible_inputs_are_flagged_not_raised(v0, v1, days, reason) -> None:
    result = volume_growth(v0, v1, days)
    assert result.flag == "invalid"
    assert result.doubling_time_days is None
    assert result.sgr_per_day is None
    assert reason in result.explanation.summary


@given(st.floats(0.1, 5000), st.floats(0.1, 5000), st.floats(1, 2000))
def test_dt_is_ln2_over_sgr_whenever_defined(v0: float, v1: float, days: float) -> None:
    result = volume_growth(v0, v1, days)
    if result.doubling_time_days is None:
        assert result.flag == "no_change"
        return
    assert result.doubling_time_days * result.sgr_per_day == pytest.approx(math.log(2))
    assert (result.doubling_time_days > 0) == (v1 > v0)
