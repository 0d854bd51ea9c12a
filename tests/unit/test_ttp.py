"""Time to progression, censoring, and the case's group attributes: hand-computed examples."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json

import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.schedule import CaseEnd, FollowupParameters, TaceDate
from tace_planner.domain.ttp import (
    Assessment,
    TherapyLine,
    case_ttp,
    courses,
    detection_interval,
    metastases_timing,
    tace_sequence,
    validate_therapy_line,
)

D = dt.date


@pytest.fixture(scope="module")
def params() -> FollowupParameters:
    resource = importlib.resources.files("tace_planner.resources") / "parameters" / "followup.json"
    return FollowupParameters.from_dict(json.loads(resource.read_text(encoding="utf-8")))


def _by(report_part, scope):  # type: ignore[no-untyped-def]
    return [r for r in report_part if r.scope == scope]


def test_ttp_with_events_after_chemotherapy_and_after_tace() -> None:
    # Chemotherapy (CAPTEM) from 1 Jan 2026; progression by imaging on 12 Apr 2026:
    # 31 + 28 + 31 + 11 = 101 days (the source study's median after chemotherapy).
    # TACE 1 on 20 Apr 2026; progression in the liver at the follow-up of 14 Feb 2027:
    # 10 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31 + 31 + 14 = 300 days.
    line = TherapyLine(1, "CAPTEM", D(2026, 1, 1), D(2026, 4, 12), D(2026, 4, 12), "liver",
                       "imaging")  # fmt: skip
    assessments = [
        Assessment(D(2025, 12, 20), "baseline"),
        Assessment(D(2026, 4, 12), "restaging", "liver"),
        Assessment(D(2026, 6, 15), "TACE 1 follow-up 1"),
        Assessment(D(2026, 9, 15), "TACE 1 follow-up 2"),
        Assessment(D(2027, 2, 14), "TACE 1 follow-up 3", "liver"),
    ]
    report = case_ttp(
        taces=[TaceDate(1, D(2026, 4, 20))], lines=[line], assessments=assessments,
        end=None, today=D(2027, 6, 1), course_gap_days=42,
    )  # fmt: skip
    chemo = _by(report.after_therapy, "anywhere")[0]
    assert (chemo.days, chemo.event, chemo.end_on) == (101, True, D(2026, 4, 12))
    tace = _by(report.after_tace, "liver")[0]
    assert (tace.days, tace.event) == (300, True)
    assert tace.label == "TACE 1"
    assert chemo.explanation.inputs["event"].startswith("2026-04-12")


def test_ttp_without_event_is_censored_at_the_last_adequate_assessment() -> None:
    # TACE on 16 Mar 2026, follow-ups 11 May and 16 Aug without progression; today 1 Dec 2026.
    # Censored at 16 Aug: 15 + 30 + 31 + 30 + 31 + 16 = 153 days. The 11 Nov timepoint has
    # no study: not an assessment.
    report = case_ttp(
        taces=[TaceDate(1, D(2026, 3, 16))], lines=[],
        assessments=[Assessment(D(2026, 5, 11), "FU1"), Assessment(D(2026, 8, 16), "FU2")],
        end=None, today=D(2026, 12, 1), course_gap_days=42,
    )  # fmt: skip
    result = _by(report.after_tace, "anywhere")[0]
    assert (result.days, result.event, result.end_on) == (153, False, D(2026, 8, 16))
    assert "censored" in result.explanation.formula
    assert "last adequate assessment" in result.explanation.inputs
    assert result.to_json()["censored"] is True


def test_extrahepatic_progression_counts_anywhere_not_in_the_liver() -> None:
    # TACE 1 Feb 2026; bone progression at 1 Jun 2026 (120 days); liver stable at 1 Sep.
    report = case_ttp(
        taces=[TaceDate(1, D(2026, 2, 1))], lines=[],
        assessments=[Assessment(D(2026, 6, 1), "FU1", "extrahepatic"),
                     Assessment(D(2026, 9, 1), "FU2")],
        end=None, today=D(2026, 10, 1), course_gap_days=42,
    )  # fmt: skip
    anywhere = _by(report.after_tace, "anywhere")[0]
    liver = _by(report.after_tace, "liver")[0]
    assert (anywhere.days, anywhere.event) == (120, True)
    assert (liver.days, liver.event) == (212, False)  # 27+31+30+31+30+31+31+1


def test_next_treatment_and_death_end_observation() -> None:
    # Line 1 from 1 Jan 2026 without progression, TACE on 1 Mar: the line is censored at
    # the last assessment before the TACE (15 Feb: 45 days). After the TACE, death on
    # 1 Jul without progression: censored at the last assessment (1 May: 61 days).
    report = case_ttp(
        taces=[TaceDate(1, D(2026, 3, 1))],
        lines=[TherapyLine(1, "octreotide LAR", D(2026, 1, 1))],
        assessments=[Assessment(D(2026, 2, 15), "restaging"), Assessment(D(2026, 5, 1), "FU1"),
                     Assessment(D(2026, 6, 20), "FU2")],
        end=CaseEnd(D(2026, 7, 1), "death"), today=D(2026, 12, 1), course_gap_days=42,
    )  # fmt: skip
    chemo = _by(report.after_therapy, "anywhere")[0]
    assert (chemo.days, chemo.event) == (45, False)
    assert "TACE 1 performed" in chemo.explanation.inputs["end of observation"]
    tace = _by(report.after_tace, "anywhere")[0]
    assert (tace.days, tace.event) == (111, False)  # 20 June: 30+30+31+20
    assert "death" in tace.explanation.inputs["end of observation"]


def test_closing_for_progression_is_an_event_and_no_assessment_is_not_evaluable() -> None:
    report = case_ttp(
        taces=[TaceDate(1, D(2026, 3, 1)), TaceDate(2, D(2026, 3, 22))], lines=[],
        assessments=[], end=CaseEnd(D(2026, 9, 1), "progression"), today=D(2026, 12, 1),
        course_gap_days=42,
    )  # fmt: skip
    tace = _by(report.after_tace, "anywhere")[0]
    assert tace.label == "TACE 1–2"  # the second-lobe session continues the course
    assert (tace.days, tace.event) == (184, True)
    liver = _by(report.after_tace, "liver")[0]
    assert liver.days is None
    assert liver.explanation.result.startswith("not evaluable")


def test_courses_group_sessions_within_the_gap() -> None:
    taces = [TaceDate(1, D(2026, 1, 1)), TaceDate(2, D(2026, 1, 22)), TaceDate(3, D(2026, 9, 1))]
    assert [[t.number for t in c] for c in courses(taces, 42)] == [[1, 2], [3]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"stop_on": D(2025, 12, 1)}, "stop"),
        ({"progression_on": D(2025, 12, 31)}, "progression"),
        ({"drug": " "}, "drug"),
        ({"progression_site": "lung"}, "progression site"),
    ],
)
def test_impossible_therapy_lines_are_refused_naming_the_field(kwargs, field) -> None:  # type: ignore[no-untyped-def]
    values = {"drug": "sunitinib", "start_on": D(2026, 1, 1), "stop_on": None,
              "progression_on": None, "progression_site": "unspecified"}  # fmt: skip
    values.update(kwargs)
    with pytest.raises(InvalidInputError) as error:
        validate_therapy_line(**values)
    assert error.value.field == field


def test_group_attributes_entered_or_derived(params: FollowupParameters) -> None:
    sync = metastases_timing("", D(2026, 1, 10), D(2026, 2, 1), params)
    assert (sync.value, sync.how) == ("synchronous", "derived")
    assert "22 days" in sync.rule
    late = metastases_timing("", D(2024, 1, 10), D(2026, 2, 1), params)
    assert late.value == "metachronous"
    entered = metastases_timing("metachronous", D(2026, 1, 10), D(2026, 1, 11), params)
    assert (entered.value, entered.how) == ("metachronous", "entered")
    assert metastases_timing("", None, D(2026, 1, 1), params).value is None

    line = TherapyLine(1, "everolimus", D(2026, 1, 1))
    assert tace_sequence("", D(2026, 3, 1), [line]).value == "after_chemotherapy"
    assert tace_sequence("", D(2025, 12, 1), [line]).value == "immediate"
    assert tace_sequence("immediate", D(2026, 3, 1), [line]).how == "entered"


@pytest.mark.parametrize(
    ("detected", "tace", "days", "group"),
    [
        (D(2026, 1, 1), D(2026, 1, 14), 13, "< 2 weeks"),
        (D(2026, 1, 1), D(2026, 1, 15), 14, "2 weeks – 3 months"),
        (D(2026, 1, 1), D(2026, 4, 1), 90, "2 weeks – 3 months"),
        (D(2026, 1, 1), D(2026, 4, 2), 91, "> 3 months"),
        (D(2025, 11, 30), D(2026, 3, 1), 91, "> 3 months"),  # after 28 Feb
    ],
)
def test_detection_to_tace_interval(params, detected, tace, days, group) -> None:  # type: ignore[no-untyped-def]
    value, attribute = detection_interval(detected, tace, params)
    assert (value, attribute.value) == (days, group)
