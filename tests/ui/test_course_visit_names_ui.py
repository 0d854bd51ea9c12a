"""The spider plot and the stored responses name a visit placed in a schedule slot by its
slot, from the names the services give (``TimepointChoice.name``,
``StoredAssessment.visit_name``), without the page renaming the course; their lookups stay
keyed by the stored label (pytest-qt, offscreen).

Seen: only the Follow-up page, once its Follow-up box had been filled, renamed the course
for these panels; given the services' course and responses they read "follow-up 2" for the
visit the worklist calls "TACE 1 follow-up 1".
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from visit_seed import PLACED, placed_response_course

pytestmark = pytest.mark.db


def _headers(table: Any) -> list[str]:
    return [table.verticalHeaderItem(row).text() for row in range(table.rowCount())]


def _tooltips(spider: Any) -> list[str]:
    import pyqtgraph as pg

    items = spider.plot.getPlotItem().items
    return [item.toolTip() for item in items if isinstance(item, pg.TextItem)]


def test_the_panels_show_the_slot_name_given_by_the_services(qtbot: Any, services: Any) -> None:
    from tace_planner.ui.panels.response_table import ResponseTable
    from tace_planner.ui.panels.spider_plot import SpiderPlot

    case, _ = placed_response_course(services, "CU1")
    course = services.propagation.course(case)
    stored = services.assessments.stored(case)
    spider, responses = SpiderPlot(), ResponseTable()
    qtbot.addWidget(spider)
    qtbot.addWidget(responses)

    spider.show_course(course, {s.timepoint: s.category for s in stored if s.criterion == "recist"})
    assert spider.labels["follow-up 2"][1] == "PR"  # keyed by the stored label
    shown = [tip for tip in _tooltips(spider) if tip.startswith(f"{PLACED},")]
    assert shown == [f"{PLACED}, day 56: RECIST 1.1 overall response PR"]
    assert not any(tip.startswith("follow-up 2") for tip in _tooltips(spider))

    responses.show_stored(stored)
    headers = _headers(responses.table)
    assert headers[0] == PLACED
    assert "follow-up 2" not in headers
    assert responses.category("follow-up 2", "recist") == "PR"  # keyed by the stored label
    responses.table.setCurrentCell(0, 0)
    assert f"RECIST 1.1 at {PLACED}: PR" in responses.details.toPlainText()


def test_the_page_does_not_rename_the_course(qtbot: Any, services: Any) -> None:
    """A page given no Follow-up box names (no ``choices``) shows the services' names."""
    from tace_planner.ui.followup_review import FollowupReviewPage
    from tace_planner.ui.tasks import TaskRunner

    case, _ = placed_response_course(services, "CU2")
    runner = TaskRunner()
    page = FollowupReviewPage(services.propagation, runner, assessments=services.assessments)
    qtbot.addWidget(page)
    page.set_case(case)
    assert page.visit_names == {}  # the page knows no names of its own
    assert _headers(page.responses.table)[0] == PLACED
    assert page.responses.category("follow-up 2", "recist") == "PR"
    assert "follow-up 2" in page.spider.labels
    assert any(tip.startswith(f"{PLACED},") for tip in _tooltips(page.spider))
    assert runner.shutdown()
    page.close()
