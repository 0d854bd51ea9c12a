"""SliceView: orientation stamps, aspect, mouse and keys, hover, overlays, trust badge, snapshot."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from tace_planner.domain.geometry import affine_from_dicom_geometry
from tace_planner.domain.volume import ImageVolume
from tace_planner.ui.viewer import SliceView
from tace_planner.ui.viewer.interaction import series_mime_data

AXIAL_IOP = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL_IOP = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
FRAME = "1.2.826.0.1.3680043.8.498.7"


@pytest.fixture(autouse=True)
def _every_mouse_move_counts():
    """pyqtgraph drops mouse moves closer than 10 ms apart; tests send them faster."""
    before = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", 0)
    yield
    pg.setConfigOption("mouseRateLimit", before)


@pytest.fixture
def view(qtbot) -> SliceView:
    widget = SliceView()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# ---------------------------------------------------------------- helpers


def stamped(
    orientation=AXIAL_IOP, spacing=(2.0, 1.0), step=(0.0, 0.0, 3.0), shape=(6, 40, 80)
) -> ImageVolume:
    """Mid-grey tissue with a bright block at rows 0–4, columns 0–19 (wider than tall)."""
    voxels = np.full(shape, 40.0, dtype=np.float32)
    voxels[:, :5, :20] = 1000.0
    affine = affine_from_dicom_geometry(orientation, spacing, (-40.0, -40.0, 0.0), step)
    return ImageVolume(voxels, affine, FRAME)


def rendered(view: SliceView) -> np.ndarray:
    """Brightness (HSV value) of every pixel of the image area, without any overlay."""
    view.corner_text.set_visible(False)
    QApplication.processEvents()
    image: QImage = view.graphics.grab().toImage()
    view.corner_text.set_visible(True)
    width, height = image.width(), image.height()
    return np.array(
        [[QColor(image.pixel(x, y)).value() for x in range(width)] for y in range(height)]
    )


def extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the True pixels."""
    ys, xs = np.nonzero(mask)
    return xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


def viewport_point(view: SliceView, u_mm: float, v_mm: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(u_mm, v_mm))
    return view.graphics.mapFromScene(scene)


def send_mouse(
    widget, kind, pos: QPoint, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier
):
    event = QMouseEvent(
        kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), button, buttons, modifiers
    )
    QApplication.sendEvent(widget, event)


def drag(view: SliceView, start: QPoint, end: QPoint, button=Qt.MouseButton.LeftButton,
         modifiers=Qt.KeyboardModifier.NoModifier, steps: int = 6) -> None:  # fmt: skip
    viewport = view.graphics.viewport()
    send_mouse(viewport, QEvent.Type.MouseButtonPress, start, button, button, modifiers)
    for n in range(1, steps + 1):
        point = start + (end - start) * (n / steps)
        send_mouse(viewport, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, button,
                   modifiers)  # fmt: skip
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton,
               modifiers)  # fmt: skip


def hover(view: SliceView, point: QPoint) -> None:
    send_mouse(view.graphics.viewport(), QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton,
               Qt.MouseButton.NoButton)  # fmt: skip


# ---------------------------------------------------------------- orientation


@pytest.mark.parametrize(
    ("iop", "step", "orientation", "edges"),
    [
        (AXIAL_IOP, (0.0, 0.0, 3.0), "axial", {"left": "R", "top": "A"}),
        (CORONAL_IOP, (0.0, 3.0, 0.0), "coronal", {"left": "R", "top": "S"}),
    ],
)
def test_marked_corner_lands_where_dicom_orientation_says(
    view: SliceView, iop, step, orientation: str, edges: dict[str, str]
) -> None:
    """Row 0, column 0 is the patient's right-anterior (axial) or right-superior (coronal)
    corner: it must be drawn top left, 20 mm wide and 10 mm tall (no flip, no transpose)."""
    view.set_volume(stamped(iop, step=step), window=(400, 40))
    assert view.state.orientation == orientation
    for edge, letter in edges.items():
        assert view.corner_text.text(edge) == letter
    lit = rendered(view)
    image_x, image_y, image_w, image_h = extent(lit > 60)
    stamp_x, stamp_y, stamp_w, stamp_h = extent(lit > 240)
    assert (stamp_x, stamp_y) == (image_x, image_y)  # top left, not mirrored
    assert stamp_w == pytest.approx(2 * stamp_h, abs=2)  # 20 mm x 10 mm: not transposed
    assert image_w == pytest.approx(image_h, abs=2)  # 80 x 1 mm by 40 x 2 mm: square
    assert stamp_w == pytest.approx(image_w / 4, abs=2)


