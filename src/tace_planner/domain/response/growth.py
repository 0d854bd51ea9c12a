"""Per-lesion and total doubling time and specific growth rate, every edge case defined.

Reuses :func:`tace_planner.domain.growth.volume_growth` (Schwartz, Cancer 1961;
Mehrara et al., Cancer Res 2007) for two positive volumes and defines the rest:

* V1 = V0: DT undefined (infinite), SGR = 0 (``no_change``).
* V0 = 0, V1 > 0 (a new lesion): no exponential rate from nothing; both undefined
  (``new_lesion``).
* V0 > 0, V1 = 0 (it disappeared): ln 0 is −∞; both undefined (``disappeared``),
  said so instead of a number.
* V0 = V1 = 0: nothing to grow (``absent``).
* SGR is symmetric: shrinking from V1 back to V0 gives −SGR; DT becomes negative
  (a halving time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tace_planner.domain.explanation import Explanation
from tace_planner.domain.growth import SOURCE, Growth, volume_growth

FORMULA = "DT = Δt·ln2 / ln(V1/V0); SGR = ln(V1/V0) / Δt"


@dataclass(frozen=True)
class LesionGrowth:
    """Growth of one lesion (or of the total) between two dates."""

    lesion_id: str
    doubling_time_days: float | None
    sgr_per_day: float | None
    flag: str
    explanation: Explanation

    def to_json(self) -> dict[str, object]:
        return {
            "lesion_id": self.lesion_id,
            "doubling_time_days": self.doubling_time_days,
            "sgr_per_day": self.sgr_per_day,
            "flag": self.flag,
            "explanation": self.explanation.to_json(),
        }


def lesion_growth(
    lesion_id: str, volume_before_cm3: float, volume_after_cm3: float, interval_days: float
) -> LesionGrowth:
    """DT and SGR of one lesion, with the zero-volume cases defined (module notes)."""
    v0, v1 = volume_before_cm3, volume_after_cm3
    finite = all(math.isfinite(x) for x in (v0, v1, interval_days))
    if finite and interval_days > 0 and min(v0, v1) == 0 and min(v0, v1) >= 0:
        flag, why = {
            (True, True): ("absent", "absent at both dates: nothing to grow"),
            (True, False): ("new_lesion", "a new lesion (V0 = 0): no growth rate from nothing"),
            (False, True): ("disappeared", "it disappeared (V1 = 0): ln 0 is undefined"),
        }[(v0 == 0, v1 == 0)]
        inputs = {"V0": f"{v0:g} cm³", "V1": f"{v1:g} cm³", "Δt": f"{interval_days:g} days"}
        return LesionGrowth(
            lesion_id,
            None,
            None,
            flag,
            Explanation(f"Doubling time not computed: {why}", FORMULA, inputs, "undefined", SOURCE),
        )
    growth: Growth = volume_growth(v0, v1, interval_days)
    return LesionGrowth(
        lesion_id, growth.doubling_time_days, growth.sgr_per_day, growth.flag, growth.explanation
    )


def total_growth(
    before_cm3: Sequence[float], after_cm3: Sequence[float], interval_days: float
) -> LesionGrowth:
    """DT and SGR of the summed volume (new lesions count in V1, lost ones as 0)."""
    return lesion_growth("total", float(sum(before_cm3)), float(sum(after_cm3)), interval_days)
