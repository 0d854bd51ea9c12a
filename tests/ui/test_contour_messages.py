"""What the contour tools tell the user after a click (issue 12, audit on the running app).

The service's warnings on a contour (a click on plain parenchyma, a liver of implausible
size) are shown in the window as the command line prints them; a refused click reads
as a refusal, not as a field name.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tace_planner.ui.viewer.interaction import PointerEvent

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)  # right lobe parenchyma of the phantom, away from the foci


def _send(window, point) -> None:
    view = window.viewer.active_view
    point = np.asarray(point, dtype=float)
    index = np.linalg.solve(view.volume.index_to_lps, np.append(point, 1.0))[:3]
    voxel = tuple(round(float(v)) for v in index)
    event = PointerEvent("click", point, voxel, voxel[0], Qt.KeyboardModifier.NoModifier)
    window.viewer.pointer_event.emit(view, event)


def _click(qtbot, window, tool: str, point) -> None:
    controller = window.contour_controller
    controller.set_tool(tool)
    _send(window, point)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=30_000)
    controller.set_tool(None)


def test_a_click_on_plain_parenchyma_says_so_in_the_window(qtbot, window) -> None:
    """The service warns that the clicked tissue looks like its surroundings; so does the window.

    On the running app a misclick in healthy liver drew a small "focus" with no word,
    while ``tace-planner contour auto`` printed the warning for the same click.
    """
    controller = window.contour_controller
    _click(qtbot, window, "liver", LIVER_SEED_LPS)
    messages: list[str] = []
    controller.error.connect(messages.append)
    _click(qtbot, window, "auto", LIVER_SEED_LPS)
    focus = window.lesion_panel.lesions[-1]
    assert not focus.is_liver
    masks = window._test_services.contouring.masks_of_case(focus.case_pk)
    stored = next(m for m in masks if m.lesion.pk == focus.pk)
    series_uid = window.viewer.active_view.series_key[0]
    service = window._test_services.contouring.auto_contour(
        focus.case_pk, series_uid, LIVER_SEED_LPS, focus.name
    )
    assert service.warnings, "the service gives no warning for this click any more"
    assert stored.mask.any()
    assert messages, "the window said nothing about the click"
    for warning in service.warnings:
        assert warning in messages[-1]
    assert window.statusBar().currentMessage() == messages[-1]


def test_a_click_on_air_reads_as_a_refusal(qtbot, window) -> None:
    controller = window.contour_controller
    messages: list[str] = []
    controller.error.connect(messages.append)
    view = window.viewer.active_view
    corner = view.volume.index_to_lps @ np.array([view.volume.shape[0] // 2, 2, 2, 1.0])
    before = [item.name for item in window.lesion_panel.lesions]
    _click(qtbot, window, "auto", corner[:3])
    assert [item.name for item in window.lesion_panel.lesions] == before
    assert messages
    assert messages[-1].startswith("Not contoured: ")
    assert "air" in messages[-1]
    assert "contour click" not in messages[-1]
    assert messages[-1].endswith("click on the tissue of the focus.")
