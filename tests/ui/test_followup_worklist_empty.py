"""An empty worklist leaves the Follow-up review its room; with rows it shows them
(pytest-qt, offscreen).

Seen in review at 1366 × 740 (a 1366 × 768 screen): the worklist listing nothing kept
170 px (its least height for three rows), squeezing the review under it. Empty, it now
goes down to its filters, its header and its message, and grows back when rows come.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from test_followup_page_links_and_rows import _HeldTasks

from followup_seed import scheduled_course


def _page(qtbot: Any, services: Any, height: int = 620) -> Any:
    from tace_planner.ui.workspaces.followup_page import FollowupPage

    page = FollowupPage(services, _HeldTasks())
    qtbot.addWidget(page)
    page.resize(1366, height)  # the page's part of a 1366 × 740 window
    page.show()
    qtbot.waitExposed(page)
    qtbot.wait(20)
    return page


def _shown_whole(page: Any, widget: Any) -> bool:
    """True when ``widget`` is visible and inside the worklist's part of the page."""
    top = page.widget(0)
    corner = widget.mapTo(top, widget.rect().bottomRight())
    return widget.isVisible() and widget.height() > 0 and corner.y() < top.height()


def test_the_empty_worklist_keeps_only_its_filters_header_and_message(
    qtbot: Any, services: Any
) -> None:
    from tace_planner.ui.workspaces.followup_page import WORKLIST_MIN_HEIGHT_PX

    page = _page(qtbot, services)
    worklist = page.worklist
    assert worklist.table.rowCount() == 0
    height = page.sizes()[0]
    assert height < WORKLIST_MIN_HEIGHT_PX - 40  # was 185 px (its 30 % share)
    assert page.sizes()[1] > 620 - WORKLIST_MIN_HEIGHT_PX + 40  # the review gets it
    for part in (worklist.category, worklist.case_filter, worklist.message):
        assert _shown_whole(page, part)
    assert worklist.message.text().startswith("0 timepoint(s)")
    header = worklist.table.horizontalHeader()
    assert header.isVisible()
    assert worklist.table.height() >= header.height()  # its columns still read
    page.resize(1366, 900)  # a taller window: the empty worklist takes none of it
    qtbot.wait(20)
    assert page.sizes()[0] == height


def test_rows_listed_get_their_height_back_and_emptied_it_shrinks_again(
    qtbot: Any, services: Any
) -> None:
    from tace_planner.ui.workspaces.followup_page import (
        WORKLIST_HEIGHT_SHARE,
        WORKLIST_MIN_HEIGHT_PX,
    )

    page = _page(qtbot, services)
    empty = page.sizes()[0]
    assert empty < WORKLIST_MIN_HEIGHT_PX
    scheduled_course(services.session_factory, "P-1")
    page.worklist.set_category("all")  # the schedule's follow-ups are listed
    qtbot.wait(20)
    table = page.worklist.table
    assert table.rowCount() >= 3
    share = int(sum(page.sizes()) * WORKLIST_HEIGHT_SHARE)
    assert page.sizes()[0] >= max(WORKLIST_MIN_HEIGHT_PX, share)  # its share, as before
    assert table.viewport().height() >= 2 * table.rowHeight(0)  # rows read, not a strip
    page.worklist.case_filter.setText("nobody of that name")  # typing: no jump
    page.worklist.refresh()
    qtbot.wait(20)
    assert table.rowCount() == 0
    assert page.sizes()[0] >= WORKLIST_MIN_HEIGHT_PX
    page.worklist.case_filter.setText("")
    page.worklist.refresh()
    page.worklist.set_category("done")  # nothing imaged yet: empty again
    qtbot.wait(20)
    assert table.rowCount() == 0
    assert page.sizes()[0] == empty
