"""The main window's pages, docks and geometry: the central pages under the disclaimer,
which docks and tool bars show, and the layout at start (saved, or fitted on a first start).

:class:`WindowLayoutMixin` is a part of :class:`~tace_planner.ui.main_window.MainWindow`
(its only user); it works on the window's attributes (``pages``, ``_splitter``,
``_layout_store``) and imports nothing heavy, so that the empty window is painted first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from tace_planner.ui.workspaces import WORKSPACES

if TYPE_CHECKING:
    from tace_planner.ui.workspaces.cohort_page import CohortPage

DISCLAIMER = (
    "Planning aid for research and clinical decision support — not a prescription. "
    "The physician decides."
)
#: Share of the window's width the plan docks get on a first start (the plan's tables fit).
DOCK_WIDTH_SHARE = 0.36
DOCK_WIDTH_MAX_SHARE = 0.42
#: The case list and study tree on a first start: a share of the central width, not below a minimum.
LEFT_COLUMN_SHARE = 0.3
LEFT_COLUMN_MIN_PX = 240
_SIDE_AREAS = (Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea)
FIT_DOCKS_DELAY_MS = 300


class WindowLayoutMixin:
    """Pages, docks, tool bars and the window's layout at start (a part of ``MainWindow``)."""

    def _build_central(self, viewer_page: QWidget, cohort_page: type[CohortPage]) -> QWidget:
        """The disclaimer above the workspace pages: the viewer, or a page not built yet."""
        disclaimer = QLabel(DISCLAIMER)
        disclaimer.setObjectName("disclaimer")
        disclaimer.setStyleSheet(
            "background: #fff4ce; color: #5c4400; padding: 4px; border: 1px solid #e0c36a;"
        )
        self.placeholder_page = QLabel("")
        self.placeholder_page.setObjectName("placeholder_page")
        self.placeholder_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder_page.setWordWrap(True)
        self.placeholder_page.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.placeholder_page.setStyleSheet("color: #303030; font-size: 13pt; padding: 40px;")
        self.pages = QStackedWidget()
        self.pages.addWidget(viewer_page)
        self.pages.addWidget(self.placeholder_page)
        self._page_widgets = {"viewer": viewer_page, "placeholder": self.placeholder_page}
        self.cohort_page: CohortPage | None = None
        if self._cohort is not None:
            self.cohort_page = cohort_page(self._cohort, tasks=self._tasks)
            self.pages.addWidget(self.cohort_page)
            self._page_widgets["cohort"] = self.cohort_page
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(disclaimer)
        layout.addWidget(self.pages, stretch=1)
        return central

    def show_page(self, name: str, text: str = "") -> None:
        """Show the central page ``name`` ("viewer", or "placeholder" with ``text``)."""
        if name == "cohort" and self.cohort_page is None:
            name = "placeholder"  # no cohort service given (tests of the window alone)
        if name == "placeholder":
            self.placeholder_page.setText(text)
        self._size_pages_to(self._page_widgets[name])
        self.pages.setCurrentWidget(self._page_widgets[name])
        if name == "cohort" and self.cohort_page is not None:
            self.cohort_page.refresh()

    def _size_pages_to(self, current: QWidget) -> None:
        """Let only the page shown set the window's minimum size.

        A stacked widget's minimum is the largest of all its pages': the cohort page's
        plots made the Plan workspace need 823 px of height, more than a 1366 × 768
        screen has, and cut off the status bar (its progress and Cancel) there.
        """
        for page in self._page_widgets.values():
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.pages.updateGeometry()

    def _docks(self) -> dict[str, QDockWidget]:
        return {dock.objectName(): dock for dock in self.findChildren(QDockWidget)}

    def set_docks_visible(self, names: tuple[str, ...]) -> None:
        """Show the docks named (the first one in front of its tabs); hide the others."""
        docks = self._docks()
        for name, dock in docks.items():
            dock.setVisible(name in names)
        front = next((docks[n] for n in names if n in docks), None)
        if front is not None:
            front.raise_()
        elif docks:
            # Qt leaves the tab bar of hidden tabified docks on screen (a stale "Treatment
            # plan | Lesions" strip over the Follow-up worklist); the layout shows it again
            # with its docks.
            for bar in self._dock_tab_bars():
                bar.hide()

    def _dock_tab_bars(self) -> list[QTabBar]:
        """The tab bars the window's layout made for tabified docks (used or not)."""
        return self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)

    def _hide_orphan_tab_bars(self) -> None:
        """Hide the dock tab bars no shown dock group uses.

        ``restoreState`` builds the tab bars of the saved layout anew and leaves the
        one made before it on screen: reopening a data folder showed a stale
        "Treatment plan | Lesions" strip across the window's bottom, over the
        Measurements' Delete button. A used bar spans its docks' column exactly.
        """
        columns = {
            (dock.x(), dock.width())
            for dock in self._docks().values()
            if dock.isVisible() and not dock.isFloating()
        }
        shown = [bar for bar in self._dock_tab_bars() if bar.isVisible()]
        used = [bar for bar in shown if (bar.x(), bar.width()) in columns]
        if not used:
            return  # not laid out yet: hiding now could hide the bar in use
        for bar in shown:
            if bar not in used:
                bar.hide()

    def set_toolbars_visible(self, names: tuple[str, ...]) -> None:
        """Show the tool bars named; hide the others (the workspace bar always shows)."""
        for name in ("viewer_toolbar", "contour_toolbar"):
            toolbar = self.findChild(QWidget, name)
            if toolbar is not None:
                toolbar.setVisible(name in names)

    def show_on_screen(self) -> None:
        """Show the window at its saved geometry, docks and workspace, or maximised.

        An empty window (no services yet) gets its docks and workspace in :meth:`attach`.
        """
        if self._layout_store.restore_geometry(self):
            self.show()
        else:
            self.showMaximized()
        self._on_screen = True
        if self.ready:
            self._restore_layout()

    def _restore_layout(self) -> None:
        saved = self._layout_store.workspace()
        if saved in {w.key for w in WORKSPACES}:
            self.enter_workspace(saved)
        if self._layout_store.restore_state(self):
            # Once the restored docks and their tab bars are laid out: the stale bar off.
            QTimer.singleShot(0, self._hide_orphan_tab_bars)
        else:
            # After the window manager has given the window its maximised size.
            QTimer.singleShot(FIT_DOCKS_DELAY_MS, self._fit_first_start)

    def _fit_first_start(self) -> None:
        # Qt gives a new dock its panel's size hint (the plan's long wrapped texts: 54 % of
        # a 1366 px window, 67 % of 1920) and the viewer only what is left: narrow it too.
        self.fit_docks(narrow=True)
        self.layout().activate()  # the central width the narrowed docks leave, now
        total = sum(self._splitter.sizes())
        left = max(LEFT_COLUMN_MIN_PX, int(total * LEFT_COLUMN_SHARE))
        self._splitter.setSizes([left, max(0, total - left)])
        # the tab bar Qt made while the window was still empty may stay behind, too
        QTimer.singleShot(0, self._hide_orphan_tab_bars)

    def fit_docks(self, *, narrow: bool = False) -> None:
        """Widen the right docks until the plan's tables fit (at most ``DOCK_WIDTH_MAX_SHARE``).

        Called whenever a case is chosen (the plan's sessions and warnings then
        decide the width); it never narrows a dock the user widened. At the first
        start (``narrow``) the docks get exactly that width, wider or narrower.
        """
        docks = [
            d
            for d in self._docks().values()
            if d.isVisible() and not d.isFloating() and self.dockWidgetArea(d) in _SIDE_AREAS
        ]
        if not docks:
            return
        wanted = int(self.width() * DOCK_WIDTH_SHARE)
        for dock in docks:
            for area in dock.findChildren(QScrollArea):
                if area.widget() is not None:
                    content = area.widget().minimumSizeHint().width()
                    scrollbar = area.verticalScrollBar().sizeHint().width()
                    wanted = max(wanted, content + scrollbar + 2 * area.frameWidth() + 16)
        wanted = min(wanted, int(self.width() * DOCK_WIDTH_MAX_SHARE))
        widest = max(dock.width() for dock in docks)
        if widest < wanted or (narrow and widest != wanted):
            self.resizeDocks(docks, [wanted] * len(docks), Qt.Orientation.Horizontal)
