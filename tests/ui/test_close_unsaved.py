"""Closing the window asks about unsaved input; a refresh keeps it (pytest-qt, offscreen).

The reviewer closed the window with plan inputs typed and not saved: they were lost
without a question. Closing now asks the question of a case change (Save / Discard /
Cancel) for the plan's inputs and the procedure form; Cancel keeps the window open.
And a case list rebuilt (an import, a new case, the demo) kept no row selected, so a
click on the case shown reloaded the stored inputs over the typed ones. The questions
are answered by replacing ``ask_unsaved``, never by a modal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_case

pytest.importorskip("PySide6")

from unsaved_questions import answer, never_asked

pytestmark = [pytest.mark.ui, pytest.mark.db]


@pytest.fixture
def window(open_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The main window on patient K1's case (shown) and K2's."""
    shown: list[str] = []
    record = lambda parent, title, error: shown.append(f"{title}: {error}")  # noqa: E731
    monkeypatch.setattr("tace_planner.ui.main_window.show_error", record)
    main = open_window(tmp_path / "data")
    baseline_on = dt.date.today() - dt.timedelta(weeks=9)
    factory = main._test_services.session_factory
    main._test_cases = {p: add_case(factory, p, baseline_on=baseline_on) for p in ("K1", "K2")}
    main.refresh_cases()
    main.select_case(main._test_cases["K1"])
    assert main.plan_panel._case_pk == main._test_cases["K1"]
    yield main
    answer(main.plan_panel, "discard")
    main.procedure_panel.resolve_unsaved = lambda: True
    assert shown == []


def _type(window: Any, choice: str) -> list[str]:
    """Type plan inputs; the question is answered ``choice``. Returns what was asked."""
    panel = window.plan_panel
    panel.field_edits["weight_kg"].setText("75")
    panel.field_edits["bilirubin_mg_dl"].setText("1.4")
    assert panel.inputs_unsaved()
    return answer(panel, choice)


def test_cancel_keeps_the_window_open_with_the_typed_inputs(window: Any) -> None:
    asked = _type(window, "cancel")
    assert window.close() is False
    assert len(asked) == 1
    assert "Patient inputs" in asked[0]
    assert window.isVisible()
    assert window.plan_panel.field_edits["weight_kg"].text() == "75"


def test_save_stores_the_inputs_then_the_window_closes(window: Any) -> None:
    asked = _type(window, "save")
    assert window.close() is True
    assert len(asked) == 1
    stored = window._test_services.planning.clinical_inputs(window._test_cases["K1"]).inputs
    assert (stored.weight_kg, stored.bilirubin_mg_dl) == (75.0, 1.4)


def test_discard_closes_and_stores_nothing(window: Any) -> None:
    asked = _type(window, "discard")
    assert window.close() is True
    assert len(asked) == 1
    stored = window._test_services.planning.clinical_inputs(window._test_cases["K1"]).inputs
    assert stored.weight_kg != 75.0


def test_an_unsaved_procedure_record_asks_too(window: Any) -> None:
    asked: list[str] = []
    window.procedure_panel.resolve_unsaved = lambda: asked.append("procedure") or False
    # nothing typed in the plan: its inputs are not asked about
    never_asked(window.plan_panel)
    assert window.close() is False
    assert asked == ["procedure"]
    assert window.isVisible()


def _selected_case(window: Any) -> Any:
    from tace_planner.ui.panels.case_list import _CASE_ROLE

    items = window.case_list.selectedItems()
    return items[0].data(0, _CASE_ROLE) if len(items) == 1 else None


def test_a_refreshed_case_list_keeps_the_shown_row_and_the_typed_inputs(window: Any) -> None:
    k1 = window._test_cases["K1"]
    _type(window, "cancel")
    window.refresh_cases()  # as after an import or a new case
    assert _selected_case(window) == k1
    window.case_list.select_case(k1)  # a click on the shown case's row
    assert window.plan_panel.field_edits["weight_kg"].text() == "75"
    assert window.plan_panel.field_edits["bilirubin_mg_dl"].text() == "1.4"


def test_the_demo_case_shown_again_refreshes_its_studies_and_keeps_the_inputs(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    k1 = window._test_cases["K1"]
    _type(window, "cancel")
    shown: list[Any] = []
    monkeypatch.setattr(window.study_tree, "show_studies", lambda studies: shown.append(studies))
    window.refresh_cases()  # as the demo loader does after a re-run
    window.select_case(k1)
    assert len(shown) == 1  # the study tree is read again
    assert _selected_case(window) == k1
    assert window.plan_panel.field_edits["weight_kg"].text() == "75"


def test_the_plan_shown_again_keeps_the_typed_inputs(window: Any) -> None:
    k1 = window._test_cases["K1"]
    _type(window, "cancel")
    window.plan_panel.set_case(k1)  # contours confirmed, parameters changed, a TACE logged
    assert window.plan_panel.field_edits["weight_kg"].text() == "75"
    assert window.plan_panel.inputs_unsaved()
    assert window.plan_panel.proposal.patient.weight_kg == 75.0
