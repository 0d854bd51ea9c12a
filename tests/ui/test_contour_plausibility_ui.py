"""A contour click on fat asks first; a leak is shown with the gesture that fixes it (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tace_planner.ui import contour_actions
from tace_planner.ui.viewer.interaction import PointerEvent

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)  # right lobe parenchyma of the phantom, away from the foci


def _fat_click(view) -> PointerEvent:
    volume = view.volume
    k = volume.shape[0] // 2
    plane = np.asarray(volume.voxels[k])
    fat = (plane > -130) & (plane < -80)
    j, i = next(
        (j, i)
        for j, i in zip(*np.nonzero(fat), strict=True)
        if fat[j - 2 : j + 3, i - 2 : i + 3].all()
    )
    point = volume.index_to_lps @ np.array([k, j, i, 1.0])
    return PointerEvent("click", point[:3], (k, int(j), int(i)), k, Qt.KeyboardModifier.NoModifier)


def test_fat_click_is_contoured_only_when_confirmed(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = window.contour_controller
    before = {item.name for item in window.lesion_panel.lesions}
    questions: list[str] = []
    monkeypatch.setattr(
        contour_actions, "ask_contour_anyway", lambda parent, q: questions.append(q) or False
    )
    messages: list[str] = []
    controller.error.connect(messages.append)
    controller.set_tool("auto")
    view = window.viewer.active_view
    window.viewer.pointer_event.emit(view, _fat_click(view))
    qtbot.waitUntil(lambda: bool(questions) and not controller.is_busy, timeout=20_000)
    assert "HU: fat, not a liver focus" in questions[0]
    assert questions[0].endswith("— contour anyway?")
    assert messages[-1].startswith("Not contoured: ")
    shown = window.contour_note.text() or window.statusBar().currentMessage()
    assert shown.startswith("Not contoured: ")
    assert {item.name for item in window.lesion_panel.lesions} == before


def test_a_leak_out_of_the_liver_is_shown_after_the_confirmed_click(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The liver "cut through the dome" leaves F1's top out; a click there leaks upwards."""
    services = window._services
    view = window.viewer.active_view
    series_uid = view.series_key[0]
    case_pk = services.cases.list_cases()[0].pk
    liver = services.contouring.contour_liver(case_pk, series_uid, LIVER_SEED_LPS)
    volume = view.volume
    f1 = next(f for f in window._test_truth["foci"] if f["name"] == "F1")
    centre = np.asarray(f1["center_lps_mm"], dtype=float)
    k = int(np.rint(np.linalg.solve(volume.index_to_lps, [*centre, 1.0])[0]))
    stored = services.contouring.load_mask(liver.lesion.pk, liver.segmentation.timepoint_pk)
    cut = stored.mask.copy()
    cut[(slice(k, None) if volume.index_to_lps[2, 0] > 0 else slice(None, k + 1))] = False
    services.contouring.save_and_measure(
        liver.lesion.pk, liver.segmentation.timepoint_pk, series_uid, None, cut, "manual"
    )
    questions: list[str] = []
    monkeypatch.setattr(
        contour_actions, "ask_contour_anyway", lambda parent, q: questions.append(q) or True
    )
    controller = window.contour_controller
    messages: list[str] = []
    controller.error.connect(messages.append)
    controller.set_tool("auto")
    voxel = (
        k,
        *(int(v) for v in np.rint(np.linalg.solve(volume.index_to_lps, [*centre, 1.0])[1:3])),
    )
    event = PointerEvent("click", centre, voxel, k, Qt.KeyboardModifier.NoModifier)
    window.viewer.pointer_event.emit(view, event)
    qtbot.waitUntil(lambda: any("leaks outside the liver" in m for m in messages), timeout=30_000)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    assert "outside the liver contour" in questions[0]
    leak = next(m for m in messages if "leaks outside the liver" in m)
    assert "towards the head" in leak
    # The leak and its fix come first; the service's warnings on the contour follow.
    assert leak.startswith("The contour leaks outside the liver")
    assert "Shift-click in the leak to exclude it." in leak
    assert controller.active_lesion_pk is not None


def test_a_2d_auto_contour_click_on_fat_asks_too(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = window.contour_controller
    view = window.viewer.active_view
    f1 = next(f for f in window._test_truth["foci"] if f["name"] == "F1")
    centre = np.asarray(f1["center_lps_mm"], dtype=float)
    index = np.linalg.solve(view.volume.index_to_lps, [*centre, 1.0])[:3]
    voxel = tuple(int(v) for v in np.rint(index))
    controller.set_tool("auto")
    window.viewer.pointer_event.emit(
        view, PointerEvent("click", centre, voxel, voxel[0], Qt.KeyboardModifier.NoModifier)
    )
    qtbot.waitUntil(
        lambda: not controller.is_busy and controller.active_lesion_pk is not None, timeout=20_000
    )
    state = controller.lesion_state(controller.active_lesion_pk)
    before = state.mask.copy()
    questions: list[str] = []
    monkeypatch.setattr(
        contour_actions, "ask_contour_anyway", lambda parent, q: questions.append(q) or False
    )
    controller.set_tool("auto2d")
    window.viewer.pointer_event.emit(view, _fat_click(view))
    assert "HU: fat, not a liver focus" in questions[0]
    assert np.array_equal(state.mask, before)  # nothing added to F1
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
