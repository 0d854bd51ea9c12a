"""Grow and shrink the whole auto contour ([ and ]), and undo that restores the clicks.

A faint edge is often followed a millimetre or two inside all round: the margin keys
move the whole surface instead of a click per side, stay through later corrections,
and are undoable like a click. Undoing a correction also takes its click back from
what the next correction replays (before, an undone Ctrl-click came back with the
next Shift-click).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tace_planner.ui.viewer.interaction import PointerEvent

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


def _event(view, point, modifiers=Qt.KeyboardModifier.NoModifier) -> PointerEvent:
    point = np.asarray(point, dtype=float)
    index = np.linalg.solve(view.volume.index_to_lps, np.append(point, 1.0))[:3]
    voxel = tuple(round(float(v)) for v in index)
    return PointerEvent("click", point, voxel, voxel[0], modifiers)


def _voxel(view, point) -> tuple[int, int, int]:
    index = np.linalg.solve(view.volume.index_to_lps, np.append(np.asarray(point, float), 1.0))
    return tuple(round(float(v)) for v in index[:3])  # type: ignore[return-value]


def _f1(window) -> np.ndarray:
    f1 = next(f for f in window._test_truth["foci"] if f["name"] == "F1")
    return np.asarray(f1["center_lps_mm"], dtype=float)


def _wait(qtbot, controller) -> None:
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=30_000)


def _contour_f1(qtbot, window) -> int:
    controller = window.contour_controller
    controller.set_tool("auto")
    view = window.viewer.active_view
    window.viewer.pointer_event.emit(view, _event(view, _f1(window)))
    qtbot.waitUntil(lambda: controller.active_lesion_pk is not None, timeout=30_000)
    _wait(qtbot, controller)
    return controller.active_lesion_pk


def test_grow_and_shrink_move_the_whole_contour_and_undo_takes_them_back(qtbot, window) -> None:
    controller = window.contour_controller
    pk = _contour_f1(qtbot, window)
    drawn = controller.lesion_state(pk).mask.copy()
    messages: list[str] = []
    controller.error.connect(messages.append)
    grow = window.margin_actions[0.5]
    assert grow.shortcut().toString() == "]"
    grow.trigger()
    _wait(qtbot, controller)
    grow.trigger()
    _wait(qtbot, controller)
    state = controller.lesion_state(pk)
    assert state.margin_mm == 1.0
    assert (state.mask >= drawn).all()
    assert state.mask.sum() > drawn.sum() * 1.05  # 1 mm all round a 27 mm focus: +11 %
    assert messages[-1].startswith("F1: contour moved +1.0 mm")
    grown = state.mask.copy()
    qtbot.waitUntil(lambda: not controller._saving and not controller._dirty, timeout=20_000)
    stored = controller._contouring.load_mask(pk, state.timepoint_pk)
    assert np.array_equal(stored.mask, grown)
    window.margin_actions[-0.5].trigger()
    _wait(qtbot, controller)
    assert controller.lesion_state(pk).margin_mm == 0.5
    assert controller.lesion_state(pk).mask.sum() < grown.sum()
    for expected_margin in (1.0, 0.5, 0.0):
        window.undo_action.trigger()
        assert controller.lesion_state(pk).margin_mm == expected_margin
    assert np.array_equal(controller.lesion_state(pk).mask, drawn)
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert controller.lesion_state(pk).margin_mm == 1.0
    assert np.array_equal(controller.lesion_state(pk).mask, grown)


def test_the_margin_stays_through_a_later_correction(qtbot, window) -> None:
    controller = window.contour_controller
    pk = _contour_f1(qtbot, window)
    drawn = controller.lesion_state(pk).mask.copy()
    window.margin_actions[0.5].trigger()
    _wait(qtbot, controller)
    grown = controller.lesion_state(pk).mask.copy()
    ring = grown & ~drawn
    assert ring.any()
    view = window.viewer.active_view
    inside = _f1(window) + np.array([0.0, 15.0, 0.0])
    window.viewer.pointer_event.emit(view, _event(view, inside, Qt.KeyboardModifier.ShiftModifier))
    _wait(qtbot, controller)
    state = controller.lesion_state(pk)
    assert not state.mask[_voxel(view, inside)]
    assert state.margin_mm == 0.5
    # Away from the exclude click the grown ring is still there.
    far = _f1(window) - np.array([0.0, 15.0, 0.0])
    away = np.zeros_like(ring)
    away[:, : _voxel(view, far)[1] + 1, :] = True
    assert (state.mask[ring & away]).mean() > 0.95


def test_an_undone_click_is_not_replayed_by_the_next_correction(qtbot, window) -> None:
    controller = window.contour_controller
    pk = _contour_f1(qtbot, window)
    view = window.viewer.active_view
    outside = _f1(window) + np.array([0.0, 0.0, 40.0])  # 40 mm above F1 (27 mm radius)
    assert not controller.lesion_state(pk).mask[_voxel(view, outside)]
    window.viewer.pointer_event.emit(
        view, _event(view, outside, Qt.KeyboardModifier.ControlModifier)
    )
    _wait(qtbot, controller)
    assert controller.lesion_state(pk).mask[_voxel(view, outside)]
    window.undo_action.trigger()
    state = controller.lesion_state(pk)
    assert not state.mask[_voxel(view, outside)]
    assert len(state.include) == 1
    messages: list[str] = []
    controller.error.connect(messages.append)
    # At once, while the undo is being saved (it used to collide with that save:
    # "changed by radiologist … nothing was saved").
    inside = _f1(window) + np.array([0.0, 15.0, 0.0])
    window.viewer.pointer_event.emit(view, _event(view, inside, Qt.KeyboardModifier.ShiftModifier))
    _wait(qtbot, controller)
    state = controller.lesion_state(pk)
    assert not state.mask[_voxel(view, inside)], messages
    assert not state.mask[_voxel(view, outside)]  # the undone Ctrl-click stays undone


def test_the_margin_keys_say_why_they_do_nothing(qtbot, window) -> None:
    controller = window.contour_controller
    messages: list[str] = []
    controller.error.connect(messages.append)
    window.margin_actions[0.5].trigger()
    assert "Select a focus drawn by an auto-contour click first." in messages[-1]
    pk = _contour_f1(qtbot, window)
    controller.lesion_state(pk).margin_mm = 5.0
    window.margin_actions[0.5].trigger()
    assert not controller.is_busy
    assert "the margin stops at 5 mm" in messages[-1]


def _drawn_long_axis(window) -> float | None:
    for annotation, _ in window.viewer.active_view.measurements._derived:
        if annotation.label.endswith("long axis"):
            return float(annotation.values["length_mm"])
    return None


def test_the_drawn_recist_axes_follow_the_corrected_contour(qtbot, window) -> None:
    """The Lesions dock showed the new long axis after a correction, the view kept
    drawing the old one (the row stayed selected, so no selection signal came)."""
    controller = window.contour_controller
    pk = _contour_f1(qtbot, window)
    panel = window.lesion_panel
    qtbot.waitUntil(lambda: _drawn_long_axis(window) is not None, timeout=20_000)
    before = _drawn_long_axis(window)
    for _ in range(4):
        window.margin_actions[0.5].trigger()
        _wait(qtbot, controller)
    qtbot.waitUntil(lambda: not controller._saving and not controller._dirty, timeout=20_000)
    measured = panel._measurements[pk].longest_axial_diameter_mm
    assert measured > before + 2.0  # 2 mm all round
    qtbot.waitUntil(lambda: _drawn_long_axis(window) == pytest.approx(measured), timeout=20_000)


def test_a_brush_stroke_stays_through_a_later_correction_click(qtbot, window) -> None:
    """A correction replays the auto contour's clicks: the brush stroke painted since
    was lost without a word. It is kept as painted now, and undo takes it back."""
    controller = window.contour_controller
    pk = _contour_f1(qtbot, window)
    view = window.viewer.active_view
    centre = _f1(window)
    painted = centre + np.array([40.0, 0.0, 0.0])  # 13 mm beyond F1's 27 mm radius
    erased = centre + np.array([0.0, -15.0, 0.0])  # inside F1
    assert not controller.lesion_state(pk).mask[_voxel(view, painted)]
    controller.brush_radius_mm = 5.0
    for tool, point in (("brush", painted), ("erase", erased)):
        controller.set_tool(tool)
        window.viewer.pointer_event.emit(view, _event(view, point))
    state = controller.lesion_state(pk)
    assert state.mask[_voxel(view, painted)]
    assert not state.mask[_voxel(view, erased)]
    assert len(state.hand) >= 2
    controller.set_tool("auto")
    inside = centre + np.array([0.0, 15.0, 0.0])
    window.viewer.pointer_event.emit(view, _event(view, inside, Qt.KeyboardModifier.ShiftModifier))
    _wait(qtbot, controller)
    state = controller.lesion_state(pk)
    assert not state.mask[_voxel(view, inside)]
    assert state.mask[_voxel(view, painted)]
    assert not state.mask[_voxel(view, erased)]
    qtbot.waitUntil(lambda: not controller._saving and not controller._dirty, timeout=20_000)
    stored = controller._contouring.load_mask(pk, state.timepoint_pk)
    assert stored.mask[_voxel(view, painted)]
    for _ in range(3):  # the Shift-click, the eraser, the brush
        window.undo_action.trigger()
        _wait(qtbot, controller)
    state = controller.lesion_state(pk)
    assert not state.mask[_voxel(view, painted)]
    assert state.hand == ()


def test_a_correction_does_not_repeat_what_the_first_click_warned_of(
    qtbot, window, monkeypatch
) -> None:
    """A correction replays the first click: its warning (here a faint edge) was said with
    the first contour and is not said again after every click; a new one is."""
    from tace_planner.imaging.segmentation import interactive

    original = interactive.click_contour
    first_warning = "Faint edge (93 HU against 110 ± 9 HU around it): check it all round."
    new_warning = "A warning that only the correction raises."

    def warning_click_contour(volume, include_lps, exclude_lps=(), **kwargs):
        drawn = original(volume, include_lps, exclude_lps, **kwargs)
        extra = [first_warning] + ([new_warning] if len(include_lps) > 1 else [])
        return interactive.ClickContour(drawn.mask, [*drawn.messages, *extra], drawn.parenchyma)

    monkeypatch.setattr(interactive, "click_contour", warning_click_contour)
    controller = window.contour_controller
    messages: list[str] = []
    controller.error.connect(messages.append)
    pk = _contour_f1(qtbot, window)
    assert any(first_warning in m for m in messages)
    messages.clear()
    view = window.viewer.active_view
    outside = _f1(window) + np.array([0.0, 0.0, 40.0])
    window.viewer.pointer_event.emit(
        view, _event(view, outside, Qt.KeyboardModifier.ControlModifier)
    )
    _wait(qtbot, controller)
    assert controller.lesion_state(pk).mask[_voxel(view, outside)]
    assert any(new_warning in m for m in messages)
    assert not any(first_warning in m for m in messages)


def test_the_bracket_keys_on_the_view_grow_and_shrink(qtbot, window) -> None:
    controller = window.contour_controller
    pk = _contour_f1(qtbot, window)
    view = window.viewer.active_view
    window.activateWindow()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_BracketRight)
    _wait(qtbot, controller)
    assert controller.lesion_state(pk).margin_mm == 0.5
    for _ in range(2):
        qtbot.keyClick(view, Qt.Key.Key_BracketLeft)
        _wait(qtbot, controller)
    assert controller.lesion_state(pk).margin_mm == -0.5
