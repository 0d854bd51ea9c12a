"""A corner read-out shortened with "…" in a narrow view can be read whole in a tooltip.

The corner labels are transparent to the mouse (they never hide a drag), so they cannot
have tooltips of their own: the view's graphics widget takes the full text of the
shortened corners as its tooltip, shown where no drawn item has a tooltip of its own,
and kept current while the cursor read-out changes.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from tace_planner.domain.geometry import affine_from_dicom_geometry
from tace_planner.domain.volume import ImageVolume
from tace_planner.ui.viewer.interaction import HoverInfo
from tace_planner.ui.viewer.slice_view import SliceView

AXIAL_IOP = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
NARROW = (140, 150)  # below ~170 px the read-out no longer fits, even broken onto lines
WIDE = (700, 500)
POINT = HoverInfo(np.array([-66.7, -9.0, 85.0]), (34, 129, 256), 51.0)


def _volume() -> ImageVolume:
    voxels = np.full((69, 64, 64), 51.0, dtype=np.float32)
    affine = affine_from_dicom_geometry(AXIAL_IOP, (0.78, 0.78), (-25.0, -25.0, 0.0), (0, 0, 2.0))
    return ImageVolume(voxels, affine, "1.2.826.0.1.3680043.8.498.7")


@pytest.fixture
def make_view(qtbot):
    def make(size: tuple[int, int]) -> SliceView:
        view = SliceView()
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        view.set_volume(_volume(), title="Abdomen portal venous 2.5mm", modality="CT")
        view.show_hover(POINT)
        QApplication.processEvents()
        return view

    return make


def _shortened(view: SliceView) -> list[str]:
    corners = view.corner_text.corners
    return [name for name, label in corners.items() if label.isVisible() and "…" in label.text()]


def test_a_narrow_view_has_the_full_read_out_in_its_tooltip(make_view) -> None:
    view = make_view(NARROW)
    assert "bottom_right" in _shortened(view)
    tooltip = view.graphics.toolTip()
    full = view.corner_text.text("bottom_right")
    assert "51 HU" in full
    assert "slice 35/69" in full
    assert full in tooltip
    assert "…" not in tooltip
    for name in _shortened(view):
        assert view.corner_text.text(name) in tooltip


def test_the_tooltip_shows_over_the_image_and_follows_the_read_out(make_view, qtbot) -> None:
    view = make_view(NARROW)
    viewport = view.graphics.viewport()
    middle = viewport.rect().center()
    event = QHelpEvent(QEvent.Type.ToolTip, middle, viewport.mapToGlobal(middle))
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert "51 HU" in QToolTip.text()
    # the mouse moved on: the tooltip on screen never keeps the old value
    view.show_hover(HoverInfo(np.array([-60.0, -9.0, 85.0]), (34, 129, 250), -12.0))
    QApplication.processEvents()
    assert "-12 HU" in QToolTip.text()
    assert "51 HU" not in QToolTip.text()
    view.show_hover(None)
    QApplication.processEvents()
    assert "HU" not in view.graphics.toolTip()
    QToolTip.hideText()


def test_a_wide_view_has_no_tooltip(make_view) -> None:
    view = make_view(WIDE)
    assert _shortened(view) == []
    assert view.graphics.toolTip() == ""


def test_widening_a_narrow_view_takes_its_tooltip_away(make_view) -> None:
    view = make_view(NARROW)
    assert view.graphics.toolTip()
    view.resize(*WIDE)
    QApplication.processEvents()
    assert _shortened(view) == []
    assert view.graphics.toolTip() == ""


def test_a_title_that_looks_like_markup_is_shown_as_written(make_view) -> None:
    view = make_view(NARROW)
    view.set_volume(_volume(), title="CT <b>arterial</b> phase, late run", modality="CT")
    QApplication.processEvents()
    assert "top_left" in _shortened(view)
    tooltip = view.graphics.toolTip()
    assert "&lt;b&gt;arterial&lt;/b&gt;" in tooltip
