"""A declined case change keeps the whole window on its case (pytest-qt, offscreen).

With patient inputs typed in the plan and not saved, choosing another case (or a patient
row) asks Save / Discard / Cancel. The Follow-up page used to follow the case list by
itself, before the question was asked: after *Cancel* it showed the declined case (or no
case, from a patient row) while the rest of the window stayed on the old one. Only the
main window listens to the case list now: it asks first, then tells every part. The
question is answered by replacing the plan panel's ``ask_unsaved``, never by a modal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from followup_seed import add_case, sign_tace

pytest.importorskip("PySide6")

from unsaved_questions import answer

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.usefixtures("errors")]


@pytest.fixture
def window(qtbot: Any, services: Any, errors: list[str]) -> Iterator[Any]:
    """The main window on patients K1 and K2, each with a case whose first follow-up is due
    today (both on the worklist); K1's case is shown. ``_test_cases``: patient ID -> case."""
    from tace_planner.ui.main_window import MainWindow

    factory = services.session_factory
    today = dt.date.today()
    cases = {}
    for patient_id in ("K1", "K2"):
        cases[patient_id] = add_case(factory, patient_id, baseline_on=today - dt.timedelta(weeks=9))
        sign_tace(factory, cases[patient_id], today - dt.timedelta(weeks=8))
    main = MainWindow(services)
    qtbot.addWidget(main)
    main.resize(1400, 900)
    main.show()
    main._test_cases = cases
    main.select_case(cases["K1"])
    _assert_on_case(main, cases["K1"], "K1")
    yield main
    assert errors == []
    main.close()


def _type_and_answer(window: Any, choice: str) -> list[Any]:
    """Type patient inputs in the plan; the question is answered ``choice``. Returns, per
    question, what the Follow-up page showed while it was asked."""
    panel = window.plan_panel
    panel.field_edits["weight_kg"].setText("75")
    panel.field_edits["bilirubin_mg_dl"].setText("1.4")
    assert panel.inputs_unsaved()
    return answer(panel, choice, record=lambda text: window.followup_review.case_pk)


def _list_row(window: Any) -> tuple[str, int] | None:
    """("case", pk) or ("patient", pk) of the case list's single selected row."""
    from tace_planner.ui.panels.case_list import _CASE_ROLE, _PATIENT_ROLE

    items = window.case_list.selectedItems()
    if len(items) != 1 or items[0] is not window.case_list.currentItem():
        return None
    case_pk = items[0].data(0, _CASE_ROLE)
    return (
        ("case", case_pk) if case_pk is not None else ("patient", items[0].data(0, _PATIENT_ROLE))
    )


def _assert_on_case(window: Any, case_pk: int, patient_id: str) -> None:
    """Every part of the window shows ``case_pk``: list, banner, docks, Follow-up page."""
    assert window._case_pk == case_pk
    assert window.context.case is not None
    assert window.context.case.pk == case_pk
    assert _list_row(window) == ("case", case_pk)
    assert window.plan_panel._case_pk == case_pk
    assert window.procedure_panel._case_pk == case_pk
    assert window.followup_review.case_pk == case_pk
    assert patient_id in window.timeline_panel.title.text()


