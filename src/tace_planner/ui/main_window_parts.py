"""The main window's heavy parts: viewer, panels, docks, contouring, cohort plots.

They bring pyqtgraph, numpy, pydicom and the services' SQLAlchemy models with them, so
``main_window`` imports this module only when it builds its content
(:meth:`MainWindow.attach`), after the first paint. At start-up a worker thread imports it
while the empty window is already on the screen (``app.run_gui``).
"""

from __future__ import annotations

from tace_planner.ui.contour_workbench import ContourWorkbench
from tace_planner.ui.dialogs.import_dialog import ImportDialog
from tace_planner.ui.dialogs.parameters_dialog import ParametersDialog
from tace_planner.ui.panels.annotation_panel import AnnotationPanel
from tace_planner.ui.panels.plan_panel import PlanPanel
from tace_planner.ui.panels.study_tree import StudyTreePanel
from tace_planner.ui.procedure_dock import add_procedure_dock
from tace_planner.ui.viewer.slice_view import SliceView
from tace_planner.ui.viewer.toolbar import ViewerToolBar
from tace_planner.ui.viewer.viewer_grid import ViewerWorkspace
from tace_planner.ui.viewer.window_presets import WindowPresetStore
from tace_planner.ui.workspaces.cohort_page import CohortPage
from tace_planner.ui.workspaces.followup_page import add_followup_page

__all__ = [
    "AnnotationPanel",
    "CohortPage",
    "ContourWorkbench",
    "ImportDialog",
    "ParametersDialog",
    "PlanPanel",
    "SliceView",
    "StudyTreePanel",
    "ViewerToolBar",
    "ViewerWorkspace",
    "WindowPresetStore",
    "add_followup_page",
    "add_procedure_dock",
]
