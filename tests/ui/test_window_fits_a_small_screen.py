"""The window fits a 1366 × 768 laptop screen in the Plan and Procedure workspaces.

A stacked widget's minimum is the largest of its pages': the Follow-up page (worklist and
review) made the Plan workspace need 823 px of height, so on a 1366 × 768 screen the status
bar (progress, Cancel, the database line) and the bottom of the images lay off-screen.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

#: Height a maximised window gets on a 1366 × 768 screen under a 30 px panel, at the most.
SMALL_SCREEN_HEIGHT_PX = 738


@pytest.mark.parametrize("workspace", ["plan", "procedure"])
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