def test_mirrored_rows_are_flipped_back_to_the_radiological_side(view: SliceView) -> None:
    """Rows stored patient left to right (IOP -1,0,0): the stamp must end up top right."""
    view.set_volume(stamped((-1.0, 0.0, 0.0, 0.0, 1.0, 0.0)), window=(400, 40))
    assert view.corner_text.text("left") == "R"
    lit = rendered(view)
    image_x, _, image_w, _ = extent(lit > 60)
    stamp_x, _, stamp_w, _ = extent(lit > 240)
    assert stamp_x + stamp_w == image_x + image_w


def test_coronal_reformat_of_thin_slices_keeps_the_aspect(view: SliceView) -> None:
    """A 30 mm cube on 0.78 x 0.78 x 2.5 mm voxels looks square in the coronal view."""
    shape = (48, 100, 100)
    voxels = np.full(shape, -100.0, dtype=np.float32)
    affine = affine_from_dicom_geometry(AXIAL_IOP, (0.78, 0.78), (0, 0, 0), (0, 0, 2.5))
    z0, y0 = 12, 30
    voxels[z0 : z0 + 12, y0 : y0 + 39, 30 : 30 + 39] = 1000.0  # 30 x 30.4 x 30.4 mm
    view.set_volume(ImageVolume(voxels, affine, FRAME), window=(400, 40), orientation="coronal")
    view.show_slice(y0 + 10)
    assert view.slice_count == 100
    assert view.corner_text.text("top") == "S"
    _, _, cube_w, cube_h = extent(rendered(view) > 240)
    assert cube_w == pytest.approx(cube_h * 30.4 / 30.0, abs=2)
    # The reformat is a view of the voxels, not a copy.
    assert np.shares_memory(view.image_item.image, voxels)


# ---------------------------------------------------------------- state both ways


def test_state_drives_the_view_and_the_view_writes_the_state(view: SliceView, qtbot) -> None:
    volume = stamped()
    view.set_volume(volume)
    with qtbot.waitSignal(view.slice_changed) as blocker:
        view.state.slice_position_mm = 9.2  # nearest slice: 3 mm steps from z = 0
    assert blocker.args == [3]
    np.testing.assert_array_equal(view.image_item.image, volume.voxels[3])
    view.state.set_window(150, 90)
    assert tuple(view.image_item.getLevels()) == pytest.approx((15.0, 165.0))
    assert "W 150  L 90" in view.corner_text.text("bottom_left")
    view.show_slice(5)
    assert view.state.slice_position_mm == pytest.approx(15.0)
    assert "S 15.0 mm" in view.corner_text.text("top_right")


def test_keys_scroll_pick_presets_invert_and_reset(view: SliceView, qtbot) -> None:
    view.set_volume(stamped(shape=(30, 40, 80)))
    view.show_slice(0)
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert view.slice_index == 10
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.slice_index == 11
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.slice_index == 29
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.slice_index == 0
    qtbot.keyClick(view, Qt.Key.Key_2)  # second preset: liver 150/90
    assert view.window_hu == (150.0, 90.0)
    assert "Liver" in view.corner_text.text("bottom_left")
    qtbot.keyClick(view, Qt.Key.Key_I)
    assert view.state.invert
    assert view.image_item.lut is not None
    view.state.zoom = 3.0
    qtbot.keyClick(view, Qt.Key.Key_R)
    assert view.window_hu == (400.0, 40.0)
    assert view.state.zoom == 1.0
    assert not view.state.invert


