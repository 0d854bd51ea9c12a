"""Cohort summaries and two-group tests computed exactly as R 4.2 computes them.

Every function takes plain sequences of numbers and returns a frozen result with the
numbers and an :class:`~tace_planner.domain.explanation.Explanation` naming the test
and why it was chosen. The R function each one reproduces is named in its docstring;
``tests/data/r_reference/make_reference.R`` computes the same statistics in R and the
tests compare at 1e-9 relative tolerance. Kaplan–Meier and log-rank are in
:mod:`tace_planner.domain.survival`, doubling time in :mod:`tace_planner.domain.growth`.

scipy is imported inside the functions so that importing the domain stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.shapiro import shapiro_wilk_w

R_VERSION_MATCHED = "R 4.2.2 (stats), survival 3.5"
"""The R version whose defaults these functions reproduce (checked by the tests)."""

EXACT_LIMIT = 50
"""``wilcox.test`` computes the exact p only when both groups have fewer values."""

NORMALITY_ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    """Median [Q1; Q3] of one group (R ``quantile(x, type = 7)``)."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None
    explanation: Explanation

    def text(self, digits: int = 1) -> str:
        """``Me [Q1; Q3]`` as printed in the source's tables, ``—`` for an empty group."""
        if self.median is None or self.q1 is None or self.q3 is None:
            return "—"
        return f"{self.median:.{digits}f} [{self.q1:.{digits}f}; {self.q3:.{digits}f}]"


