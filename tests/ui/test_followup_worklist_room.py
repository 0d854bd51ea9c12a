"""While proposals are listed the worklist gives the review its room (pytest-qt, offscreen).

At 1366 × 740 (a 1366 × 768 screen) the empty worklist kept 185 px while the proposal
images shrank to about 110 px. With proposals listed the worklist now goes down to its
least height, and gets its height back once they are confirmed or discarded.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from test_followup_page_links_and_rows import _HeldTasks, _item

from followup_seed import scheduled_course


def _page(qtbot: Any, services: Any) -> Any:
    from tace_planner.ui.workspaces.followup_page import FollowupPage

    page = FollowupPage(services, _HeldTasks())
    qtbot.addWidget(page)
    page.resize(1366, 620)  # the page's part of a 1366 × 740 window
    page.show()
    qtbot.waitExposed(page)
    qtbot.wait(20)
    return page


def test_proposals_listed_give_the_worklist_its_least_height(qtbot: Any, services: Any) -> None:
    from tace_planner.ui.workspaces.followup_page import WORKLIST_MIN_HEIGHT_PX

    scheduled_course(services.session_factory, "P-1")  # rows listed: an empty list shrinks
    page = _page(qtbot, services)
    page.worklist.set_category("all")
    qtbot.wait(20)
    assert page.worklist.table.rowCount() > 0
    review = page.review.review
    least = max(WORKLIST_MIN_HEIGHT_PX, page.widget(0).minimumSizeHint().height())
    worklist = page.sizes()[0]
    assert worklist > least  # its share of the height at first
    review.show_review(_item(7, [f"F{n}" for n in range(1, 8)]))
    qtbot.wait(20)
    assert page.sizes()[0] == least
    review.clear()  # discarded: the worklist's height comes back
    assert page.sizes()[0] == worklist

    review.show_review(_item(7, ["F1", "F2"]))
    assert page.sizes()[0] == least
    review._confirm = lambda item, names, replace: _item(7, ["F1", "F2"], tuple(names))
    assert review.confirm_checked()
    assert page.sizes()[0] == worklist  # confirmed: likewise

    review.show_review(_item(7, ["F1", "F2"]))
    total = sum(page.sizes())
    page.setSizes([300, total - 300])  # the user drags the divider down meanwhile
    review.clear()
    assert page.sizes()[0] == 300  # kept where the user put it
