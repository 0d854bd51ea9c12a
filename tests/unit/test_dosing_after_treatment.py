"""A plan made after a treatment performed: its count warning and the date of its first session.

A review of the Plan workspace (plan v1 approved, session 1 performed as TACE 1 on the
case's planned TACE date) found two things in the new proposal:

* "This plan makes 3 treatments in the course" did not say that one of the 3 was
  performed: it now reads "3 treatments in the course (1 performed, 2 in this plan)".
  The threshold (≥ 3 treatments predicted adverse events) is Martin, Cardiovasc
  Intervent Radiol 2010.
* its first session was dated on the day TACE 1 was performed. It is now dated one
  interval after the last treatment performed — the interval the plan already uses
  between its sessions (21 days by default: lobar sessions 3 weeks apart, Szemitko,
  J Clin Med 2021) — and never on or before a performed date; its *why?* says so.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tace_planner.domain.body import PatientInputs
from tace_planner.domain.dosing import (
    BurdenInputs,
    CourseHistory,
    PlanOptions,
    PlanResult,
    TumourFocus,
    propose_plan,
)
from tace_planner.services.planning_parameters import (
    load_bead_catalogue,
    load_planning_parameters,
)

PARAMS = load_planning_parameters()  # the packaged file: 21 days between lobar sessions
DC_BEAD = load_bead_catalogue().product("dc_bead")
PATIENT = PatientInputs(height_cm=175, weight_kg=70, bilirubin_mg_dl=0.8, ecog=1)
# one focus per lobe: two lobar sessions, the right lobe first
BILOBAR = BurdenInputs(1500.0, (TumourFocus("R", "VI", 60.0), TumourFocus("L", "III", 10.0)))
TACE_1_ON = dt.date(2026, 3, 16)


def _count_message(result: PlanResult) -> str:
    (advisory,) = (a for a in result.advisories if a.code == "course.session_count")
    return advisory.message


def _plan(course: CourseHistory, first_on: dt.date | None = TACE_1_ON, **options: object):
    chosen = PlanOptions(first_session_on=first_on, **options)  # type: ignore[arg-type]
    return propose_plan(PATIENT, BILOBAR, DC_BEAD, PARAMS, chosen, course=course)


# -- the count warning -------------------------------------------------------------


def test_the_count_warning_says_which_treatments_were_performed() -> None:
    result = _plan(CourseHistory(delivered_mg=100.0, procedures=1))
    assert _count_message(result) == (
        "This plan makes 3 treatments in the course (1 performed, 2 in this plan); "
        "≥ 3 treatments predicted adverse events."
    )


def test_the_count_warning_names_approved_sessions_not_yet_performed() -> None:
    course = CourseHistory(delivered_mg=100.0, procedures=1, planned_mg=100.0, planned_sessions=1)
    assert _count_message(_plan(course)).startswith(
        "This plan makes 4 treatments in the course "
        "(1 performed, 1 approved, not yet performed, 2 in this plan); "
    )


def test_a_course_without_earlier_treatments_names_no_parts() -> None:
    count = CourseHistory().treatments_with(3)
    assert (count.total, count.words()) == (3, "3 treatments in the course")
    assert CourseHistory(procedures=1).treatments_with(0).words() == (
        "1 treatment in the course (1 performed, 0 in this plan)"
    )


def test_the_numbers_of_the_count_live_in_the_course() -> None:
    count = CourseHistory(procedures=1, planned_sessions=2).treatments_with(2)
    assert (count.performed, count.approved_open, count.this_plan, count.total) == (1, 2, 2, 5)


# -- the date of the first session ----------------------------------------------------


def test_after_a_treatment_the_first_session_comes_one_interval_later() -> None:
    alone, _ = _plan(CourseHistory()).sessions  # no treatment yet: the date asked
    assert alone.on == TACE_1_ON
    assert "last treatment performed" not in alone.explanations["day"].to_text()
    course = CourseHistory(delivered_mg=100.0, procedures=1, last_performed_on=TACE_1_ON)
    first, second = _plan(course).sessions
    assert first.on == dt.date(2026, 4, 6)  # 16 March + 21 days, not 16 March again
    assert first.day == 0
    assert second.on == dt.date(2026, 4, 27)  # the plan's own interval after it
    why = first.explanations["day"].to_text()
    assert "last treatment performed = 2026-03-16" in why
    assert "interval = 21 days" in why
    assert "first session ≥ last treatment performed + interval" in why
    assert "= day 0 (2026-04-06)" in why
    assert "Szemitko, J Clin Med 2021" in why


def test_the_plans_own_interval_dates_the_first_session() -> None:
    course = CourseHistory(procedures=1, last_performed_on=TACE_1_ON)
    first, second = _plan(course, interval_days=28).sessions
    assert (first.on, second.on) == (dt.date(2026, 4, 13), dt.date(2026, 5, 11))


def test_a_first_session_planned_later_is_kept_and_none_planned_is_dated() -> None:
    course = CourseHistory(procedures=1, last_performed_on=TACE_1_ON)
    later = dt.date(2026, 5, 4)
    assert _plan(course, first_on=later).sessions[0].on == later
    assert _plan(course, first_on=None).sessions[0].on == dt.date(2026, 4, 6)


@pytest.mark.parametrize("asked_days", [-30, 0, 1, 20, 21, 22, 60])
def test_the_first_session_is_never_on_or_before_a_treatment_performed(asked_days: int) -> None:
    from tace_planner.domain.dosing_sessions import date_first_session

    asked = TACE_1_ON + dt.timedelta(days=asked_days)
    dated = date_first_session(asked, TACE_1_ON, 21).on
    assert dated is not None
    assert dated >= TACE_1_ON + dt.timedelta(days=21)
    assert dated == max(asked, TACE_1_ON + dt.timedelta(days=21))


def test_the_course_keeps_its_last_treatment_date_through_json_and_a_new_plan() -> None:
    course = CourseHistory(
        delivered_mg=100.0, procedures=1, planned_sessions=1, last_performed_on=TACE_1_ON
    )
    assert CourseHistory.from_json(course.to_json()) == course
    assert course.before_a_new_plan().last_performed_on == TACE_1_ON
    # a course without a treatment performed is stored as before (saved plans unchanged)
    assert "last_performed_on" not in CourseHistory(planned_sessions=2).to_json()
