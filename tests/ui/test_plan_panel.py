"""Planning panel and approval dialog (pytest-qt, offscreen) on the real PlanningService.

The case is the phantom's baseline truth on a temporary SQLite database
(``planning_case``). Hand arithmetic (packaged parameters, version 2): session 1 =
right lobe + caudate, 109.6 cm³ × 0.05 = 5.48 → 4 mL (maximum) → 2 vials; they could
take 200 mg, held at the 100 mg session limit (100 + 0 mg); session 2 = left lobe,
4.24 cm³ → 0.5 mL (minimum) → 1 vial, 100 mg loaded, 0.5/2 × 100 = 25 mg delivered.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovalChoice, ApprovePlanDialog
from tace_planner.ui.panels.plan_panel import PlanPanel


@pytest.fixture
def service(planning_case: tuple[PlanningService, int]) -> PlanningService:
    return planning_case[0]


@pytest.fixture
def case_pk(planning_case: tuple[PlanningService, int]) -> int:
    return planning_case[1]


@pytest.fixture
def panel(qtbot: QtBot, service: PlanningService, case_pk: int) -> PlanPanel:
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(case_pk)
    return widget


def _value(panel: PlanPanel, key: str) -> str:
    return panel.value_labels[key].text()


def test_case_shows_inputs_figures_sessions_and_banners(panel: PlanPanel) -> None:
    assert panel.field_edits["height_cm"].text() == "175"
    assert panel.field_choices["ecog"].currentData() == 1
    assert "TEST, Patient" in panel.case_label.text()
    assert panel._figure_labels["liver_volume_cm3"].text() == "1573 cm³"
    assert panel._figure_labels["burden_percent"].text() == "7.2 %"
    assert panel._figure_labels["bsa_m2"].text() == "1.845 m²"
    assert _value(panel, "session1.beads_ml") == "4.00 mL"
    assert _value(panel, "session1.vials") == "2"
    assert _value(panel, "session1.irinotecan_loaded_mg") == "100 mg"
    assert _value(panel, "session2.irinotecan_expected_delivered_mg") == "25 mg"
    names = [b.objectName() for b in panel.banners]
    assert "banner:info:dose.session_limit.s1" in names
    assert "banner:info:caudate.focus" in names
    assert not any(":warning:dose." in name for name in names)  # no dose above 100 mg
    info = next(b for b in panel.banners if b.objectName().startswith("banner:info"))
    assert "#d6eaf8" in info.styleSheet()
    caudate = next(b for b in panel.banners if b.objectName() == "banner:info:caudate.focus")
    assert "World J Surg Oncol 2015" in caudate.text()  # the source on the banner itself
    assert "institutional default" in panel.model_note.text()
    assert "100 mg session limit" in panel.model_note.text()


def test_every_number_has_a_why_with_formula_values_and_source(
    panel: PlanPanel, monkeypatch: pytest.MonkeyPatch
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
    assert "institutional default" in text
    for word in ("clinical-reference", "§", "[D]", "NOT FOUND", "product brief"):
        assert word not in text
    panel.why_buttons["session1.irinotecan_loaded_mg"].click()
    assert "session limit = 100 mg" in shown[-1]
    assert "Martin" in shown[-1]
    panel.why_buttons["bsa_m2"].click()
    assert "√(H × W / 3600)" in shown[-1]
    assert "Mosteller" in shown[-1]


def test_live_recomputation_on_model_change(panel: PlanPanel, qtbot: QtBot) -> None:
    panel.model_combo.setCurrentIndex(panel.model_combo.findData("fixed"))
    qtbot.waitUntil(lambda: panel.proposal.model == "fixed")
    assert _value(panel, "session1.irinotecan_loaded_mg") == "100 mg"
    assert _value(panel, "session1.beads_ml") == "2.00 mL"
    assert _value(panel, "session2.irinotecan_expected_delivered_mg") == "100 mg"


def test_impossible_input_shows_beside_the_field_and_saves_nothing(
    panel: PlanPanel, service: PlanningService, case_pk: int, qtbot: QtBot
) -> None:
    panel.field_edits["weight_kg"].setText("-70")
    qtbot.waitUntil(lambda: "must be positive" in panel.field_errors["weight_kg"].text())
    assert panel._figure_labels["bsa_m2"].text() == "—"  # not planned with a stale weight
    assert panel.save_inputs() is False
    assert service.clinical_inputs(case_pk).inputs.weight_kg == 70.0
    panel.field_edits["weight_kg"].setText("abc")
    qtbot.waitUntil(lambda: "not a number" in panel.field_errors["weight_kg"].text())
    panel.field_edits["weight_kg"].setText("300")  # implausible: needs confirmation
    assert panel.save_inputs() is False
    assert "plausible" in panel.field_errors["weight_kg"].text()
    panel.confirm_implausible.setChecked(True)
    assert panel.save_inputs() is True
    assert service.clinical_inputs(case_pk).inputs.weight_kg == 300.0


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


def test_contraindication_is_shown_and_approval_asks_for_a_reason(
    panel: PlanPanel, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel.field_choices["ecog"].setCurrentIndex(panel.field_choices["ecog"].findData(3))
    qtbot.waitUntil(
        lambda: any(
            b.objectName() == "banner:contraindication:ecog.above_limit" for b in panel.banners
        )
    )
    assert panel.approve_button.isEnabled()  # approvable, but only with a reason
    assert panel.save_inputs() is True
    seen: list[dict[str, str]] = []

    def fake_ask(plan: Any, parent: Any = None, preview: Any = None) -> ApprovalChoice:
        contra = [a.code for a in plan.advisories if a.severity == "contraindication"]
        seen.append({code: "tumour board 2026-03-10" for code in contra})
        return ApprovalChoice(acknowledged=(), contraindication_reasons=seen[-1])

    monkeypatch.setattr(
        ApprovePlanDialog, "ask", classmethod(lambda cls, *a, **k: fake_ask(*a, **k))
    )
    approved = panel.approve()
    assert approved is not None
    assert approved.contraindications_overridden == {"ecog.above_limit": "tumour board 2026-03-10"}


def test_bad_option_is_reported_not_raised(panel: PlanPanel, qtbot: QtBot) -> None:
    panel.segments_edit.setText("IX")
    panel.delivery_combo.setCurrentIndex(panel.delivery_combo.findData("segmental"))
    qtbot.waitUntil(lambda: "Segments: 'IX'" in panel.options_error.text())


def test_save_with_invalid_values_says_which_field_and_saves_nothing(
    panel: PlanPanel, service: PlanningService, case_pk: int, qtbot: QtBot
) -> None:
    panel.capacity_edit.setText("abc")
    qtbot.waitUntil(lambda: "Capacity (mg/mL)" in panel.options_error.text())
    assert "capacity_mg_per_ml" not in panel.options_error.text()
    assert panel.save_draft() is None
    assert panel.action_message.isVisibleTo(panel)
    assert "Capacity (mg/mL)" in panel.action_message.text()
    assert "not saved" in panel.action_message.text()
    assert not panel.approve_button.isEnabled()
    assert "Capacity (mg/mL)" in panel.approve_button.toolTip()
    panel.capacity_edit.setText("")
    qtbot.waitUntil(lambda: panel.approve_button.isEnabled())
    panel.field_edits["weight_kg"].setText("-70")
    qtbot.waitUntil(lambda: "must be positive" in panel.field_errors["weight_kg"].text())
    assert panel.save_draft() is None
    assert "Weight (kg): -70 kg: weight must be positive" in panel.action_message.text()
    assert panel.save_inputs() is False
    assert "Weight (kg)" in panel.action_message.text()
    assert service.list_plans(case_pk) == []


def test_approve_then_cancel_saves_nothing(
    panel: PlanPanel,
    service: PlanningService,
    case_pk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[Any] = []

    def cancel(plan: Any, parent: Any = None, preview: Any = None) -> None:
        shown.append((plan, preview({})))
        return None

    monkeypatch.setattr(ApprovePlanDialog, "ask", classmethod(lambda cls, *a, **k: cancel(*a, **k)))
    assert panel.approve() is None
    assert len(shown) == 1  # the dialog was shown, with the sessions judged
    sessions, _ = shown[0][1]
    assert len(sessions) == 2
    assert service.list_plans(case_pk) == []
    assert "No saved plan yet" in panel.history_label.text()


def test_approve_saves_and_approves_in_one_step(
    panel: PlanPanel, service: PlanningService, case_pk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        ApprovePlanDialog, "ask", classmethod(lambda cls, *a, **k: ApprovalChoice(()))
    )
    approved = panel.approve()
    assert approved is not None
    assert approved.status == "approved"
    plans = service.list_plans(case_pk)
    assert [(p.plan_version, p.status) for p in plans] == [(1, "approved")]


def test_approve_is_disabled_without_a_session_and_says_why(
    qtbot: QtBot, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planning_seed import seed_case

    unmeasured = seed_case(services, measured=False, patient_id="P-2")
    planning = PlanningService(services.session_factory, "dr ui", protocol=services.protocol)
    widget = PlanPanel(planning)
    qtbot.addWidget(widget)
    widget.set_case(unmeasured)
    assert widget.proposal is not None
    assert not widget.proposal.sessions
    assert not widget.approve_button.isEnabled()
    assert "Nothing to approve" in widget.approve_button.toolTip()
    called: list[Any] = []
    monkeypatch.setattr(
        ApprovePlanDialog, "ask", classmethod(lambda cls, *a, **k: called.append(a))
    )
    assert widget.approve() is None
    assert called == []
    assert "Nothing to approve" in widget.action_message.text()


def test_approve_records_acknowledgements(
    panel: PlanPanel,
    service: PlanningService,
    case_pk: int,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service.set_clinical_inputs(case_pk, ia_lidocaine_planned=False)
    panel.set_case(case_pk)
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
    assert "premedication.no_ia_lidocaine" in approved.acknowledged
    assert not hasattr(asked[0], "status")  # the unsaved proposal: nothing saved before
    assert "v1 approved by dr ui" in panel.history_label.text()


def test_no_case_and_unknown_case(qtbot: QtBot, service: PlanningService) -> None:
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    assert not widget.save_draft_button.isEnabled()
    widget.set_case(999)
    assert "does not exist" in widget.case_label.text()
    widget.set_case(None)
    assert widget.case_label.text() == "No case selected."
    assert widget.proposal is None


def test_approve_dialog_judges_the_overridden_sessions_again(
    qtbot: QtBot, service: PlanningService, case_pk: int
) -> None:
    draft = service.save_plan(service.propose(case_pk))
    dialog = ApprovePlanDialog(
        draft, preview=lambda overrides: service.preview_overrides(draft.pk, overrides)
    )
    qtbot.addWidget(dialog)
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    assert dialog.acknowledge_boxes == {}  # the proposal raises no warning
    assert approve.isEnabled()
    dialog.value_edits["session1.irinotecan_loaded_mg"].setText("150")
    assert not approve.isEnabled()
    assert "Session 1 reason for the override: required" in dialog.problem_label.text()
    dialog.reason_edits["session1"].setText("tumour board")
    # 2 vials at 50 mg/mL take 150 mg (100 + 50); 4 mL injected deliver all of it.
    assert "150 mg expected delivered" in dialog.preview_label.text()
    raised = set(dialog.acknowledge_boxes)
    assert raised == {
        "override.dose.above_session_limit.s1",
        "override.dose.loaded_above_warning.s1",
        "override.dose.delivered_above_warning.s1",
    }
    assert not approve.isEnabled()  # the override's reason is no acknowledgement
    for box in dialog.acknowledge_boxes.values():
        box.setChecked(True)
    assert approve.isEnabled()
    choice = dialog.choice()
    assert choice.overrides == {"session1.irinotecan_loaded_mg": (150.0, "tumour board")}
    assert set(choice.acknowledged) == raised
    approved = service.approve(draft.pk, choice.acknowledged, choice.overrides)
    assert approved.sessions[0].irinotecan_loaded_mg == pytest.approx(150.0)
    dialog.value_edits["session2.irinotecan_loaded_mg"].setText("250")
    dialog.reason_edits["session2"].setText("x")
    assert not approve.isEnabled()
    assert "Session 2 irinotecan loaded (mg)" in dialog.problem_label.text()


def test_approve_dialog_needs_a_reason_for_each_contraindication(
    qtbot: QtBot, service: PlanningService, case_pk: int
) -> None:
    service.set_clinical_inputs(case_pk, ecog=3)
    draft = service.save_plan(service.propose(case_pk))
    dialog = ApprovePlanDialog(
        draft, preview=lambda overrides: service.preview_overrides(draft.pk, overrides)
    )
    qtbot.addWidget(dialog)
    approve = dialog.buttons.button(QDialogButtonBox.Ok)
    assert list(dialog.contraindication_edits) == ["ecog.above_limit"]
    assert not approve.isEnabled()
    assert "contraindication" in dialog.problem_label.text()
    dialog.contraindication_edits["ecog.above_limit"].setText("performance recovering")
    assert approve.isEnabled()
    assert dialog.choice().contraindication_reasons == {
        "ecog.above_limit": "performance recovering"
    }


def test_a_refused_approval_leaves_no_draft_behind(service: PlanningService, case_pk: int) -> None:
    from tace_planner.domain.errors import InvalidInputError

    service.set_clinical_inputs(case_pk, ia_lidocaine_planned=False)  # a warning to acknowledge
    proposal = service.propose(case_pk)
    with pytest.raises(InvalidInputError, match="acknowledge"):
        service.approve_proposal(proposal, ())
    assert service.list_plans(case_pk) == []
    approved = service.approve_proposal(proposal, ("premedication.no_ia_lidocaine",))
    assert approved.status == "approved"


def test_save_right_after_an_edit_plans_the_edit_first(
    panel: PlanPanel, service: PlanningService, case_pk: int
) -> None:
    panel.model_combo.setCurrentIndex(panel.model_combo.findData("fixed"))
    saved = panel.save_draft()  # before the 150 ms recomputation timer fired
    assert saved is not None
    assert saved.proposal.model == "fixed"


def test_baseline_contours_whose_study_left_are_refused_in_the_panel(
    qtbot: QtBot, services: Any, planning_case: tuple[PlanningService, int]
) -> None:
    """A baseline CT linked to follow-up 1 (before linking refused it) left its contours at
    a baseline with no study; the panel showed a dose planned from them."""
    import datetime as dt

    from sqlalchemy import select

    from tace_planner.store.models import StudyRow, TimepointRow

    service, case_pk = planning_case
    with services.session_factory() as session:
        study = session.scalars(select(StudyRow).where(StudyRow.case_pk == case_pk)).one()
        moved = TimepointRow(case_pk=case_pk, kind="follow_up", label="follow-up 1", ordinal=1,
                             imaged_on=dt.date(2026, 5, 11))  # fmt: skip
        session.add(moved)
        session.flush()
        study.timepoint_pk = moved.id
        session.commit()
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(case_pk)
    names = [b.objectName() for b in widget.banners]
    assert "banner:block:burden.contours_without_study" in names
    assert "session1.beads_ml" not in widget.value_labels  # "No dose proposed."
    assert "follow-up 1" in widget.burden_problems.text()


def test_approve_saves_the_forms_unsaved_inputs_first(
    panel: PlanPanel, service: PlanningService, case_pk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approved plan rests on stored inputs: the form's unsaved entries are saved first."""
    panel.field_edits["bilirubin_mg_dl"].setText("1.4")
    assert panel.inputs_unsaved()
    monkeypatch.setattr(
        ApprovePlanDialog, "ask", classmethod(lambda cls, *a, **k: ApprovalChoice(()))
    )
    approved = panel.approve()
    assert approved is not None
    assert approved.proposal.patient.bilirubin_mg_dl == pytest.approx(1.4)
    assert service.clinical_inputs(case_pk).inputs.bilirubin_mg_dl == pytest.approx(1.4)
    assert not panel.inputs_unsaved()


