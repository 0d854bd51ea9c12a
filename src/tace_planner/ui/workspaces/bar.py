"""The workspace bar at the top of the main window: the workspace tabs and the patient banner."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy, QTabBar, QToolBar, QWidget

from tace_planner.services.dto import CaseItem
from tace_planner.ui.workspaces.base import WORKSPACES, Workspace, WorkspaceContext, banner_text

_BANNER_STYLE = (
    "QLabel { background: #e8f0fb; color: #10305a; border: 1px solid #9db8dc; "
    "border-radius: 3px; padding: 3px 8px; font-weight: bold; }"
)


class WorkspaceBar(QToolBar):
    """Tabs choosing the workspace, and the banner naming the patient and case on screen.

    It fixes itself at the top of the window (not movable, not floatable) and
    emits ``workspace_requested(key)`` when a tab is chosen; the window enters
    the workspace and calls :meth:`set_current`. :meth:`set_context` names the
    patient and case and enables the tabs that can be entered.
    """

    workspace_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Workspaces", parent)
        self.setObjectName("workspace_bar")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)
        self.tabs = QTabBar()
        self.tabs.setObjectName("workspace_tabs")
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        for workspace in WORKSPACES:
            index = self.tabs.addTab(workspace.title)
            self.tabs.setTabData(index, workspace.key)
            self.tabs.setTabToolTip(index, workspace.tooltip)
        self.addWidget(self.tabs)
        self.banner = QLabel(banner_text(WorkspaceContext()))
        self.banner.setObjectName("patient_banner")
        self.banner.setStyleSheet(_BANNER_STYLE)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.banner.setMinimumWidth(120)
        self.addWidget(self.banner)
        self._keys = [w.key for w in WORKSPACES]
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)

    def workspace(self, key: str) -> Workspace:
        """The workspace of ``key``.

        Raises
        ------
        KeyError
            No such workspace.
        """
        return WORKSPACES[self._keys.index(key)] if key in self._keys else _missing(key)

    @property
    def current_key(self) -> str:
        """Key of the workspace whose tab is current."""
        return str(self.tabs.tabData(self.tabs.currentIndex()))

    def set_current(self, key: str) -> None:
        """Show ``key``'s tab as current (without asking for it again)."""
        self.tabs.blockSignals(True)
        self.tabs.setCurrentIndex(self._keys.index(key))
        self.tabs.blockSignals(False)

    def set_context(self, context: WorkspaceContext) -> None:
        """Name the patient and case, and enable the workspaces that can be entered."""
        text = banner_text(context)
        self.banner.setText(text)
        self.banner.setToolTip(text)
        self.update_availability(context.case)

    def update_availability(self, case: CaseItem | None) -> None:
        """Enable each tab whose workspace can be entered; its tool tip says why not."""
        for index, workspace in enumerate(WORKSPACES):
            available = workspace.availability(case)
            self.tabs.setTabEnabled(index, available.ok)
            self.tabs.setTabToolTip(index, available.reason or workspace.tooltip)

    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        if index >= 0:
            self.workspace_requested.emit(str(self.tabs.tabData(index)))


def _missing(key: str) -> Workspace:
    raise KeyError(f"no workspace {key!r}; one of {[w.key for w in WORKSPACES]}")