def test_left_drag_windows_right_drag_zooms_middle_drag_pans(view: SliceView) -> None:
    view.set_volume(stamped())
    centre = viewport_point(view, 0.0, 0.0)
    drag(view, centre, centre + QPoint(60, 30))
    width, level = view.window_hu
    assert width > 400.0  # right: wider
    assert level > 40.0  # down: higher level
    drag(view, centre, centre + QPoint(0, -120), button=Qt.MouseButton.RightButton)
    assert view.state.zoom == pytest.approx(2.0, rel=0.1)  # up by one doubling distance
    before = np.array(view.state.pan_center_lps)
    drag(view, centre, centre + QPoint(50, 0), button=Qt.MouseButton.MiddleButton)
    moved = np.array(view.state.pan_center_lps) - before
    assert moved[0] < 0  # the image follows the mouse: the centre moves the other way
    assert moved[1] == pytest.approx(0.0, abs=1e-6)


def test_hover_shows_patient_coordinates_and_the_voxel_value(view: SliceView, qtbot) -> None:
    volume = stamped()
    view.set_volume(volume)
    view.show_slice(2)
    # Voxel (row 2, column 5): LPS x = -40 + 5, y = -40 + 2 * 2, z = 6.
    with qtbot.waitSignal(view.hovered) as blocker:
        hover(view, viewport_point(view, -35.0, -36.0))
    info = blocker.args[0]
    screen_pixel_mm = 80.0 / view.graphics.viewport().width()
    np.testing.assert_allclose(info.point_lps, (-35.0, -36.0, 6.0), atol=screen_pixel_mm)
    assert info.voxel_zyx == (2, 2, 5)
    assert info.value == pytest.approx(float(volume.voxels[2, 2, 5]))
    x, y, z = info.point_lps
    text = view.corner_text.text("bottom_right")
    assert f"R {-x:.1f}  A {-y:.1f}  S {z:.1f} mm" in text
    assert "1000 HU   slice 3/6, x 6, y 3" in text  # every number counted from 1


def test_ruler_drag_measures_in_millimetres_on_anisotropic_pixels(view: SliceView, qtbot) -> None:
    view.set_volume(stamped())  # rows 2 mm apart, columns 1 mm
    view.set_tool("ruler")
    start, end = viewport_point(view, -30.0, -30.0), viewport_point(view, 0.0, 10.0)
    with qtbot.waitSignal(view.measurement_drawn) as blocker:
        drag(view, start, end)
    kind, points = blocker.args
    assert kind == "ruler"
    length = float(np.linalg.norm(points[1] - points[0]))
    pixel_mm = 80.0 / view.graphics.viewport().width()  # screen pixel size at this zoom
    assert length == pytest.approx(50.0, abs=2 * pixel_mm)


def test_angle_is_two_arms_then_a_click(view: SliceView, qtbot) -> None:
    view.set_volume(stamped())
    view.set_tool("angle")
    vertex = viewport_point(view, 0.0, 0.0)
    drag(view, viewport_point(view, -20.0, 0.0), vertex)
    assert view.measurements.waiting_for_third_point
    viewport = view.graphics.viewport()
    third = viewport_point(view, 0.0, -20.0)
    with qtbot.waitSignal(view.measurement_drawn) as blocker:
        send_mouse(viewport, QEvent.Type.MouseButtonPress, third, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.LeftButton)  # fmt: skip
        send_mouse(viewport, QEvent.Type.MouseButtonRelease, third, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.NoButton)  # fmt: skip
    first, middle, last = blocker.args[1]
    arm1, arm2 = first - middle, last - middle
    angle = math.degrees(math.acos(arm1 @ arm2 / np.linalg.norm(arm1) / np.linalg.norm(arm2)))
    assert angle == pytest.approx(90.0, abs=3.0)


def test_double_click_asks_to_maximise(view: SliceView, qtbot) -> None:
    view.set_volume(stamped())
    viewport = view.graphics.viewport()
    point = viewport_point(view, 0.0, 0.0)
    with qtbot.waitSignal(view.maximise_requested):
        send_mouse(viewport, QEvent.Type.MouseButtonPress, point, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.LeftButton)  # fmt: skip
        send_mouse(viewport, QEvent.Type.MouseButtonRelease, point, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.NoButton)  # fmt: skip
        send_mouse(viewport, QEvent.Type.MouseButtonDblClick, point, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.LeftButton)  # fmt: skip
        send_mouse(viewport, QEvent.Type.MouseButtonRelease, point, Qt.MouseButton.LeftButton,
                   Qt.MouseButton.NoButton)  # fmt: skip


