"""The worklist keeps the selected row by what it shows, not by its position, when the
filter (while typing) or a refresh lists the rows again, and listing again never chooses
a case (pytest-qt, offscreen).

Before, the selection stayed on the same row number: after typing, the row selected could
be another patient's timepoint, and the window could switch to a case nobody chose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tace_planner.services.followup_dto import DueSession, TimepointItem

D = dt.date


def _item(pk: int, patient_id: str, *, proposed: str = "") -> TimepointItem:
    """An overdue follow-up 1 of patient ``patient_id``'s case (case pk = 10 × ``pk``)."""
    return TimepointItem(
        pk, 10 * pk, patient_id, f"Test^{patient_id}", "DEBIRI course", 1, D(2026, 3, 16),
        "follow-up 1", 1, D(2026, 5, 11), D(2026, 4, 27), D(2026, 5, 25), "scheduled", "overdue",
        proposed_study_uid=proposed, proposed_study_on=D(2026, 5, 10) if proposed else None,
    )  # fmt: skip


def _session(case_pk: int, patient_id: str) -> DueSession:
    """Session 2 (left lobe) of a sequential plan, due."""
    return DueSession(case_pk, patient_id, f"Test^{patient_id}", "DEBIRI course", 2,
                      "left lobe", D(2026, 4, 6), "due", after_tace=1)  # fmt: skip


class _Listing:
    """What the fake service lists; the test changes it between refreshes."""

    def __init__(self, items: list[TimepointItem], sessions: list[DueSession]) -> None:
        self.items, self.sessions = items, sessions


@pytest.fixture
def make_panel(qtbot: Any) -> Any:
    """``make_panel(items, sessions)`` -> (panel, listing, chosen cases), listed ("all")."""
    from tace_planner.ui.panels.worklist_panel import WorklistPanel

    def make(
        items: list[TimepointItem], sessions: list[DueSession] | None = None
    ) -> tuple[Any, _Listing, list[int]]:
        listing = _Listing(items, sessions or [])
        service = SimpleNamespace(
            parameters=SimpleNamespace(
                presets={"standard": SimpleNamespace(label="Standard"),
                         "intense": SimpleNamespace(label="Intense")}
            ),
            worklist=lambda _category, **_filters: list(listing.items),
            due_sessions=lambda _category: list(listing.sessions),
            schedule_preset=lambda case_pk: (SimpleNamespace(key="intense"), 1),
        )  # fmt: skip
        panel = WorklistPanel(service)  # type: ignore[arg-type]
        qtbot.addWidget(panel)
        panel.set_category("all")
        panel.show()
        panel.refresh()
        chosen: list[int] = []
        panel.case_selected.connect(chosen.append)
        return panel, listing, chosen

    return make


def _selected_rows(panel: Any) -> list[int]:
    return [index.row() for index in panel.table.selectionModel().selectedRows()]


def _patient_of_row(panel: Any, row: int) -> str:
    return str(panel.table.item(row, 0).text())


def _type_filter(qtbot: Any, panel: Any, text: str, patient_ids: set[str]) -> None:
    """Type ``text`` in the filter (no Enter) and wait until only ``patient_ids`` are listed."""
    panel.case_filter.setFocus()
    qtbot.keyClicks(panel.case_filter, text)
    qtbot.waitUntil(
        lambda: (
            {i.patient_id for i in panel.items} | {s.patient_id for s in panel.sessions}
            == patient_ids
        ),
        timeout=3_000,
    )


def test_a_row_filtered_away_is_unselected_and_chooses_no_other_case(
    qtbot: Any, make_panel: Any
) -> None:
    panel, _listing, chosen = make_panel([_item(1, "W1"), _item(2, "W2"), _item(3, "W3")])
    panel.table.selectRow(2)  # the user chooses W3
    assert chosen == [30]
    assert panel.preset.isEnabled()
    _type_filter(qtbot, panel, "w1", {"W1"})
    assert chosen == [30]  # W1's case was never chosen
    assert _selected_rows(panel) == []
    assert panel.selected_item() is None
    assert not panel.link_button.isEnabled()
    assert not panel.preset.isEnabled()