@dataclass(frozen=True)
class TestResult:
    """One hypothesis test: its name, statistic, degrees of freedom and p value.

    ``p`` is None when the test is undefined on the data (e.g. every value tied);
    the explanation says why.
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic_name: str
    statistic: float | None
    p: float | None
    explanation: Explanation
    df: float | None = None
    method: str = ""


@dataclass(frozen=True)
class Regression:
    """Simple linear regression y = intercept + slope·x (R ``summary(lm(y ~ x))``)."""

    n: int
    slope: float
    intercept: float
    r2: float
    p: float | None
    explanation: Explanation


def _values(values: Sequence[float], field: str, minimum: int = 1) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise InvalidInputError(field, "give a flat list of numbers")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(field, "every value must be a finite number (drop missing ones)")
    if array.size < minimum:
        raise InvalidInputError(field, f"needs at least {minimum} value(s), got {array.size}")
    return array


def describe(values: Sequence[float], field: str = "values") -> Summary:
    """Median, first and third quartile as R's default ``quantile`` (type 7).

    Notes
    -----
    Type 7 (Hyndman & Fan, Am Stat 1996) interpolates linearly between order
    statistics at position 1 + (n − 1)·p; numpy's default ``linear`` method is the same.
    """
    array = _values(values, field, minimum=0)
    formula = "Q(p) = x[j] + (h − j)·(x[j+1] − x[j]), h = 1 + (n − 1)·p (R quantile type 7)"
    if array.size == 0:
        return Summary(0, None, None, None, Explanation("No values", formula, {"n": "0"}))
    q1, median, q3 = (float(v) for v in np.quantile(array, [0.25, 0.5, 0.75]))
    explanation = Explanation(
        "Median [Q1; Q3]",
        formula,
        {"n": str(array.size)},
        f"{median:.6g} [{q1:.6g}; {q3:.6g}]",
        "R stats::quantile, type 7 (Hyndman & Fan 1996)",
    )
    return Summary(int(array.size), median, q1, q3, explanation)


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> TestResult:
    """Two-sided Mann–Whitney U test as R's ``wilcox.test(x, y)`` with its defaults.

    W is U of the first group: the number of pairs (xᵢ, yⱼ) with xᵢ > yⱼ, ties counted
    one half. The p value is exact when both groups have fewer than 50 values and no
    value is tied; otherwise it is the normal approximation with R's tie correction of
    the variance and a continuity correction of 0.5 towards the mean. scipy's own
    default switches to the approximation already above 8 values per group, so it is
    not used: on 10 against 10 values without ties with W = 24, R (and this function)
    give p = 0.052426, scipy's default 0.053903.
    """
    from scipy import stats

    a, b = _values(x, "first group"), _values(y, "second group")
    nx, ny = a.size, b.size
    ranks = stats.rankdata(np.concatenate([a, b]))
    w = float(ranks[:nx].sum() - nx * (nx + 1) / 2)
    _, tie_counts = np.unique(ranks, return_counts=True)
    ties = bool(np.any(tie_counts > 1))
    inputs = {"n_x": str(nx), "n_y": str(ny), "W": f"{w:g}", "ties": "yes" if ties else "no"}
    source = (
        "Mann and Whitney, Ann Math Stat 1947, computed as R 4.2 does (exact p below 50 "
        "values per group without ties, else normal approximation with continuity correction)"
    )
    if nx < EXACT_LIMIT and ny < EXACT_LIMIT and not ties:
        p = float(stats.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue)
        p = min(p, 1.0)
        why = "exact distribution of W: both groups < 50 values and no ties"
        return TestResult(
            "Mann–Whitney U",
            "W",
            w,
            p,
            Explanation(
                f"Mann–Whitney U test, {why}",
                "p = 2·P(W ≤ w) (smaller tail)",
                inputs,
                f"W = {w:g}, p = {p:.6g}",
                source,
            ),
            method="exact",
        )
    n = nx + ny
    tie_term = float(np.sum(tie_counts.astype(float) ** 3 - tie_counts)) / (n * (n - 1))
    sigma = math.sqrt(nx * ny / 12 * ((n + 1) - tie_term))
    z = w - nx * ny / 2
    why = "normal approximation with continuity correction: " + (
        "tied values" if ties else "a group has 50 values or more"
    )
    formula = "z = (W − nₓn_y/2 − sign·0.5) / σ, σ² = nₓn_y/12·(n + 1 − Σ(t³ − t)/(n(n − 1)))"
    if sigma == 0:
        explanation = Explanation(
            "Mann–Whitney U test undefined: every value is tied", formula, inputs, "p = NA", source
        )
        return TestResult("Mann–Whitney U", "W", w, None, explanation, method="normal")
    z = (z - math.copysign(0.5, z) if z != 0 else 0.0) / sigma
    p = float(2 * min(stats.norm.cdf(z), stats.norm.sf(z)))
    inputs["z"] = f"{z:.6g}"
    return TestResult(
        "Mann–Whitney U",
        "W",
        w,
        p,
        Explanation(
            f"Mann–Whitney U test, {why}", formula, inputs, f"W = {w:g}, p = {p:.6g}", source
        ),
        method="normal",
    )


def kruskal_wallis(groups: Mapping[str, Sequence[float]]) -> TestResult:
    """Kruskal–Wallis rank sum test as R's ``kruskal.test`` (tie-corrected H, χ² df k − 1)."""
    from scipy import stats

    arrays = {name: _values(v, f"group {name}") for name, v in groups.items()}
    if len(arrays) < 2:
        raise InvalidInputError("groups", "Kruskal–Wallis needs at least two groups")
    k = len(arrays)
    inputs = {f"n[{name}]": str(a.size) for name, a in arrays.items()}
    source = "Kruskal and Wallis, J Am Stat Assoc 1952, computed as R 4.2 does (tie-corrected)"
    formula = "H = (12/(n(n+1))·Σ Rᵢ²/nᵢ − 3(n+1)) / (1 − Σ(t³ − t)/(n³ − n)), χ² with k − 1 df"
    pooled = np.concatenate(list(arrays.values()))
    if np.all(pooled == pooled[0]):
        explanation = Explanation(
            "Kruskal–Wallis test undefined: every value is tied", formula, inputs, "p = NA", source
        )
        return TestResult("Kruskal–Wallis", "H", None, None, explanation, df=k - 1)
    result = stats.kruskal(*arrays.values())
    h, p = float(result.statistic), float(result.pvalue)
    explanation = Explanation(
        f"Kruskal–Wallis rank sum test across {k} groups (non-parametric)",
        formula,
        inputs,
        f"H = {h:.6g}, df = {k - 1}, p = {p:.6g}",
        source,
    )
    return TestResult("Kruskal–Wallis", "H", h, p, explanation, df=k - 1, method="chi-squared")


def shapiro_wilk(values: Sequence[float], field: str = "values") -> TestResult:
    """Shapiro–Wilk normality test as R's ``shapiro.test`` (Royston's algorithm AS R94).

    Computed in double precision by :mod:`tace_planner.domain.shapiro`: scipy's
    ``shapiro`` uses single-precision coefficients and misses R's p by up to ~1e-8.
    """
    array = _values(values, field, minimum=3)
    if array.size > 5000:
        raise InvalidInputError(field, "Shapiro–Wilk is defined for 3 to 5000 values")
    if np.all(array == array[0]):
        raise InvalidInputError(field, "all values are identical; normality cannot be tested")
    w, p = shapiro_wilk_w(array.tolist())
    verdict = "normality rejected" if p < NORMALITY_ALPHA else "normality not rejected"
    explanation = Explanation(
        f"Shapiro–Wilk test: {verdict} at α = {NORMALITY_ALPHA}",
        "W = (Σ aᵢ x₍ᵢ₎)² / Σ (xᵢ − x̄)² (Royston 1995, AS R94)",
        {"n": str(array.size)},
        f"W = {w:.6g}, p = {p:.6g}",
        "R stats::shapiro.test",
    )
    return TestResult("Shapiro–Wilk", "W", w, p, explanation)


