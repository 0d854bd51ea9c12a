"""TTP is censored at the last ASSESSED follow-up, never at imaging nobody has read.

Llovet et al., J Natl Cancer Inst 2008: censoring at the last radiological evaluation.
Hand-computed: TACE on 5 Jan 2026; follow-ups on 2 Mar (day 56), 3 Jun (day 149) and
7 Sep 2026 (day 245: 26 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 7).
"""

from __future__ import annotations

import datetime as dt

from tace_planner.domain.schedule import CaseEnd, TaceDate
from tace_planner.domain.ttp import Assessment, TherapyLine, case_ttp

D = dt.date
NOT_EVALUABLE = "not evaluable: no follow-up assessed"
TACE = [TaceDate(1, D(2026, 1, 5))]
FU1, FU2, FU3 = D(2026, 3, 2), D(2026, 6, 3), D(2026, 9, 7)


def _first(assessments, scope="anywhere", lines=(), end=None):  # type: ignore[no-untyped-def]
    report = case_ttp(
        taces=TACE, lines=list(lines), assessments=assessments, end=end,
        today=D(2026, 12, 1), course_gap_days=42,
    )  # fmt: skip
    return next(r for r in report.after_tace if r.scope == scope), report


def test_imaging_never_assessed_does_not_censor() -> None:
    # the reviewer's case: follow-up 1 assessed, follow-ups 2 and 3 linked but never read
    result, _ = _first([
        Assessment(FU1, "follow-up 1", assessed=True),
        Assessment(FU2, "follow-up 2", assessed=False),
        Assessment(FU3, "follow-up 3", assessed=False),
    ])  # fmt: skip
    assert (result.days, result.event, result.end_on) == (56, False, FU1)
    assert result.to_json()["censored"] is True
    assert result.explanation.inputs["last adequate assessment"] == "2026-03-02 (follow-up 1)"
    unread = result.explanation.inputs["imaging not assessed (does not censor)"]
    assert unread == "2026-06-03 (follow-up 2), 2026-09-07 (follow-up 3)"
    assert "Llovet" in result.explanation.source


def test_no_follow_up_assessed_is_not_evaluable_not_censored() -> None:
    result, report = _first([
        Assessment(FU1, "follow-up 1", assessed=False),
        Assessment(FU3, "follow-up 3", assessed=False),
    ])  # fmt: skip
    assert (result.days, result.event, result.end_on) == (None, False, None)
    assert result.explanation.result == NOT_EVALUABLE
    data = result.to_json()
    assert (data["days"], data["event"], data["censored"]) == (None, False, False)
    assert all(r.days is None for r in report.after_tace)  # the liver too


def test_the_last_assessed_follow_up_censors_even_before_an_unread_one() -> None:
    result, _ = _first([
        Assessment(FU1, "follow-up 1", assessed=False),
        Assessment(FU2, "follow-up 2", assessed=True),
        Assessment(FU3, "follow-up 3", assessed=False),
    ])  # fmt: skip
    assert (result.days, result.end_on) == (149, FU2)  # 26+28+31+30+31+3


def test_progression_recorded_at_an_unassessed_follow_up_is_still_an_event() -> None:
    result, _ = _first([
        Assessment(FU1, "follow-up 1", assessed=True),
        Assessment(FU3, "follow-up 3", "liver", assessed=False),
    ])  # fmt: skip
    assert (result.days, result.event) == (245, True)


def test_extrahepatic_progression_unread_liver_is_censored_at_the_last_reading() -> None:
    # bone progression recorded at follow-up 2 (no response assessment): an event anywhere;
    # for the liver only follow-up 1 was read
    assessments = [
        Assessment(FU1, "follow-up 1", assessed=True),
        Assessment(FU2, "follow-up 2", "extrahepatic", assessed=False),
    ]
    anywhere, _ = _first(assessments)
    liver, _ = _first(assessments, scope="liver")
    assert (anywhere.days, anywhere.event) == (149, True)
    assert (liver.days, liver.event, liver.end_on) == (56, False, FU1)


def test_therapy_line_follows_the_same_rule() -> None:
    # everolimus from 1 Oct 2025 up to the TACE; restaging imaged on 1 Dec 2025, never read
    line = TherapyLine(1, "everolimus", D(2025, 10, 1))
    _, report = _first([Assessment(D(2025, 12, 1), "restaging", assessed=False)], lines=[line])
    chemo = next(r for r in report.after_therapy if r.scope == "anywhere")
    assert chemo.days is None
    assert chemo.explanation.result == NOT_EVALUABLE


def test_death_without_an_assessed_follow_up_is_not_evaluable() -> None:
    result, _ = _first(
        [Assessment(FU2, "follow-up 2", assessed=False)], end=CaseEnd(D(2026, 7, 1), "death")
    )
    assert result.days is None
    assert "death" in result.explanation.inputs["end of observation"]


def test_the_event_names_the_follow_up_once() -> None:
    # "follow-up follow-up 2" was printed for a follow-up labelled "follow-up 2"
    for label, named in (
        ("follow-up 2", "follow-up 2"),
        ("TACE 1 follow-up 4", "TACE 1 follow-up 4"),
        ("week 8", "follow-up week 8"),
    ):
        result, _ = _first([
            Assessment(FU1, "follow-up 1", assessed=True),
            Assessment(FU2, label, progression_site="liver"),
        ])  # fmt: skip
        assert result.event is True
        assert result.explanation.inputs["event"] == f"2026-06-03 ({named}, site liver)"
