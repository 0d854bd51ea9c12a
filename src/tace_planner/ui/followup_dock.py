"""The "Worklist" and "Timeline" docks of the main window (follow-up, issue 14).

Kept out of ``main_window.py`` so that the window only calls :func:`add_followup_docks`.
The worklist lists the follow-ups due this week on opening (schedules are brought in step
with the signed procedures first, unless the database is read-only); selecting a row
selects its case. The timeline follows the case chosen in the case list.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from tace_planner.domain.errors import TacePlannerError
from tace_planner.ui.panels.timeline_panel import TimelinePanel
from tace_planner.ui.panels.worklist_panel import WorklistPanel


def add_followup_docks(window: QMainWindow, services: Any) -> tuple[WorklistPanel, TimelinePanel]:
    """Create the worklist and timeline panels in docks at the bottom of ``window``."""
    followups = services.followups  # built by services.bootstrap.open_services
    worklist = WorklistPanel(
        followups, link_at_once=bool(getattr(services.settings, "link_new_studies", False))
    )
    timeline = TimelinePanel()
    docks = []
    for title, name, panel in (
        ("Worklist", "worklist_dock", worklist),
        ("Timeline", "timeline_dock", timeline),
    ):
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        docks.append(dock)
    window.tabifyDockWidget(docks[0], docks[1])
    docks[0].raise_()

    def show_case(case_pk: int) -> None:
        try:
            timeline.show_timeline(services.therapy.timeline(case_pk))
        except TacePlannerError as error:
            timeline.hover.setText(str(error))

    case_list = getattr(window, "case_list", None)
    if case_list is not None:
        case_list.case_selected.connect(show_case)
        worklist.case_selected.connect(case_list.select_case)
    try:
        if not getattr(services, "read_only", False):
            followups.sync_all()
    except TacePlannerError as error:
        worklist.message.setText(str(error))
    worklist.refresh()
    return worklist, timeline
