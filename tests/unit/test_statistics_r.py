"""The cohort statistics equal R 4.2's on the committed reference data sets.

The numbers come from tests/data/r_reference/make_reference.R (R 4.2.2, survival 3.5),
written to reference.csv with 17 significant digits; compared at 1e-9 relative.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_h

from r_reference import assert_equal_to_r, read_reference, rows, samples, table
from tace_planner.domain import statistics as st

REFERENCE = read_reference()
SAMPLES = samples()


def test_reference_was_computed_with_r_4_2() -> None:
    assert REFERENCE["R.version.string"].startswith("R version 4.2.")
    assert REFERENCE["survival.version"].startswith("3.")


@pytest.mark.parametrize(
    ("dataset", "group"),
    [(ds, g) for ds, groups in SAMPLES.items() for g in groups],
)
def test_median_and_quartiles_are_quantile_type_7(dataset: str, group: str) -> None:
    summary = st.describe(SAMPLES[dataset][group])
    prefix = f"quantile.{dataset}.{group}"
    assert summary.n == int(REFERENCE[f"{prefix}.n"])
    assert_equal_to_r(summary.median, REFERENCE, f"{prefix}.median")
    assert_equal_to_r(summary.q1, REFERENCE, f"{prefix}.q1")
    assert_equal_to_r(summary.q3, REFERENCE, f"{prefix}.q3")


@pytest.mark.parametrize(
    ("dataset", "method"),
    [
        ("mw_exact", "exact"),
        ("mw_ties", "normal"),
        ("mw_large", "normal"),
        ("mw_b49", "exact"),  # 49 values: still exact in R
        ("mw_b50", "normal"),  # 50 values: normal approximation in R
    ],
)
def test_mann_whitney_equals_wilcox_test(dataset: str, method: str) -> None:
    result = st.mann_whitney(SAMPLES[dataset]["A"], SAMPLES[dataset]["B"])
    assert result.method == method
    assert_equal_to_r(result.statistic, REFERENCE, f"wilcox.{dataset}.W")
    assert_equal_to_r(result.p, REFERENCE, f"wilcox.{dataset}.p")
    r_method = REFERENCE[f"wilcox.{dataset}.method"]
    assert ("exact" in r_method) == (method == "exact")


def test_mann_whitney_10_vs_10_without_ties_is_exact_where_scipy_default_is_not() -> None:
    from scipy import stats

    x, y = SAMPLES["mw_exact"]["A"], SAMPLES["mw_exact"]["B"]
    ours = st.mann_whitney(x, y)
    scipy_default = stats.mannwhitneyu(x, y).pvalue
    assert round(ours.p, 6) == 0.052426  # R: wilcox.test(x, y)$p.value
    assert round(scipy_default, 6) == 0.053903
    assert "exact" in ours.explanation.summary


def test_mann_whitney_w_is_u_of_the_first_group() -> None:
    x, y = SAMPLES["mw_exact"]["A"], SAMPLES["mw_exact"]["B"]
    forward, backward = st.mann_whitney(x, y), st.mann_whitney(y, x)
    assert forward.statistic == 24
    assert backward.statistic == len(x) * len(y) - 24
    assert forward.p == pytest.approx(backward.p, rel=1e-12)


def test_mann_whitney_with_every_value_tied_has_no_p() -> None:
    result = st.mann_whitney([3.0, 3.0, 3.0], [3.0, 3.0])
    assert result.p is None
    assert "tied" in result.explanation.summary


def test_kruskal_wallis_equals_kruskal_test() -> None:
    result = st.kruskal_wallis(SAMPLES["kw3"])
    assert_equal_to_r(result.statistic, REFERENCE, "kruskal.kw3.H")
    assert_equal_to_r(result.df, REFERENCE, "kruskal.kw3.df")
    assert_equal_to_r(result.p, REFERENCE, "kruskal.kw3.p")


@pytest.mark.parametrize("dataset", ["sw_normal", "sw_skewed", "sw_three", "sw_sixty"])
def test_shapiro_wilk_equals_shapiro_test(dataset: str) -> None:
    result = st.shapiro_wilk(SAMPLES[dataset]["A"])
    assert_equal_to_r(result.statistic, REFERENCE, f"shapiro.{dataset}.W")
    assert_equal_to_r(result.p, REFERENCE, f"shapiro.{dataset}.p")


def test_shapiro_wilk_refuses_identical_values_and_too_few() -> None:
    with pytest.raises(st.InvalidInputError, match="identical"):
        st.shapiro_wilk([2.0, 2.0, 2.0])
    with pytest.raises(st.InvalidInputError, match="at least 3"):
        st.shapiro_wilk([1.0, 2.0])


@pytest.mark.parametrize("dataset", ["lm_noisy", "lm_small"])
def test_linear_regression_equals_lm(dataset: str) -> None:
    data = rows("regression", dataset)
    fit = st.linear_regression([float(r["x"]) for r in data], [float(r["y"]) for r in data])
    prefix = f"lm.{dataset}"
    assert fit.n == int(REFERENCE[f"{prefix}.n"])
    for name in ("slope", "intercept", "r2", "p"):
        assert_equal_to_r(getattr(fit, name), REFERENCE, f"{prefix}.{name}")


@pytest.mark.parametrize(
    "dataset",
    ["fisher_a", "fisher_b", "fisher_c", "fisher_d", "chisq_2x2", "chisq_2x2_small",
     "chisq_2x3", "fisher_2x3", "fisher_2x4", "fisher_3x2"],
)  # fmt: skip
def test_fisher_exact_equals_fisher_test(dataset: str) -> None:
    result = st.fisher_exact(table(dataset))
    assert_equal_to_r(result.p, REFERENCE, f"fisher.{dataset}.p")


@pytest.mark.parametrize(
    "dataset",
    ["fisher_a", "fisher_b", "fisher_c", "fisher_d", "chisq_2x2", "chisq_2x2_small", "chisq_2x3"],
)
def test_chi_squared_equals_chisq_test(dataset: str) -> None:
    result = st.chi_squared(table(dataset))
    assert_equal_to_r(result.statistic, REFERENCE, f"chisq.{dataset}.X2")
    assert_equal_to_r(result.df, REFERENCE, f"chisq.{dataset}.df")
    assert_equal_to_r(result.p, REFERENCE, f"chisq.{dataset}.p")
    assert result.method == ("Yates" if dataset != "chisq_2x3" else "Pearson")


def test_fisher_exact_refuses_a_table_without_a_dimension_of_two() -> None:
    with pytest.raises(st.InvalidInputError, match="2 × k"):
        st.fisher_exact([[1, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_compare_groups_names_the_test_and_why() -> None:
    two = st.compare_groups({"A": SAMPLES["mw_ties"]["A"], "B": SAMPLES["mw_ties"]["B"]})
    assert two.test == "Mann–Whitney U"
    assert_equal_to_r(two.p, REFERENCE, "wilcox.mw_ties.p")
    three = st.compare_groups(SAMPLES["kw3"])
    assert three.test == "Kruskal–Wallis"
    assert_equal_to_r(three.p, REFERENCE, "kruskal.kw3.p")
    assert "Shapiro–Wilk" in three.explanation.inputs
    skewed = st.compare_groups({"A": SAMPLES["sw_skewed"]["A"], "B": SAMPLES["sw_normal"]["A"]})
    assert "normality rejected" in skewed.explanation.summary


@settings(max_examples=60, deadline=None)
@given(
    st_h.lists(st_h.integers(0, 10_000), min_size=2, max_size=12, unique=True),
    st_h.integers(1, 6),
)
def test_exact_mann_whitney_p_equals_counting_every_split(values: list[int], nx: int) -> None:
    # Without ties the exact null distribution of W is that of every way to pick the
    # first group's ranks; the two-sided p doubles the smaller tail, as wilcox.test does.
    from itertools import combinations

    nx = min(nx, len(values) - 1)
    x, y = values[:nx], values[nx:]
    w_obs = sum(a > b for a in x for b in y)
    ws = [
        sum(a > b for a in chosen for b in set(values) - set(chosen))
        for chosen in combinations(values, nx)
    ]
    lower = sum(w <= w_obs for w in ws) / len(ws)
    upper = sum(w >= w_obs for w in ws) / len(ws)
    expected = min(1.0, 2 * (upper if w_obs > nx * len(y) / 2 else lower))
    result = st.mann_whitney([float(v) for v in x], [float(v) for v in y])
    assert result.method == "exact"
    assert result.statistic == w_obs
    assert result.p == pytest.approx(expected, rel=1e-12)
