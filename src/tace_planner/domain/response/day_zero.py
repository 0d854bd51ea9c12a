"""Day 0 of a case's course: the date its days are counted from (plots and reports alike)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

FIRST_TACE = "first TACE"
PLANNED_TACE = "planned TACE (none performed)"
BASELINE_IMAGING = "baseline imaging (no TACE)"


def day_zero(
    performed_on: Iterable[dt.date | None],
    planned_on: dt.date | None = None,
    baseline_on: dt.date | None = None,
) -> tuple[dt.date | None, str]:
    """The date days count from and what it is: the first TACE performed; without one the
    planned TACE date; without that the baseline imaging date ((None, …) when none is known).

    Examples
    --------
    TACE 1 on 16 March 2026 after a baseline CT of 2 March: day 0 is 16 March (the first
    TACE), so a follow-up CT of 11 May is day 56.
    """
    performed = [on for on in performed_on if on is not None]
    if performed:
        return min(performed), FIRST_TACE
    if planned_on is not None:
        return planned_on, PLANNED_TACE
    return baseline_on, BASELINE_IMAGING


def days_from(origin: dt.date | None, on: dt.date | None) -> int | None:
    """Days from ``origin`` to ``on`` (negative before it); None when either is unknown."""
    if origin is None or on is None:
        return None
    return (on - origin).days