def _click_patient_row(window: Any, patient_id: str) -> None:
    """A mouse click on the patient's own row of the case list."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    case_list = window.case_list
    row = next(
        case_list.topLevelItem(n)
        for n in range(case_list.topLevelItemCount())
        if f"[{patient_id}]" in case_list.topLevelItem(n).text(0)
    )
    rect = case_list.visualItemRect(row)  # the row's text, left of the viewport's edge
    at = QPoint(rect.left() + 8, rect.center().y())
    QTest.mouseClick(case_list.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), at)


def _patient_pk(window: Any, patient_id: str) -> int:
    return next(p.pk for p in window._patients.values() if p.patient_id == patient_id)


def _select_worklist_row(window: Any, case_pk: int) -> None:
    worklist = window.worklist_panel
    index = next(n for n, item in enumerate(worklist.items) if item.case_pk == case_pk)
    worklist.table.selectRow(len(worklist._sessions) + index)


def test_cancel_keeps_the_follow_up_page_on_the_case_shown(window: Any) -> None:
    k1, k2 = window._test_cases["K1"], window._test_cases["K2"]
    asked = _type_and_answer(window, "cancel")
    window.case_list.select_case(k2)  # as a click on K2's case row
    assert asked == [k1]
    _assert_on_case(window, k1, "K1")
    assert window.plan_panel.field_edits["weight_kg"].text() == "75"
    window.enter_workspace("follow_up")  # the page the user turns to shows the window's case
    assert window.followup_review.case_pk == k1


def test_cancel_from_a_patient_row_puts_the_list_back_on_the_case_shown(window: Any) -> None:
    k1 = window._test_cases["K1"]
    asked = _type_and_answer(window, "cancel")
    _click_patient_row(window, "K2")
    assert asked == [k1]
    _assert_on_case(window, k1, "K1")
    assert window.context.patient.patient_id == "K1"
    _click_patient_row(window, "K1")  # its own patient's row asks too, and stays
    assert asked == [k1, k1]
    _assert_on_case(window, k1, "K1")


def test_cancel_with_no_case_open_puts_the_list_back_on_the_patient_shown(window: Any) -> None:
    """The guard's contract when the window shows a patient row without a case. No panel
    holds unsaved input without a case today, so the procedure form answers Cancel here."""
    _click_patient_row(window, "K1")  # nothing typed: no question, no case open
    k1_patient = _patient_pk(window, "K1")
    assert (window._case_pk, _list_row(window)) == (None, ("patient", k1_patient))
    assert window.followup_review.case_pk is None
    window.procedure_panel.resolve_unsaved = lambda: False
    window.case_list.select_case(window._test_cases["K2"])
    assert window._case_pk is None
    assert window.context.patient.patient_id == "K1"
    assert _list_row(window) == ("patient", k1_patient)
    assert window.followup_review.case_pk is None


def test_save_stores_the_inputs_then_every_part_shows_the_other_case(
    window: Any, services: Any
) -> None:
    k1, k2 = window._test_cases["K1"], window._test_cases["K2"]
    asked = _type_and_answer(window, "save")
    window.case_list.select_case(k2)
    assert asked == [k1]  # asked while the whole window, Follow-up page too, was on K1
    _assert_on_case(window, k2, "K2")
    stored = services.planning.clinical_inputs(k1).inputs
    assert (stored.weight_kg, stored.bilirubin_mg_dl) == (75.0, 1.4)


def test_discard_from_a_patient_row_shows_the_patient_and_no_case(window: Any) -> None:
    k1 = window._test_cases["K1"]
    asked = _type_and_answer(window, "discard")
    _click_patient_row(window, "K2")
    assert asked == [k1]
    assert window._case_pk is None
    assert window.context.case is None
    assert window.context.patient.patient_id == "K2"
    assert _list_row(window) == ("patient", _patient_pk(window, "K2"))
    assert window.plan_panel._case_pk is None
    assert window.followup_review.case_pk is None
    assert window.timeline_panel.title.text() == "No case"


def test_a_worklist_row_asks_before_its_case_is_shown(window: Any) -> None:
    k1, k2 = window._test_cases["K1"], window._test_cases["K2"]
    window.enter_workspace("follow_up")
    assert window.pages.currentWidget() is window.followup_page
    asked = _type_and_answer(window, "cancel")
    _select_worklist_row(window, k2)
    assert asked == [k1]
    _assert_on_case(window, k1, "K1")
    # the row of the declined case is not left selected beside the case shown
    assert window.worklist_panel.table.selectionModel().selectedRows() == []
    asked_again = answer(window.plan_panel, "discard", record=lambda text: window._case_pk)
    _select_worklist_row(window, k2)
    assert asked + asked_again == [k1, k1]
    _assert_on_case(window, k2, "K2")
