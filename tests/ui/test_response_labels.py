"""Stored responses on the Follow-up page, and the RECIST 1.1 labels of the spider plot and
the timeline (issue 15)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pytest

from followup_seed import add_response_course
from tace_planner.services.response_parameters import load_response_parameters

pytestmark = pytest.mark.db


@pytest.fixture
def course(services: Any) -> tuple[Any, int]:
    case, _ = add_response_course(services.session_factory, "U1")
    return services, case


def _page(qtbot: Any, services: Any, runner: Any) -> Any:
    from tace_planner.ui.followup_review import FollowupReviewPage

    page = FollowupReviewPage(services.propagation, runner, assessments=services.assessments)
    qtbot.addWidget(page)
    return page


def test_page_shows_stored_responses_and_labels_the_spider_plot(qtbot, course, tmp_path: Path):
    from tace_planner.ui.tasks import TaskRunner

    services, case = course
    runner = TaskRunner()
    page = _page(qtbot, services, runner)
    page.set_case(case)
    assert page.responses.table.rowCount() == 0
    assert page.spider.labels == {}
    services.assessments.assess(case, "TACE 1 follow-up 1")
    services.assessments.assess(case, "TACE 1 follow-up 3", ["recist"])
    page.set_case(case)
    assert page.responses.category("TACE 1 follow-up 1", "recist") == "PR"
    assert page.responses.category("TACE 1 follow-up 1", "volume") == "PR"
    assert page.responses.category("TACE 1 follow-up 3", "recist") == "PD"
    assert page.responses.category("TACE 1 follow-up 3", "mrecist") == ""  # not assessed
    cell = page.responses.table.item(0, 0)
    assert "assessed by" in cell.toolTip()
    # Days from day 0, the first TACE (2026-03-16), as the case report counts: 56 and 240.
    assert page.spider.labels == {
        "TACE 1 follow-up 1": (56.0, "PR"),
        "TACE 1 follow-up 3": (240.0, "PD"),
    }
    texts = [i.toPlainText() for i in page.spider.plot.getPlotItem().items
             if isinstance(i, pg.TextItem)]  # fmt: skip
    assert sorted(texts) == ["PD", "PR"]
    low, high = page.spider.plot.getPlotItem().vb.viewRange()[1]
    assert low < -30.0 < 20.0 < high  # the guide lines and the labels stay in view
    assert page.spider.export_png(tmp_path / "spider.png").read_bytes()[:4] == b"\x89PNG"
    assert runner.shutdown()
    page.close()


def test_assess_button_stores_and_a_second_assessment_supersedes(qtbot, course):
    from tace_planner.ui.tasks import TaskRunner

    services, case = course
    runner = TaskRunner()
    page = _page(qtbot, services, runner)
    page.set_case(case)
    page.timepoints.setCurrentText("TACE 1 follow-up 2")
    assert page.responses.assess_button.isEnabled()
    page.responses.assess_button.click()
    qtbot.waitUntil(lambda: page.responses.category("TACE 1 follow-up 2", "recist") == "PR",
                    timeout=60_000)  # fmt: skip
    assert "RECIST 1.1 PR (stored)" in page.message.text()
    page.responses.assess_button.click()
    qtbot.waitUntil(lambda: page.responses.assess_button.isEnabled(), timeout=60_000)
    every = services.assessments.stored(case, include_superseded=True)
    recist = [s for s in every if s.criterion == "recist"]
    assert sorted(s.status for s in recist) == ["current", "superseded"]
    assert page.spider.labels["TACE 1 follow-up 2"][1] == "PR"
    assert runner.shutdown()
    page.close()
    page.set_case(None)
    assert not page.responses.assess_button.isEnabled()


def test_timeline_shows_the_stored_response_label(qtbot, course):
    from tace_planner.ui.panels.timeline_panel import TimelinePanel

    services, case = course
    services.assessments.assess(case, "TACE 1 follow-up 1", ["recist"])
    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.show_timeline(services.therapy.timeline(case))
    assert "TACE 1 follow-up 1 imaged 2026-05-11 · PR" in panel.hover_text(dt.date(2026, 5, 11))
    assert "· PR" not in panel.hover_text(dt.date(2026, 8, 11))  # not assessed
    texts = [i.toPlainText() for i in panel.events.items if isinstance(i, pg.TextItem)]
    assert "PR" in texts
    panel.close()


def test_a_refused_assessment_is_said_and_the_page_keeps_working(qtbot, course):
    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.ui.followup_review import FollowupReviewPage
    from tace_planner.ui.tasks import TaskRunner

    services, case = course

    class Refusing:
        def stored(self, case_pk: int) -> list[Any]:
            return []

        def assess(self, case_pk: int, label: str) -> Any:
            raise InvalidInputError("timepoint", f"{label} has no measurements")

    runner = TaskRunner()
    page = FollowupReviewPage(services.propagation, runner, assessments=Refusing())
    qtbot.addWidget(page)
    page.set_case(case)
    page.responses.assess_button.click()
    qtbot.waitUntil(lambda: page.message.text().startswith("Cannot assess"), timeout=60_000)
    assert "TACE 1 follow-up 1 has no measurements" in page.message.text()
    assert page.responses.assess_button.isEnabled()
    assert runner.shutdown()
    page.close()


def test_a_broken_response_file_is_said_on_the_page(qtbot, course):
    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.ui.followup_review import FollowupReviewPage
    from tace_planner.ui.tasks import TaskRunner

    services, case = course
    folder = services.settings.data_dir / "parameters"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "response.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"response\.json"):
        services.assessments  # noqa: B018
    runner = TaskRunner()
    page = FollowupReviewPage(
        services.propagation, runner, assessments=None,
        assessments_problem="Responses unavailable: response.json is not valid JSON",
    )  # fmt: skip
    qtbot.addWidget(page)
    page.set_case(case)
    assert page.tabs.indexOf(page.responses) >= 0
    assert page.responses.note.text().startswith("Responses unavailable")
    assert not page.responses.assess_button.isEnabled()
    assert runner.shutdown()
    page.close()


def test_the_chosen_cell_shows_its_whole_reasoning(qtbot, course):
    """Below the table: every part of the chosen criterion with inputs, rule and sources."""
    from tace_planner.ui.tasks import TaskRunner

    services, case = course
    runner = TaskRunner()
    page = _page(qtbot, services, runner)
    services.assessments.assess(case, "TACE 1 follow-up 1")
    services.assessments.assess(case, "TACE 1 follow-up 3", ["recist"])
    page.set_case(case)
    table, details = page.responses.table, page.responses.details
    # The newest timepoint's RECIST 1.1 reads at once.
    assert (table.currentRow(), table.currentColumn()) == (1, 0)
    text = details.toPlainText()
    assert "RECIST 1.1 at TACE 1 follow-up 3: PD" in text
    for part in ("Overall response: PD", "Target lesions:", "Best overall response so far:"):
        assert part in text
    assert "nadir (baseline included)" in text
    assert "RECIST 1.1 (Eisenhauer, Eur J Cancer 2009; Schwartz, Eur J Cancer 2009)" in text
    assert f"response parameters version {load_response_parameters().version}" in text
    table.setCurrentCell(0, 4)  # volumetric at follow-up 1
    text = details.toPlainText()
    assert "volumetric at TACE 1 follow-up 1: PR" in text
    assert "RECIST 1.1 at" not in text
    table.setCurrentCell(1, 1)  # mRECIST was not assessed at follow-up 3
    assert details.toPlainText() == "No stored response here."
    assert runner.shutdown()
    page.close()
