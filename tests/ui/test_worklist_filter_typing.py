"""The worklist filters while the user types (a short pause after the last key, the rows
already listed, the service not asked again), and an empty worklist at 1366 × 768 keeps
its columns readable (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from tace_planner.services.followup_dto import TimepointItem

pytest.importorskip("PySide6")

D = dt.date


def _item(pk: int, patient_id: str) -> TimepointItem:
    """An overdue follow-up 1 of patient ``patient_id``'s case "DEBIRI course"."""
    return TimepointItem(
        pk, pk, patient_id, f"Test^{patient_id}", "DEBIRI course", 1, D(2026, 3, 16),
        "follow-up 1", 1, D(2026, 5, 11), D(2026, 4, 27), D(2026, 5, 25), "scheduled", "overdue",
    )  # fmt: skip


def _panel(qtbot: Any, items: list[TimepointItem], calls: list[str]) -> Any:
    """The worklist over a service listing ``items``; ``calls`` gets each category asked."""
    from tace_planner.ui.panels.worklist_panel import WorklistPanel

    def worklist(category: str, **_filters: Any) -> list[TimepointItem]:
        calls.append(category)
        return list(items)

    service = SimpleNamespace(
        parameters=SimpleNamespace(presets={}),
        worklist=worklist,
        due_sessions=lambda _category: [],
    )
    panel = WorklistPanel(service)  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.set_category("all")
    return panel


@pytest.fixture
def panel_and_calls(qtbot: Any) -> tuple[Any, list[str]]:
    """The worklist on two patients, W1 and W2 (category "all"), and the categories the
    service was asked for."""
    calls: list[str] = []
    panel = _panel(qtbot, [_item(1, "W1"), _item(2, "W2")], calls)
    panel.show()
    panel.refresh()
    return panel, calls


def test_the_filter_applies_while_typing_without_asking_the_service_again(
    qtbot: Any, panel_and_calls: tuple[Any, list[str]]
) -> None:
    panel, calls = panel_and_calls
    assert {item.patient_id for item in panel.items} == {"W1", "W2"}
    asked = len(calls)
    panel.case_filter.setFocus()
    qtbot.keyClicks(panel.case_filter, "w2")  # no Enter, the field keeps the focus
    qtbot.waitUntil(lambda: {item.patient_id for item in panel.items} == {"W2"}, timeout=3_000)
    assert all(
        panel.table.item(r, 0).text() == "TEST, W2 [W2]" for r in range(panel.table.rowCount())
    )
    assert len(calls) == asked  # filtered in memory
    qtbot.keyClicks(panel.case_filter, "x")
    qtbot.waitUntil(lambda: panel.table.rowCount() == 0, timeout=3_000)
    assert panel.message.text() == "No patient or case matches “w2x”"
    panel.case_filter.clear()
    qtbot.waitUntil(lambda: {item.patient_id for item in panel.items} == {"W1", "W2"})
    assert len(calls) == asked


def test_an_empty_worklist_at_1366_by_768_keeps_its_columns_readable(qtbot: Any) -> None:
    from tace_planner.ui.panels.worklist_panel import COLUMNS

    panel = _panel(qtbot, [], [])
    panel.resize(1366 - 300, 768 // 3)  # beside the case list, the worklist's share
    panel.show()
    panel.refresh()
    assert panel.table.rowCount() == 0
    header = panel.table.horizontalHeader()
    metrics = header.fontMetrics()
    widths = {name: header.sectionSize(column) for column, name in enumerate(COLUMNS)}
    usual = {
        "Patient": "DEMO, Phantom [TD-001]",
        "Case": "DEBIRI course",
        "TACE": "TACE 1 · 2026-03-16",
        "Timepoint": "TACE 1 follow-up 4",
        "Due": "2026-12-07",
        "Window": "2026-04-27 – 2026-05-25",
        "Status": "overdue",
    }
    for name, text in usual.items():
        assert widths[name] >= metrics.horizontalAdvance(text), name
    # every column but the last (which takes the rest) fits beside the case list
    assert sum(header.sectionSize(c) for c in range(len(COLUMNS) - 1)) <= panel.width()
    assert header.stretchLastSection()