def test_custom_tool_reports_pointer_events_in_lps(view: SliceView, qtbot) -> None:
    view.set_volume(stamped())
    view.set_tool("custom")
    events = []
    view.pointer_event.connect(events.append)
    drag(view, viewport_point(view, -30.0, -30.0), viewport_point(view, -10.0, -30.0))
    kinds = [e.kind for e in events]
    assert kinds[0] == "press"
    assert kinds[-1] == "release"
    assert "move" in kinds
    assert events[0].voxel_zyx is not None
    assert events[0].point_lps[2] == pytest.approx(view.slice_position_mm())


def test_dropping_a_series_asks_for_it(view: SliceView, qtbot) -> None:
    viewport = view.graphics.viewport()
    data = series_mime_data("1.2.3.4", "b=800")
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, data,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with qtbot.waitSignal(view.series_dropped) as blocker:
        QApplication.sendEvent(viewport, drop)
    assert blocker.args == ["1.2.3.4", "b=800"]


# ---------------------------------------------------------------- overlays


def test_masks_fill_or_outline_per_lesion_and_follow_the_slice(view: SliceView) -> None:
    volume = stamped()
    view.set_volume(volume)
    mask = np.zeros(volume.shape, dtype=bool)
    mask[2:4, 10:30, 30:60] = True
    view.overlays.set_mask("F1", mask, "#ff0000", 0.5, outline=False)
    view.show_slice(2)
    drawn = view.overlays.image_item.image
    assert drawn is not None
    assert int((drawn > 0).sum()) == 20 * 30
    view.overlays.set_mask("F1", mask, "#ff0000", 0.25, outline=True)
    # An outline is a vector line along the mask's edge, not a faint pixel ring.
    assert not view.overlays.image_item.isVisible()
    pen = view.overlays.outline_pen("F1")
    assert pen.isCosmetic()
    assert pen.widthF() >= 2.0
    assert pen.color().alpha() == 255  # the fill opacity does not fade the line
    assert pen.color().name() == "#ff0000"
    outline = view.overlays.outline_path("F1").boundingRect()
    box = view.image_item.mapRectToParent(QRectF(30, 10, 30, 20))  # the mask's pixels
    assert outline.width() == pytest.approx(box.width(), abs=1.01 * abs(box.width()) / 30)
    assert outline.height() == pytest.approx(box.height(), abs=1.01 * abs(box.height()) / 20)
    view.show_slice(5)  # the mask ends at slice 3
    assert view.overlays.outline_path("F1") is None
    view.show_slice(3)
    assert view.overlays.outline_path("F1") is not None
    assert view.overlays.labels == ["F1"]
    view.overlays.remove_mask("F1")
    assert view.overlays.outline_path("F1") is None


def test_a_label_sits_at_its_structure_on_the_plane(view: SliceView) -> None:
    volume = stamped()
    view.set_volume(volume)
    view.show_slice(2)
    mask = np.zeros(volume.shape, dtype=bool)
    # An L-shaped structure: its bounding box corner (top right) is far from the mask.
    mask[2, 10:40, 30:36] = True
    mask[2, 34:40, 30:70] = True
    for outline in (False, True):
        view.overlays.set_mask("Liver", mask, "#50c8ff", 0.3, outline=outline)
        u, v = view.overlays.label_position("Liver")
        pixels = np.argwhere(mask[2])
        centres = [view.image_item.mapToParent(QPointF(c + 0.5, r + 0.5)) for r, c in pixels]
        pixel_mm = abs(view.image_item.mapRectToParent(QRectF(0, 0, 1, 1)).width())
        nearest = min(np.hypot(p.x() - u, p.y() - v) for p in centres)
        assert nearest <= 1.5 * pixel_mm  # on the structure's edge, not at its box corner


