"""mRECIST best overall response: worked cases, RECIST 1.1 confirmation rules reused."""

from __future__ import annotations

import pytest

from tace_planner.domain.response.best import TimepointResponse
from tace_planner.domain.response.best import best_overall_response as recist_best
from tace_planner.domain.response.mrecist import best_overall_response
from tace_planner.domain.response.parameters import ResponseParameters


def course(*points: tuple[int, str]) -> list[TimepointResponse]:
    return [TimepointResponse(day, category) for day, category in points]


@pytest.mark.parametrize(
    ("points", "expected", "rule"),
    [
        # confirmed PR: a second PR 56 days (≥ 28) after the first
        (
            ((56, "PR"), (112, "PR")),
            "PR",
            "PR 56 days after baseline, confirmed 112 days after baseline",
        ),
        # unconfirmed PR: the next scan is SD, so the best is SD (day 56 ≥ 42 days in)
        (((56, "PR"), (112, "SD")), "SD", "PR 56 days after baseline not confirmed"),
        # PD first: what follows the first PD is dropped
        (((35, "PD"), (90, "PR"), (150, "PR")), "PD", "progression 35 days after baseline"),
        # CR confirmed by a later CR
        (
            ((56, "CR"), (112, "CR")),
            "CR",
            "CR 56 days after baseline, confirmed 112 days after baseline",
        ),
        # NE in between neither breaks nor confirms the PR
        (
            ((56, "PR"), (70, "NE"), (140, "PR")),
            "PR",
            "PR 56 days after baseline, confirmed 140 days after baseline",
        ),
        # a PR "confirmed" too early (14 days < 28) is not confirmed
        (((56, "PR"), (70, "PR")), "SD", "counts as SD (at least 42 needed for SD)"),
        # disease without targets: IR/SD is mRECIST's stable category
        (((56, "IR/SD"), (112, "IR/SD")), "IR/SD", "IR/SD 56 days after baseline"),
        # an unconfirmed CR followed by SD before the minimum SD duration: PD
        (((20, "CR"), (35, "SD")), "PD", "disease came back"),
    ],
)
def test_worked_cases(points, expected, rule):
    result = best_overall_response(course(*points))
    assert result.category == expected
    assert rule in result.rule
    assert result.criterion == "mRECIST"
    assert "hepatocellular" in result.validated_for


def test_order_does_not_matter_and_the_sources_are_cited():
    result = best_overall_response(course((140, "PR"), (70, "NE"), (56, "PR")))
    assert result.category == "PR"
    source = result.explanation.source
    assert "Lencioni and Llovet, Semin Liver Dis 2010" in source
    assert "Eisenhauer, Eur J Cancer 2009" in source
    assert result.explanation.summary.startswith("mRECIST best overall response")


def test_same_rules_as_recist_on_the_shared_categories():
    cases = [
        course((56, "PR"), (112, "PR")),
        course((56, "PR"), (112, "SD")),
        course((35, "PD"), (90, "PR")),
        course((56, "CR"), (112, "CR")),
        course((56, "PR"), (70, "NE"), (140, "PR")),
        course((20, "SD")),
        course((20, "NE"), (30, "NE")),
    ]
    for points in cases:
        assert best_overall_response(points).category == recist_best(points).category


def test_recist_rules_do_not_know_ir_sd():
    """The generalisation matters: RECIST 1.1 alone would call IR/SD not evaluable."""
    points = course((56, "IR/SD"))
    assert recist_best(points).category == "NE"
    assert best_overall_response(points).category == "IR/SD"


def test_confirmation_interval_and_sd_duration_come_from_the_parameters():
    strict = ResponseParameters(confirmation_min_days=60, sd_min_days=70)
    points = course((56, "PR"), (112, "PR"))
    result = best_overall_response(points, parameters=strict)  # 56 days < 60: not confirmed
    assert (result.category, result.rule) == (
        "SD",
        "PR 112 days after baseline not confirmed (needs a second assessment ≥ 60 days later, "
        "Eisenhauer 2009): counts as SD (at least 70 needed for SD)",
    )
    assert best_overall_response(points, confirm=False).category == "PR"