def linear_regression(x: Sequence[float], y: Sequence[float]) -> Regression:
    """Least-squares line y = a + b·x with R², slope and its p as ``summary(lm(y ~ x))``.

    The p value is the two-sided t test of the slope with n − 2 degrees of freedom,
    R² = 1 − RSS / Σ(y − ȳ)².
    """
    from scipy import stats

    xs, ys = _values(x, "x", minimum=3), _values(y, "y", minimum=3)
    if xs.size != ys.size:
        raise InvalidInputError("y", f"has {ys.size} values, x has {xs.size}")
    sxx = float(np.sum((xs - xs.mean()) ** 2))
    if sxx == 0:
        raise InvalidInputError("x", "all values are identical; no slope can be fitted")
    slope = float(np.sum((xs - xs.mean()) * (ys - ys.mean())) / sxx)
    intercept = float(ys.mean() - slope * xs.mean())
    residuals = ys - (intercept + slope * xs)
    rss = float(np.sum(residuals**2))
    tss = float(np.sum((ys - ys.mean()) ** 2))
    r2 = 1.0 - rss / tss if tss > 0 else 1.0
    df = xs.size - 2
    se = math.sqrt(rss / df / sxx)
    p = float(2 * stats.t.sf(abs(slope / se), df)) if se > 0 else 0.0
    explanation = Explanation(
        "Simple linear regression (least squares), t test of the slope",
        "y = a + b·x; R² = 1 − RSS/TSS; t = b / (√(RSS/(n − 2)) / √Sxx)",
        {"n": str(xs.size)},
        f"slope = {slope:.6g}, R² = {r2:.6g}, p = {p:.6g}",
        "R stats::lm, summary.lm",
    )
    return Regression(int(xs.size), slope, intercept, r2, p, explanation)


def _table(table: Sequence[Sequence[float]], field: str) -> np.ndarray:
    array = np.asarray(table, dtype=float)
    if array.ndim != 2 or min(array.shape) < 2:
        raise InvalidInputError(field, "give a table of counts with at least 2 rows and 2 columns")
    if np.any(array < 0) or np.any(array != np.round(array)):
        raise InvalidInputError(field, "counts must be whole numbers ≥ 0")
    return array


FISHER_MAX_TABLES = 2_000_000
"""Beyond this many tables with the observed margins the exact test is refused (use χ²)."""


def fisher_exact(table: Sequence[Sequence[int]]) -> TestResult:
    """Two-sided Fisher exact test of a 2 × k (or k × 2) table as R's ``fisher.test``.

    The p value sums the probabilities, conditional on the margins, of every table that
    is no more probable than the observed one, with R's relative tolerance of 1e-7 so
    that equally probable tables are counted. Given the margins, a 2 × k table is fixed
    by its first row, whose probability is Π C(c_j, x_j) / C(N, r_1) (multivariate
    hypergeometric); every first row is enumerated.

    Raises
    ------
    InvalidInputError
        Neither dimension is 2, or more than :data:`FISHER_MAX_TABLES` tables share the
        margins.
    """
    from scipy import special

    counts = _table(table, "table").astype(int)
    if counts.shape[0] != 2 and counts.shape[1] == 2:
        counts = counts.T
    if counts.shape[0] != 2 or counts.shape[1] < 2:
        raise InvalidInputError("table", "the Fisher exact test here takes a 2 × k table")
    columns = counts.sum(axis=0)
    first = int(counts[0].sum())
    # every first row (x_1 … x_k), 0 ≤ x_j ≤ c_j, Σ x_j = r_1, with its log probability
    rows = np.zeros((1, 0), dtype=int)
    sums = np.zeros(1, dtype=int)
    for j, c in enumerate(columns):
        remaining = int(columns[j + 1 :].sum())
        x = np.arange(int(c) + 1)
        new_sums = (sums[:, None] + x[None, :]).ravel()
        keep = (new_sums <= first) & (new_sums + remaining >= first)
        if int(keep.sum()) > FISHER_MAX_TABLES:
            raise InvalidInputError(
                "table", f"more than {FISHER_MAX_TABLES} tables share the margins"
            )
        rows = np.hstack([np.repeat(rows, x.size, axis=0), np.tile(x, rows.shape[0])[:, None]])[
            keep
        ]
        sums = new_sums[keep]
    log_c = special.gammaln(columns + 1)
    log_p = np.sum(log_c - special.gammaln(rows + 1) - special.gammaln(columns - rows + 1), axis=1)
    observed = float(
        np.sum(log_c - special.gammaln(counts[0] + 1) - special.gammaln(counts[1] + 1))
    )
    d = np.exp(log_p - log_p.max())
    d_obs = math.exp(observed - float(log_p.max()))
    p = float(min(1.0, d[d <= d_obs * (1 + 1e-7)].sum() / d.sum()))
    explanation = Explanation(
        "Fisher exact test (two-sided), conditional on the margins",
        "p = Σ P(table) over tables with P ≤ P(observed)·(1 + 10⁻⁷)",
        {"table": str(counts.tolist())},
        f"p = {p:.6g}",
        "R stats::fisher.test",
    )
    return TestResult("Fisher exact", "", None, p, explanation, method="exact")


