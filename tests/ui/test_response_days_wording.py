"""One day 0 for the reader: the best overall response in the Responses tab and the case
report counts days from the first TACE (baseline intervals kept in words), an unconfirmed
PR says why it counts as SD, and the cohort regression says what a negative doubling
time is."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tace_planner.domain.response.best import TimepointResponse
from tace_planner.domain.response.mrecist import best_overall_response as mrecist_best

BASELINE = dt.date(2026, 3, 2)
FIRST_TACE = dt.date(2026, 3, 16)  # day 0: 14 days after the baseline imaging
FOLLOW_UP = dt.date(2026, 5, 11)  # day 56, 70 days after baseline
COHORT = Path(__file__).parents[1] / "data" / "r_reference" / "cohort.csv"


def _plain(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _stored() -> SimpleNamespace:
    """mRECIST PR at the only follow-up: not confirmed, best overall response SD."""
    best = mrecist_best([TimepointResponse((FOLLOW_UP - BASELINE).days, "PR")]).to_json()
    overall = {"criterion": "mRECIST", "category": "PR", "rule": "target PR"}
    return SimpleNamespace(
        pk=1,
        timepoint_pk=7,
        timepoint="TACE 1 follow-up 1",
        imaged_on=FOLLOW_UP,
        criterion="mrecist",
        category="PR",
        rule="target PR without progression elsewhere",
        status="current",
        superseded_by_pk=None,
        parameters_version="2",
        created_by="dr rad",
        created_at=dt.datetime(2026, 5, 12, 9, 0),
        explanation={"overall": overall, "best_overall": best},
    )


def test_responses_tab_counts_from_the_first_tace(qtbot: Any) -> None:
    from tace_planner.ui.panels.response_table import ResponseTable

    panel = ResponseTable()
    qtbot.addWidget(panel)
    panel.show_stored([_stored()], day_zero=(FIRST_TACE, "first TACE"))
    panel.table.setCurrentCell(0, 1)
    text = _plain(panel.details.toHtml())
    assert (
        "Decided by: PR on day 56 not confirmed (needs a second assessment ≥ 28 days later, "
        "Eisenhauer 2009): counts as SD, 70 days after baseline (at least 42 needed for SD)."
    ) in text
    assert "responses day 56: PR" in text
    assert "day 70" not in text  # never the baseline-relative day as a bare "day"
    assert "days from day 0, the first TACE" in text


def test_responses_tab_without_day_0_says_days_after_baseline(qtbot: Any) -> None:
    from tace_planner.ui.panels.response_table import ResponseTable

    panel = ResponseTable()
    qtbot.addWidget(panel)
    panel.show_stored([_stored()])
    panel.table.setCurrentCell(0, 1)
    text = _plain(panel.details.toHtml())
    assert "Decided by: PR 70 days after baseline not confirmed" in text
    assert "counts as SD" in text
    assert "day 70" not in text


def test_case_report_best_response_uses_the_reports_day_0(qtbot: Any) -> None:
    from tace_planner.ui.case_report import response_table_html

    record = SimpleNamespace(
        anchor="first TACE",
        anchor_on=FIRST_TACE,
        lesions=[{"_timepoint_pk": 7, "visit": "follow-up 1"}],
        deidentified=False,
    )
    text = _plain(response_table_html(record, [_stored()]))
    assert "TACE 1 follow-up 1 56" in text  # the table's day
    assert (
        "mRECIST: SD (PR on day 56 not confirmed (needs a second assessment ≥ 28 days later, "
        "Eisenhauer 2009): counts as SD, 70 days after baseline (at least 42 needed for SD))"
    ) in text
    assert "count from the baseline imaging)" not in text
    assert "day 70" not in text


def test_regression_says_a_negative_doubling_time_is_a_halving_time(qtbot: Any) -> None:
    from tace_planner.services.cohort import cohort_tables
    from tace_planner.services.cohort_csv import read_cohort_csv
    from tace_planner.services.export.cohort_plots import cohort_plots
    from tace_planner.ui.workspaces.cohort_page import CohortPage

    data = read_cohort_csv(COHORT)
    plots = cohort_plots(data, cohort_tables(data, "group"))
    assert plots.y_label == "Doubling time, days (negative: halving time)"
    assert any(y < 0 for _, y in plots.points)  # the case the label is for
    page = CohortPage(lambda group: (None, plots))
    qtbot.addWidget(page)
    page.show_plots(plots)
    axis = page.regression_plot.getAxis("left")
    assert "negative: halving time" in axis.labelText
    tip = page.regression_plot.toolTip()
    assert "Mehrara et al., Cancer Res 2007" in tip
    assert "Schwartz, Cancer 1961" in tip
    page.close()


def test_the_follow_up_page_gives_the_responses_tab_its_day_0(qtbot: Any) -> None:
    """The page hands the tab the day 0 of its course (the spider plot's): the best
    response then counts from the first TACE there too."""
    from tace_planner.services.propagation import CaseCourse
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    course = CaseCourse(1, (), (), (), day_zero="first TACE", day_zero_on=FIRST_TACE)
    propagation = SimpleNamespace(course=lambda case_pk: course)
    assessments = SimpleNamespace(stored=lambda case_pk: [_stored()])
    page = FollowupReviewPage(propagation, tasks=None, assessments=assessments)
    qtbot.addWidget(page)
    page.show_course(1)
    page.responses.table.setCurrentCell(0, 1)
    text = _plain(page.responses.details.toHtml())
    assert "PR on day 56 not confirmed" in text
    assert "days from day 0, the first TACE" in text
