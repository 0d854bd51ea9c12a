"""The "Procedure" dock of the main window: the procedure panel following the current case.

Kept out of ``main_window.py`` so that the window only calls :func:`add_procedure_dock`.
The dock is tabbed with the treatment-plan dock; the main window gives it the case
chosen in the case list (after :meth:`ProcedurePanel.resolve_unsaved` let the case
change), and it refreshes its sessions to log when a plan is saved or approved.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from tace_planner.ui.panels.procedure_panel import ProcedurePanel


def add_procedure_dock(window: QMainWindow, services: Any) -> ProcedurePanel:
    """Create the panel and its dock on ``window``; return the panel."""
    procedures = services.procedures  # built by services.bootstrap.open_services

    def key_image(case_pk: int) -> Any:
        try:
            return services.planning.key_image(case_pk, services.studies.load_series)
        except Exception:  # noqa: BLE001 - the note is printed without the image
            return None

    panel = ProcedurePanel(procedures, key_image=key_image)
    dock = QDockWidget("Procedure", window)
    dock.setObjectName("procedure_dock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    plan_dock = getattr(window, "plan_dock", None)
    if plan_dock is not None:
        window.tabifyDockWidget(plan_dock, dock)
        plan_dock.raise_()
    window.procedure_dock = dock  # type: ignore[attr-defined]
    plan_panel = getattr(window, "plan_panel", None)
    if plan_panel is not None:
        plan_panel.plan_saved.connect(lambda _item: panel.refresh_list())
    panel.procedure_saved.connect(lambda _item: plan_panel.set_case(panel._case_pk))
    return panel
