"""More contour tools: brush size/shape, cursor, HU range, liver, 2D auto, polygon, clean-ups."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tace_planner.ui.viewer.interaction import HoverInfo, PointerEvent

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)  # right lobe parenchyma, away from the foci


def _index(view, point) -> np.ndarray:
    return np.linalg.solve(view.volume.index_to_lps, np.append(np.asarray(point, float), 1.0))[:3]


def _event(view, kind: str, point) -> PointerEvent:
    point = np.asarray(point, dtype=float)
    voxel = tuple(round(float(v)) for v in _index(view, point))
    return PointerEvent(kind, point, voxel, voxel[0], Qt.KeyboardModifier.NoModifier)


def _send(window, kind: str, point) -> None:
    view = window.viewer.active_view
    window.viewer.pointer_event.emit(view, _event(view, kind, point))


def _f1_centre(window) -> np.ndarray:
    f1 = next(f for f in window._test_truth["foci"] if f["name"] == "F1")
    return np.array(f1["center_lps_mm"], dtype=float)


def _auto_contour_f1(qtbot, window):
    controller = window.contour_controller
    controller.set_tool("auto")
    _send(window, "click", _f1_centre(window))
    qtbot.waitUntil(lambda: not controller.is_busy and controller.active_lesion_pk is not None,
                    timeout=20_000)  # fmt: skip
    return controller.lesion_state(controller.active_lesion_pk)


def _idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.contour_controller.is_busy, timeout=20_000)


def _undo_restores(qtbot, window, state, before: np.ndarray) -> None:
    window.undo_action.trigger()
    assert np.array_equal(state.mask, before)
    _idle(qtbot, window)


def _erase_slices(window, state, centre: np.ndarray, offsets_mm) -> None:
    controller = window.contour_controller
    controller.set_tool("erase")
    window.contour_options.brush_size.setValue(50.0)
    for dz in offsets_mm:
        _send(window, "click", centre + np.array((0.0, 0.0, dz)))
    controller.set_tool(None)


def test_brush_size_spin_box_changes_the_painted_area(qtbot, window) -> None:
    controller = window.contour_controller
    state = _auto_contour_f1(qtbot, window)
    options = window.contour_options
    dab = window.viewer.active_view.slice_centre_lps() + np.array((30.0, 0.0, 0.0))
    controller.set_tool("brush")
    counts = []
    for size in (3.0, 10.0):
        options.brush_size.setValue(size)
        assert controller.brush_radius_mm == size
        before = state.mask.copy()
        _send(window, "click", dab)
        counts.append(int(state.mask.sum() - before.sum()))
        _undo_restores(qtbot, window, state, before)
    assert 0 < counts[0] < counts[1]
    # 3D sphere: the dab reaches the slices above and below.
    options.brush_shape.setCurrentIndex(options.brush_shape.findData("sphere"))
    assert controller.brush_shape == "sphere"
    before = state.mask.copy()
    _send(window, "click", dab)
    changed_slices = np.flatnonzero((state.mask != before).any(axis=(1, 2)))
    assert len(changed_slices) >= 3
    _undo_restores(qtbot, window, state, before)


def test_brush_cursor_follows_the_mouse_with_the_brush_radius(qtbot, window) -> None:
    controller = window.contour_controller
    view = window.viewer.active_view
    point = view.slice_centre_lps()
    circle = controller.overlay.circle(view)
    controller.set_tool("brush")
    window.contour_options.brush_size.setValue(12.0)
    view.hovered.emit(HoverInfo(point, None, None))
    assert circle.isVisible()
    assert circle.rect().width() == pytest.approx(24.0)
    u, v, _ = view.geometry.lps_to_screen(point)
    assert circle.rect().center().x() == pytest.approx(u)
    assert circle.rect().center().y() == pytest.approx(v)
    view.hovered.emit(None)
    assert not circle.isVisible()
    view.hovered.emit(HoverInfo(point, None, None))
    controller.set_tool("auto")
    assert not circle.isVisible()
    view.hovered.emit(HoverInfo(point, None, None))
    assert not circle.isVisible()


def test_threshold_paint_takes_its_range_from_the_click_then_from_the_spin_boxes(
    qtbot, window
) -> None:
    controller = window.contour_controller
    options = window.contour_options
    state = _auto_contour_f1(qtbot, window)
    assert controller.threshold_hu == (40.0, 200.0)
    controller.set_tool("threshold")
    options.brush_size.setValue(8.0)
    seed = np.array(LIVER_SEED_LPS)
    before = state.mask.copy()
    _send(window, "click", seed)
    low, high = controller.threshold_hu
    assert (options.hu_low.value(), options.hu_high.value()) == (low, high)
    assert (low, high) != (40.0, 200.0)
    assert low < high
    assert options.hu_from_click.isChecked()
    assert state.mask.sum() > before.sum()
    _undo_restores(qtbot, window, state, before)
    options.hu_low.setValue(3000.0)  # nothing in the liver is that bright
    options.hu_high.setValue(3071.0)
    assert not options.hu_from_click.isChecked()
    _send(window, "click", seed)
    assert controller.threshold_hu == (3000.0, 3071.0)
    assert np.array_equal(state.mask, before)


def test_liver_from_click_runs_off_the_gui_thread_and_undoes(qtbot, window) -> None:
    controller = window.contour_controller
    controller.set_tool("liver")
    _send(window, "click", LIVER_SEED_LPS)
    assert controller.is_busy
    qtbot.waitUntil(lambda: not controller.is_busy and controller.active_lesion_pk is not None,
                    timeout=30_000)  # fmt: skip
    state = controller.lesion_state(controller.active_lesion_pk)
    assert state.item.is_liver
    assert state.item.name == "Liver"
    spacing = np.prod(window.viewer.active_view.volume.spacing_mm)
    assert 1000 < state.mask.sum() * spacing / 1000 < 2500  # truth: 1573 cm³
    contoured = state.mask.copy()
    pk = state.item.pk
    window.undo_action.trigger()  # the liver contour added the Liver lesion: undo removes it
    assert controller.lesion_state(pk) is None
    assert [item.name for item in window.lesion_panel.lesions] == []
    window.redo_action.trigger()
    assert np.array_equal(controller.lesion_state(pk).mask, contoured)
    _idle(qtbot, window)


def test_2d_auto_contour_fills_the_clicked_slice_only(qtbot, window) -> None:
    controller = window.contour_controller
    state = _auto_contour_f1(qtbot, window)
    centre = _f1_centre(window)
    k = round(_index(window.viewer.active_view, centre)[0])
    _erase_slices(window, state, centre, (0.0,))
    assert not state.mask[k].any()
    before = state.mask.copy()
    controller.set_tool("auto2d")
    _send(window, "click", centre)
    changed = np.flatnonzero((state.mask != before).any(axis=(1, 2)))
    assert list(changed) == [k]
    assert state.mask[k].sum() > 50
    _idle(qtbot, window)
    _undo_restores(qtbot, window, state, before)


def test_fill_between_slices_interpolates_erased_slices(qtbot, window) -> None:
    state = _auto_contour_f1(qtbot, window)
    centre = _f1_centre(window)
    k = round(_index(window.viewer.active_view, centre)[0])
    _erase_slices(window, state, centre, (-5.0, 0.0, 5.0))
    assert not state.mask[k - 1 : k + 2].any()
    before = state.mask.copy()
    window.contour_clean_up_actions["fill_between"].trigger()
    assert all(state.mask[z].sum() > 50 for z in (k - 1, k, k + 1))
    assert np.array_equal(state.mask & before, before)
    _idle(qtbot, window)
    _undo_restores(qtbot, window, state, before)


def test_fill_holes_fills_an_erased_hole(qtbot, window) -> None:
    controller = window.contour_controller
    state = _auto_contour_f1(qtbot, window)
    centre = _f1_centre(window) + np.array((16.0, 0.0, 0.0))  # in the enhancing rim
    controller.set_tool("erase")
    window.contour_options.brush_size.setValue(4.0)
    filled = state.mask.copy()
    _send(window, "click", centre)
    hole = filled & ~state.mask
    assert hole.any()
    before = state.mask.copy()
    window.contour_clean_up_actions["fill_holes"].trigger()
    assert state.mask[hole].all()
    assert np.array_equal(state.mask & before, before)
    _idle(qtbot, window)
    _undo_restores(qtbot, window, state, before)


def test_remove_islands_keeps_the_largest_component(qtbot, window) -> None:
    controller = window.contour_controller
    state = _auto_contour_f1(qtbot, window)
    main = state.mask.copy()
    controller.set_tool("brush")
    window.contour_options.brush_size.setValue(5.0)
    _send(window, "click", _f1_centre(window) + np.array((80.0, 0.0, 0.0)))
    before = state.mask.copy()
    assert before.sum() > main.sum()
    window.contour_clean_up_actions["remove_islands"].trigger()
    assert np.array_equal(state.mask, main)
    _idle(qtbot, window)
    _undo_restores(qtbot, window, state, before)


def test_smooth_changes_the_outline_and_undoes_exactly(qtbot, window) -> None:
    state = _auto_contour_f1(qtbot, window)
    before = state.mask.copy()
    window.contour_clean_up_actions["smooth"].trigger()
    assert not np.array_equal(state.mask, before)
    assert abs(int(state.mask.sum()) - int(before.sum())) < 0.2 * before.sum()
    _idle(qtbot, window)
    _undo_restores(qtbot, window, state, before)


def test_clean_up_without_a_lesion_says_so(qtbot, window) -> None:
    messages: list[str] = []
    window.contour_controller.error.connect(messages.append)
    window.contour_clean_up_actions["fill_holes"].trigger()
    assert messages
    assert "lesion" in messages[0]
    assert not window.undo_action.isEnabled()


def test_polygon_fill_fills_the_inside_on_one_slice(qtbot, window) -> None:
    controller = window.contour_controller
    state = _auto_contour_f1(qtbot, window)
    view = window.viewer.active_view
    centre = view.slice_centre_lps() + np.array((60.0, 0.0, 0.0))  # beside F1
    controller.set_tool("polygon")
    corners = [(-10.0, -10.0), (10.0, -10.0), (10.0, 10.0), (-10.0, 10.0)]
    before = state.mask.copy()
    _send(window, "press", centre + np.array((*corners[0], 0.0)))
    for x, y in corners[1:]:
        _send(window, "move", centre + np.array((x, y, 0.0)))
    assert controller.overlay._outline is not None  # the outline is drawn while dragging
    _send(window, "release", centre + np.array((-10.0, 10.0, 0.0)))
    assert controller.overlay._outline is None
    added = state.mask & ~before
    assert np.array_equal(state.mask & before, before)
    assert list(np.flatnonzero(added.any(axis=(1, 2)))) == [view.slice_index]
    area_mm2 = added.sum() * np.prod(view.volume.spacing_mm[1:])
    assert 250 < area_mm2 < 550  # a 20 mm square
    inside = tuple(round(v) for v in _index(view, centre))
    outside = tuple(round(v) for v in _index(view, centre + np.array((20.0, 0.0, 0.0))))
    assert state.mask[inside]
    assert not state.mask[outside]
    _idle(qtbot, window)
    _undo_restores(qtbot, window, state, before)


def test_liver_ctrl_and_shift_click_correct_it_locally_and_undo(qtbot, window) -> None:
    """With the liver tool, Shift-click takes the clicked part out of the liver contour
    and Ctrl-click adds it back: each a hard constraint, one undoable edit each."""
    controller = window.contour_controller
    controller.set_tool("liver")
    _send(window, "click", LIVER_SEED_LPS)
    qtbot.waitUntil(lambda: not controller.is_busy and controller.active_lesion_pk is not None,
                    timeout=30_000)  # fmt: skip
    state = controller.lesion_state(controller.active_lesion_pk)
    contoured = state.mask.copy()
    view = window.viewer.active_view
    voxel = tuple(round(float(v)) for v in _index(view, LIVER_SEED_LPS))
    assert contoured[voxel]
    shift = PointerEvent("click", np.asarray(LIVER_SEED_LPS, float), voxel, voxel[0],
                         Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    window.viewer.pointer_event.emit(view, shift)
    assert not state.mask[voxel]
    assert not (state.mask & ~contoured).any()  # taking out never adds
    taken_out = contoured & ~state.mask
    assert taken_out.any()
    ctrl = PointerEvent("click", np.asarray(LIVER_SEED_LPS, float), voxel, voxel[0],
                        Qt.KeyboardModifier.ControlModifier)  # fmt: skip
    window.viewer.pointer_event.emit(view, ctrl)
    assert state.mask[voxel]
    window.undo_action.trigger()
    assert not state.mask[voxel]
    window.undo_action.trigger()
    assert np.array_equal(state.mask, contoured)
    _idle(qtbot, window)
