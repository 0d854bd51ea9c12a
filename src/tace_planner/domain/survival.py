"""Kaplan–Meier curves with R's default log confidence interval, and the log-rank test.

Reproduces ``survival::survfit(Surv(time, event) ~ 1)`` (survival 3.x defaults:
Greenwood variance, ``conf.type = "log"``, 95 %), its median and median confidence
interval as ``quantile.survfit`` computes them, and ``survival::survdiff`` (ρ = 0).
No Python library offers the "log" interval (scipy: plain and log-log; lifelines:
log-log), and lifelines and statsmodels put the median of a curve with an exact 0.5
plateau at the plateau's end, where survfit takes its midpoint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation

QUANTILE_TOLERANCE = math.sqrt(np.finfo(float).eps)
"""``quantile.survfit``'s tolerance: survival within this of 0.5 counts as exactly 0.5."""


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve at each distinct time (events and censorings), as survfit.

    ``lower``/``upper`` are None where survfit reports NA (survival 0). ``median`` and
    its bounds are None when the curve (or band) never reaches 0.5.
    """

    time: tuple[float, ...]
    n_risk: tuple[int, ...]
    n_event: tuple[int, ...]
    n_censor: tuple[int, ...]
    survival: tuple[float, ...]
    std_err: tuple[float, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]
    n: int
    events: int
    median: float | None
    median_lower: float | None
    median_upper: float | None
    conf_level: float
    explanation: Explanation


@dataclass(frozen=True)
class LogRank:
    """The log-rank test (``survdiff``, ρ = 0): χ², its df and p, observed and expected."""

    chisq: float
    df: int
    p: float | None
    observed: Mapping[str, float]
    expected: Mapping[str, float]
    explanation: Explanation


def _survival_data(time: Sequence[float], event: Sequence[bool | int]) -> tuple[np.ndarray, ...]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    if t.ndim != 1 or t.shape != e.shape:
        raise InvalidInputError("event", "give one event flag (0/1) per time")
    if t.size == 0:
        raise InvalidInputError("time", "needs at least one time")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise InvalidInputError("time", "times must be finite numbers ≥ 0")
    if not np.all(np.isin(e, (0.0, 1.0))):
        raise InvalidInputError("event", "event flags must be 0 (censored) or 1 (event)")
    return t, e.astype(bool)


def kaplan_meier(
    time: Sequence[float], event: Sequence[bool | int], conf_level: float = 0.95
) -> KaplanMeier:
    """Kaplan–Meier estimate with Greenwood's variance and the "log" interval.

    Parameters
    ----------
    time : sequence of float
        Follow-up times (any unit, e.g. days), ≥ 0.
    event : sequence of bool or 0/1
        1 where the time is an event (progression), 0 where it is censored.
    conf_level : float
        Confidence level of the pointwise band and of the median's interval.

    Notes
    -----
    S(t) = Π (1 − dᵢ/nᵢ); se(log S) = √Σ dᵢ/(nᵢ(nᵢ − dᵢ)) (Greenwood); the band is
    S·exp(±z·se) with the upper limit clipped to 1 (survfit ``conf.type = "log"``).
    The median (and each band's crossing, giving the interval) follows
    ``quantile.survfit``: the first time at which 1 − S ≥ 0.5 − tol; when the curve sits
    exactly on 0.5 (within tol = √ε) the midpoint of that plateau is taken.
    """
    from scipy import stats

    t, e = _survival_data(time, event)
    times = np.unique(t)
    n_risk = np.array([(t >= u).sum() for u in times])
    n_event = np.array([(e & (t == u)).sum() for u in times])
    n_censor = np.array([(~e & (t == u)).sum() for u in times])
    surv = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event).astype(float)), 0.0)
    std_err = np.sqrt(np.cumsum(terms))
    z = float(stats.norm.ppf(1 - (1 - conf_level) / 2))
    lower: list[float | None] = []
    upper: list[float | None] = []
    for s, se in zip(surv, std_err, strict=True):
        if s == 0:
            lower.append(None)
            upper.append(None)
        else:
            lower.append(float(math.exp(math.log(s) - z * se)))
            upper.append(float(min(math.exp(math.log(s) + z * se), 1.0)))
    x = [0.0, *map(float, times)]
    median = _first_crossing(x, [0.0, *(1 - surv)])
    median_lower = _first_crossing(x, [0.0, *(None if v is None else 1 - v for v in lower)])
    median_upper = _first_crossing(x, [0.0, *(None if v is None else 1 - v for v in upper)])
    events = int(e.sum())
    ci = f"[{_show(median_lower)}; {_show(median_upper)}]"
    explanation = Explanation(
        f"Kaplan–Meier estimate, Greenwood variance, {conf_level:.0%} log interval",
        "S(t) = Π(1 − d/n); CI = S·exp(±z·√Σ d/(n(n − d))); median: first t with S ≤ 0.5, "
        "midpoint of an exact 0.5 plateau",
        {"n": str(t.size), "events": str(events)},
        f"median {_show(median)}, {conf_level:.0%} CI {ci}",
        'R survival::survfit (conf.type = "log"), quantile.survfit',
    )
    return KaplanMeier(
        time=tuple(float(v) for v in times),
        n_risk=tuple(int(v) for v in n_risk),
        n_event=tuple(int(v) for v in n_event),
        n_censor=tuple(int(v) for v in n_censor),
        survival=tuple(float(v) for v in surv),
        std_err=tuple(float(v) for v in std_err),
        lower=tuple(lower),
        upper=tuple(upper),
        n=int(t.size),
        events=events,
        median=median,
        median_lower=median_lower,
        median_upper=median_upper,
        conf_level=conf_level,
        explanation=explanation,
    )


def _show(value: float | None) -> str:
    return "NA" if value is None else f"{value:.6g}"


def _first_crossing(x: Sequence[float], y: Sequence[float | None], p: float = 0.5) -> float | None:
    """survival's ``findq``: where the cumulative distribution ``y`` (1 − S) reaches ``p``.

    ``x`` starts with the start time (0); ``y`` with 0. None entries are NA (dropped, as
    R's ``approx`` drops them); duplicated values keep their first time.
    """
    tol = QUANTILE_TOLERANCE
    known = [v for v in y if v is not None]
    if not known or max(known) < p:
        return None
    xmax = x[-1]
    xs: list[float] = []
    ys: list[float | None] = []
    seen: set[float | None] = set()
    for xv, yv in zip(x, y, strict=True):
        if yv in seen:
            continue
        seen.add(yv)
        xs.append(xv)
        ys.append(yv)

    def index(shift: float) -> int | None:
        # approx(y + shift, 1:n, p, method = "constant", f = 1): the first point at or
        # above p; NA (None) when p lies outside the range of the known points.
        points = [(v + shift, i) for i, v in enumerate(ys) if v is not None]
        if p < points[0][0] or p > points[-1][0]:
            return None
        return next(i for v, i in points if v >= p)

    first, second = index(tol), index(-tol)
    if first is None:
        return None
    last = ys[-1]
    if last is not None and abs(p - last) < tol:
        return (xs[first] + xmax) / 2
    if second is None:
        return None
    return (xs[first] + xs[second]) / 2


def log_rank(time: Sequence[float], event: Sequence[bool | int], group: Sequence[str]) -> LogRank:
    """Log-rank test of equal survival across groups, as ``survival::survdiff`` (ρ = 0).

    Notes
    -----
    At each event time, Eₖ += nₖ·d/n and Vₖₗ += d·(n − d)/(n − 1)·(nₖ/n)·(δₖₗ − nₗ/n);
    χ² = (O − E)ᵀ V⁻¹ (O − E) over the groups with E > 0 but the first, df = their
    number − 1 (Mantel 1966; Peto & Peto 1972).
    """
    from scipy import stats

    t, e = _survival_data(time, event)
    labels = np.asarray([str(g) for g in group])
    if labels.shape != t.shape:
        raise InvalidInputError("group", "give one group per time")
    names = sorted(set(labels.tolist()))
    if len(names) < 2:
        raise InvalidInputError("group", "the log-rank test needs at least two groups")
    k = len(names)
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    member = np.array([labels == name for name in names])
    for u in np.unique(t[e]):
        at_risk = np.array([(t[m] >= u).sum() for m in member], dtype=float)
        deaths = np.array([(e[m] & (t[m] == u)).sum() for m in member], dtype=float)
        n, d = at_risk.sum(), deaths.sum()
        observed += deaths
        expected += at_risk * d / n
        if n > 1:
            share = at_risk / n
            variance += d * (n - d) / (n - 1) * (np.diag(share) - np.outer(share, share))
    keep = expected > 0
    df = int(keep.sum()) - 1
    if df < 1:
        chisq = 0.0
    else:
        diff = (observed - expected)[keep][1:]
        v = variance[np.ix_(keep, keep)][1:, 1:]
        chisq = float(diff @ np.linalg.solve(v, diff))
    p = float(stats.chi2.sf(chisq, df)) if df >= 1 else None
    explanation = Explanation(
        f"Log-rank test across {k} groups (survdiff, ρ = 0)",
        "χ² = (O − E)ᵀ V⁻¹ (O − E), df = groups − 1",
        {
            f"O/E[{name}]": f"{o:g}/{x:.4g}"
            for name, o, x in zip(names, observed, expected, strict=True)
        },
        f"χ² = {chisq:.6g}, df = {df}, p = {_show(p)}",
        "R survival::survdiff",
    )
    return LogRank(
        chisq=chisq,
        df=df,
        p=p,
        observed=dict(zip(names, map(float, observed), strict=True)),
        expected=dict(zip(names, map(float, expected), strict=True)),
        explanation=explanation,
    )
