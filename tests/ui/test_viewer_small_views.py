"""A slice view as small as one cell of 2×2 on a 1366 × 768 screen, and its Cursor tool.

- A Cursor click on the black margin beside the image (often only to make the view
  active) sent the linked views outside their volumes; it now activates the view and
  leaves the cursor where it was, and a drag off the image stops at its edge.
- The cursor read-out was cut ("R 66.7  A 9… / 51 HU   slic…"); it now breaks onto
  more lines, every number whole.
- "Liver (from portal venous)" and "F4 (from portal venous)" covered each other and ran
  off the view; a carried contour is labelled "F4 (PV)" (the full name in its tooltip)
  and every label stays inside the view.
- "F1 long axis: 54.1 mm" sat on the "L" of the right edge; the letter steps aside.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pyqtgraph as pg
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tace_planner.domain.annotations import Annotation
from tace_planner.domain.geometry import affine_from_dicom_geometry
from tace_planner.domain.volume import ImageVolume
from tace_planner.ui.viewer.interaction import HoverInfo
from tace_planner.ui.viewer.slice_view import SliceView

AXIAL_IOP = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CELL_2X2_1366 = (295, 270)  # one view of 2×2 beside the plan dock on a 1366 px screen


def axial(shape, spacing_mm, origin_mm, value: float = 40.0) -> ImageVolume:
    """An even volume of ``shape`` (z, y, x), slices 2 mm apart."""
    voxels = np.full(shape, value, dtype=np.float32)
    affine = affine_from_dicom_geometry(AXIAL_IOP, spacing_mm, (*origin_mm, 0.0), (0, 0, 2.0))
    return ImageVolume(voxels, affine, "1.2.826.0.1.3680043.8.498.7")


@pytest.fixture
def make_view(qtbot):
    """``make_view(size, volume)``: a shown slice view of ``size`` showing ``volume``."""

    def make(size: tuple[int, int], volume: ImageVolume, **kwargs) -> SliceView:
        view = SliceView()
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        view.set_volume(volume, **kwargs)
        QApplication.processEvents()  # the view box takes its range
        return view

    return make


# ---------------------------------------------------------------- the Cursor tool
@pytest.fixture
def cursor_view(make_view) -> SliceView:
    # 80 mm wide, 40 mm tall: black margins above and below the image in a square view
    view = make_view((400, 400), axial((6, 20, 80), (2.0, 1.0), (-40.0, -20.0)))
    view.set_tool("crosshair")
    return view


def _click(view: SliceView, point: QPoint) -> None:
    viewport = view.graphics.viewport()
    QTest.mouseMove(viewport, point)
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def _on_image(view: SliceView, u_mm: float, v_mm: float) -> QPoint:
    scene = view.view_box.mapViewToScene(QPointF(u_mm, v_mm))
    return view.graphics.mapFromScene(scene)


def _voxel_under(view: SliceView, point: QPoint):
    uv = view.view_box.mapSceneToView(view.graphics.mapToScene(point))
    info = view.hover_info(float(uv.x()), float(uv.y()))
    return None if info is None else info.voxel_zyx


def test_a_cursor_click_on_the_margin_activates_the_view_and_keeps_the_cursor(
    cursor_view: SliceView,
) -> None:
    view = cursor_view
    requested: list[object] = []
    activated: list[bool] = []
    view.cursor_requested.connect(requested.append)
    view.activated.connect(lambda: activated.append(True))
    margin = QPoint(view.graphics.viewport().width() // 2, 6)
    assert _voxel_under(view, margin) is None  # the black margin above the image

    _click(view, margin)
    assert activated, "the click still makes the view the active one"
    assert requested == []

    inside = _on_image(view, 0.0, 0.0)
    assert _voxel_under(view, inside) is not None
    _click(view, inside)
    assert len(requested) == 1
    point = np.asarray(requested[0])
    assert -40.0 <= point[0] <= 40.0
    assert -20.0 <= point[1] <= 20.0


def test_a_cursor_drag_off_the_image_stops_at_its_last_point_on_it(
    cursor_view: SliceView,
) -> None:
    view = cursor_view
    requested: list[object] = []
    view.cursor_requested.connect(requested.append)
    viewport = view.graphics.viewport()
    start = _on_image(view, 0.0, 0.0)
    end = QPoint(start.x(), 4)  # up into the margin
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for n in range(1, 9):
        QTest.mouseMove(viewport, start + (end - start) * (n / 8))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert requested, "the drag moved the cursor while on the image"
    for point in requested:  # never a point beside the image
        assert -20.5 <= float(np.asarray(point)[1]) <= 20.5, point


# ---------------------------------------------------------------- the read-out
@pytest.mark.parametrize("size", [(200, 270), CELL_2X2_1366])
def test_the_read_out_of_a_narrow_view_keeps_every_number(make_view, size) -> None:
    volume = axial((69, 64, 64), (0.78, 0.78), (-25.0, -25.0), value=51.0)
    view = make_view(size, volume, title="Abdomen portal venous 2.5mm", modality="CT")
    view.show_hover(HoverInfo(np.array([-66.7, -9.0, 85.0]), (34, 129, 256), 51.0))
    QApplication.processEvents()

    full = view.corner_text.text("bottom_right")
    shown = view.corner_text.corners["bottom_right"].text()
    assert "…" not in shown, shown
    numbers = re.findall(r"\d+(?:[./]\d+)?", full)
    assert numbers
    assert re.findall(r"\d+(?:[./]\d+)?", shown) == numbers, (shown, full)
    labels = [(label.objectName(), label.geometry()) for label in view.corner_text.visible_labels()]
    host = view.graphics.rect()
    for name, rect in labels:
        assert host.contains(rect), f"{name} {rect} leaves the view {host}"
    for (first, a), (second, b) in itertools.combinations(labels, 2):
        assert not a.intersects(b), f"{first} {a} overlaps {second} {b}"


# ---------------------------------------------------------------- contour labels
@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("portal venous", "F4 (PV)"),
        ("Abdomen portal venous 2.5mm", "F4 (PV)"),
        ("arterial — part 2", "F4 (art.)"),
        ("T2 TSE axial", "F4 (T2)"),
        ("Leberdiagnostik axial", "F4 (Leberdi…)"),
    ],
)
def test_a_carried_label_is_short_and_its_name_stays_whole(title, expected) -> None:
    from tace_planner.ui.viewer.carried_masks import carried_label, carried_text

    assert carried_text("F4", title) == expected
    assert carried_label("F4", title) == f"F4 (from {title})"  # the name kept for the tooltip


def test_labels_near_the_edge_stay_inside_the_view_and_apart(make_view) -> None:
    volume = axial((4, 64, 64), (1.0, 1.0), (-32.0, -32.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    liver = np.zeros(volume.shape, dtype=bool)
    liver[:, 0:30, 20:64] = True  # up to the image's top and right edges
    focus = np.zeros(volume.shape, dtype=bool)
    focus[:, 1:8, 50:62] = True
    view.overlays.set_mask("Liver (from portal venous)", liver, "#56b4e9", outline=True)
    view.overlays.set_mask("F4 (from portal venous)", focus, "#cc79a7", outline=True)
    QApplication.processEvents()

    bounds = view.view_box.sceneBoundingRect()
    boxes = {label: view.overlays.label_rect(label) for label in view.overlays.labels}
    assert all(box is not None for box in boxes.values())
    for label, box in boxes.items():
        assert bounds.contains(box), f"{label} {box} leaves the view {bounds}"
    for (first, a), (second, b) in itertools.combinations(boxes.items(), 2):
        assert not a.intersects(b), f"{first} {a} covers {second} {b}"


def test_a_carried_label_shows_its_short_text_and_the_full_name_on_hover(make_view) -> None:
    volume = axial((4, 32, 32), (1.0, 1.0), (-16.0, -16.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    mask = np.zeros(volume.shape, dtype=bool)
    mask[:, 10:20, 10:20] = True
    name = "F4 (from portal venous)"
    view.overlays.set_mask(
        name, mask, "#cc79a7", 1.0, outline=True, dashed=True, text="F4 (PV)", tooltip=name
    )
    QApplication.processEvents()
    item = view.overlays._texts[name]
    assert item.toPlainText() == "F4 (PV)"
    assert item.toolTip() == name


# ---------------------------------------------------------------- orientation letters
def _text_items(view: SliceView) -> list:
    """The image's text labels, in the coordinates of the letters' parent."""
    host = view.graphics
    offset = host.viewport().mapTo(host, QPoint(0, 0))
    return [
        host.mapFromScene(item.sceneBoundingRect()).boundingRect().translated(offset)
        for item in host.scene().items()
        if isinstance(item, pg.TextItem) and item.isVisible() and item.toPlainText()
    ]


def test_the_right_letter_steps_aside_from_a_recist_label(make_view) -> None:
    view = make_view((400, 400), axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0)))
    z = view.slice_position_mm()
    long_axis = Annotation(
        kind="ruler",
        points_lps=((-20.0, 0.0, z), (30.0, 0.0, z)),  # ends right of the centre, at mid-height
        orientation="axial",
        plane_normal_lps=(0.0, 0.0, 1.0),
        plane_position_mm=z,
        values={"length_mm": 54.1},
        label="F1 long axis",
    )
    view.measurements.set_derived([long_axis])
    QApplication.processEvents()  # the view settles, then the mouse moves over it
    view.show_hover(view.hover_info(0.0, 0.0))  # the read-out changes: the text is laid out
    QApplication.processEvents()

    labels = _text_items(view)
    assert labels, "the axis is labelled"
    letter = view.corner_text.edges["right"]
    assert letter.text() == "L"
    assert letter.isVisible()
    for rect in labels:
        assert not letter.geometry().intersects(rect), (letter.geometry(), rect)
    assert view.graphics.rect().contains(letter.geometry())  # still on the right edge
    assert letter.geometry().right() >= view.graphics.width() - 10
