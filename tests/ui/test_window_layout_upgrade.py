"""A layout saved before the first-start fit gets the fit once, and keeps its arrangement.

Users who had saved a layout kept the plan dock at 54–67 % of the window after the
first start was changed to give the images the larger share. A layout saved by the
previous version keeps its arrangement (tool bars, tabs, floating docks) but has its
docks' widths fitted once, as on a first start; a layout saved since is restored as it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget

from tace_planner.ui.main_window import DOCK_WIDTH_MAX_SHARE, MainWindow

pytestmark = pytest.mark.db

SIZE = (1366, 740)  # a maximised window on a 1366 × 768 screen
FIT_WAIT_MS = 700  # the fit runs 300 ms after the content is built
OLD_VERSION = 3  # the layout version saved before the first-start fit


@pytest.fixture
def layout_settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


def _open(qtbot, services, layout_settings: QSettings) -> MainWindow:
    """As ``app.run_gui`` does: the empty window on screen first, then its content."""
    window = MainWindow(None, layout_settings=layout_settings)
    qtbot.addWidget(window)
    window.show_on_screen()
    window.showNormal()
    window.resize(*SIZE)
    qtbot.waitExposed(window)
    window.attach(services)
    qtbot.wait(FIT_WAIT_MS)
    return window


def _plan_dock(window: MainWindow) -> QDockWidget:
    return window.findChild(QDockWidget, "plan_dock")


def _save_wide_layout(qtbot, services, layout_settings: QSettings, version: int) -> None:
    """A layout as users saved it: the plan dock at 54 % of the window, the view bar moved."""
    window = _open(qtbot, services, layout_settings)
    window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, window.viewer_toolbar)
    window.resizeDocks([_plan_dock(window)], [int(0.6 * SIZE[0])], Qt.Orientation.Horizontal)
    # as wide as Qt lets it (740 px, 54 %: what users saved)
    qtbot.waitUntil(lambda: _plan_dock(window).width() > 0.5 * SIZE[0], timeout=2_000)
    window._layout_store.save(window, "plan")
    layout_settings.setValue("window/state", window.saveState(version))
    layout_settings.sync()
    window.hide()


def test_a_layout_saved_before_the_fit_gets_it_once_and_keeps_its_arrangement(
    qtbot, services, layout_settings
) -> None:
    _save_wide_layout(qtbot, services, layout_settings, OLD_VERSION)
    window = _open(qtbot, services, layout_settings)
    dock = _plan_dock(window)
    qtbot.waitUntil(lambda: dock.width() <= DOCK_WIDTH_MAX_SHARE * SIZE[0] + 2, timeout=3_000)
    images = window._splitter.widget(1)
    assert images.width() > dock.width(), (images.width(), dock.width())
    # the arrangement saved is kept: the view bar stays where the user put it
    assert window.toolBarArea(window.viewer_toolbar) == Qt.ToolBarArea.BottomToolBarArea

    # closed again, the layout is saved in the new version and then restored as it is
    window.resizeDocks([dock], [int(0.5 * SIZE[0])], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() > 0.45 * SIZE[0], timeout=2_000)
    window._layout_store.save(window, "plan")
    window.hide()
    again = _open(qtbot, services, layout_settings)
    assert _plan_dock(again).width() > 0.45 * SIZE[0], "a layout saved since is not fitted again"
