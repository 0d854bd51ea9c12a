"""An unchanged plan is not saved again (pytest-qt, offscreen).

Double-clicking *Save draft* stored v2 and v3 identical. *Save draft* is now disabled
while the proposal shown is the latest saved plan (the tooltip says which version), and
the save itself refuses with a short message; any change enables it again.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def panel(qtbot: Any, planning_case: tuple[Any, int]) -> Any:
    from tace_planner.ui.panels.plan_panel import PlanPanel

    planning, case_pk = planning_case
    widget = PlanPanel(planning)
    qtbot.addWidget(widget)
    widget.set_case(case_pk)
    return widget


def _versions(panel: Any) -> list[int]:
    return [p.plan_version for p in panel._planning.list_plans(panel._case_pk)]


def test_a_second_save_of_the_same_proposal_saves_nothing_until_a_change(panel: Any) -> None:
    assert panel.save_draft_button.isEnabled()
    first = panel.save_draft()
    assert first is not None
    assert _versions(panel) == [first.plan_version]
    assert not panel.save_draft_button.isEnabled()
    assert f"v{first.plan_version}" in panel.save_draft_button.toolTip()
    assert panel.save_draft() is None  # a second click, as the button's double-click
    assert _versions(panel) == [first.plan_version]
    assert "nothing changed" in panel.action_message.text()
    # any change enables it again
    panel.field_edits["weight_kg"].setText("72")
    panel.recompute()
    assert panel.save_draft_button.isEnabled()
    second = panel.save_draft()
    assert second is not None
    assert _versions(panel) == [first.plan_version, second.plan_version]


def test_the_case_opened_again_compares_with_its_stored_plan(panel: Any) -> None:
    case_pk = panel._case_pk
    panel.save_draft()
    panel.set_case(None)
    panel.set_case(case_pk)
    assert not panel.save_draft_button.isEnabled()
    assert panel.save_draft() is None
    assert len(_versions(panel)) == 1
