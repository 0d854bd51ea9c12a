"""The best overall response's days: said as days after baseline, reworded in a reader's
day 0 (the first TACE) with the baseline interval kept in words; an unconfirmed PR says
why it counts as SD (Eisenhauer, Eur J Cancer 2009, Table 3)."""

from __future__ import annotations

from tace_planner.domain.response.best import (
    TimepointResponse,
    best_overall_response,
    best_response_wording,
)
from tace_planner.domain.response.mrecist import best_overall_response as mrecist_best


def course(*points: tuple[int, str]) -> list[TimepointResponse]:
    return [TimepointResponse(day, category) for day, category in points]


def test_the_rule_never_says_a_bare_day_counted_from_baseline():
    best = best_overall_response(course((71, "PR"), (163, "PR")))
    assert (
        best.rule == "PR 71 days after baseline, confirmed 163 days after baseline (92 days later)"
    )
    assert "on day" not in best.rule
    assert best.explanation.inputs["responses, days after baseline"] == "71: PR, 163: PR"
    assert best.explanation.inputs["minimum SD duration"] == "42 days after baseline"


def test_an_unconfirmed_pr_says_it_counts_as_sd_and_why():
    """The reviewer's case: mRECIST PR at the only follow-up, 70 days after baseline."""
    best = mrecist_best(course((70, "PR")))
    assert best.category == "SD"
    assert best.rule == (
        "PR 70 days after baseline not confirmed (needs a second assessment ≥ 28 days "
        "later, Eisenhauer 2009): counts as SD (at least 42 needed for SD)"
    )


def test_worded_in_the_reports_day_0_with_the_baseline_interval_in_words():
    """Baseline 14 days before the first TACE: the follow-up 70 days after baseline is
    day 56 of the report."""
    stored = mrecist_best(course((70, "PR"))).to_json()
    worded = best_response_wording(stored, assessed_on_day=56)
    assert worded.rule == (
        "PR on day 56 not confirmed (needs a second assessment ≥ 28 days later, "
        "Eisenhauer 2009): counts as SD, 70 days after baseline (at least 42 needed for SD)"
    )
    assert worded.inputs["responses"] == "day 56: PR"
    assert "responses, days after baseline" not in worded.inputs
    confirmed = best_overall_response(course((71, "PR"), (163, "PR"))).to_json()
    assert best_response_wording(confirmed, 148).rule == (
        "PR on day 56, confirmed on day 148 (92 days later)"
    )


def test_an_assessment_stored_with_the_older_wording_is_reworded():
    """Stored before this change: "SD on day 70, at least 42 days in", days after baseline."""
    old = {
        "criterion": "mRECIST",
        "category": "SD",
        "rule": "SD on day 70, at least 42 days in",
        "explanation": {
            "inputs": {
                "responses": "day 70: PR",
                "confirmation": "≥ 28 days later",
                "minimum SD duration": "42 days from the start",
            }
        },
    }
    assert best_response_wording(old, 56).rule.startswith("PR on day 56 not confirmed")
    assert best_response_wording(old).rule.startswith("PR 70 days after baseline not confirmed")


def test_a_response_that_cannot_be_reread_keeps_its_text():
    odd = {"category": "PR", "rule": "as stored", "explanation": {"inputs": {"x": "y"}}}
    assert best_response_wording(odd, 10).rule == "as stored"
    # the same days but another category (other parameters): the stored text is kept
    other = best_overall_response(course((70, "PR"))).to_json() | {"category": "PR"}
    assert best_response_wording(other, 56).rule == other["rule"]
