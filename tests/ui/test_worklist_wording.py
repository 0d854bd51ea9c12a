"""The worklist names a case as users know it (patient and case title, as the case list
does), never by its database number, and filters by the patient's name or ID or the case
title."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from followup_seed import add_case, clock, sign_tace
from tace_planner.services.followups import FollowupService

pytest.importorskip("PySide6")

D = dt.date
TODAY = D(2026, 12, 2)


@pytest.fixture
def panel(qtbot: Any, services: Any) -> Any:
    """The worklist on two patients, W1 and W2, each with a signed TACE (category "all")."""
    from tace_planner.ui.panels.worklist_panel import WorklistPanel

    factory = services.session_factory
    followups = FollowupService(factory, "dr rad", clock=clock(TODAY))
    for patient_id, on in (("W1", D(2026, 3, 16)), ("W2", D(2026, 9, 1))):
        case = add_case(factory, patient_id, baseline_on=on - dt.timedelta(days=14))
        sign_tace(factory, case, on)
        followups.sync_case(case)
    widget = WorklistPanel(followups)
    qtbot.addWidget(widget)
    widget.set_category("all")
    widget.refresh()
    return widget


def _case_tips(panel: Any) -> set[str]:
    from tace_planner.ui.panels.worklist_panel import CASE_COLUMN

    return {panel.table.item(r, CASE_COLUMN).toolTip() for r in range(panel.table.rowCount())}


def test_the_case_cell_names_the_patient_and_the_case_not_a_number(panel: Any) -> None:
    assert panel.table.rowCount() > 2
    assert _case_tips(panel) == {
        "Case “DEBIRI course” of TEST, W1 [W1]",
        "Case “DEBIRI course” of TEST, W2 [W2]",
    }
    assert panel.case_filter.placeholderText() == "patient or case"
    assert "id" not in panel.case_filter.toolTip().replace("ID", "")


@pytest.mark.parametrize(
    ("text", "patients"),
    [("test w2", {"W2"}), ("W1", {"W1"}), ("Test^W1", {"W1"}), ("debiri", {"W1", "W2"})],
)
def test_the_filter_takes_the_patient_name_or_id_or_the_case_title(
    panel: Any, text: str, patients: set[str]
) -> None:
    panel.case_filter.setText(text)
    panel.refresh()
    assert {item.patient_id for item in panel.items} == patients
    assert "not a number" not in panel.message.text()


def test_a_filter_matching_nobody_says_so_in_words(panel: Any) -> None:
    panel.case_filter.setText("Nobody")
    panel.refresh()
    assert panel.items == []
    assert panel.message.text() == "No patient or case matches “Nobody”"
    panel.set_category("due")
    assert panel.message.text() == (
        "No patient or case matches “Nobody” (Due this week): choose “All” to search every "
        "follow-up"
    )


def test_choosing_a_schedule_names_the_case_by_patient_and_title(panel: Any) -> None:
    panel.case_filter.setText("W2")
    panel.refresh()
    panel.table.selectRow(len(panel.sessions))
    index = panel.preset.findData("months")
    panel.preset.setCurrentIndex(index)
    panel.preset.activated.emit(index)
    assert panel.message.text().startswith("Case “DEBIRI course” of TEST, W2 [W2]: schedule ")
