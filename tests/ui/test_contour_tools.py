"""Contour tools in the main window: auto contour click, brush, undo/redo, save after edit."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.ui.viewer.interaction import PointerEvent

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


def _event(view, kind: str, point, modifiers=Qt.KeyboardModifier.NoModifier) -> PointerEvent:
    point = np.asarray(point, dtype=float)
    index = np.linalg.solve(view.volume.index_to_lps, np.append(point, 1.0))[:3]
    voxel = tuple(round(float(v)) for v in index)
    return PointerEvent(kind, point, voxel, voxel[0], modifiers)


def _auto_contour_f1(qtbot, window) -> int:
    controller = window.contour_controller
    f1 = next(f for f in window._test_truth["foci"] if f["name"] == "F1")
    controller.set_tool("auto")
    view = window.viewer.active_view
    window.viewer.pointer_event.emit(view, _event(view, "click", f1["center_lps_mm"]))
    qtbot.waitUntil(lambda: not controller.is_busy and controller.active_lesion_pk is not None,
                    timeout=20_000)  # fmt: skip
    return controller.active_lesion_pk


def test_auto_contour_click_creates_a_mask_and_a_lesion_row(qtbot, window) -> None:
    pk = _auto_contour_f1(qtbot, window)
    state = window.contour_controller.lesion_state(pk)
    assert state.mask.any()
    names = [item.name for item in window.lesion_panel.lesions]
    assert names == ["F1"]
    qtbot.waitUntil(lambda: window.lesion_panel.table.item(0, 3).text() != "—", timeout=5_000)
    assert float(window.lesion_panel.table.item(0, 3).text()) > 50  # F1 is 82 cm³
    assert window.undo_action.isEnabled()


def test_brush_stroke_undo_redo_and_save_after_edit(qtbot, window) -> None:
    controller = window.contour_controller
    pk = _auto_contour_f1(qtbot, window)
    state = controller.lesion_state(pk)
    auto_count = int(state.mask.sum())
    view = window.viewer.active_view
    start = np.array(window._test_truth["foci"][0]["center_lps_mm"]) + np.array((40.0, 0.0, 0.0))
    controller.brush_radius_mm = 6.0
    controller.set_tool("brush")
    for kind, offset in (("press", 0.0), ("move", 6.0), ("move", 12.0), ("release", 12.0)):
        window.viewer.pointer_event.emit(
            view, _event(view, kind, start + np.array((offset, 0.0, 0.0)))
        )
    painted = int(state.mask.sum())
    assert painted > auto_count
    window.undo_action.trigger()
    assert int(state.mask.sum()) == auto_count
    window.redo_action.trigger()
    assert int(state.mask.sum()) == painted
    for step in range(22):  # ≥ 20 undo steps: 22 separate dabs, each its own edit
        dab = start + np.array((-20.0 + 2.0 * step, 25.0, 0.0))
        window.viewer.pointer_event.emit(view, _event(view, "click", dab))
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    after_dabs = state.mask.copy()
    for _ in range(20):
        window.undo_action.trigger()
    assert int(state.mask.sum()) < int(after_dabs.sum())
    for _ in range(20):
        window.redo_action.trigger()
    assert np.array_equal(state.mask, after_dabs)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    final = state.mask.copy()
    # A "crash": services opened again on the same folder see the last stroke.
    reopened = open_services(AppSettings(data_dir=window._test_data_dir, db_url=None, user="other"))
    try:
        _, timepoint_pk, _ = reopened.contouring.series_context(view.series_key[0])
        stored = reopened.contouring.load_mask(pk, timepoint_pk)
        assert np.array_equal(stored.mask, final)
        assert stored.segmentation.method == "edited"
    finally:
        reopened.close()


def test_brush_without_a_lesion_says_so(qtbot, window) -> None:
    controller = window.contour_controller
    messages: list[str] = []
    controller.error.connect(messages.append)
    controller.set_tool("brush")
    view = window.viewer.active_view
    window.viewer.pointer_event.emit(view, _event(view, "click", view.slice_centre_lps()))
    assert messages
    assert "lesion" in messages[0]


def test_ctrl_click_adds_and_shift_click_removes_as_hard_constraints(qtbot, window) -> None:
    """Ctrl-click adds the clicked tissue to the selected focus, Shift-click takes it out;
    the stored contour honours both clicks and undo steps back one click at a time."""
    controller = window.contour_controller
    pk = _auto_contour_f1(qtbot, window)
    view = window.viewer.active_view
    f1 = next(f for f in window._test_truth["foci"] if f["name"] == "F1")
    centre = np.asarray(f1["center_lps_mm"], dtype=float)
    state = controller.lesion_state(pk)
    grid = view.volume.index_to_lps

    def voxel(point):
        index = np.linalg.solve(grid, np.append(point, 1.0))[:3]
        return tuple(round(float(v)) for v in index)

    outside = centre + np.array([0.0, 0.0, 40.0])  # 40 mm above F1 (27 mm radius)
    assert not state.mask[voxel(outside)]
    ctrl = Qt.KeyboardModifier.ControlModifier
    window.viewer.pointer_event.emit(view, _event(view, "click", outside, ctrl))
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    qtbot.waitUntil(lambda: controller.lesion_state(pk).mask[voxel(outside)], timeout=20_000)
    assert controller.lesion_state(pk).include[-1] == tuple(float(v) for v in outside)
    inside = centre + np.array([0.0, 15.0, 0.0])
    assert controller.lesion_state(pk).mask[voxel(inside)]
    shift = Qt.KeyboardModifier.ShiftModifier
    window.viewer.pointer_event.emit(view, _event(view, "click", inside, shift))
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    qtbot.waitUntil(lambda: not controller.lesion_state(pk).mask[voxel(inside)], timeout=20_000)
    assert controller.lesion_state(pk).mask[voxel(outside)]  # the earlier click still holds
    qtbot.waitUntil(lambda: not controller._saving and not controller._dirty, timeout=20_000)
    stored = controller._contouring.load_mask(pk, state.timepoint_pk)
    assert stored.mask[voxel(outside)]
    assert not stored.mask[voxel(inside)]


def test_ctrl_click_without_a_selected_focus_says_so(qtbot, window) -> None:
    controller = window.contour_controller
    controller.set_tool("auto")
    view = window.viewer.active_view
    f1 = next(f for f in window._test_truth["foci"] if f["name"] == "F1")
    errors: list[str] = []
    controller.error.connect(errors.append)
    ctrl = Qt.KeyboardModifier.ControlModifier
    window.viewer.pointer_event.emit(view, _event(view, "click", f1["center_lps_mm"], ctrl))
    assert errors
    assert "select one first" in errors[-1]


def test_a_brush_stroke_on_an_old_copy_does_not_overwrite_a_colleagues_save(qtbot, window) -> None:
    """F1 was corrected on another workstation after this window read it: painting here
    is refused (and said), and the colleague's contour stays as saved."""
    from tace_planner.services.contouring_dto import NEW

    controller = window.contour_controller
    pk = _auto_contour_f1(qtbot, window)
    state = controller.lesion_state(pk)
    assert state.version not in (None, NEW)  # the version this window saved
    view = window.viewer.active_view
    other = open_services(AppSettings(data_dir=window._test_data_dir, db_url=None, user="other"))
    try:
        theirs = state.mask.copy()
        theirs[tuple(np.argwhere(theirs)[:50].T)] = False
        other.contouring.save_and_measure(
            pk, state.timepoint_pk, state.series_uid, None, theirs, "manual"
        )
        errors: list[str] = []
        controller.error.connect(errors.append)
        start = np.array(window._test_truth["foci"][0]["center_lps_mm"]) + np.array(
            (40.0, 0.0, 0.0)
        )
        controller.brush_radius_mm = 6.0
        controller.set_tool("brush")
        for kind in ("press", "release"):
            window.viewer.pointer_event.emit(view, _event(view, kind, start))
        qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
        assert any("other" in e for e in errors), errors
        stored = other.contouring.load_mask(pk, state.timepoint_pk)
        assert np.array_equal(stored.mask, theirs)
        # a new auto contour click from this window's stale state is refused as well
        controller.set_tool("auto")
        f1 = window._test_truth["foci"][0]["center_lps_mm"]
        window.viewer.pointer_event.emit(
            view, _event(view, "click", f1, Qt.KeyboardModifier.ControlModifier)
        )
        qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
        assert np.array_equal(other.contouring.load_mask(pk, state.timepoint_pk).mask, theirs)
    finally:
        other.close()


def test_a_brush_stroke_into_another_focus_says_they_now_share_voxels(qtbot, window) -> None:
    controller = window.contour_controller
    f1_pk = _auto_contour_f1(qtbot, window)
    f1_mask = controller.lesion_state(f1_pk).mask.copy()
    change = window._services.contouring.create_lesion(window.lesion_panel.case_pk, "F2")
    window.lesion_panel.refresh()
    controller.set_active_lesion(change.lesion.pk)
    messages: list[str] = []
    controller.error.connect(messages.append)
    view = window.viewer.active_view
    centre = np.array(
        next(f for f in window._test_truth["foci"] if f["name"] == "F1")["center_lps_mm"]
    )
    controller.brush_radius_mm = 4.0
    controller.set_tool("brush")
    for kind in ("press", "release"):
        window.viewer.pointer_event.emit(view, _event(view, kind, centre))
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)

    painted = controller.lesion_state(change.lesion.pk).mask
    assert (painted & f1_mask).any()  # the hand edit is kept as painted
    assert any(m.startswith("F2 now shares") and "with F1" in m for m in messages), messages
