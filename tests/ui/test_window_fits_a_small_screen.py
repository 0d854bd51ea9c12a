"""The window fits a 1366 × 768 laptop screen in every workspace.

A stacked widget's minimum is the largest of its pages': the Follow-up page (worklist and
review) made the Plan workspace need 823 px of height, so on a 1366 × 768 screen the status
bar (progress, Cancel, the database line) and the bottom of the images lay off-screen; the
Follow-up page itself needed 762 px (its review now scrolls inside the page).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

#: Height a maximised window gets on a 1366 × 768 screen under a 30 px panel, at the most.
SMALL_SCREEN_HEIGHT_PX = 738


@pytest.mark.parametrize("workspace", ["plan", "procedure", "follow_up"])
def test_the_workspace_needs_no_more_than_a_small_screen(
    qtbot: Any, case_window: Any, workspace: str
) -> None:
    window = case_window
    window.enter_workspace("follow_up")  # the tallest page has been shown once
    qtbot.wait(50)
    window.enter_workspace(workspace)
    qtbot.wait(50)
    needed = window.minimumSizeHint().height()
    assert needed <= SMALL_SCREEN_HEIGHT_PX, f"{workspace} needs {needed} px of height"


def test_no_tab_strip_of_hidden_docks_stays_over_a_workspace_without_docks(
    qtbot: Any, case_window: Any
) -> None:
    """The Plan workspace's tabbed docks, hidden in Follow-up, left their tab strip
    ("Treatment plan | Lesions") drawn over the worklist of a maximised 1366 × 768 window
    on X11. This test's window does not show the strip on the code before either (a
    guard, run under xcb and offscreen; offscreen parks an emptied strip outside the
    window): back in Plan the strip must show again."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabBar

    window = case_window
    direct = Qt.FindChildOption.FindDirectChildrenOnly

    def strips() -> list[QTabBar]:
        """Tab strips shown with tabs inside the window (Qt parks an emptied one outside)."""
        return [
            bar
            for bar in window.findChildren(QTabBar, options=direct)
            if bar.isVisible() and bar.count() and window.rect().intersects(bar.geometry())
        ]

    window.enter_workspace("plan")
    qtbot.wait(50)
    assert strips()  # the plan's docks are tabbed
    window.enter_workspace("follow_up")
    qtbot.wait(50)
    assert strips() == []
    window.enter_workspace("plan")
    qtbot.waitUntil(lambda: bool(strips()), timeout=2000)
