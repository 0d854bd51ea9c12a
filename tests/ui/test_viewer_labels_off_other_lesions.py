"""A lesion's label never sits on another lesion shown on the plane.

- In the sagittal view "F7" was drawn on the red F1 while the yellow F7 lay below-left
  of it: a reader took F1 for F7. A contour label now keeps off every other lesion's
  extent on the plane (it may touch its own: it sits at its lesion's edge).
- In 2×2, "F1 short axis: 52.9 mm" covered the small purple F4. RECIST labels keep off
  every lesion's extent too, where the view has room.
- The liver, which covers most of the view, is no obstacle.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QApplication
from tests.ui import test_viewer_small_views as small_views
from tests.ui.test_viewer_labels_at_the_edge import _axis
from tests.ui.test_viewer_small_views import CELL_2X2_1366, axial

from tace_planner.ui.viewer.label_placement import (
    LABEL_ANCHORS,
    box_inside,
    boxes_intersect,
    place_boxes,
)
from tace_planner.ui.viewer.slice_view import SliceView

make_view = small_views.make_view  # the fixture: the same small views


def _extent(view: SliceView, label: str) -> QRectF:
    """The lesion's outline on the plane, on screen (scene pixels)."""
    path = view.overlays.outline_path(label)
    assert path is not None, f"{label} is not drawn on this plane"
    return view.view_box.mapViewToScene(path.boundingRect()).boundingRect()


def _recist_boxes(view: SliceView) -> dict[str, QRectF]:
    return {
        annotation.label: shape.text.sceneBoundingRect()
        for annotation, shape in view.measurements._derived
        if shape.text.isVisible()
    }


# ---------------------------------------------------------------- the rule, without a view
def test_the_rule_keeps_a_label_off_a_preferred_box_when_there_is_room() -> None:
    bounds = (0.0, 0.0, 300.0, 300.0)
    point = (100.0, 100.0)
    other = (96.0, 60.0, 80.0, 80.0)  # a lesion right of and above the point
    arrangements = [(anchor,) for anchor in LABEL_ANCHORS]

    _, (box,) = place_boxes([point], [(24.0, 18.0)], arrangements, bounds, [], (), [[other]])

    assert not boxes_intersect(box, other), box
    assert box_inside(bounds, box)


def test_the_rule_falls_back_when_no_place_is_free_of_the_preferred_boxes() -> None:
    bounds = (0.0, 0.0, 100.0, 100.0)
    everywhere = (0.0, 0.0, 100.0, 100.0)
    arrangements = [(anchor,) for anchor in LABEL_ANCHORS]

    plain = place_boxes([(50.0, 50.0)], [(24.0, 18.0)], arrangements, bounds, [])
    preferring = place_boxes(
        [(50.0, 50.0)], [(24.0, 18.0)], arrangements, bounds, [], (), [[everywhere]]
    )

    assert preferring == plain  # the rule as before: at its point, inside the view


# ---------------------------------------------------------------- contour labels
def test_a_focus_label_keeps_off_the_focus_beside_it(make_view) -> None:
    volume = axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    f1 = np.zeros(volume.shape, dtype=bool)
    f1[:, 30:55, 31:45] = True  # right of F2, reaching above its top
    f2 = np.zeros(volume.shape, dtype=bool)
    f2[:, 40:50, 20:30] = True
    liver = np.zeros(volume.shape, dtype=bool)
    liver[:, 5:75, 5:75] = True  # under both: never an obstacle
    view.overlays.set_mask("Liver", liver, "#56b4e9", outline=True)
    view.overlays.set_mask("F1", f1, "#ff4d4d", outline=True)
    view.overlays.set_mask("F2", f2, "#f0e442", outline=True)
    QApplication.processEvents()

    f2_label = view.overlays.label_rect("F2")
    assert f2_label is not None
    assert not f2_label.intersects(_extent(view, "F1")), (f2_label, _extent(view, "F1"))
    assert view.view_box.sceneBoundingRect().contains(f2_label)
    # still at its own focus: it touches F2's extent (a few pixels of margin aside)
    assert f2_label.intersects(_extent(view, "F2").adjusted(-6, -6, 6, 6)), f2_label


def test_a_focus_label_keeps_off_its_own_inside_when_it_can(make_view) -> None:
    # no room above F1: below its top point the label covered half of it (the coronal view)
    volume = axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    rows, columns = np.mgrid[0:80, 0:80]
    disc = (rows - 16) ** 2 + (columns - 30) ** 2 <= 12**2  # its top at the view's top edge
    f1 = np.broadcast_to(disc, volume.shape).copy()
    view.overlays.set_mask("F1", f1, "#ff4d4d", outline=True)
    QApplication.processEvents()

    box = view.overlays.label_rect("F1")
    inside = _extent(view, "F1").adjusted(5, 5, -5, -5)
    assert box is not None
    assert not box.intersects(inside), (box, inside)
    assert box.intersects(_extent(view, "F1").adjusted(-6, -6, 6, 6)), box


# ---------------------------------------------------------------- RECIST labels
def test_recist_labels_keep_off_another_focus_when_there_is_room(make_view) -> None:
    volume = axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    f2 = np.zeros(volume.shape, dtype=bool)
    f2[:, 50:58, 42:50] = True  # where F1's labels went: right of and below its axes
    liver = np.zeros(volume.shape, dtype=bool)
    liver[:, 2:78, 2:78] = True  # under everything: never an obstacle
    view.overlays.set_mask("Liver", liver, "#56b4e9", outline=True)
    view.overlays.set_mask("F2", f2, "#cc79a7", outline=True)
    view.measurements.set_derived(
        [
            _axis(view, "long", (-20.0, 0.0), (0.0, 0.0), 20.0),
            _axis(view, "short", (-10.0, -8.0), (-10.0, 8.0), 16.0),
        ]
    )
    QApplication.processEvents()

    boxes = _recist_boxes(view)
    assert list(boxes) == ["F1 long axis", "F1 short axis"]
    f2_extent = _extent(view, "F2")
    bounds = view.view_box.sceneBoundingRect()
    for label, box in boxes.items():
        assert not box.intersects(f2_extent), f"{label} {box} covers F2 {f2_extent}"
        assert bounds.contains(box), f"{label} {box} leaves the view {bounds}"
    long_box, short_box = boxes.values()
    assert not long_box.intersects(short_box)


def test_recist_labels_step_off_a_focus_shown_after_them(make_view) -> None:
    volume = axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    view.measurements.set_derived(
        [
            _axis(view, "long", (-20.0, 0.0), (0.0, 0.0), 20.0),
            _axis(view, "short", (-10.0, -8.0), (-10.0, 8.0), 16.0),
        ]
    )
    QApplication.processEvents()
    f2 = np.zeros(volume.shape, dtype=bool)
    f2[:, 50:58, 42:50] = True  # contoured now, under F1's labels, on the same plane
    view.overlays.set_mask("F2", f2, "#cc79a7", outline=True)
    QApplication.processEvents()

    f2_extent = _extent(view, "F2")
    for label, box in _recist_boxes(view).items():
        assert not box.intersects(f2_extent), f"{label} {box} covers F2 {f2_extent}"
