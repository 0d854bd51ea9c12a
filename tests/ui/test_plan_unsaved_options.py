"""Plan options typed in the Plan panel are not lost without a question.

The reviewer typed Segments "VII, VIII" and Interval 28 days, then closed the window (or
chose another case): only patient inputs were asked about, the options went silently. Now
every option typed and not stored in a plan counts: Save stores them in a draft (the only
place options are stored), Discard shows the options as they were, Cancel stays.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from unsaved_questions import answer, leave

from tace_planner.ui.panels.plan_panel import PlanPanel


@pytest.fixture
def panel(qtbot: Any, planning_case: tuple[Any, int]) -> PlanPanel:
    widget = PlanPanel(planning_case[0])
    qtbot.addWidget(widget)
    widget.set_case(planning_case[1])
    return widget


def _type_options(panel: PlanPanel) -> tuple[str, int]:
    before = (panel.segments_edit.text(), panel.interval_spin.value())
    assert before[1] != 28
    panel.segments_edit.setText("VII, VIII")
    panel.interval_spin.setValue(28)
    panel.recompute()
    assert not panel.inputs_unsaved()  # the patient inputs are the stored ones
    return before


def test_cancel_keeps_the_typed_options_and_names_them(panel: PlanPanel) -> None:
    _type_options(panel)
    asked = answer(panel, "cancel")
    assert not leave(panel)
    assert len(asked) == 1
    assert asked[0].startswith("Plan options of ")
    assert "Segments" in asked[0]
    assert "Interval" in asked[0]
    assert panel.segments_edit.text() == "VII, VIII"
    assert panel.interval_spin.value() == 28
    assert panel.options_unsaved() == ["Segments", "Interval"]


def test_discard_shows_the_options_as_they_were(panel: PlanPanel) -> None:
    segments, interval = _type_options(panel)
    asked = answer(panel, "discard")
    assert leave(panel)
    assert len(asked) == 1
    assert (panel.segments_edit.text(), panel.interval_spin.value()) == (segments, interval)
    assert panel.options_unsaved() == []
    assert leave(panel)  # nothing left to ask about
    assert len(asked) == 1


def test_save_stores_the_options_in_a_draft(panel: PlanPanel, planning_case: Any) -> None:
    service, case_pk = planning_case
    plans = len(service.list_plans(case_pk))
    _type_options(panel)
    asked = answer(panel, "save")
    assert leave(panel), panel.action_message.text()
    assert len(asked) == 1
    saved = service.list_plans(case_pk)
    assert len(saved) == plans + 1
    options = saved[-1].proposal.options
    assert (options.segments, options.interval_days) == (("VII", "VIII"), 28)
    assert panel.options_unsaved() == []
    assert leave(panel)
    assert len(asked) == 1  # stored: not asked again
    panel.interval_spin.setValue(21)  # typed again, then saved with *Save draft*
    assert panel.save_draft() is not None
    assert leave(panel)
    assert len(asked) == 1


def test_patient_inputs_and_options_are_asked_about_together(panel: PlanPanel) -> None:
    _type_options(panel)
    panel.field_edits["bilirubin_mg_dl"].setText("1.4")
    asked = answer(panel, "cancel")
    assert not leave(panel)
    assert asked[0].startswith("Patient inputs and plan options of ")


def test_each_case_opens_on_its_own_options_not_the_previous_cases(
    qtbot: Any, services: Any, planning_case: tuple[Any, int]
) -> None:
    """Options typed and saved for one case were still shown when another case (without a
    plan) was chosen, and that case's plan was computed with them."""
    from planning_seed import PATIENT_INPUTS, seed_case

    planning, first = planning_case
    second = seed_case(services, patient_id="P-2")
    planning.set_clinical_inputs(second, **PATIENT_INPUTS)
    panel = PlanPanel(planning)
    qtbot.addWidget(panel)
    panel.set_case(first)
    default = (panel.segments_edit.text(), panel.interval_spin.value())
    _type_options(panel)
    assert panel.save_draft() is not None  # the options are stored with the draft
    panel.set_case(second)
    assert (panel.segments_edit.text(), panel.interval_spin.value()) == default
    assert panel.options_unsaved() == []
    panel.set_case(first)
    assert (panel.segments_edit.text(), panel.interval_spin.value()) == ("VII, VIII", 28)
    assert panel.options_unsaved() == []
