"""Shapiro–Wilk W and its p value in double precision (Royston's algorithm AS R94).

scipy's ``shapiro`` runs the same algorithm with single-precision coefficients, so its
W differs from R's ``shapiro.test`` by ~1e-10 and its p by up to ~1e-8 (relative). This
module evaluates the algorithm in double precision, as R does, so that the cohort
tables reproduce R's numbers.

References
----------
Royston P. Remark AS R94: A remark on algorithm AS 181: the W-test for normality.
Appl Stat 1995;44(4):547–551. Royston P. Approximating the Shapiro–Wilk W-test for
non-normality. Stat Comput 1992;2:117–119 (the polynomial coefficients).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_G = (-2.273, 0.459)
_C1 = (0.0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056)
_C2 = (0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633)
_C3 = (0.544, -0.39978, 0.025054, -6.714e-4)
_C4 = (1.3822, -0.77857, 0.062767, -0.0020322)
_C5 = (-1.5861, -0.31082, -0.083751, 0.0038915)
_C6 = (-0.4803, -0.082676, 0.0030302)


def _poly(coefficients: Sequence[float], x: float) -> float:
    """c0 + c1·x + c2·x² + … evaluated by Horner's rule (AS 181.2)."""
    result = 0.0
    for c in reversed(coefficients[1:]):
        result = (result + c) * x
    return coefficients[0] + result


def _coefficients(n: int) -> list[float]:
    """The half-vector a₁ … a_{n/2} of Royston's approximate W coefficients."""
    from scipy import stats

    half = n // 2
    if n == 3:
        return [math.sqrt(0.5)]
    m = [float(stats.norm.ppf((i - 0.375) / (n + 0.25))) for i in range(1, half + 1)]
    summ2 = 2.0 * sum(v * v for v in m)
    ssumm2 = math.sqrt(summ2)
    rsn = 1.0 / math.sqrt(n)
    a1 = _poly(_C1, rsn) - m[0] / ssumm2
    a = list(m)
    if n > 5:
        a2 = -m[1] / ssumm2 + _poly(_C2, rsn)
        fac = math.sqrt(
            (summ2 - 2.0 * m[0] ** 2 - 2.0 * m[1] ** 2) / (1.0 - 2.0 * a1**2 - 2.0 * a2**2)
        )
        a[1] = a2
        first = 2
    else:
        fac = math.sqrt((summ2 - 2.0 * m[0] ** 2) / (1.0 - 2.0 * a1**2))
        first = 1
    a[0] = a1
    for i in range(first, half):
        a[i] = a[i] / -fac
    return a


def shapiro_wilk_w(values: Sequence[float]) -> tuple[float, float]:
    """W and its p value for 3 ≤ n ≤ 5000 values that are not all equal.

    The caller checks the sample size and the range; the values need not be sorted.
    """
    from scipy import stats

    x = sorted(float(v) for v in values)
    n = len(x)
    spread = x[-1] - x[0]
    if spread < 1e-10:  # as shapiro.test: rescale tiny ranges before the algorithm
        x = [v / spread for v in x]
        spread = x[-1] - x[0]
    a = _coefficients(n)
    # Signed coefficient of the i-th order statistic: −a for the lower half, +a above.
    signed = [0.0] * n
    for i in range(n // 2):
        signed[i] = -a[i]
        signed[n - 1 - i] = a[i]
    scaled = [v / spread for v in x]
    mean_a = sum(signed) / n
    mean_x = sum(scaled) / n
    ssa = ssx = sax = 0.0
    for coefficient, value in zip(signed, scaled, strict=True):
        da, dx = coefficient - mean_a, value - mean_x
        ssa += da * da
        ssx += dx * dx
        sax += da * dx
    root = math.sqrt(ssa * ssx)
    w1 = (root - sax) * (root + sax) / (ssa * ssx)  # 1 − W without cancellation
    w = 1.0 - w1
    if n == 3:
        p = 1.90985931710274 * (math.asin(math.sqrt(w)) - 1.04719755119660)  # 6/π, π/3
        return w, max(p, 0.0)
    y = math.log(w1)
    if n <= 11:
        gamma = _poly(_G, n)
        if y >= gamma:
            return w, 1e-99
        y = -math.log(gamma - y)
        mean, sd = _poly(_C3, n), math.exp(_poly(_C4, n))
    else:
        log_n = math.log(n)
        mean, sd = _poly(_C5, log_n), math.exp(_poly(_C6, log_n))
    return w, float(stats.norm.sf(y, loc=mean, scale=sd))
