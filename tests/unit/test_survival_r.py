"""Kaplan–Meier and log-rank equal survival::survfit / survdiff (R 4.2.2, survival 3.5)."""

from __future__ import annotations

import pytest

from r_reference import assert_equal_to_r, read_reference, rows
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.survival import kaplan_meier, log_rank

REFERENCE = read_reference()
KM_DATASETS = [
    "km_plateau",
    "km_censored",
    "km_plateau_censor",
    "km_many",
    "km_no_median",
    "km_ties_zero",  # an event and a censoring at time 0, tied events and censorings
]


def _data(dataset: str) -> tuple[list[float], list[int], list[str]]:
    data = rows("survival", dataset)
    return (
        [float(r["time"]) for r in data],
        [int(r["event"]) for r in data],
        [r["group"] for r in data],
    )


@pytest.mark.parametrize("dataset", KM_DATASETS)
def test_kaplan_meier_curve_and_log_interval_equal_survfit(dataset: str) -> None:
    time, event, _ = _data(dataset)
    fit = kaplan_meier(time, event)
    prefix = f"km.{dataset}"
    assert len(fit.time) == int(REFERENCE[f"{prefix}.points"])
    for i in range(len(fit.time)):
        point = f"{prefix}.{i + 1}"
        assert_equal_to_r(fit.time[i], REFERENCE, f"{point}.time")
        assert fit.n_risk[i] == int(REFERENCE[f"{point}.n.risk"])
        assert fit.n_event[i] == int(REFERENCE[f"{point}.n.event"])
        assert_equal_to_r(fit.survival[i], REFERENCE, f"{point}.surv")
        if fit.survival[i] > 0:  # R's std.err is Inf/NaN once S = 0; the band is NA there
            assert_equal_to_r(fit.std_err[i], REFERENCE, f"{point}.std.err")
        assert_equal_to_r(fit.lower[i], REFERENCE, f"{point}.lower")
        assert_equal_to_r(fit.upper[i], REFERENCE, f"{point}.upper")


@pytest.mark.parametrize("dataset", KM_DATASETS)
def test_median_and_its_interval_equal_quantile_survfit(dataset: str) -> None:
    time, event, _ = _data(dataset)
    fit = kaplan_meier(time, event)
    prefix = f"km.{dataset}"
    assert_equal_to_r(fit.median, REFERENCE, f"{prefix}.median")
    assert_equal_to_r(fit.median, REFERENCE, f"{prefix}.table_median")
    assert_equal_to_r(fit.median_lower, REFERENCE, f"{prefix}.lower")
    assert_equal_to_r(fit.median_upper, REFERENCE, f"{prefix}.upper")


def test_exact_half_plateau_gives_the_midpoint() -> None:
    # Times 1…6, all events: S = 0.5 on [3, 4); survfit says 3.5 (lifelines: 4.0).
    fit = kaplan_meier([1, 2, 3, 4, 5, 6], [1] * 6)
    assert fit.median == 3.5
    assert fit.median_lower == 2.0
    assert fit.median_upper is None  # the upper band never drops to 0.5
    assert "plateau" in fit.explanation.formula


def test_median_is_none_when_the_curve_stays_above_half() -> None:
    fit = kaplan_meier([10, 20, 30], [1, 0, 0])
    assert fit.median is None
    assert "NA" in fit.explanation.result


@pytest.mark.parametrize("dataset", ["lr_two", "lr_three"])
def test_log_rank_equals_survdiff(dataset: str) -> None:
    time, event, group = _data(dataset)
    result = log_rank(time, event, group)
    prefix = f"logrank.{dataset}"
    assert_equal_to_r(result.chisq, REFERENCE, f"{prefix}.chisq")
    assert_equal_to_r(result.df, REFERENCE, f"{prefix}.df")
    assert_equal_to_r(result.p, REFERENCE, f"{prefix}.p")
    assert sum(result.observed.values()) == pytest.approx(sum(result.expected.values()))


def test_log_rank_chi_squared_is_the_square_of_scipys_z() -> None:
    from scipy import stats

    time, event, group = _data("lr_two")
    ours = log_rank(time, event, group)
    samples = {
        name: stats.CensoredData.right_censored(
            [t for t, g in zip(time, group, strict=True) if g == name],
            [e == 0 for e, g in zip(event, group, strict=True) if g == name],
        )
        for name in ("early", "late")
    }
    z = stats.logrank(samples["early"], samples["late"]).statistic
    assert ours.chisq == pytest.approx(z**2, rel=1e-9)


@pytest.mark.parametrize(
    ("time", "event", "message"),
    [([1, 2], [1], "one event flag"), ([-1, 2], [1, 1], "≥ 0"), ([1, 2], [1, 2], "0 \\(censored")],
)
def test_bad_survival_data_is_refused_with_the_field(time, event, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        kaplan_meier(time, event)
