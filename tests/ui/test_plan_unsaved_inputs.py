"""Patient inputs typed in the plan are not thrown away when another case is chosen.

The reviewer typed weight 75 and bilirubin 1.4 in the plan's inputs, chose another
patient and came back: the stored values were back, nobody asked. Leaving the case now
asks Save / Discard / Cancel (the words of the parameter dialogs); Cancel stays on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from unsaved_questions import answer

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]

PATIENT_ID = "TACE-DEMO-001"


@pytest.fixture
def window(open_window: Any, demo_copy: Path) -> Any:
    """The demo window on a copy with a second case of the demo patient, the demo case open."""
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    services = open_services(AppSettings(data_dir=demo_copy, db_url=None, user="dr plan"))
    try:
        services.cases.create_case(PATIENT_ID, "Second course")
    finally:
        services.close()
    main = open_window(demo_copy, user="dr plan")
    cases = main._test_services.cases.list_cases()
    main._test_demo = next(c.pk for c in cases if c.title != "Second course")
    main._test_second = next(c.pk for c in cases if c.title == "Second course")
    main.select_case(main._test_demo)
    assert main.plan_panel._case_pk == main._test_demo
    return main


def _type(panel: Any) -> None:
    panel.field_edits["weight_kg"].setText("75")
    panel.field_edits["bilirubin_mg_dl"].setText("1.4")
    assert panel.inputs_unsaved()


def _choose_second(window: Any, choice: str) -> list[str]:
    """Choose the second case, the plan's question answered with ``choice``: asked once."""
    asked = answer(window.plan_panel, choice)
    window.select_case(window._test_second)
    assert len(asked) == 1
    return asked


def _selected_case(window: Any) -> Any:
    from tace_planner.ui.panels.case_list import _CASE_ROLE

    item = window.case_list.currentItem()
    return None if item is None else item.data(0, _CASE_ROLE)


def test_cancel_keeps_the_case_and_the_typed_inputs(window: Any) -> None:
    panel, demo = window.plan_panel, window._test_demo
    _type(panel)
    asked = _choose_second(window, "cancel")
    assert "Patient inputs" in asked[0]
    assert (window._case_pk, panel._case_pk, _selected_case(window)) == (demo, demo, demo)
    assert panel.field_edits["weight_kg"].text() == "75"
    assert panel.field_edits["bilirubin_mg_dl"].text() == "1.4"
    # the patient's own row (no case) asks too
    window.case_list.setCurrentItem(window.case_list.topLevelItem(0))
    assert len(asked) == 2
    assert (window._case_pk, panel._case_pk, _selected_case(window)) == (demo, demo, demo)
    assert panel.field_edits["weight_kg"].text() == "75"


def test_save_stores_the_typed_inputs_before_the_other_case_opens(window: Any) -> None:
    panel, demo = window.plan_panel, window._test_demo
    _type(panel)
    asked = _choose_second(window, "save")
    assert panel._case_pk == window._test_second
    stored = window._test_services.planning.clinical_inputs(demo).inputs
    assert (stored.weight_kg, stored.bilirubin_mg_dl) == (75.0, 1.4)
    window.select_case(demo)
    assert panel.field_edits["weight_kg"].text() == "75"
    assert len(asked) == 1  # nothing typed in the second case: not asked again


def test_discard_leaves_the_stored_inputs_as_they_were(window: Any) -> None:
    panel, demo = window.plan_panel, window._test_demo
    before = window._test_services.planning.clinical_inputs(demo).inputs
    _type(panel)
    _choose_second(window, "discard")
    assert panel._case_pk == window._test_second
    assert window._test_services.planning.clinical_inputs(demo).inputs == before
    window.select_case(demo)
    assert panel.field_edits["weight_kg"].text() != "75"
    assert not panel.inputs_unsaved()


def test_a_refused_save_stays_on_the_case_and_says_why(window: Any) -> None:
    panel, demo = window.plan_panel, window._test_demo
    panel.field_edits["weight_kg"].setText("7500")  # impossible: nothing saved
    _choose_second(window, "save")
    assert (window._case_pk, panel._case_pk, _selected_case(window)) == (demo, demo, demo)
    assert "not saved" in panel.action_message.text()


def test_discard_then_closing_the_new_case_dialog_shows_the_stored_inputs_again(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discard takes the typed inputs off the form even when the New case dialog it was
    asked for is then closed: nothing is left on screen that counts as unsaved."""
    from tace_planner.ui.dialogs.new_case_dialog import NewCaseDialog

    shown: list[str] = []
    monkeypatch.setattr(
        NewCaseDialog, "ask", classmethod(lambda cls, *a, **k: shown.append("new case"))
    )
    panel, demo = window.plan_panel, window._test_demo
    stored_weight = panel.field_edits["weight_kg"].text()
    assert stored_weight != "75"
    _type(panel)
    asked = answer(panel, "discard")
    window.new_case_action.trigger()
    assert len(asked) == 1
    assert shown == ["new case"]
    assert (window._case_pk, panel._case_pk) == (demo, demo)
    assert panel.field_edits["weight_kg"].text() == stored_weight
    assert panel.field_edits["bilirubin_mg_dl"].text() != "1.4"
    assert not panel.inputs_unsaved()
