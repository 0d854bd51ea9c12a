"""A follow-up visit placed in a schedule slot reads under one name in the Follow-up
workspace: the worklist, the Follow-up box, the timeline and the Lesions dock's *Values at*.

Seen: the CT linked by hand as "follow-up 2" and placed in the slot "TACE 1 follow-up 1"
was "follow-up 2" in the worklist and the box but its slot elsewhere. The box still asks
the services with the stored label (pytest-qt, offscreen).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from followup_seed import add_case, add_study, clock, sign_tace
from tace_planner.services.followups import FollowupService

pytestmark = pytest.mark.db
D = dt.date
TODAY = D(2026, 12, 7)
PLACED = "TACE 1 follow-up 1"


class _NoTasks:
    """A task runner that runs nothing (no stored contours are read here)."""

    def submit(self, *_args: Any, **_options: Any) -> None:
        return None


def _seed(services: Any) -> tuple[int, FollowupService]:
    factory = services.session_factory
    case = add_case(factory, "VN", baseline_on=D(2026, 3, 2))
    sign_tace(factory, case, D(2026, 3, 16))
    followups = FollowupService(factory, "dr rad", clock=clock(TODAY))
    followups.sync_case(case)  # the schedule was laid out before the CT was linked
    add_study(factory, "VN", "1.2.VN.1", D(2026, 5, 11))
    services.cases.link_study(
        case, "1.2.VN.1", timepoint_label="follow-up 2", timepoint_kind="follow_up"
    )
    return case, followups


def _page(qtbot: Any, services: Any) -> tuple[Any, Any]:
    from tace_planner.ui.panels.case_list import CaseListPanel
    from tace_planner.ui.workspaces.followup_page import FollowupPage

    case_list = CaseListPanel()
    qtbot.addWidget(case_list)
    case_list.show_cases(services.cases.list_patients(), services.cases.list_cases())
    page = FollowupPage(services, _NoTasks(), case_list)
    qtbot.addWidget(page)
    return page, case_list


def _worklist_name(page: Any, timepoint_pk: int) -> str:
    from tace_planner.ui.panels.worklist_panel import _PK_ROLE, COLUMNS

    table, column = page.worklist.table, COLUMNS.index("Timepoint")
    for row in range(table.rowCount()):
        cell = table.item(row, column)
        if cell is not None and cell.data(_PK_ROLE) == timepoint_pk:
            return str(cell.text())
    raise AssertionError(f"timepoint {timepoint_pk} is not on the worklist")


def test_a_placed_visit_reads_by_one_name_in_worklist_box_and_timeline(
    qtbot: Any, services: Any
) -> None:
    case, _ = _seed(services)
    page, case_list = _page(qtbot, services)
    page.worklist.set_category("all")
    assert case_list.select_case(case)
    qtbot.waitUntil(lambda: any(i.label == "follow-up 2" for i in page.worklist.items))
    placed = next(i for i in page.worklist.items if i.label == "follow-up 2")
    assert (placed.status, placed.followup_number) == ("done", 1)  # placed in slot 1

    assert _worklist_name(page, placed.pk) == PLACED

    box = page.review.timepoints
    shown = [box.itemText(i) for i in range(box.count())]
    assert shown[0] == PLACED
    assert "follow-up 2" not in shown
    assert len(shown) == len(set(shown))
    assert page.review.chosen_label() == "follow-up 2"  # the services are asked by label

    texts = [text for _, text in page.timeline._texts]
    assert f"{PLACED} imaged 2026-05-11" in texts
    assert not any(text.startswith("follow-up 2") for text in texts)


def test_the_lesions_dock_names_the_visit_as_the_follow_up_box(qtbot: Any, services: Any) -> None:
    from tace_planner.ui.panels.lesion_panel import LesionPanel

    case, followups = _seed(services)
    followups.sync_case(case)  # the CT takes its slot
    panel = LesionPanel(services.contouring, choices=followups.follow_up_choices)
    qtbot.addWidget(panel)
    panel.set_case(case)
    shown = [panel.timepoint_box.itemText(i) for i in range(panel.timepoint_box.count())]
    assert shown[:2] == ["baseline (2026-03-02)", f"{PLACED} (2026-05-11)"]


def test_the_windows_lesions_dock_names_a_placed_visit_by_its_slot(
    qtbot: Any, open_window: Any, demo_copy: Any
) -> None:
    """The app as put together gives the Lesions dock the visits' names (the dock alone
    was tested above; the window built it without them)."""
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    seeding = open_services(AppSettings(data_dir=demo_copy, db_url=None, user="radiologist"))
    try:
        case = seeding.cases.list_cases()[0].pk
        sign_tace(seeding.session_factory, case, D(2026, 3, 16))
        FollowupService(seeding.session_factory, "dr rad", clock=clock(TODAY)).sync_case(case)
    finally:
        seeding.close()
    window = open_window(demo_copy)
    window.select_case(case)
    panel = window.contour_workbench.lesion_panel
    qtbot.waitUntil(lambda: panel.timepoint_box.count() > 1, timeout=10_000)
    shown = [panel.timepoint_box.itemText(i) for i in range(panel.timepoint_box.count())]
    assert any(text.startswith("TACE 1 follow-up 1 (") for text in shown), shown
    assert not any(text.startswith("follow-up 1 (") for text in shown), shown