def test_the_row_at_the_same_position_is_not_selected_in_place_of_the_one_chosen(
    qtbot: Any, make_panel: Any
) -> None:
    panel, _listing, chosen = make_panel([_item(1, "W1", proposed="1.2.3"), _item(2, "W2")])
    panel.table.selectRow(0)  # W1, whose proposed study may be linked
    assert chosen == [10]
    assert panel.link_button.isEnabled()
    _type_filter(qtbot, panel, "w2", {"W2"})
    assert _selected_rows(panel) == []  # not W2's row, now first
    assert panel.selected_item() is None
    assert not panel.link_button.isEnabled()
    assert chosen == [10]


def test_the_selected_timepoint_stays_selected_where_the_filter_puts_it(
    qtbot: Any, make_panel: Any
) -> None:
    panel, _listing, chosen = make_panel([_item(1, "W1"), _item(2, "W2"), _item(3, "W3")])
    panel.table.selectRow(2)  # W3
    _type_filter(qtbot, panel, "w3", {"W3"})
    assert _selected_rows(panel) == [0]
    assert _patient_of_row(panel, 0) == "TEST, W3 [W3]"
    assert panel.selected_item().pk == 3
    assert panel.preset.isEnabled()
    assert panel.preset.currentData() == "intense"
    assert chosen == [30]  # chosen once, by the user


def test_a_refresh_keeps_the_timepoint_and_its_link_button_follows_it(make_panel: Any) -> None:
    panel, listing, chosen = make_panel([_item(1, "W1"), _item(2, "W2", proposed="1.2.3")])
    panel.table.selectRow(0)  # W1: nothing to link
    assert not panel.link_button.isEnabled()
    # listed again in another order, W1 now with a study to confirm
    listing.items = [_item(2, "W2"), _item(1, "W1", proposed="1.2.9")]
    panel.refresh()
    assert _selected_rows(panel) == [1]
    assert panel.selected_item().pk == 1
    assert panel.link_button.isEnabled()
    # the study linked elsewhere: nothing left to link on the row kept
    listing.items = [replace(listing.items[1], proposed_study_uid=""), _item(2, "W2")]
    panel.refresh()
    assert panel.selected_item().pk == 1
    assert not panel.link_button.isEnabled()
    assert chosen == [10]


def test_a_tace_session_row_is_kept_by_its_case_and_session(make_panel: Any) -> None:
    panel, listing, chosen = make_panel([_item(1, "W1")], [_session(7, "S7")])
    panel.table.selectRow(0)  # S7's session 2
    assert chosen == [7]
    assert not panel.preset.isEnabled()  # a session row has no follow-up schedule
    listing.sessions = [_session(8, "S8"), _session(7, "S7")]
    panel.refresh()
    assert _selected_rows(panel) == [1]
    assert _patient_of_row(panel, 1) == "TEST, S7 [S7]"
    assert not panel.preset.isEnabled()
    # the session logged: its row goes, and the timepoint now first is not chosen
    listing.sessions = []
    panel.refresh()
    assert _selected_rows(panel) == []
    assert not panel.preset.isEnabled()
    assert chosen == [7]


def test_a_timepoint_below_sessions_is_kept_when_the_sessions_change(make_panel: Any) -> None:
    panel, listing, chosen = make_panel([_item(1, "W1"), _item(2, "W2")], [_session(7, "S7")])
    panel.table.selectRow(2)  # W2, below S7's session and W1
    assert chosen == [20]
    listing.sessions = []
    panel.refresh()
    assert _selected_rows(panel) == [1]
    assert panel.selected_item().pk == 2
    assert chosen == [20]
