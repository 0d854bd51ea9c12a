"""SliceView: millimetre geometry, orientation, clamping, wheel and slice_changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from tace_planner.domain.volume import ImageVolume
from tace_planner.ui.viewer import SliceView

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

DZ_MM, DY_MM, DX_MM = 5.0, 2.0, 1.0  # rows twice as far apart as columns
SLICES, ROWS, COLUMNS = 4, 20, 40  # 40 mm x 40 mm in the patient
STAMP_ROWS, STAMP_COLUMNS = 5, 10  # 10 mm x 10 mm, in the top-left corner


def stamped_volume() -> ImageVolume:
    """Soft tissue (40 HU, mid grey) with a bright bone block at row 0, column 0."""
    voxels = np.full((SLICES, ROWS, COLUMNS), 40.0, dtype=np.float32)
    voxels[:, :STAMP_ROWS, :STAMP_COLUMNS] = 1000.0
    voxels += np.arange(SLICES, dtype=np.float32)[:, None, None]  # tell slices apart
    affine = np.diag([DZ_MM, DY_MM, DX_MM, 1.0])
    return ImageVolume(voxels, affine, "1.2.826.0.1.3680043.8.498.1")


@pytest.fixture
def view(qtbot: QtBot) -> SliceView:
    widget = SliceView()
    qtbot.addWidget(widget)
    widget.resize(300, 300)
    return widget


def test_item_rectangle_is_in_millimetres_with_dy_for_rows(view: SliceView) -> None:
    view.set_volume(stamped_volume())

    rect = view.image_item.mapRectToParent(view.image_item.boundingRect())

    assert rect.width() == pytest.approx(COLUMNS * DX_MM)  # 40 mm, not 40 pixels
    assert rect.height() == pytest.approx(ROWS * DY_MM)  # 40 mm, not 20 pixels
    # Voxel centres sit on multiples of the spacing: the first at (0, 0) mm.
    assert rect.left() == pytest.approx(-DX_MM / 2)
    assert rect.top() == pytest.approx(-DY_MM / 2)


def test_displayed_image_is_the_row_major_slice(view: SliceView) -> None:
    volume = stamped_volume()
    view.set_volume(volume)
    view.show_slice(2)

    image = view.image_item.image
    assert image is not None
    np.testing.assert_array_equal(image, volume.voxels[2])
    assert image[0, 0] == pytest.approx(1002.0)  # row 0, column 0: the stamp
    # Array pixel (row 0, column 0) maps to the top-left millimetres of the view.
    top_left = view.image_item.mapToParent(QPointF(0.5, 0.5))
    assert (top_left.x(), top_left.y()) == pytest.approx((0.0, 0.0))


def test_stamp_is_drawn_in_the_top_left_corner_with_its_true_shape(view: SliceView) -> None:
    view.set_volume(stamped_volume(), window=(400, 40))
    QApplication.processEvents()

    frame = view.grab().toImage()  # renders without showing a window
    lit = np.array(
        [
            [QColor(frame.pixel(x, y)).value() for x in range(frame.width())]
            for y in range(frame.height())
        ]
    )
    image_ys, image_xs = np.nonzero(lit > 60)  # grey tissue or white bone: the image
    stamp_ys, stamp_xs = np.nonzero(lit > 240)  # white: the stamp only

    image_w = image_xs.max() - image_xs.min() + 1
    image_h = image_ys.max() - image_ys.min() + 1
    stamp_w = stamp_xs.max() - stamp_xs.min() + 1
    stamp_h = stamp_ys.max() - stamp_ys.min() + 1
    assert image_w == pytest.approx(image_h, abs=2)  # 40 x 40 mm looks square
    assert stamp_w == pytest.approx(stamp_h, abs=2)  # 10 x 10 mm too
    assert stamp_w == pytest.approx(image_w / 4, abs=2)
    assert stamp_xs.min() == image_xs.min()  # left edge
    assert stamp_ys.min() == image_ys.min()  # top edge


def test_default_window_is_abdominal(view: SliceView) -> None:
    view.set_volume(stamped_volume())

    assert view.window_hu == (400.0, 40.0)
    assert tuple(view.image_item.getLevels()) == pytest.approx((-160.0, 240.0))


def test_show_slice_clamps_and_reports_changes(qtbot: QtBot, view: SliceView) -> None:
    view.set_volume(stamped_volume())
    seen: list[int] = []
    view.slice_changed.connect(seen.append)

    view.show_slice(99)
    view.show_slice(99)  # no change, no signal
    view.show_slice(-5)

    assert view.slice_count == SLICES
    assert seen == [SLICES - 1, 0]
    assert view.slice_index == 0


def test_wheel_towards_the_user_shows_the_next_slice(qtbot: QtBot, view: SliceView) -> None:
    view.set_volume(stamped_volume())
    viewport = view.findChild(pg.GraphicsLayoutWidget).viewport()

    def turn(angle_delta: int) -> None:
        event = QWheelEvent(
            QPointF(10, 10),
            QPointF(viewport.mapToGlobal(QPoint(10, 10))),
            QPoint(0, 0),
            QPoint(0, angle_delta),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)

    with qtbot.waitSignal(view.slice_changed, timeout=1_000) as blocker:
        turn(-120)
    assert blocker.args == [1]

    turn(60)  # half a notch back: not yet a step
    assert view.slice_index == 1
    with qtbot.waitSignal(view.slice_changed, timeout=1_000) as blocker:
        turn(60)
    assert blocker.args == [0]


def test_empty_view_has_no_slices(view: SliceView) -> None:
    view.show_slice(3)

    assert view.slice_count == 0
    assert view.slice_index == 0
    assert view.volume is None


def test_non_positive_window_width_is_refused(view: SliceView) -> None:
    with pytest.raises(ValueError, match="window width"):
        view.set_volume(stamped_volume(), window=(0, 40))


def test_a_cleared_view_keeps_no_title_of_what_it_showed(view: SliceView) -> None:
    """With another patient chosen the views are emptied; the Measurements dock still
    headed itself "<new patient>: <the previous patient's series>" from the view's title."""
    view.set_volume(stamped_volume(), title="Abdomen portal venous 2.5mm", modality="CT")
    assert view.title == "Abdomen portal venous 2.5mm"
    view.clear()
    assert view.volume is None
    assert view.title == ""


