"""A brush stroke on a view whose series' files changed since it opened is not saved.

The view keeps showing the volume it read; when the series' stored files are
rewritten (or the series removed and imported again) meanwhile, a stroke drawn
there was saved onto the new files' grid. The save now hands the service the
view's volume, the service refuses it, and the window says which series to open
again; the stored contour stays as it was.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("PySide6")

from tests.ui.test_contour_tools import _auto_contour_f1, _event

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


def test_a_stroke_on_a_view_of_changed_files_is_refused_and_said(qtbot, window) -> None:
    controller = window.contour_controller
    pk = _auto_contour_f1(qtbot, window)
    qtbot.waitUntil(lambda: not controller._saving and not controller._dirty, timeout=20_000)
    state = controller.lesion_state(pk)
    view = window.viewer.active_view
    series = view.series_key[0]
    services = window._services
    stored_before = services.contouring.load_mask(pk, state.timepoint_pk).mask.copy()
    for path in services.studies.series_files(series)[:1]:
        later = path.stat().st_mtime_ns + 10**9
        os.utime(path, ns=(later, later))  # rewritten in place by another program

    messages: list[str] = []
    controller.error.connect(messages.append)
    start = np.array(window._test_truth["foci"][0]["center_lps_mm"]) + np.array((40.0, 0.0, 0.0))
    controller.brush_radius_mm = 6.0
    controller.set_tool("brush")
    for kind in ("press", "release"):
        window.viewer.pointer_event.emit(view, _event(view, kind, start))
    assert controller.lesion_state(pk).mask.sum() > stored_before.sum()  # painted here
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)

    refusals = [m for m in messages if "Open the series again" in m]
    assert len(refusals) == 1, messages
    assert "\n" not in refusals[0]
    assert series not in refusals[0]
    assert refusals[0].startswith("Series ")
    stored = services.contouring.load_mask(pk, state.timepoint_pk)
    assert np.array_equal(stored.mask, stored_before)


def _touch_first_file(services, series: str) -> None:
    for path in services.studies.series_files(series)[:1]:
        later = path.stat().st_mtime_ns + 10**9
        os.utime(path, ns=(later, later))  # rewritten in place by another program


@pytest.mark.parametrize("gesture", ["click", "margin"])
def test_an_auto_contour_click_or_margin_on_changed_files_is_refused(
    qtbot, window, gesture: str
) -> None:
    """The clicks and the margin step are sent with the view's volume and checked too."""
    controller = window.contour_controller
    pk = _auto_contour_f1(qtbot, window)
    qtbot.waitUntil(lambda: not controller._saving and not controller._dirty, timeout=20_000)
    state = controller.lesion_state(pk)
    view = window.viewer.active_view
    services = window._services
    stored_before = services.contouring.load_mask(pk, state.timepoint_pk).mask.copy()
    _touch_first_file(services, view.series_key[0])

    messages: list[str] = []
    controller.error.connect(messages.append)
    if gesture == "click":
        near = np.array(window._test_truth["foci"][0]["center_lps_mm"]) + np.array((4.0, 0, 0))
        window.viewer.pointer_event.emit(view, _event(view, "click", near))
    else:
        assert controller.move_margin(1.0)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)

    refusals = [m for m in messages if "Open the series again" in m]
    assert len(refusals) == 1, messages
    stored = services.contouring.load_mask(pk, state.timepoint_pk)
    assert np.array_equal(stored.mask, stored_before)
