"""The main window at the screen sizes clinicians use (issue 12, item 6, "Smaller").

On 1400 × 860, 1600 × 1000 and 1920 × 1080 every workspace fits the screen, the
Treatment plan dock reads fully without scrolling sideways, no tab of a hidden dock is
left on screen, and the Follow-up page gives its worklist the page's width and its
images room.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QDockWidget, QScrollArea, QTabBar

from tace_planner.ui.followup_review import VIEWS_MIN_HEIGHT_PX
from tace_planner.ui.main_window import DOCK_WIDTH_MAX_SHARE
from tace_planner.ui.workspaces import WORKSPACES

pytestmark = [pytest.mark.dicom, pytest.mark.db]

SCREENS = [(1400, 860), (1600, 1000), (1920, 1080)]
PATIENT_INPUTS = {"height_cm": 175, "weight_kg": 70, "bilirubin_mg_dl": 0.8, "ecog": 1}


@pytest.fixture
def window(open_window, contoured_demo_copy: Path):
    """The contoured demo case with the patient inputs entered: the plan proposes sessions."""
    main = open_window(contoured_demo_copy)
    services = main._test_services
    case = services.cases.list_cases()[0]
    services.planning.set_clinical_inputs(case.pk, **PATIENT_INPUTS)
    main.select_case(case.pk)
    return main


def _settle(qtbot, window, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.wait(50)  # let the layouts run (no timing is asserted)


@pytest.mark.parametrize("size", SCREENS)
def test_every_workspace_fits_the_screen(qtbot, window, size) -> None:
    for workspace in WORKSPACES:
        window.enter_workspace(workspace.key)
        _settle(qtbot, window, size)
        needed = window.minimumSizeHint()
        assert needed.width() <= size[0], (workspace.key, needed.width())
        assert needed.height() <= size[1], (workspace.key, needed.height())
        assert (window.width(), window.height()) == size, workspace.key


@pytest.mark.parametrize("size", SCREENS)
def test_the_plan_dock_reads_fully_after_the_first_start(qtbot, window, size) -> None:
    window.enter_workspace("plan")
    _settle(qtbot, window, size)
    window._fit_first_start()
    panel = window.plan_panel
    qtbot.waitUntil(lambda: panel.proposal is not None and len(panel.proposal.sessions) == 2)
    qtbot.wait(50)
    dock = window.findChild(QDockWidget, "plan_dock")
    scroll = panel.findChild(QScrollArea)
    content = scroll.widget()
    assert content.minimumSizeHint().width() <= scroll.viewport().width()
    assert not scroll.horizontalScrollBar().isVisible()
    # The dock cannot be dragged narrower than that, and leaves the images most of the width.
    assert dock.minimumSizeHint().width() >= content.minimumSizeHint().width()
    assert dock.width() <= DOCK_WIDTH_MAX_SHARE * size[0]
    assert window.viewer.width() >= 0.4 * size[0]
    # The last number of the last session ends inside the view, its text whole.
    label = panel.value_labels["session2.irinotecan_expected_delivered_mg"]
    assert label.width() >= label.sizeHint().width()
    right = label.mapTo(scroll.viewport(), QPoint(label.width(), 0)).x()
    assert right <= scroll.viewport().width()


def test_no_tab_of_a_hidden_dock_is_left_on_screen(qtbot, window) -> None:
    _settle(qtbot, window, SCREENS[0])
    for workspace in WORKSPACES + WORKSPACES:  # back to the Plan after the Follow-up too
        window.enter_workspace(workspace.key)
        qtbot.wait(20)
        shown = {d.windowTitle() for d in window.findChildren(QDockWidget) if d.isVisible()}
        for bar in window.findChildren(QTabBar):
            if bar.parent() is window and bar.isVisible():
                tabs = {bar.tabText(i) for i in range(bar.count())}
                assert tabs <= shown, (workspace.key, tabs - shown)


@pytest.mark.parametrize("size", SCREENS[:2])
def test_the_follow_up_page_gives_the_worklist_the_width_and_the_images_room(
    qtbot, window, size
) -> None:
    window.enter_workspace("follow_up")
    _settle(qtbot, window, size)
    assert not any(d.isVisible() for d in window.findChildren(QDockWidget))
    page = window.followup_page
    assert window.pages.currentWidget() is page
    assert window.worklist_panel.width() >= 0.9 * page.width()
    # empty here: the list keeps its filters, header and message, the review the room
    # (rows listed get their height back: test_followup_worklist_empty.py)
    assert window.worklist_panel.table.rowCount() == 0
    review = window.followup_review
    images = review.review.baseline.graphics
    assert images.height() >= VIEWS_MIN_HEIGHT_PX - 40
    assert images.height() > review.review.table.height()  # the images, not the empty table
    tabs = review.tabs
    tabs.setCurrentWidget(window.timeline_panel)
    qtbot.wait(20)
    assert window.timeline_panel.width() >= 0.9 * page.width()
    assert "All" in window.worklist_panel.message.text()  # an empty list says what to do
    # the schedule choice is named and shows its whole label, not "Study protocol: 8"
    preset = window.worklist_panel.preset
    assert window.worklist_panel.preset_label.text() == "Schedule:"
    assert preset.currentText()
    assert preset.width() > preset.fontMetrics().horizontalAdvance(preset.currentText()) + 20


@pytest.mark.parametrize("size", SCREENS[:2])
def test_the_lesions_dock_shows_every_column(qtbot, window, size) -> None:
    window.enter_workspace("plan")
    _settle(qtbot, window, size)
    window._fit_first_start()
    dock = window.findChild(QDockWidget, "lesion_dock")
    dock.raise_()
    table = window.lesion_panel.table
    qtbot.waitUntil(lambda: table.rowCount() == 8)  # the liver and seven foci
    qtbot.wait(50)
    header = table.horizontalHeader()
    assert header.length() <= table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
