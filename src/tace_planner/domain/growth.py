"""Tumour volume doubling time and specific growth rate between two measurements.

DT = Δt·ln 2 / ln(V1/V0) (Schwartz, Cancer 1961;14:1272, exponential growth) and
SGR = ln(V1/V0) / Δt = ln 2 / DT (Mehrara et al., Cancer Res 2007;67:3970). DT is
undefined when V1 = V0 and negative when the tumour shrinks; SGR is defined in both
cases and better suited to statistics. Nothing here raises on such data: the result
carries a ``flag`` and an explanation instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from tace_planner.domain.explanation import Explanation

GrowthFlag = Literal["growing", "shrinking", "no_change", "invalid"]

SOURCE = "Schwartz, Cancer 1961 (DT); Mehrara et al., Cancer Res 2007 (SGR)"


@dataclass(frozen=True)
class Growth:
    """Doubling time (days) and specific growth rate (per day) between two volumes.

    ``doubling_time_days`` is None when undefined (no change, or invalid inputs);
    ``sgr_per_day`` is None only for invalid inputs (a volume ≤ 0 or Δt ≤ 0).
    """

    doubling_time_days: float | None
    sgr_per_day: float | None
    flag: GrowthFlag
    explanation: Explanation

    @property
    def sgr_percent_per_day(self) -> float | None:
        """SGR in % per day, as Mehrara reports it."""
        return None if self.sgr_per_day is None else 100 * self.sgr_per_day


def volume_growth(
    volume_before_cm3: float, volume_after_cm3: float, interval_days: float
) -> Growth:
    """DT and SGR from the volume at two dates ``interval_days`` apart.

    Parameters
    ----------
    volume_before_cm3, volume_after_cm3 : float
        V0 and V1 in cm³ (any common unit works: only their ratio enters).
    interval_days : float
        Δt between the two measurements, days.

    Returns
    -------
    Growth
        ``flag`` is ``"growing"`` (DT > 0), ``"shrinking"`` (DT < 0),
        ``"no_change"`` (V1 = V0: DT undefined, SGR = 0) or ``"invalid"``
        (V0 or V1 ≤ 0, Δt ≤ 0 or not finite: both undefined).
    """
    inputs = {
        "V0": f"{volume_before_cm3:g} cm³",
        "V1": f"{volume_after_cm3:g} cm³",
        "Δt": f"{interval_days:g} days",
    }
    formula = "DT = Δt·ln2 / ln(V1/V0); SGR = ln(V1/V0) / Δt"
    values = (volume_before_cm3, volume_after_cm3, interval_days)
    if not all(math.isfinite(v) for v in values) or min(values) <= 0:
        why = "Δt must be > 0" if interval_days <= 0 else "both volumes must be > 0"
        if not all(math.isfinite(v) for v in values):
            why = "every input must be a finite number"
        return Growth(
            None,
            None,
            "invalid",
            Explanation(f"Doubling time not computed: {why}", formula, inputs, "undefined", SOURCE),
        )
    log_ratio = math.log(volume_after_cm3 / volume_before_cm3)
    sgr = log_ratio / interval_days
    if log_ratio == 0:
        return Growth(
            None,
            0.0,
            "no_change",
            Explanation(
                "Doubling time undefined: the volume did not change (SGR = 0 shown instead)",
                formula,
                inputs,
                "DT undefined, SGR = 0 %/day",
                SOURCE,
            ),
        )
    doubling = interval_days * math.log(2) / log_ratio
    flag: GrowthFlag = "growing" if doubling > 0 else "shrinking"
    summary = (
        "Volume doubling time (exponential growth)"
        if flag == "growing"
        else "Negative doubling time: the tumour shrank (halving time |DT|); prefer SGR"
    )
    return Growth(
        doubling,
        sgr,
        flag,
        Explanation(
            summary,
            formula,
            inputs,
            f"DT = {doubling:.4g} days, SGR = {100 * sgr:.4g} %/day",
            SOURCE,
        ),
    )