def test_inputs_a_colleague_saved_meanwhile_are_neither_reverted_nor_approved_unseen(
    panel: PlanPanel, service: PlanningService, case_pk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form was loaded before a colleague entered new labs: saving it must not revert
    them, and its plan (computed from the old values) must not be approved."""
    service.set_clinical_inputs(case_pk, bilirubin_mg_dl=3.5, ecog=3)  # another workstation
    asked: list[Any] = []
    monkeypatch.setattr(
        ApprovePlanDialog,
        "ask",
        classmethod(lambda cls, *a, **k: asked.append(a) or ApprovalChoice(())),
    )
    shown: list[str] = []
    monkeypatch.setattr(
        "tace_planner.ui.panels.plan_panel.show_error",
        lambda parent, title, error: shown.append(str(error)),
    )
    # the plan in the form still rests on the old values: approval is refused, naming them
    assert panel.approve() is None
    assert len(shown) == 1
    assert "the stored patient inputs are not those of this plan" in shown[0]
    assert "bilirubin, ECOG performance status" in shown[0]
    assert service.list_plans(case_pk) == []
    # saving the old form (weight changed) is refused: the colleague's labs stay
    panel.field_edits["weight_kg"].setText("72")
    assert panel.save_inputs() is False
    assert "were saved by" in panel.action_message.text()
    stored = service.clinical_inputs(case_pk).inputs
    assert (stored.bilirubin_mg_dl, stored.ecog) == (3.5, 3)
    # choosing the case again loads them; the plan can then be saved and approved
    panel.set_case(case_pk)
    assert panel.field_edits["bilirubin_mg_dl"].text() == "3.5"
    panel.field_edits["weight_kg"].setText("72")
    assert panel.save_inputs() is True
    assert service.clinical_inputs(case_pk).inputs.weight_kg == pytest.approx(72.0)


def test_a_stored_value_with_many_digits_is_shown_whole_and_approves(
    qtbot: QtBot, service: PlanningService, case_pk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form shows every digit of a stored value: rounded to six it would be a value
    other than the stored one, and the approval would find the inputs changed."""
    service.set_clinical_inputs(case_pk, bilirubin_mg_dl=1.2345678)
    widget = PlanPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(case_pk)
    assert widget.field_edits["bilirubin_mg_dl"].text() == "1.2345678"
    monkeypatch.setattr(
        ApprovePlanDialog, "ask", classmethod(lambda cls, *a, **k: ApprovalChoice(()))
    )
    approved = widget.approve()
    assert approved is not None
    assert approved.proposal.patient.bilirubin_mg_dl == 1.2345678
