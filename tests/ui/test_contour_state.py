"""Contour state in use: undo/redo and delete keep the measurements, the dock and the plan
in step; the view stays where the user put it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tace_planner.ui.panels.lesion_panel import LesionPanel
from tace_planner.ui.viewer.interaction import PointerEvent

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)  # right lobe parenchyma, away from the foci


def _send(window, kind: str, point, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    view = window.viewer.active_view
    point = np.asarray(point, dtype=float)
    index = np.linalg.solve(view.volume.index_to_lps, np.append(point, 1.0))[:3]
    voxel = tuple(round(float(v)) for v in index)
    window.viewer.pointer_event.emit(view, PointerEvent(kind, point, voxel, voxel[0], modifiers))


def _centre(window, name: str) -> np.ndarray:
    focus = next(f for f in window._test_truth["foci"] if f["name"] == name)
    return np.array(focus["center_lps_mm"], dtype=float)


def _idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.contour_controller.is_busy, timeout=30_000)


def _click(qtbot, window, tool: str, point) -> None:
    controller = window.contour_controller
    controller.set_tool(tool)
    _send(window, "click", point)
    _idle(qtbot, window)
    controller.set_tool(None)


def _measurement_state(window) -> dict[str, object]:
    """What the database (``tace-planner measurements``), the Lesions dock and the plan say."""
    case_pk = window._case_pk
    measured = window._test_services.contouring.measurements(case_pk=case_pk, timepoint="baseline")
    rows = {
        m.name: (m.volume_cm3, m.longest_axial_diameter_mm, m.short_axis_mm, m.mean_hu)
        for m in measured.lesions
    }
    panel = window.lesion_panel
    rows_shown = range(panel.table.rowCount())
    table = [tuple(panel.table.item(r, c).text() for c in range(8)) for r in rows_shown]
    plan = window.plan_panel
    figures = {key: label.text() for key, label in plan._figure_labels.items()}
    return {
        "lesions": [item.name for item in window._test_services.contouring.list_lesions(case_pk)],
        "rows": rows,
        "burden": (measured.liver_volume_cm3, measured.tumour_volume_cm3, measured.burden_percent),
        "dock": table,
        "dock_burden": panel.burden_label.text(),
        "plan": figures,
        "plan_problems": plan.burden_problems.text(),
    }


def _settled(qtbot, window, expected: dict[str, object]) -> None:
    _idle(qtbot, window)
    qtbot.waitUntil(lambda: _measurement_state(window) == expected, timeout=10_000)


# --- 1. undo and redo restore the measurement state exactly ----------------------------


def test_undo_of_an_auto_contour_removes_its_volume_from_the_dock_the_plan_and_the_store(
    qtbot, window
) -> None:
    _click(qtbot, window, "liver", LIVER_SEED_LPS)
    before = _measurement_state(window)
    assert before["lesions"] == ["Liver"]
    _click(qtbot, window, "auto", _centre(window, "F1"))
    after = _measurement_state(window)
    assert after["lesions"] == ["Liver", "F1"]
    assert after["rows"]["F1"][0] > 50  # F1 is 82 cm³
    assert after["burden"][2] is not None
    assert after["burden"][2] > 0
    assert after["plan"] != before["plan"]

    window.undo_action.trigger()
    _settled(qtbot, window, before)
    assert window.contour_controller.lesion_state(window.lesion_panel.lesions[0].pk) is not None

    window.redo_action.trigger()
    _settled(qtbot, window, after)
    pk = window.contour_controller.active_lesion_pk
    assert window.contour_controller.lesion_state(pk).mask.any()


def test_undo_of_a_brush_edit_restores_the_previous_measurement(qtbot, window) -> None:
    _click(qtbot, window, "auto", _centre(window, "F1"))
    contoured = _measurement_state(window)
    controller = window.contour_controller
    controller.brush_radius_mm = 8.0
    _click(qtbot, window, "brush", _centre(window, "F1") + np.array((30.0, 0.0, 0.0)))
    painted = _measurement_state(window)
    assert painted["rows"]["F1"][0] > contoured["rows"]["F1"][0]
    window.undo_action.trigger()
    _settled(qtbot, window, contoured)
    window.redo_action.trigger()
    _settled(qtbot, window, painted)


def test_erasing_a_whole_focus_leaves_no_stale_volume(qtbot, window) -> None:
    _click(qtbot, window, "auto", _centre(window, "F1"))
    contoured = _measurement_state(window)
    pk = window.contour_controller.active_lesion_pk
    state = window.contour_controller.lesion_state(pk)
    patch_all = np.zeros_like(state.mask)
    assert window.contour_controller._push_edit(state, patch_all, "erase F1")
    _idle(qtbot, window)
    erased = _measurement_state(window)
    assert "F1" not in erased["rows"]  # no contour, no measurement: nothing stale
    assert erased["lesions"] == ["F1"]  # the focus itself stays
    window.undo_action.trigger()
    _settled(qtbot, window, contoured)


# --- 2. delete asks, and is undoable ----------------------------------------------------


def test_delete_of_a_contoured_focus_asks_and_undo_brings_it_back(
    qtbot, window, monkeypatch
) -> None:
    _click(qtbot, window, "auto", _centre(window, "F1"))
    _click(qtbot, window, "auto", _centre(window, "F2"))
    contoured = _measurement_state(window)
    services = window._test_services
    panel = window.lesion_panel
    f1 = next(item for item in panel.lesions if item.name == "F1")
    volume = contoured["rows"]["F1"][0]
    questions: list[str] = []

    def answer(reply: bool):
        def ask(cls, parent, text: str) -> bool:
            questions.append(text)
            return reply

        return classmethod(ask)

    monkeypatch.setattr(LesionPanel, "confirm_delete", answer(False))
    panel.select_lesion(f1.pk)
    panel.delete_button.click()
    assert "F1" in questions[-1]
    assert f"{volume:.2f} cm³" in questions[-1]
    assert _measurement_state(window) == contoured  # Cancel: nothing deleted

    monkeypatch.setattr(LesionPanel, "confirm_delete", answer(True))
    panel.select_lesion(f1.pk)
    panel.delete_button.click()
    _idle(qtbot, window)
    deleted = _measurement_state(window)
    assert deleted["lesions"] == ["F2"]
    assert "F1" not in deleted["rows"]
    assert window.undo_action.isEnabled()
    assert "delete F1" in window.undo_action.text()
    edit_menu = window.contour_workbench.edit_menu
    assert window.undo_action in edit_menu.actions()
    assert window.menuBar().actions()[1].menu() is edit_menu  # File, Edit, …

    window.undo_action.trigger()
    _settled(qtbot, window, contoured)
    restored = window.contour_controller.lesion_state(f1.pk)
    assert restored is not None
    assert restored.mask.any()
    from sqlalchemy import select

    from tace_planner.store.models import AuditEventRow

    with services.session_factory() as session:
        actions = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.entity == "lesion")
        ).all()
    assert "delete" in actions
    assert "restore" in actions

    window.redo_action.trigger()
    _settled(qtbot, window, deleted)
    # Undo again, then the auto contour of F1 before it: both step back in order.
    window.undo_action.trigger()
    _settled(qtbot, window, contoured)


def test_a_restored_focus_can_be_edited_by_the_undo_history_before_its_delete(
    qtbot, window, monkeypatch
) -> None:
    _click(qtbot, window, "auto", _centre(window, "F1"))
    contoured = _measurement_state(window)
    window.contour_controller.brush_radius_mm = 8.0
    _click(qtbot, window, "brush", _centre(window, "F1") + np.array((30.0, 0.0, 0.0)))
    monkeypatch.setattr(LesionPanel, "confirm_delete", classmethod(lambda cls, *a: True))
    panel = window.lesion_panel
    panel.select_lesion(panel.lesions[0].pk)
    panel.delete_button.click()
    _idle(qtbot, window)
    window.undo_action.trigger()  # the delete
    window.undo_action.trigger()  # the brush stroke, on the restored focus
    _settled(qtbot, window, contoured)


# --- 3. the view stays still ------------------------------------------------------------


def _view_state(window) -> list[tuple[object, ...]]:
    return [
        (view.slice_index, view.state.zoom, tuple(round(v, 6) for v in view.state.pan_center_lps))
        for view in window.viewer.views
        if view.volume is not None
    ]


def test_auto_contour_liver_click_and_row_click_keep_the_view_still(qtbot, window) -> None:
    view = window.viewer.active_view
    f1 = _centre(window, "F1")
    view.state.zoom = 1.7
    view.state.pan_center_lps = (float(f1[0]) + 12.0, float(f1[1]) - 7.0, float(f1[2]))
    view.centre_on(f1 + np.array((12.0, -7.0, 0.0)))
    view.scroll(1)  # one slice away from the focus centre
    still = _view_state(window)
    _click(qtbot, window, "auto", f1)
    assert _view_state(window) == still
    _click(qtbot, window, "liver", LIVER_SEED_LPS)
    assert _view_state(window) == still
    panel = window.lesion_panel
    for lesion in panel.lesions:
        panel.select_lesion(lesion.pk)
        qtbot.wait(10)
        assert _view_state(window) == still
    # A double click on a row is asking to go there.
    row = next(r for r, item in enumerate(panel.lesions) if item.name == "F1")
    panel.table.cellDoubleClicked.emit(row, 0)
    moved = _view_state(window)
    assert moved != still
    assert abs(view.slice_position_mm() - float(f1 @ view.geometry.normal_lps)) < 3.0


def test_undo_and_redo_stay_on_the_tool_bar_after_an_edit(qtbot, window) -> None:
    """At 1400 px the buttons read "Undo auto contour F1" and were pushed into the
    tool bar's overflow menu; they keep their short text, the tooltip says what."""
    from PySide6.QtWidgets import QToolBar

    assert window.width() <= 1400
    toolbar = window.findChild(QToolBar, "contour_toolbar")
    _click(qtbot, window, "auto", _centre(window, "F1"))
    _click(qtbot, window, "auto", _centre(window, "F2"))
    window.undo_action.trigger()
    _idle(qtbot, window)
    qtbot.wait(50)
    for action, word, name in (
        (window.undo_action, "Undo", "F1"),
        (window.redo_action, "Redo", "F2"),
    ):
        assert action.isEnabled()
        assert action.text().replace("&", "") == f"{word} auto contour {name}"  # Edit menu
        button = toolbar.widgetForAction(action)
        assert button.text() == word
        assert f"auto contour {name}" in button.toolTip()
        assert button.isVisible(), f"{word} is hidden in the tool bar's overflow"
