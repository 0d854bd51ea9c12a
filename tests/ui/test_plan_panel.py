"""Planning panel and approval dialog (pytest-qt, offscreen) on the demo planning service."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from tace_planner.ui.dialogs.approve_plan_dialog import ApprovalChoice, ApprovePlanDialog
from tace_planner.ui.panels.plan_panel import PlanPanel
from tace_planner.ui.panels.plan_panel_demo import DemoPlanningService


@pytest.fixture
def service() -> DemoPlanningService:
    return DemoPlanningService(user="dr ui")


@pytest.fixture
def panel(qtbot: QtBot, service: DemoPlanningService) -> PlanPanel:
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(1)
    return widget


def _value(panel: PlanPanel, key: str) -> str:
    return panel.value_labels[key].text()


def test_case_shows_inputs_figures_sessions_and_banners(panel: PlanPanel) -> None:
    assert panel.field_edits["height_cm"].text() == "175"
    assert panel.field_choices["ecog"].currentData() == 1
    assert panel._figure_labels["liver_volume_cm3"].text() == "1573 cm³"
    assert panel._figure_labels["burden_percent"].text() == "7.2 %"
    assert panel._figure_labels["bsa_m2"].text() == "1.845 m²"
    assert _value(panel, "session1.beads_ml") == "4.00 mL"
    assert _value(panel, "session1.vials") == "2"
    assert _value(panel, "session1.irinotecan_loaded_mg") == "200 mg"
    assert _value(panel, "session2.irinotecan_expected_delivered_mg") == "25 mg"
    names = [b.objectName() for b in panel.banners]
    assert "banner:warning:dose.above_warning.s1" in names
    assert "banner:info:caudate.focus" in names
    warning = next(b for b in panel.banners if b.objectName().startswith("banner:warning"))
    assert "#f5c242" in warning.styleSheet()
    assert "derived default" in panel.model_note.text()


def test_every_number_has_a_why_with_formula_values_and_source(
    panel: PlanPanel, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        PlanPanel, "show_explanation_box", staticmethod(lambda p, t, x: shown.append(x))
    )
    for key in ("session1.beads_ml", "session1.vials", "session1.irinotecan_loaded_mg", "bsa_m2"):
        assert panel.why_buttons[key].isEnabled(), key
    panel.why_buttons["session1.beads_ml"].click()
    (text,) = shown
    assert "beads = clamp(V_territory × k, min, max)" in text
    assert "V_territory = 109.6 cm³" in text
    assert "k = 0.05 mL/cm³" in text
    assert "Source:" in text
    assert "[D]" in text
    panel.why_buttons["bsa_m2"].click()
    assert "√(H × W / 3600)" in shown[-1]
    assert "Mosteller" in shown[-1]


def test_live_recomputation_on_model_change(panel: PlanPanel, qtbot: QtBot) -> None:
    panel.model_combo.setCurrentIndex(panel.model_combo.findData("fixed"))
    qtbot.waitUntil(lambda: _value(panel, "session1.irinotecan_loaded_mg") == "100 mg")
    assert _value(panel, "session1.beads_ml") == "2.00 mL"
    assert panel.proposal.model == "fixed"


def test_impossible_input_shows_beside_the_field_and_saves_nothing(
    panel: PlanPanel, service: DemoPlanningService, qtbot: QtBot
) -> None:
    panel.field_edits["weight_kg"].setText("-70")
    qtbot.waitUntil(lambda: "must be positive" in panel.field_errors["weight_kg"].text())
    assert panel._figure_labels["bsa_m2"].text() == "—"  # not planned with a stale weight
    assert panel.save_inputs() is False
    assert service.clinical_inputs(1).inputs.weight_kg == 70.0
    panel.field_edits["weight_kg"].setText("abc")
    qtbot.waitUntil(lambda: "not a number" in panel.field_errors["weight_kg"].text())
    panel.field_edits["weight_kg"].setText("300")  # implausible: needs confirmation
    assert panel.save_inputs() is False
    assert "plausible" in panel.field_errors["weight_kg"].text()
    panel.confirm_implausible.setChecked(True)
    assert panel.save_inputs() is True
    assert service.clinical_inputs(1).inputs.weight_kg == 300.0


def test_hepasphere_is_blocked_until_a_capacity_is_entered(panel: PlanPanel, qtbot: QtBot) -> None:
    panel.product_combo.setCurrentIndex(panel.product_combo.findData("hepasphere"))
    qtbot.waitUntil(lambda: panel.proposal is not None and panel.proposal.blocked)
    blocks = [b for b in panel.banners if b.objectName().startswith("banner:block")]
    assert any("no irinotecan loading capacity" in b.text() for b in blocks)
    assert "#b00020" in blocks[0].styleSheet()
    assert not panel.approve_button.isEnabled()
    assert not any(k.startswith("session") for k in panel.value_labels)
    panel.capacity_edit.setText("25")
    panel.vial_edit.setText("2")
    qtbot.waitUntil(lambda: not panel.proposal.blocked)
    # 2 vials × 2 mL × min(50, 25) mg/mL = 100 mg: the entered capacity limits the loading
    assert _value(panel, "session1.irinotecan_loaded_mg") == "100 mg"
    assert any(b.objectName() == "banner:strong_warning:product.off_label" for b in panel.banners)


def test_bad_option_is_reported_not_raised(panel: PlanPanel, qtbot: QtBot) -> None:
    panel.segments_edit.setText("IX")
    panel.delivery_combo.setCurrentIndex(panel.delivery_combo.findData("segmental"))
    qtbot.waitUntil(lambda: "segments" in panel.options_error.text())


def test_approve_records_acknowledgements(
    panel: PlanPanel, service: DemoPlanningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []

    def fake_ask(plan: Any, parent: Any = None, preview: Any = None) -> ApprovalChoice:
        asked.append(plan)
        codes = tuple(
            a.code for a in plan.advisories if a.severity in ("warning", "strong_warning")
        )
        return ApprovalChoice(acknowledged=codes)

    monkeypatch.setattr(
        ApprovePlanDialog, "ask", classmethod(lambda cls, *a, **k: fake_ask(*a, **k))
    )
    approved = panel.approve()
    assert approved is not None
    assert approved.status == "approved"
    assert "dose.above_warning.s1" in approved.acknowledged
    assert asked[0].status == "draft"
    assert "v1 approved by dr ui" in panel.history_label.text()


def test_no_case_and_unknown_case(qtbot: QtBot, service: DemoPlanningService) -> None:
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    assert not widget.save_draft_button.isEnabled()
    widget.set_case(999)
    assert "does not exist" in widget.case_label.text()
    widget.set_case(None)
    assert widget.case_label.text() == "No case selected."
    assert widget.proposal is None


def test_approve_dialog_needs_every_warning_and_a_reason(
    qtbot: QtBot, service: DemoPlanningService
) -> None:
    draft = service.save_plan(service.propose(1))
    dialog = ApprovePlanDialog(
        draft, preview=lambda overrides: service.preview_overrides(draft.pk, overrides)
    )
    qtbot.addWidget(dialog)
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    assert not approve.isEnabled()
    for box in dialog.acknowledge_boxes.values():
        box.setChecked(True)
    assert approve.isEnabled()
    dialog.value_edits["session1.beads_ml"].setText("3")
    assert not approve.isEnabled()
    assert "reason" in dialog.problem_label.text()
    dialog.reason_edits["session1"].setText("small feeder")
    assert approve.isEnabled()
    assert "150 mg expected delivered" in dialog.preview_label.text()
    choice = dialog.choice()
    assert choice.overrides == {"session1.beads_ml": (3.0, "small feeder")}
    assert set(choice.acknowledged) == set(dialog.acknowledge_boxes)
    dialog.value_edits["session1.irinotecan_loaded_mg"].setText("250")
    assert not approve.isEnabled()
    assert "irinotecan_loaded_mg" in dialog.problem_label.text()