def chi_squared(table: Sequence[Sequence[int]]) -> TestResult:
    """Pearson's χ² test of independence as R's ``chisq.test`` (Yates correction on 2×2)."""
    from scipy import stats

    counts = _table(table, "table")
    total = counts.sum()
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / total
    if np.any(expected == 0):
        raise InvalidInputError("table", "a row or column sums to zero")
    yates = counts.shape == (2, 2)
    correction = float(min(0.5, np.min(np.abs(counts - expected)))) if yates else 0.0
    statistic = float(np.sum((np.abs(counts - expected) - correction) ** 2 / expected))
    df = (counts.shape[0] - 1) * (counts.shape[1] - 1)
    p = float(stats.chi2.sf(statistic, df))
    note = "; expected count < 5: the approximation may be incorrect" if expected.min() < 5 else ""
    explanation = Explanation(
        "Pearson χ² test" + (" with Yates continuity correction" if yates else "") + note,
        "χ² = Σ (|O − E| − c)² / E, c = min(0.5, min|O − E|) on 2×2 else 0",
        {"table": str(counts.astype(int).tolist()), "df": str(df)},
        f"χ² = {statistic:.6g}, p = {p:.6g}",
        "R stats::chisq.test (correct = TRUE)",
    )
    method = "Yates" if yates else "Pearson"
    return TestResult("Pearson χ²", "X-squared", statistic, p, explanation, df=df, method=method)


def compare_groups(groups: Mapping[str, Sequence[float]]) -> TestResult:
    """The source's non-parametric comparison: Mann–Whitney for 2 groups, else Kruskal–Wallis.

    Shapiro–Wilk is run on each group with 3 or more values; its result is written into
    the explanation as the reason for a rank test (the source study used rank tests
    throughout because its variables were not normally distributed).
    """
    usable = {name: list(values) for name, values in groups.items() if len(values) > 0}
    if len(usable) < 2:
        raise InvalidInputError("groups", "needs at least two groups with values")
    if len(usable) == 2:
        (_, x), (_, y) = usable.items()
        result = mann_whitney(x, y)
    else:
        result = kruskal_wallis(usable)
    reasons, rejected = [], False
    for name, values in usable.items():
        try:
            sw = shapiro_wilk(values, f"group {name}")
        except InvalidInputError:
            reasons.append(f"{name}: not testable (n = {len(values)} or all values equal)")
            continue
        if sw.p is None or sw.statistic is None:  # Shapiro–Wilk always gives both
            continue
        rejected = rejected or sw.p < NORMALITY_ALPHA
        reasons.append(f"{name}: W = {sw.statistic:.3f}, p = {sw.p:.3g}")
    why = (
        "normality rejected by Shapiro–Wilk (p < 0.05) in at least one group → rank test"
        if rejected
        else "normality not rejected, rank test kept as in the source study (small groups)"
    )
    explanation = Explanation(
        f"{result.explanation.summary}; {why}",
        result.explanation.formula,
        {**result.explanation.inputs, "Shapiro–Wilk": "; ".join(reasons)},
        result.explanation.result,
        result.explanation.source,
    )
    return TestResult(
        result.test,
        result.statistic_name,
        result.statistic,
        result.p,
        explanation,
        df=result.df,
        method=result.method,
    )
