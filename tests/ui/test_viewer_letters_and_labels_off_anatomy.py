"""Letters and labels that keep off the anatomy being measured (2×2 at 1366 × 768).

- The bottom orientation letter ("P") jumped about 50 px up onto the vertebra when the
  three-line cursor read-out appeared at the bottom right: it was cleared of the corners
  upwards before any sideways move. It now keeps to its edge and steps sideways.
- The RECIST labels ("F1 long axis: 42.3 mm", "F1 short axis: 16.0 mm") sat on the
  lesion they measure and hid the calliper ends; they (and the contour's "F1") now keep
  off the extent of the axes when the view has room beside it.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QApplication
from tests.ui import test_viewer_small_views as small_views
from tests.ui.test_viewer_labels_at_the_edge import _axis
from tests.ui.test_viewer_labels_joint import _recist_boxes
from tests.ui.test_viewer_small_views import CELL_2X2_1366, axial

from tace_planner.ui.viewer.interaction import HoverInfo
from tace_planner.ui.viewer.slice_view import SliceView

make_view = small_views.make_view  # the fixture: the same small views


# ---------------------------------------------------------------- the bottom letter
@pytest.mark.parametrize("size", [CELL_2X2_1366, (260, 270)])
def test_the_bottom_letter_stays_at_its_edge_with_a_three_line_read_out(make_view, size) -> None:
    volume = axial((35, 128, 128), (3.125, 3.125), (-200.0, -200.0), value=-87.0)
    view = make_view(size, volume, title="Abdomen portal venous 2.5mm", modality="CT")
    view.show_hover(HoverInfo(np.array([-6.5, 5.8, 0.0]), (17, 65, 66), -87.0))
    QApplication.processEvents()

    text = view.corner_text
    read_out = text.corners["bottom_right"]
    assert read_out.isVisible()
    assert len(read_out.text().splitlines()) >= 3, read_out.text()
    letter = text.edges["bottom"]
    assert letter.text() == "P"
    rect = letter.geometry()
    host = view.graphics.rect()
    assert host.contains(rect)
    assert host.bottom() - rect.bottom() <= 8, f"'P' {rect} left the bottom edge of {host}"
    for corner in text.corners.values():
        if corner.isVisible():
            assert not rect.intersects(corner.geometry()), (rect, corner.geometry())


# ---------------------------------------------------------------- labels off the axes
def _square(view: SliceView, row: int, column: int, side: int) -> np.ndarray:
    """A mask of the view's volume: a square of ``side`` voxels on every slice."""
    mask = np.zeros(view.volume.shape, dtype=bool)
    mask[:, row : row + side, column : column + side] = True
    return mask


MARGIN_PX = 2.0  # a label touching a calliper end hides it


def _axes_extent(view: SliceView, start, end, low, high) -> QRectF:
    """The screen box of the two axes (long: start–end, short: low–high), scene pixels,
    with a small margin."""
    points = [view.view_box.mapViewToScene(QPointF(*p)) for p in (start, end, low, high)]
    xs = [p.x() for p in points]
    ys = [p.y() for p in points]
    box = QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return box.adjusted(-MARGIN_PX, -MARGIN_PX, MARGIN_PX, MARGIN_PX)


@pytest.mark.parametrize("centre_u", [-15.0, 0.0, 12.0])
def test_recist_labels_keep_off_the_axes_they_label(make_view, centre_u: float) -> None:
    view = make_view(CELL_2X2_1366, axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0)))
    start, end = (centre_u - 8.0, 0.0), (centre_u + 8.0, 0.0)
    low, high = (centre_u, -3.0), (centre_u, 3.0)
    view.measurements.set_derived(
        [_axis(view, "long", start, end, 16.0), _axis(view, "short", low, high, 6.0)]
    )
    QApplication.processEvents()

    boxes = _recist_boxes(view)
    assert len(boxes) == 2
    extent = _axes_extent(view, start, end, low, high)
    bounds = view.view_box.sceneBoundingRect()
    for box in boxes:
        assert bounds.contains(box), f"{box} leaves the view {bounds}"
        assert not box.intersects(extent), f"a RECIST label {box} covers the axes {extent}"
    long_box, short_box = boxes
    assert long_box.bottom() <= short_box.top() + 0.5  # the RECIST measurement first
    near = extent.adjusted(-20.0, -20.0, 20.0, 20.0)
    assert near.intersects(long_box.united(short_box)), (boxes, extent)  # still by the lesion


def test_recist_labels_keep_off_the_axes_after_a_zoom(make_view) -> None:
    view = make_view(CELL_2X2_1366, axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0)))
    start, end, low, high = (-6.0, 2.0), (6.0, 2.0), (0.0, -2.0), (0.0, 6.0)
    view.measurements.set_derived(
        [_axis(view, "long", start, end, 12.0), _axis(view, "short", low, high, 8.0)]
    )
    view.state.zoom = 1.8
    QApplication.processEvents()

    extent = _axes_extent(view, start, end, low, high)
    for box in _recist_boxes(view):
        assert not box.intersects(extent), (box, extent)


def test_the_contour_label_keeps_off_its_axes(make_view) -> None:
    view = make_view(CELL_2X2_1366, axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0), value=0.0))
    view.overlays.set_mask("F1", _square(view, 30, 25, 20), "#e69f00", outline=True)
    QApplication.processEvents()
    u, v = view.overlays.label_position("F1")
    # the axes pass under the contour's label point (its top edge)
    start, end, low, high = (
        (u - 12.0, v + 1.0),
        (u + 4.0, v + 1.0),
        (u - 4.0, v - 4.0),
        (u - 4.0, v + 8.0),
    )
    view.measurements.set_derived(
        [_axis(view, "long", start, end, 16.0), _axis(view, "short", low, high, 12.0)]
    )
    QApplication.processEvents()

    contour = view.overlays.label_rect("F1")
    assert contour is not None
    extent = _axes_extent(view, start, end, low, high)
    assert not contour.intersects(extent), f"'F1' {contour} covers its axes {extent}"
    for box in _recist_boxes(view):
        assert not contour.intersects(box), (contour, box)
    point = view.view_box.mapViewToScene(QPointF(u, v))
    assert contour.adjusted(-40.0, -40.0, 40.0, 40.0).contains(point), (contour, point)
