"""Viewer layouts hold their shape: equal rows and columns, minimum sizes, maximise and restore,
corner text that never covers the orientation letters, the empty-view hint, the preset box
following the number keys, and a cursor read-out that follows the wheel."""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from tace_planner.domain.geometry import affine_from_dicom_geometry
from tace_planner.domain.progress import Progress
from tace_planner.domain.volume import ImageVolume
from tace_planner.ui.viewer.corner_text import EMPTY_HINT, point_text
from tace_planner.ui.viewer.mpr_info import crossing_lps
from tace_planner.ui.viewer.slice_view import SliceView
from tace_planner.ui.viewer.toolbar import ViewerToolBar
from tace_planner.ui.viewer.viewer_grid import MIN_VIEW_PX, ViewerWorkspace

FRAME = "1.2.826.0.1.3680043.8.498.77"


def volume(slices: int = 12) -> ImageVolume:
    """An axial CT-like volume: a ramp along the columns, a step every slice."""
    voxels = np.tile(np.arange(64, dtype=np.float32), (slices, 48, 1)) * 10.0
    voxels += np.arange(slices, dtype=np.float32)[:, None, None]
    affine = affine_from_dicom_geometry(
        (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (1.0, 1.0), (-32.0, -24.0, 0.0), (0.0, 0.0, 2.5)
    )
    return ImageVolume(voxels, affine, FRAME)


class FakeStudies:
    def load_series(self, series_uid: str, part: str | None = None):
        yield Progress(1, 1, "reading")
        return volume()


@pytest.fixture(autouse=True)
def _every_mouse_move_counts():
    before = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", 0)
    yield
    pg.setConfigOption("mouseRateLimit", before)


@pytest.fixture
def workspace(qtbot, task_runner):
    services = SimpleNamespace(studies=FakeStudies(), annotations=None)
    widget = ViewerWorkspace(services, task_runner)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.release()


def fill(qtbot, workspace: ViewerWorkspace) -> None:
    for number, view in enumerate(workspace.views):
        with qtbot.waitSignal(workspace.volume_shown, timeout=10_000):
            workspace.open_series(f"1.2.3.{number}", view=view, title="Abdomen portal venous 2.5mm")


def settle(qtbot) -> None:
    qtbot.wait(20)
    QApplication.processEvents()


@pytest.mark.parametrize("layout", ["2x2", "mpr", "1x2"])
def test_multi_view_layouts_share_the_space_equally(qtbot, workspace, layout) -> None:
    workspace.set_layout(layout)
    fill(qtbot, workspace)
    settle(qtbot)
    views = workspace.views
    heights = {view.height() for view in views}
    widths = {view.width() for view in views}
    assert max(heights) - min(heights) <= 2, heights  # equal rows, whatever each view shows
    assert max(widths) - min(widths) <= 2, widths
    rows = 2 if layout in ("2x2", "mpr") else 1
    assert min(heights) >= (workspace.height() - 4) / rows - 4
    # Squeezed, a view keeps a usable minimum instead of collapsing to a strip.
    for view in views:
        assert (view.minimumWidth(), view.minimumHeight()) >= MIN_VIEW_PX
    workspace.resize(500, 300)
    settle(qtbot)
    assert min(view.height() for view in views) >= MIN_VIEW_PX[1] or workspace.height() < 330


def double_click(view: SliceView) -> None:
    """The view box's double click (pyqtgraph ``MouseClickEvent`` with ``double()``)."""
    event = SimpleNamespace(
        double=lambda: True,
        button=lambda: Qt.MouseButton.LeftButton,
        pos=lambda: QPointF(10.0, 10.0),
        modifiers=lambda: Qt.KeyboardModifier.NoModifier,
    )
    view._gestures.on_click(event)


def test_double_click_maximises_the_view_and_again_restores_the_layout(qtbot, workspace) -> None:
    workspace.set_layout("2x2")
    fill(qtbot, workspace)
    settle(qtbot)
    before = [view.size() for view in workspace.views]
    target = workspace.views[3]
    double_click(target)
    settle(qtbot)
    assert workspace.maximised_view is target
    assert workspace.active_view is target
    assert [view.isVisible() for view in workspace.views] == [False, False, False, True]
    assert target.width() >= workspace.width() - 4
    assert target.height() >= workspace.height() - 4
    double_click(target)
    settle(qtbot)
    assert workspace.maximised_view is None
    assert all(view.isVisible() for view in workspace.views)
    assert [view.size() for view in workspace.views] == before


def label_rects(view: SliceView):
    return [(label.objectName(), label.geometry()) for label in view.corner_text.visible_labels()]


@pytest.mark.parametrize("size", [(330, 340), (230, 190), (640, 500)])
def test_corner_text_never_covers_the_orientation_letters(qtbot, size) -> None:
    view = SliceView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.set_volume(
        volume(), title="Abdomen portal venous 2.5mm — a long series description", modality="CT"
    )
    view.show_hover(view.hover_info(0.0, 0.0))
    settle(qtbot)
    rects = label_rects(view)
    names = {name for name, _ in rects}
    assert {"edge_left", "edge_right", "edge_top", "edge_bottom"} <= names
    assert {"corner_top_left", "corner_top_right", "corner_bottom_left"} <= names
    for (first, a), (second, b) in itertools.combinations(rects, 2):
        assert not a.intersects(b), f"{first} {a} overlaps {second} {b}"
    host = view.graphics.rect()
    for name, rect in rects:
        assert host.contains(rect), f"{name} {rect} leaves the view {host}"
    # Shortened on screen, the corner text keeps its whole content.
    assert view.corner_text.text("top_left").startswith("Abdomen portal venous 2.5mm — a long")


def test_an_empty_view_says_how_to_fill_it(qtbot, workspace) -> None:
    view = workspace.active_view
    assert view.corner_text.text("hint") == EMPTY_HINT
    assert EMPTY_HINT == "Drop a series here (or select one in the study tree)"
    fill(qtbot, workspace)
    assert view.corner_text.text("hint") == ""
    view.clear()
    assert view.corner_text.text("hint") == EMPTY_HINT


def test_preset_box_follows_the_number_keys(qtbot, workspace) -> None:
    toolbar = ViewerToolBar(workspace)
    qtbot.addWidget(toolbar)
    fill(qtbot, workspace)
    view = workspace.active_view
    box = toolbar.preset_box
    assert box.currentData() == 1  # the abdominal window a CT opens with
    for key, number in ((Qt.Key.Key_2, 2), (Qt.Key.Key_5, 5), (Qt.Key.Key_3, 3), (Qt.Key.Key_0, 0)):
        qtbot.keyClick(view, key)
        assert box.currentData() == number, f"key {number}"
    qtbot.keyClick(view, Qt.Key.Key_4)
    view.set_window(123.0, 45.0)  # what a window drag does
    assert box.currentIndex() == -1
    assert box.placeholderText() == "Custom window"
    qtbot.keyClick(view, Qt.Key.Key_R)  # reset: back to the opening window
    assert box.currentData() == 1


def hover_at(view: SliceView, u_mm: float, v_mm: float) -> None:
    scene = view.view_box.mapViewToScene(QPointF(u_mm, v_mm))
    pos = view.graphics.mapFromScene(scene)
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(view.graphics.viewport().mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.graphics.viewport(), event)


def wheel(view: SliceView, notches: int) -> None:
    centre = QPointF(view.graphics.viewport().rect().center())
    event = QWheelEvent(
        centre,
        QPointF(view.graphics.viewport().mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.graphics.viewport(), event)


def test_cursor_read_out_follows_the_wheel_and_counts_from_one(qtbot) -> None:
    view = SliceView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    qtbot.waitExposed(view)
    view.set_volume(volume(), modality="CT")
    view.show_slice(4)
    hover_at(view, 0.0, 0.0)  # column 32, row 24 of slice 5
    text = view.corner_text.text("bottom_right")
    assert "slice 5/12, x 33, y 25" in text
    assert "Axial  5 / 12" in view.corner_text.text("top_right")  # the same slice number
    assert f"{volume().voxels[4, 24, 32]:.0f} HU" in text
    wheel(view, -3)  # three notches towards the feet: three planes on, mouse still
    assert view.slice_index == 7
    text = view.corner_text.text("bottom_right")
    assert "slice 8/12, x 33, y 25" in text, text
    assert f"{volume().voxels[7, 24, 32]:.0f} HU" in text
    assert "Axial  8 / 12" in view.corner_text.text("top_right")
    assert re.search(r"S 17\.5 mm", text)  # the point under the mouse moved with the plane


def test_the_mpr_layouts_fourth_cell_says_where_the_planes_cross(qtbot, workspace) -> None:
    """The fourth cell of MPR was an empty grey square."""
    workspace.set_layout("1x1")
    with qtbot.waitSignal(workspace.volume_shown, timeout=10_000):
        workspace.open_series("1.2.3.0", title="Abdomen portal venous 2.5mm")
    assert not workspace.mpr_info.isVisible()
    workspace.set_layout("mpr")
    qtbot.waitUntil(lambda: all(v.volume is not None for v in workspace.views), timeout=10_000)
    settle(qtbot)
    info = workspace.mpr_info
    assert info.isVisible()
    sagittal = workspace.views[2]
    assert info.x() > sagittal.x() + sagittal.width() - 1  # the free cell, beside it
    assert abs(info.y() - sagittal.y()) <= 2
    axial, coronal, _ = workspace.views
    axial.show_slice(3)  # the volume's slices lie every 2.5 mm from S 0: S 7.5 mm
    text = info.text()
    assert "Abdomen portal venous 2.5mm" in text
    assert "S 7.5" in text
    # the value there, read independently: volume() holds 10 × column + slice, the column
    # being x + 32 mm at 1 mm spacing, x where the sagittal plane lies
    x = sagittal.slice_position_mm()  # the sagittal plane's normal is +x (left)
    assert f"{'L' if x >= 0 else 'R'} {abs(x):.1f}" in text
    assert f"value there: <b>{10 * round(x + 32.0) + 3:.0f} HU</b>" in text
    coronal.show_slice(coronal.slice_index + 2)  # each view's scrolling updates the cell
    assert info.text() != text
    double_click(axial)  # one view enlarged: no fourth cell
    settle(qtbot)
    assert not info.isVisible()
    double_click(axial)
    settle(qtbot)
    assert info.isVisible()
    workspace.close_series_except(lambda uid: False)  # another patient chosen: emptied
    assert "cross at" not in info.text()
    assert "Abdomen portal venous" not in info.text()
    workspace.set_layout("2x2")
    assert not info.isVisible()


def test_the_planes_crossing_point_and_its_patient_coordinates() -> None:
    normals = [(0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)]
    point = crossing_lps(normals, [7.8, -45.6, -12.3])
    assert point == pytest.approx([-12.3, -45.6, 7.8])
    assert point_text(point) == "R 12.3  A 45.6  S 7.8 mm"
    assert point_text(np.array([4.0, 2.0, -1.0])) == "L 4.0  P 2.0  I 1.0 mm"
    # oblique planes: the point lies on each of them
    rng = np.random.default_rng(3)
    tilted = [n / np.linalg.norm(n) for n in rng.normal(size=(3, 3))]
    positions = [5.0, -2.0, 11.0]
    crossing = crossing_lps(tilted, positions)
    assert [float(np.dot(n, crossing)) for n in tilted] == pytest.approx(positions)
    assert crossing_lps([(0, 0, 1), (0, 0, 1), (1, 0, 0)], [0.0, 1.0, 2.0]) is None  # parallel
