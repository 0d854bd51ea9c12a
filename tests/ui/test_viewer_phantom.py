"""The viewer in the main window on the demo phantom: HU against truth, a ruler across a sphere,
measurements kept in the database, drag and drop from the study tree, layouts and snapshots."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from tace_planner.imaging.phantom import PhantomTruth
from tace_planner.imaging.phantom_model import CT_HU
from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.ui.main_window import MainWindow, SnapshotDialog

pytestmark = [pytest.mark.dicom, pytest.mark.db, pytest.mark.writes]

CT_NOISE_SD_HU = 11.0


@pytest.fixture(autouse=True)
def _every_mouse_move_counts():
    before = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", 0)
    yield
    pg.setConfigOption("mouseRateLimit", before)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path) -> Path:
    """A private copy of the demo database and images: these tests store measurements."""
    copy = tmp_path_factory.mktemp("viewer-demo") / "data"
    shutil.copytree(demo_data_dir, copy)
    return copy


@pytest.fixture(scope="module")
def truth(data_dir: Path) -> PhantomTruth:
    return PhantomTruth.from_json(
        json.loads((data_dir / "demo-phantom" / "truth.json").read_text())
    )


def make_window(qtbot, data_dir: Path) -> MainWindow:
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="radiologist"))
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window._test_services = services  # closed by the fixture
    window._test_data_dir = data_dir
    window.select_case(services.cases.list_cases()[0].pk)
    return window


@pytest.fixture
def window(qtbot, data_dir: Path):
    main = make_window(qtbot, data_dir)
    yield main
    main.close()
    main._test_services.close()


def series_uid(window: MainWindow, phase: str) -> str:
    """UID of a baseline CT phase, from the phantom's truth (classifications may be edited)."""
    truth = json.loads((window._test_data_dir / "demo-phantom" / "truth.json").read_text())
    baseline = next(t for t in truth["timepoints"] if t["label"] == "baseline")
    return next(s["series_uid"] for s in baseline["series"] if s["folder"] == f"CT_{phase}")


def open_phase(qtbot, window: MainWindow, phase: str):
    """Select a baseline CT phase in the tree and wait for the whole volume."""
    assert window.study_tree.select_series(series_uid(window, phase))
    view = window.slice_view
    qtbot.waitUntil(lambda: view.volume is not None and view.slice_count > 3, timeout=20_000)
    qtbot.waitUntil(lambda: not window.progress_bar.isVisible(), timeout=20_000)
    return view


def viewport_point(view, point_lps) -> QPoint:
    u, v, _ = view.geometry.lps_to_screen(point_lps)
    return view.graphics.mapFromScene(view.view_box.mapViewToScene(QPointF(u, v)))


def send_mouse(widget, kind, pos: QPoint, button, buttons) -> None:
    event = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_first_slices_show_before_the_whole_series_is_read(qtbot, window) -> None:
    with qtbot.waitSignal(window.viewer.preview_shown, timeout=20_000) as preview:
        window.study_tree.select_series(series_uid(window, "delayed"))
    view, shape = preview.args
    assert shape == (35, 128, 128)  # the whole series, known from its headers
    assert "35 × 128 × 128 voxels" in window.view_title.text()
    qtbot.waitUntil(lambda: view.slice_count == 35, timeout=20_000)
    assert view.slice_position_mm() == pytest.approx(0.0, abs=2.5)  # the middle slice, kept
    assert "loading" not in window.view_title.text()


def test_hu_under_the_cursor_at_a_focus_centre_matches_truth(qtbot, window, truth) -> None:
    view = open_phase(qtbot, window, "arterial")
    focus = next(f for f in truth.timepoint("baseline").foci if f.name == "F2")  # no necrosis
    target = view.geometry.index_at(focus.center_lps_mm[2])
    # Scroll there the way a reader does: Home, then one slice per key press.
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Home)
    for _ in range(target):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.slice_index == target
    assert abs(view.slice_position_mm() - focus.center_lps_mm[2]) <= 2.5  # half a 5 mm slice
    with qtbot.waitSignal(view.hovered) as blocker:
        send_mouse(view.graphics.viewport(), QEvent.Type.MouseMove,
                   viewport_point(view, focus.center_lps_mm), Qt.MouseButton.NoButton,
                   Qt.MouseButton.NoButton)  # fmt: skip
    info = blocker.args[0]
    assert info.value == float(view.volume.voxels[info.voxel_zyx])
    expected = CT_HU["focus_hypervascular"]["arterial"]
    assert info.value == pytest.approx(expected, abs=4 * CT_NOISE_SD_HU)
    assert f"{info.value:.0f} HU" in view.corner_text.text("bottom_right")
    np.testing.assert_allclose(info.point_lps[:2], focus.center_lps_mm[:2], atol=2.0)