def test_a_lesions_recist_labels_do_not_cover_each_other(view: SliceView, qtbot: QtBot) -> None:
    """The long- and short-axis labels were each drawn at their own line's end; when the
    ends lay close ("F7 short axis: 20.5 mm" over "F7 long axis: 26.6 mm") the long axis,
    the RECIST measurement, could not be read. They now stack at the long axis's end."""
    from tace_planner.domain.annotations import Annotation

    view.resize(400, 400)
    view.set_volume(stamped_volume())
    geometry = view.geometry
    normal = tuple(float(v) for v in geometry.normal_lps)

    def axis(name: str, start: tuple[float, float], end: tuple[float, float]) -> Annotation:
        points = tuple(tuple(float(v) for v in view.screen_to_lps(u, v_)) for u, v_ in (start, end))
        return Annotation(
            kind="ruler",
            points_lps=points,
            orientation=view.state.orientation,
            plane_normal_lps=normal,
            plane_position_mm=float(view.slice_position_mm()),
            values={"length_mm": 26.6 if name == "long" else 20.5},
            label=f"F7 {name} axis",
        )

    # The two lines end 1 mm apart, as the ends of a round focus's axes can.
    layer = view.measurements
    layer.set_derived(
        [axis("long", (5.0, 5.0), (30.0, 30.0)), axis("short", (30.0, 5.0), (31.0, 30.0))]
    )
    assert layer.visible_derived() == ["F7 long axis", "F7 short axis"]
    (_, long_shape), (_, short_shape) = layer._derived
    long_box = long_shape.text.sceneBoundingRect()
    short_box = short_shape.text.sceneBoundingRect()
    assert long_box.isValid()
    assert short_box.isValid()
    assert not long_box.intersects(short_box), (long_box, short_box)