def test_labels_of_neighbouring_structures_do_not_cover_each_other(view: SliceView) -> None:
    """On the demo's baseline slice the "F7" label sat on "F1": F7's top touches F1's.

    Each label is placed at its structure's top; one that would cover a label already
    placed goes beside its point instead.
    """
    volume = stamped()
    view.set_volume(volume)
    view.show_slice(2)
    big = np.zeros(volume.shape, dtype=bool)
    big[2, 12:30, 20:40] = True  # F1
    small = np.zeros(volume.shape, dtype=bool)
    small[2, 13:15, 36:39] = True  # F7, its top one row below F1's, near its corner
    view.overlays.set_mask("F1", big, "#ff0000", 0.3)
    view.overlays.set_mask("F7", small, "#c8c832", 0.3)
    assert view.overlays.labels == ["F1", "F7"]
    overlays = view.overlays
    assert not overlays.label_rect("F1").intersects(overlays.label_rect("F7"))
    assert view.overlays.label_position("F7") is not None  # still at its structure


def test_a_mask_painted_in_place_is_redrawn(view: SliceView) -> None:
    volume = stamped()
    view.set_volume(volume)
    view.show_slice(1)
    mask = np.zeros(volume.shape, dtype=bool)
    mask[1, 2:4, 2:4] = True
    view.overlays.set_mask("F1", mask)
    assert int((view.overlays.image_item.image > 0).sum()) == 4
    mask[1, 30:35, 60:70] = True  # a brush stroke outside the first box
    view.overlays.mask_changed("F1", (slice(1, 2), slice(30, 35), slice(60, 70)))
    assert int((view.overlays.image_item.image > 0).sum()) == 4 + 50
    mask[1] = False
    view.overlays.mask_changed("F1")
    assert not view.overlays.image_item.isVisible()


def test_mask_on_another_grid_is_refused(view: SliceView) -> None:
    view.set_volume(stamped())
    with pytest.raises(ValueError, match="own series grid"):
        view.overlays.set_mask("F1", np.zeros((2, 2, 2), dtype=bool))
    with pytest.raises(ValueError, match="bool"):
        view.overlays.set_mask("F1", np.zeros(stamped().shape, dtype=np.uint8))


def test_snapshot_with_and_without_overlays(view: SliceView, tmp_path: Path) -> None:
    volume = stamped()
    view.set_volume(volume)
    mask = np.zeros(volume.shape, dtype=bool)
    mask[:, 10:30, 30:60] = True
    view.overlays.set_mask("F1", mask, "#00ff00", 1.0)
    with_overlays = view.save_snapshot(tmp_path / "with.png")
    bare = view.save_snapshot(tmp_path / "bare.png", overlays=False)

    def green_pixels(path: Path) -> int:
        image = QImage(str(path))
        return sum(
            1
            for y in range(0, image.height(), 2)
            for x in range(0, image.width(), 2)
            if QColor(image.pixel(x, y)).getRgb()[:3] == (0, 255, 0)
        )

    assert green_pixels(with_overlays) > 100
    assert green_pixels(bare) == 0
    assert view.overlays.image_item.isVisible()  # overlays come back after the snapshot


# ---------------------------------------------------------------- trust


def test_a_tilted_or_gapped_series_does_not_look_clean(view: SliceView) -> None:
    view.set_volume(stamped())
    assert view.corner_text.text("badge") == ""
    tilt = math.tan(math.radians(15.0)) * 3.0
    view.set_volume(stamped(step=(0.0, tilt, 3.0)), geometry_status="warning",
                    geometry_warnings=("gantry/detector tilt of 15.0°",))  # fmt: skip
    assert "15.0°" in view.corner_text.text("badge")
    view.set_orientation("sagittal")
    assert "tilt" in view.corner_text.text("badge")
    view.set_volume(stamped(), geometry_status="unmeasurable",
                    geometry_warnings=("2 missing slices between 9.0 and 18.0 mm",))  # fmt: skip
    badge = view.corner_text.text("badge")
    assert "unmeasurable" in badge
    assert "missing slices" in badge