def test_ruler_across_a_sphere_reads_its_diameter_and_comes_back(
    qtbot, window, truth, data_dir: Path
) -> None:
    view = open_phase(qtbot, window, "venous")
    focus = next(f for f in truth.timepoint("baseline").foci if f.name == "F1")  # 54 mm sphere
    cx, cy, cz = focus.center_lps_mm
    view.show_position(cz)
    radius = focus.semi_axes_mm[0]
    window.viewer_toolbar.tool_actions["ruler"].trigger()
    start = viewport_point(view, (cx - radius, cy, cz))
    end = viewport_point(view, (cx + radius, cy, cz))
    viewport = view.graphics.viewport()
    with qtbot.waitSignal(window.viewer.annotations.changed, timeout=5_000):
        send_mouse(viewport, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.LeftButton)  # fmt: skip
        for n in range(1, 7):
            send_mouse(viewport, QEvent.Type.MouseMove, start + (end - start) * (n / 6),
                       Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)  # fmt: skip
        send_mouse(viewport, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.NoButton)  # fmt: skip
    panel = window.annotation_panel
    assert panel.count() == 1
    (item,) = window.viewer.annotations.items_for(view.series_key)
    pixel_mm = min(view.geometry.pixel_spacing_mm())
    assert item.annotation.values["length_mm"] == pytest.approx(
        focus.longest_axial_diameter_mm, abs=pixel_mm
    )
    assert item.created_by == "radiologist"
    assert view.measurements.visible_keys() == [item.pk]
    view.scroll(3)  # another plane: not drawn there
    assert view.measurements.visible_keys() == []

    # Reopened in a new window (a new session): listed and drawn on its plane again.
    window.close()
    again = make_window(qtbot, data_dir)
    try:
        reopened = open_phase(qtbot, again, "venous")
        assert again.annotation_panel.count() == 1
        again.annotation_panel.select_pk(item.pk)  # jumps to the measurement's plane
        assert reopened.slice_position_mm() == pytest.approx(cz, abs=2.5)
        assert reopened.measurements.visible_keys() == [item.pk]
        again.annotation_panel.delete_requested.emit(item.pk)
        assert again.annotation_panel.count() == 0
        assert reopened.measurements.stored_keys() == []
    finally:
        again.close()
        again._test_services.close()


def test_a_series_dragged_from_the_tree_opens_in_the_view_it_is_dropped_on(qtbot, window) -> None:
    open_phase(qtbot, window, "arterial")
    window.viewer_toolbar.layout_actions["1x2"].trigger()
    left, right = window.viewer.views
    row = window.study_tree.item_of(series_uid(window, "venous"))
    data = window.study_tree.mimeData([row])
    viewport = right.graphics.viewport()
    enter = QDragEnterEvent(QPoint(30, 30), Qt.DropAction.CopyAction, data,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(viewport, enter)
    drop = QDropEvent(QPointF(30, 30), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(viewport, drop)
    qtbot.waitUntil(lambda: right.volume is not None and right.slice_count > 3, timeout=20_000)
    assert window.slice_view is right  # the view dropped on became the active one
    assert right.series_key[0] != left.series_key[0]
    assert "voxels" in window.view_title.text()
    # Both baseline phases share a frame of reference: linked by position.
    left.show_slice(5)
    assert right.slice_position_mm() == pytest.approx(left.slice_position_mm())


def test_layouts_and_snapshot_for_a_report(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    view = open_phase(qtbot, window, "venous")
    window.viewer_toolbar.layout_actions["mpr"].trigger()
    qtbot.waitUntil(
        lambda: (
            [v.state.orientation for v in window.viewer.views if v.volume is not None]
            == ["axial", "coronal", "sagittal"]
        ),
        timeout=20_000,
    )
    assert window.viewer.views[0].volume is view.volume
    target = tmp_path / "report.png"
    monkeypatch.setattr(SnapshotDialog, "ask", classmethod(lambda cls, *a: target))
    window._on_snapshot_triggered()
    image = QImage(str(target))
    assert not image.isNull()
    assert image.width() > 100
    bare = window.save_snapshot(tmp_path / "bare.png", overlays=False)
    assert QImage(str(bare)).size() == image.size()
    window.viewer_toolbar.layout_actions["2x2"].trigger()
    assert len(window.viewer.views) == 4
