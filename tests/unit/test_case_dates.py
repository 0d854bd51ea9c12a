"""A new case's planned TACE date: long past or before the patient's imaging is asked about."""

from __future__ import annotations

import datetime as dt

from tace_planner.domain.case_dates import PLANNED_TACE_MAX_PAST_DAYS, planned_tace_questions

TODAY = dt.date(2026, 3, 20)


def test_a_date_more_than_a_year_back_is_asked_about() -> None:
    (question,) = planned_tace_questions(dt.date(2023, 3, 20), TODAY)
    assert question.startswith("The planned TACE date 2023-03-20 is 3.0 years before today")
    limit = TODAY - dt.timedelta(days=PLANNED_TACE_MAX_PAST_DAYS)
    assert planned_tace_questions(limit, TODAY) == []
    assert len(planned_tace_questions(limit - dt.timedelta(days=1), TODAY)) == 1


def test_a_date_before_the_earliest_imaging_is_asked_about() -> None:
    (question,) = planned_tace_questions(dt.date(2026, 2, 1), TODAY, dt.date(2026, 3, 2))
    assert "before the patient's earliest imaging (2026-03-02)" in question
    assert planned_tace_questions(dt.date(2026, 3, 2), TODAY, dt.date(2026, 3, 2)) == []


def test_no_date_or_a_usual_date_asks_nothing() -> None:
    assert planned_tace_questions(None, TODAY, dt.date(2026, 3, 2)) == []
    assert planned_tace_questions(dt.date(2026, 4, 3), TODAY, dt.date(2026, 3, 2)) == []
    both = planned_tace_questions(dt.date(2024, 1, 1), TODAY, dt.date(2026, 3, 2))
    assert len(both) == 2
