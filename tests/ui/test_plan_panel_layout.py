"""The Treatment plan panel reads fully in the dock's width on a laptop screen (issue 12, item 6).

At 1400 × 860 the window gives the plan dock :data:`DOCK_WIDTH_SHARE` of its width: the
sessions, the warnings and every column must be readable there without scrolling sideways.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QScrollArea
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.main_window import DOCK_WIDTH_SHARE
from tace_planner.ui.panels.plan_panel import PlanPanel


@pytest.fixture
def panel(qtbot: QtBot, planning_case: tuple[PlanningService, int]) -> PlanPanel:
    service, case_pk = planning_case
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(case_pk)
    assert len(widget.proposal.sessions) == 2  # right lobe + caudate, then left lobe
    return widget


@pytest.mark.parametrize("screen_width_px", [1400, 1600])
def test_the_plan_reads_without_sideways_scrolling_in_its_dock_width(
    qtbot: QtBot, panel: PlanPanel, screen_width_px: int
) -> None:
    panel.resize(int(screen_width_px * DOCK_WIDTH_SHARE), 800)
    panel.show()
    qtbot.waitExposed(panel)
    scroll = panel.findChild(QScrollArea)
    content = scroll.widget()
    assert content.minimumSizeHint().width() <= scroll.viewport().width()
    assert not scroll.horizontalScrollBar().isVisible()
    # Every session number is shown whole: its label is as wide as its text needs.
    for key, label in panel.value_labels.items():
        if key.startswith("session"):
            assert label.width() >= label.sizeHint().width(), key
            assert label.isVisible(), key


def test_sessions_are_columns_and_each_number_a_row(panel: PlanPanel) -> None:
    grid = panel.sessions_grid
    first = grid.itemAtPosition(0, 1).widget().text()
    for words in ("Session 1", "day 0", "right lobe"):
        assert words in first
    assert "Session 2" in grid.itemAtPosition(0, 2).widget().text()
    titles = [grid.itemAtPosition(row, 0).widget().text() for row in range(1, grid.rowCount())]
    assert titles == ["Tumour", "Beads", "Vials", "Loaded", "Expected delivered"]
    delivered = grid.itemAtPosition(5, 2).widget()
    assert panel.value_labels["session2.irinotecan_expected_delivered_mg"] in delivered.children()


def test_the_dock_cannot_be_narrowed_until_the_plan_scrolls_sideways(
    qtbot: QtBot, panel: PlanPanel
) -> None:
    panel.show()
    qtbot.waitExposed(panel)
    scroll = panel.findChild(QScrollArea)
    needed = scroll.widget().minimumSizeHint().width()
    assert panel.minimumSizeHint().width() >= needed
    # and it stays a side panel: under a third of the smallest screen we plan for
    assert panel.minimumSizeHint().width() <= 1400 // 3
