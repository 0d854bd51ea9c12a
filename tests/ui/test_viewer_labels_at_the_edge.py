"""Labels in a small slice view (one cell of 2×2 on a 1366 × 768 screen) at its edges.

- "F1 short axis: 53.6 mm" ran past the view's right edge; a lesion's RECIST labels
  now stay inside the view, stacked, off each other.
- An orientation letter stepped aside from a label only when the corner text was laid
  out again (the mouse moved, the slice changed); after a pan or zoom with the mouse
  still, the "L" could sit on a label.
- With a named preset both bottom corners wrapped ("slice 1/69, x 162," / "y 171"):
  they are now sized from their wrapped widths.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QApplication
from tests.ui import test_viewer_small_views as small_views
from tests.ui.test_viewer_small_views import CELL_2X2_1366, _text_items, axial

from tace_planner.domain.annotations import Annotation
from tace_planner.ui.viewer.interaction import HoverInfo
from tace_planner.ui.viewer.slice_view import SliceView

make_view = small_views.make_view  # the fixture: the same small views


def _axis(view: SliceView, name: str, start, end, length_mm: float) -> Annotation:
    z = view.slice_position_mm()
    return Annotation(
        kind="ruler",
        points_lps=((*start, z), (*end, z)),
        orientation="axial",
        plane_normal_lps=(0.0, 0.0, 1.0),
        plane_position_mm=z,
        values={"length_mm": length_mm},
        label=f"F1 {name} axis",
    )


def _label_boxes(view: SliceView) -> dict[str, object]:
    return {
        annotation.label: shape.text.sceneBoundingRect()
        for annotation, shape in view.measurements._derived
        if shape.text.isVisible()
    }


# ---------------------------------------------------------------- RECIST labels
@pytest.mark.parametrize("end_u_mm", [20.0, 38.0])
def test_recist_labels_near_the_right_edge_stay_inside_the_view(make_view, end_u_mm) -> None:
    view = make_view(CELL_2X2_1366, axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0)))
    view.measurements.set_derived(
        [
            _axis(view, "long", (-34.0, 5.0), (end_u_mm, 5.0), 54.1),
            _axis(view, "short", (end_u_mm - 20.0, -20.0), (end_u_mm - 20.0, 33.0), 53.6),
        ]
    )
    QApplication.processEvents()

    boxes = _label_boxes(view)
    assert list(boxes) == ["F1 long axis", "F1 short axis"]
    bounds = view.view_box.sceneBoundingRect()
    for label, box in boxes.items():
        assert bounds.contains(box), f"{label} {box} leaves the view {bounds}"
    long_box, short_box = boxes.values()
    assert not long_box.intersects(short_box), (long_box, short_box)
    assert long_box.bottom() <= short_box.top() + 0.5  # the RECIST measurement first


def test_recist_labels_stay_inside_after_a_zoom(make_view) -> None:
    view = make_view(CELL_2X2_1366, axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0)))
    view.measurements.set_derived(
        [
            _axis(view, "long", (-20.0, 0.0), (10.0, 0.0), 30.0),
            _axis(view, "short", (0.0, -10.0), (0.0, 10.0), 20.0),
        ]
    )
    QApplication.processEvents()
    view.state.zoom = 2.5  # the line's end now lies near the right edge
    QApplication.processEvents()

    bounds = view.view_box.sceneBoundingRect()
    for label, box in _label_boxes(view).items():
        assert bounds.contains(box), f"{label} {box} leaves the view {bounds}"


def test_a_contour_label_stays_inside_after_a_zoom(make_view) -> None:
    volume = axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0), value=0.0)
    view = make_view(CELL_2X2_1366, volume)
    mask = np.zeros(volume.shape, dtype=bool)
    mask[:, 18:30, 30:40] = True  # above the centre: its label fits at zoom 1, not at 2.5
    view.overlays.set_mask("F1", mask, "#e69f00", outline=True)
    QApplication.processEvents()
    bounds = view.view_box.sceneBoundingRect()
    assert bounds.contains(view.overlays.label_rect("F1"))

    view.state.zoom = 2.5
    QApplication.processEvents()

    box = view.overlays.label_rect("F1")
    assert box is not None
    assert bounds.contains(box), f"{box} leaves the view {bounds}"


# ---------------------------------------------------------------- orientation letters
def test_the_right_letter_steps_aside_after_a_pan_with_the_mouse_still(make_view) -> None:
    view = make_view((300, 300), axial((3, 80, 80), (1.0, 1.0), (-40.0, -40.0)))
    z = view.slice_position_mm()
    # a label above the middle, reaching the right edge: clear of the "L" at first
    view.measurements.set_derived([_axis(view, "long", (-30.0, -25.0), (0.5, -25.0), 30.5)])
    view.show_hover(view.hover_info(-30.0, 30.0))  # the mouse rests on the image
    QApplication.processEvents()
    letter = view.corner_text.edges["right"]
    assert letter.text() == "L"
    before = letter.geometry()
    assert not any(before.intersects(rect) for rect in _text_items(view))

    view.centre_on((0.0, -25.0, z))  # a pan brings the label to the letter's height
    QApplication.processEvents()

    labels = _text_items(view)
    assert labels
    assert any(before.intersects(rect) for rect in labels), (before, labels)  # the letter's place
    for rect in labels:
        assert not letter.geometry().intersects(rect), (letter.geometry(), rect)
    assert view.graphics.rect().contains(letter.geometry())


# ---------------------------------------------------------------- bottom corners
def test_a_named_preset_leaves_the_voxel_read_out_whole(make_view) -> None:
    volume = axial((69, 64, 64), (0.78, 0.78), (-25.0, -25.0), value=-1002.0)
    view = make_view(CELL_2X2_1366, volume, title="Abdomen portal venous 2.5mm", modality="CT")
    view.set_window(400, 40, preset_name="Abdomen / soft tissue")
    view.show_hover(HoverInfo(np.array([174.1, 108.2, 17.5]), (41, 117, 33), -1002.0))
    QApplication.processEvents()

    corners = view.corner_text.corners
    right = corners["bottom_right"].text().splitlines()
    assert "slice 42/69, x 34, y 118" in right, right
    assert "…" not in corners["bottom_left"].text() + corners["bottom_right"].text()
    # the two halves of the row share it: side by side, inside the view, apart
    left, right_box = (corners[name].geometry() for name in ("bottom_left", "bottom_right"))
    assert not left.intersects(right_box), (left, right_box)
    assert view.graphics.rect().contains(left.united(right_box))
