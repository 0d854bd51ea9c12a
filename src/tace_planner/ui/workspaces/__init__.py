"""Workspaces of the main window (plan, procedure, follow-up, cohort) and the patient banner."""

from tace_planner.ui.workspaces.bar import WorkspaceBar
from tace_planner.ui.workspaces.base import (
    WORKSPACES,
    Availability,
    Workspace,
    WorkspaceContext,
    banner_text,
)

__all__ = [
    "WORKSPACES",
    "Availability",
    "Workspace",
    "WorkspaceBar",
    "WorkspaceContext",
    "banner_text",
]
