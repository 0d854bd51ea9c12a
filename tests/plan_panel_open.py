"""Helper of the Plan panel tests: a panel on a case, closed with the test."""

from __future__ import annotations

from typing import Any


def open_plan_panel(qtbot: Any, planning: Any, case_pk: int) -> Any:
    """A ``PlanPanel`` over ``planning`` showing case ``case_pk``, owned by ``qtbot``."""
    from tace_planner.ui.panels.plan_panel import PlanPanel

    panel = PlanPanel(planning)
    qtbot.addWidget(panel)
    panel.set_case(case_pk)
    return panel
