"""Labels in a small slice view placed as one: contours, RECIST axes, the live value, the read-out.

- Contour labels and RECIST labels were kept apart only within their own layer: an
  "F1" could sit on "F1 long axis: 42.3 mm". The contour labels are now placed around
  the measurement labels.
- The value shown while a measurement is drawn ran off the view near its right or
  bottom edge; it follows the same rule as the other labels.
- The cursor read-out of a narrow view broke at its last comma ("slice 35/69, x 257,"
  / "y 130"); it now breaks between whole fields ("slice 35/69," / "x 257, y 130").
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication
from tests.ui import test_viewer_small_views as small_views
from tests.ui.test_viewer_labels_at_the_edge import _axis
from tests.ui.test_viewer_small_views import CELL_2X2_1366, axial

from tace_planner.ui.viewer.interaction import HoverInfo
from tace_planner.ui.viewer.slice_view import SliceView

make_view = small_views.make_view  # the fixture: the same small views


# ---------------------------------------------------------------- the rule, without a view
def test_two_labels_at_one_point_get_boxes_apart_and_near_it() -> None:
    from tace_planner.ui.viewer.label_placement import (
        LABEL_ANCHORS,
        box_inside,
        boxes_intersect,
        place_boxes,
    )

    bounds = (0.0, 0.0, 295.0, 270.0)
    point = (150.0, 100.0)
    arrangements = [(anchor,) for anchor in LABEL_ANCHORS]
    placed: list = []
    for size in ((160.0, 18.0), (24.0, 18.0)):  # "F1 long axis: 42.3 mm", then "F1"
        _, boxes = place_boxes([point], [size], arrangements, bounds, placed)
        placed.extend(boxes)
    first, second = placed
    assert not boxes_intersect(first, second), placed
    assert all(box_inside(bounds, box) for box in placed)
    for left, top, width, height in placed:  # each touches its point
        assert left <= point[0] <= left + width
        assert top <= point[1] <= top + height


def test_a_label_with_no_free_anchor_moves_past_the_one_it_covers() -> None:
    from tace_planner.ui.viewer.label_placement import boxes_intersect, place_boxes

    bounds = (0.0, 0.0, 200.0, 100.0)
    block = (0.0, 70.0, 200.0, 30.0)  # a wide block along the bottom edge
    _, (box,) = place_boxes([(100.0, 100.0)], [(30.0, 18.0)], [((0.0, 1.0),)], bounds, [block])
    assert not boxes_intersect(box, block), box
    assert box[1] >= 0.0


# ---------------------------------------------------------------- contours and RECIST axes
def _recist_boxes(view: SliceView) -> list:
    return [
        shape.text.sceneBoundingRect()
        for _, shape in view.measurements._derived
        if shape.text.isVisible()
    ]


def _view_with_f1(make_view, columns: slice) -> tuple[SliceView, np.ndarray]:
    """A small 2×2 view with focus "F1" outlined (rows 30–49, ``columns``); the view, its mask."""
    volume = axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    mask = np.zeros(volume.shape, dtype=bool)
    mask[:, 30:50, columns] = True
    view.overlays.set_mask("F1", mask, "#e69f00", outline=True)
    QApplication.processEvents()
    return view, mask


@pytest.mark.parametrize("axes_first", [False, True])
def test_a_contour_label_and_a_recist_label_at_one_point_stay_apart(
    make_view, axes_first: bool
) -> None:
    view, mask = _view_with_f1(make_view, slice(25, 45))
    home = view.overlays.label_position("F1")
    assert home is not None
    u, v = home
    # the long axis ends where the contour's label sits: the two labels start on one point
    axes = [
        _axis(view, "long", (u - 30.0, v), (u, v), 42.3),
        _axis(view, "short", (u - 15.0, v - 8.0), (u - 15.0, v + 8.0), 16.0),
    ]
    if axes_first:
        view.overlays.remove_mask("F1")
        view.measurements.set_derived(axes)
        view.overlays.set_mask("F1", mask, "#e69f00", outline=True)
    else:
        view.measurements.set_derived(axes)
    QApplication.processEvents()

    contour = view.overlays.label_rect("F1")
    recist = _recist_boxes(view)
    assert contour is not None
    assert len(recist) == 2
    bounds = view.view_box.sceneBoundingRect()
    for box in [contour, *recist]:
        assert bounds.contains(box), f"{box} leaves the view {bounds}"
    for box in recist:
        assert not contour.intersects(box), f"'F1' {contour} covers a RECIST label {box}"
    point = view.view_box.mapViewToScene(QPointF(u, v))
    near = contour.adjusted(-40.0, -40.0, 40.0, 40.0)
    assert near.contains(point), f"'F1' {contour} went far from its structure at {point}"


def test_contour_labels_stay_off_the_recist_labels_after_a_zoom(make_view) -> None:
    view, _ = _view_with_f1(make_view, slice(30, 50))
    u, v = view.overlays.label_position("F1")
    view.measurements.set_derived([_axis(view, "long", (u - 20.0, v + 2.0), (u, v + 2.0), 20.0)])
    view.state.zoom = 1.7
    QApplication.processEvents()

    contour = view.overlays.label_rect("F1")
    assert contour is not None
    for box in _recist_boxes(view):
        assert not contour.intersects(box), (contour, box)


def test_a_contour_label_goes_back_to_its_point_when_the_axes_go(make_view) -> None:
    """Stepped aside for a RECIST label, "F1" returns once no measurement label is shown."""
    view, _ = _view_with_f1(make_view, slice(25, 45))
    home = view.overlays.label_rect("F1")
    u, v = view.overlays.label_position("F1")
    view.measurements.set_derived([_axis(view, "long", (u - 30.0, v), (u, v), 42.3)])
    QApplication.processEvents()
    aside = view.overlays.label_rect("F1")
    assert aside != home  # it stepped aside

    view.measurements.set_derived([])  # another lesion chosen: no axes on this view
    QApplication.processEvents()
    assert view.overlays.label_rect("F1") == home


# ---------------------------------------------------------------- the live value
@pytest.mark.parametrize(("du", "dv"), [(1.0, 1.0), (1.0, 0.5), (0.5, 0.0)])
def test_the_live_length_stays_inside_near_the_edges(make_view, du: float, dv: float) -> None:
    view = make_view(CELL_2X2_1366, axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0)))
    (u0, u1), (v0, v1) = view.view_box.viewRange()
    start = ((u0 + u1) / 2, (v0 + v1) / 2)
    # near the bottom right, the right, the top edge (the value sat above and right of it)
    end = (u0 + du * (u1 - u0 - 1.0) + 0.5, v0 + dv * (v1 - v0 - 1.0) + 0.5)

    view.measurements.begin("ruler", start)
    view.measurements.update(end)
    QApplication.processEvents()

    live = view.measurements._live.text
    assert live.isVisible()
    assert live.toPlainText().endswith(" mm")
    box = live.sceneBoundingRect()
    bounds = view.view_box.sceneBoundingRect()
    assert bounds.contains(box), f"the live length {box} runs off the view {bounds}"
    tip = view.view_box.mapViewToScene(QPointF(*end))
    assert box.adjusted(-2.0, -2.0, 2.0, 2.0).contains(tip), (box, tip)  # still at the mouse


# ---------------------------------------------------------------- the cursor read-out
@pytest.mark.parametrize("width", [220, 240])
def test_a_narrow_read_out_breaks_between_fields_not_at_its_last_comma(make_view, width) -> None:
    volume = axial((69, 64, 64), (0.78, 0.78), (-25.0, -25.0), value=51.0)
    view = make_view((width, 270), volume, title="Abdomen portal venous 2.5mm", modality="CT")
    view.show_hover(HoverInfo(np.array([-66.7, -9.0, 85.0]), (34, 129, 256), 51.0))
    QApplication.processEvents()

    lines = view.corner_text.corners["bottom_right"].text().splitlines()
    assert "x 257, y 130" in lines, lines
    assert "y 130" not in lines, lines
    assert "slice 35/69," in lines, lines
