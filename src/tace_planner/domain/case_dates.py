"""Is a new case's planned TACE date plausible? Dates to confirm before a case is opened.

A planned TACE is planned on imaging done before it, and usually weeks ahead: a date
long past, or before the patient's earliest imaging, is more often a typing slip (a
wrong year) than a course logged afterwards. Neither is refused; each is a question.
"""

from __future__ import annotations

import datetime as dt

PLANNED_TACE_MAX_PAST_DAYS = 365
"""A planned TACE date more than this many days before today is asked about
(institutional default: no publication gives such a limit)."""


def planned_tace_questions(
    planned_on: dt.date | None,
    today: dt.date,
    earliest_imaging_on: dt.date | None = None,
    *,
    max_past_days: int = PLANNED_TACE_MAX_PAST_DAYS,
) -> list[str]:
    """What to ask before a case with this planned TACE date is opened (empty: nothing).

    Parameters
    ----------
    planned_on : datetime.date or None
        The planned TACE date entered (None: not set, nothing to ask).
    today : datetime.date
        The current date.
    earliest_imaging_on : datetime.date or None
        The date of the patient's earliest imaging study, when known.
    max_past_days : int
        A date further back than this is asked about.
    """
    if planned_on is None:
        return []
    questions = []
    days_ago = (today - planned_on).days
    if days_ago > max_past_days:
        years = days_ago / 365.25
        span = f"{years:.1f} years" if years >= 1.5 else f"{days_ago} days"
        questions.append(
            f"The planned TACE date {planned_on.isoformat()} is {span} before today "
            f"({today.isoformat()})."
        )
    if earliest_imaging_on is not None and planned_on < earliest_imaging_on:
        questions.append(
            f"The planned TACE date {planned_on.isoformat()} is before the patient's "
            f"earliest imaging ({earliest_imaging_on.isoformat()}): a TACE is planned on "
            "imaging done before it."
        )
    return questions
