"""The Follow-up page shows the contours stored at the baseline and at the chosen follow-up
without a proposal, and its tabs fit the window at 1600 × 1000 (pytest-qt, offscreen, the
demo case)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

pytestmark = pytest.mark.db


@pytest.fixture
def window(qtbot: Any, open_window: Any, contoured_demo_copy: Any) -> Any:
    """The demo window at 1600 × 1000 on the Follow-up page, no case chosen yet."""
    main = open_window(contoured_demo_copy)
    main.resize(1600, 1000)
    main.enter_workspace("follow_up")
    return main


def test_contours_stored_at_a_follow_up_show_without_a_proposal(qtbot: Any, window: Any) -> None:
    from tace_planner.ui.followup_review import StoredReview

    services = window._test_services
    case = services.cases.list_cases()[0].pk
    # F1 and F2 contoured at follow-up 1 (here: the proposals confirmed, as by hand)
    item = services.propagation.propose(case, "follow-up 1", lesions=["F1", "F2"])
    services.propagation.confirm(item)
    page = window._page_widgets["follow_up"]
    review = page.review
    window.select_case(case)
    assert review.chosen_label() == "follow-up 1"
    qtbot.waitUntil(lambda: isinstance(review.review.item, StoredReview), timeout=20_000)
    shown = review.review
    assert not shown.baseline.hint.isVisible()
    assert not shown.follow_up.hint.isVisible()
    assert shown.baseline.volume is not None
    assert shown.follow_up.volume is not None
    assert [name for name, _ in shown.item.follow_up_masks] == ["F1", "F2"]
    assert len(shown.baseline.masks) == 7  # every focus contoured at the baseline
    assert all(mask.any() for mask in shown.follow_up.masks)
    assert shown.follow_up.title.text().startswith("Follow-up 1, stored contours")
    assert [shown.table.item(r, 0).text() for r in range(shown.table.rowCount())][:2] == [
        "F1",
        "F2",
    ]
    assert not shown.confirm_button.isEnabled()  # nothing proposed: nothing to confirm
    assert review.message.text() == "Follow-up 1: the stored contours."
    # the views are aligned on the chosen lesion: both show its slice
    shown.jump_to("F2")
    baseline_f2 = dict(shown.item.baseline_masks)["F2"][shown.baseline.index]
    follow_f2 = dict(shown.item.follow_up_masks)["F2"][shown.follow_up.index]
    assert baseline_f2.any()
    assert follow_f2.any()
    # a follow-up with nothing stored says how to fill it
    review.timepoints.setCurrentIndex(review.timepoints.findData("follow-up 2"))
    assert shown.item is None
    qtbot.waitUntil(lambda: review.message.text().startswith("No contour stored"), timeout=20_000)


def test_the_waterfall_tab_fits_the_window_at_1600_by_1000(qtbot: Any, window: Any) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtWidgets import QScrollArea

    from tace_planner.services.propagation import BestChange

    services = window._test_services
    case = services.cases.list_cases()[0].pk
    page = window._page_widgets["follow_up"]
    review = page.review
    real = review._propagation
    review._propagation = SimpleNamespace(
        best_changes=lambda pks: [BestChange(pk, str(pk), -19.0, -40.0) for pk in pks],
        course=real.course, timepoints=real.timepoints,
    )  # fmt: skip
    window.select_case(case)
    review.tabs.setCurrentWidget(review.waterfall)
    qtbot.wait(200)
    area = page.findChild(QScrollArea, "followup_review_area")
    viewport = area.viewport()
    plot = review.waterfall.plot
    assert review.waterfall.heights == [-19.0]
    # the bar's end and the axis with its name under it are inside the visible part
    bar_end = plot.plotItem.vb.mapViewToScene(QPointF(0.0, -19.0))
    end_in_view = viewport.mapFromGlobal(plot.mapToGlobal(plot.mapFromScene(bar_end)))
    assert 0 <= end_in_view.y() <= viewport.height()
    plot_bottom = viewport.mapFromGlobal(plot.mapToGlobal(QPoint(0, plot.height())))
    assert plot_bottom.y() <= viewport.height()
