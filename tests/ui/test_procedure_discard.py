"""*Discard* on the procedure form's unsaved-input question takes the typed input off the
form, and only once the change it was asked for goes ahead (pytest-qt, offscreen).

Before, *Discard* marked the form clean and left the input on it: when the change was not
carried out (the New case dialog closed, a later panel's *Cancel*), the form still showed
the input but counted as clean, and the next case change or close lost it without asking.
The question is answered by replacing ``ask_unsaved``, the New case dialog by patching
its ``ask``, never by a modal.

The case is the phantom's baseline (``planning_case``) with an approved plan.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from unsaved_questions import answer

from planning_seed import approve_plan

pytestmark = pytest.mark.usefixtures("errors")  # tests/ui/conftest.py

approved = pytest.fixture(approve_plan, name="approved")


@pytest.fixture
def window(qtbot: Any, services: Any, approved: Any) -> Any:
    """The window on the approved plan's case, its procedure form on a new record from plan
    session 1 (nothing typed yet); unusual values are confirmed without a question."""
    from tace_planner.ui.main_window import MainWindow

    main = MainWindow(services)
    qtbot.addWidget(main)
    main.select_case(approved[1])
    main.procedure_panel.confirm = lambda title, text: True
    main.procedure_panel.log_selected_session()
    yield main
    main.close()


@pytest.fixture
def new_case_closed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The New case dialog, closed without a case (Cancel); records that it was shown."""
    from tace_planner.ui.dialogs.new_case_dialog import NewCaseDialog

    shown: list[str] = []
    monkeypatch.setattr(
        NewCaseDialog, "ask", classmethod(lambda cls, *a, **k: shown.append("new case"))
    )
    return shown


def _type(panel: Any, **values: str) -> None:
    for key, text in values.items():
        panel.fields[key].setText(text)
    panel.refresh_preview()


def _click_patient_row(window: Any) -> None:
    window.case_list.setCurrentItem(window.case_list.topLevelItem(0))


def test_discard_then_closing_the_new_case_dialog_leaves_no_typed_input_on_the_form(
    window: Any, new_case_closed: list[str]
) -> None:
    panel = window.procedure_panel
    case_pk = window._case_pk
    _type(panel, operator="Dr Hurried", performed_on="2026-03-16")
    asked = answer(panel, "discard")
    window.new_case_action.trigger()
    assert asked == ["The new procedure record"]
    assert new_case_closed == ["new case"]
    assert window._case_pk == case_pk == panel._case_pk  # no new case: still on this one
    # what was discarded is gone from the screen: nothing shown that a change would lose
    assert panel.fields["operator"].text() == ""
    assert panel.fields["performed_on"].text() == ""
    assert not panel.has_unsaved_input()
    assert "discarded" in panel.status_label.text()
    assert window._services.procedures.list_procedures(case_pk) == []


def test_discard_of_a_stored_draft_shows_the_draft_again_as_stored(
    window: Any, new_case_closed: list[str]
) -> None:
    panel = window.procedure_panel
    _type(panel, operator="Dr Stored", performed_on="2026-03-16")
    assert panel.save() is not None
    _type(panel, operator="Dr Typed")
    assert panel.has_unsaved_input()
    answer(panel, "discard")
    window.new_case_action.trigger()
    assert new_case_closed == ["new case"]
    assert panel.current is not None
    assert panel.fields["operator"].text() == "Dr Stored"
    assert not panel.has_unsaved_input()
    stored = window._services.procedures.list_procedures(window._case_pk)
    assert [p.record.operator for p in stored] == ["Dr Stored"]


def test_a_later_panels_cancel_keeps_the_input_discarded_first_and_it_is_asked_again(
    window: Any,
) -> None:
    from tace_planner.ui.case_change import CaseChangeGuard

    panel = window.procedure_panel
    case_pk = window._case_pk
    _type(panel, operator="Dr Hurried")
    answer(panel, "discard")
    keeps_its_case = SimpleNamespace(resolve_unsaved=lambda: False)  # answers Cancel
    guard = CaseChangeGuard(window.case_list, (panel, keeps_its_case))
    assert not guard.allows_leaving()
    assert panel.fields["operator"].text() == "Dr Hurried"
    assert panel.has_unsaved_input()  # still counts as unsaved
    # the next case change asks again instead of losing the input
    asked = answer(panel, "cancel")
    _click_patient_row(window)
    assert asked == ["The new procedure record"]
    assert window._case_pk == case_pk
    assert panel.fields["operator"].text() == "Dr Hurried"


def test_the_guard_asks_every_panel_before_any_discards(qtbot: Any) -> None:
    from tace_planner.ui.case_change import CaseChangeGuard

    events: list[str] = []

    class Panel:
        def __init__(self, name: str, goes_on: bool) -> None:
            self.name, self.goes_on = name, goes_on

        def resolve_unsaved(self) -> bool:
            events.append(f"ask {self.name}")
            return self.goes_on

        def finish_unsaved(self, leaving: bool) -> None:
            events.append(f"{'discard' if leaving else 'keep'} {self.name}")

    case_list = SimpleNamespace(reselect=lambda *args: events.append("list put back"))
    declined = CaseChangeGuard(case_list, (Panel("plan", True), Panel("form", False)))  # type: ignore[arg-type]
    assert not declined.allows(2, 1, None)
    assert events == ["ask plan", "ask form", "keep plan", "list put back"]
    events.clear()
    allowed = CaseChangeGuard(case_list, (Panel("plan", True), Panel("form", True)))  # type: ignore[arg-type]
    assert allowed.allows_leaving()
    assert events == ["ask plan", "ask form", "discard plan", "discard form"]
