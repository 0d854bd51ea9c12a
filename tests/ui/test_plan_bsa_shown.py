"""The plan shows no body surface area from an implausible height (pytest-qt, offscreen).

Height "1,72" was flagged as outside the plausible adult range, yet the plan showed
BSA 0.180 m². It now shows "—" for the BSA and the standard liver volume derived
from it, and the field's message suggests "1.72 m = 172 cm?".
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

pytestmark = [pytest.mark.ui, pytest.mark.db]


def test_an_implausible_height_shows_no_bsa(qtbot: Any, planning_case: tuple[Any, int]) -> None:
    from tace_planner.ui.panels.plan_panel import PlanPanel

    planning, case_pk = planning_case
    panel = PlanPanel(planning)
    qtbot.addWidget(panel)
    panel.set_case(case_pk)
    bsa = panel._figure_labels["bsa_m2"]
    slv = panel._figure_labels["standard_liver_volume_cm3"]
    assert bsa.text() == "1.845 m²"
    assert slv.text() != "—"
    panel.field_edits["height_cm"].setText("1,72")
    panel.recompute()
    assert "1.72 m = 172 cm?" in panel.field_errors["height_cm"].text()
    assert panel.proposal is not None
    assert bsa.text() == "—"
    assert slv.text() == "—"
    assert "1.72 m = 172 cm?" in bsa.toolTip()
    assert not panel.why_buttons["standard_liver_volume_cm3"].isEnabled()
    assert "not computed" in panel.explanation_text("bsa_m2")
    panel.field_edits["height_cm"].setText("172")
    panel.recompute()
    assert bsa.text() == "1.829 m²"  # √(172 × 70 / 3600)
