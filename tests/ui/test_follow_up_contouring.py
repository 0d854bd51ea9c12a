"""Contouring the selected lesion at a follow-up: same identity, its own mask, values per visit."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tace_planner.ui import contour_actions
from tace_planner.ui.viewer.interaction import PointerEvent

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def window(case_window, monkeypatch):
    """The demo case selected, no series open yet (each test opens its timepoint).

    The "new lesion at a follow-up?" question is answered No unless a test answers it: a
    click that unexpectedly asks fails the test instead of waiting on a real modal box.
    """
    monkeypatch.setattr(contour_actions, "ask_new_lesion", lambda _parent, _question: False)
    return case_window


def _open(qtbot, window, label: str) -> dict:
    timepoint = next(t for t in window._test_phantom["timepoints"] if t["label"] == label)
    venous = next(s["series_uid"] for s in timepoint["series"] if s["folder"] == "CT_venous")
    assert window.study_tree.select_series(venous)
    view = window.slice_view
    # the whole volume, not the few middle slices shown while it loads (a click mapped
    # through their grid lies outside the volume: seen on a loaded machine)
    qtbot.waitUntil(
        lambda: view.volume is not None and view.series_key[0] == venous and view.slice_count > 3,
        timeout=20_000,
    )
    qtbot.waitUntil(lambda: not window.progress_bar.isVisible(), timeout=20_000)
    return timepoint


def _click(qtbot, window, point, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    view = window.viewer.active_view
    point = np.asarray(point, dtype=float)
    index = np.linalg.solve(view.volume.index_to_lps, np.append(point, 1.0))[:3]
    voxel = tuple(round(float(v)) for v in index)
    window.viewer.pointer_event.emit(view, PointerEvent("click", point, voxel, voxel[0], modifiers))
    qtbot.waitUntil(lambda: not window.contour_controller.is_busy, timeout=20_000)


def _centre(timepoint: dict, name: str):
    return next(f["center_lps_mm"] for f in timepoint["foci"] if f["name"] == name)


def test_contouring_the_selected_lesion_on_a_follow_up(qtbot, window, monkeypatch) -> None:
    controller, panel = window.contour_controller, window.lesion_panel
    baseline = _open(qtbot, window, "baseline")
    controller.set_tool("auto")
    _click(qtbot, window, _centre(baseline, "F1"))
    f1 = controller.active_lesion_pk
    assert [item.name for item in panel.lesions] == ["F1"]
    baseline_volume = float(panel.table.item(0, 3).text())
    follow_up = _open(qtbot, window, "follow_up_1")
    panel.select_lesion(f1)
    assert controller.active_lesion_pk == f1
    _click(qtbot, window, _centre(follow_up, "F1"))
    # The same lesion, not a new "F2".
    assert [item.name for item in panel.lesions] == ["F1"]
    assert controller.active_lesion_pk == f1
    services = window._test_services
    case_pk = panel.lesions[0].case_pk
    masks = [m for m in services.contouring.masks_of_case(case_pk) if m.lesion.pk == f1]
    assert len(masks) == 2
    assert len({m.segmentation.timepoint_pk for m in masks}) == 2
    assert len({m.segmentation.series_uid for m in masks}) == 2
    # Both masks stay loaded: the baseline one was not replaced by the follow-up one.
    states = [controller.lesion_state(f1, m.segmentation.timepoint_pk) for m in masks]
    assert all(state is not None and state.mask.any() for state in states)
    # The dock shows the follow-up values; the baseline is one choice away.
    qtbot.waitUntil(lambda: panel.timepoint_pk is not None, timeout=5_000)
    qtbot.waitUntil(lambda: panel.table.item(0, 3).text() != "—", timeout=5_000)
    follow_up_volume = float(panel.table.item(0, 3).text())
    assert follow_up_volume < baseline_volume * 0.8  # F1 shrinks to 55 % after TACE
    assert "follow" in panel.burden_label.text().lower()
    assert panel.table.item(0, 3).toolTip().startswith(f"Baseline {baseline_volume:.2f} cm³ → ")
    panel.timepoint_box.setCurrentIndex(0)
    assert float(panel.table.item(0, 3).text()) == pytest.approx(baseline_volume)
    # With F1 contoured there, the next click is a new focus, once the user says so.
    asked: list[str] = []
    monkeypatch.setattr(
        contour_actions, "ask_new_lesion", lambda _parent, q: asked.append(q) or True
    )
    panel.select_lesion(f1)
    _click(qtbot, window, _centre(follow_up, "F2"))
    assert len(asked) == 1
    assert [item.name for item in panel.lesions] == ["F1", "F2"]


def test_a_click_at_a_follow_up_asks_before_adding_a_new_lesion(qtbot, window, monkeypatch) -> None:
    """On the running app a click on F2 at follow-up 1, its row not selected, made "F8":
    a new lesion, which RECIST 1.1 reads as progression. It now asks first."""
    controller, panel = window.contour_controller, window.lesion_panel
    baseline = _open(qtbot, window, "baseline")
    controller.set_tool("auto")
    _click(qtbot, window, _centre(baseline, "F1"))
    _click(qtbot, window, _centre(baseline, "F2"))
    f1, f2 = (item.pk for item in panel.lesions)
    follow_up = _open(qtbot, window, "follow_up_1")
    panel.select_lesion(f1)
    _click(qtbot, window, _centre(follow_up, "F1"))  # the selected lesion: nothing asked
    answers = [False, True]
    asked: list[str] = []
    monkeypatch.setattr(
        contour_actions,
        "ask_new_lesion",
        lambda _parent, q: asked.append(q) or answers.pop(0),
    )
    messages: list[str] = []
    controller.error.connect(messages.append)
    _click(qtbot, window, _centre(follow_up, "F2"))  # F1 still selected, F2 not
    assert len(asked) == 1
    assert "new lesion, F3, at follow-up 1" in asked[0]
    assert "RECIST 1.1 counts a new lesion as progression" in asked[0]
    assert "(F2, not contoured at this visit)" in asked[0]
    assert [item.pk for item in panel.lesions] == [f1, f2]  # answered No: nothing added
    assert messages[-1].startswith("Not contoured: select the lesion's row")
    # Selecting F2's row contours F2 there, without a question.
    panel.select_lesion(f2)
    _click(qtbot, window, _centre(follow_up, "F2"))
    assert len(asked) == 1
    assert [item.pk for item in panel.lesions] == [f1, f2]
    # A lesion that is really new is added once the user says so.
    panel.select_lesion(f2)
    _click(qtbot, window, _centre(follow_up, "F4"))
    assert len(asked) == 2
    assert "(F2" not in asked[1]
    assert [item.name for item in panel.lesions] == ["F1", "F2", "F3"]


def test_the_brush_paints_the_selected_lesion_on_a_follow_up(qtbot, window) -> None:
    controller, panel = window.contour_controller, window.lesion_panel
    baseline = _open(qtbot, window, "baseline")
    controller.set_tool("auto")
    _click(qtbot, window, _centre(baseline, "F2"))
    f2 = controller.active_lesion_pk
    follow_up = _open(qtbot, window, "follow_up_1")
    panel.select_lesion(f2)
    controller.brush_radius_mm = 6.0
    controller.set_tool("brush")
    messages: list[str] = []
    controller.error.connect(messages.append)
    _click(qtbot, window, _centre(follow_up, "F2"))
    assert not messages
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    services = window._test_services
    case_pk = panel.lesions[0].case_pk
    masks = [m for m in services.contouring.masks_of_case(case_pk) if m.lesion.pk == f2]
    assert len(masks) == 2
    assert [item.pk for item in panel.lesions] == [f2]  # no new focus
    # Undo removes the follow-up stroke only.
    window.undo_action.trigger()
    state = controller.lesion_state(f2, max(m.segmentation.timepoint_pk for m in masks))
    assert not state.mask.any()


def test_deleting_a_lesion_takes_every_timepoint_and_undo_brings_them_back(
    qtbot, window, monkeypatch
) -> None:
    from tace_planner.ui.panels.lesion_panel import SEGMENT_COLUMN, LesionPanel

    controller, panel = window.contour_controller, window.lesion_panel
    baseline = _open(qtbot, window, "baseline")
    controller.set_tool("auto")
    _click(qtbot, window, _centre(baseline, "F1"))
    f1 = controller.active_lesion_pk
    follow_up = _open(qtbot, window, "follow_up_1")
    panel.select_lesion(f1)
    _click(qtbot, window, _centre(follow_up, "F1"))
    services = window._test_services
    case_pk = panel.lesions[0].case_pk
    timepoints = sorted(
        m.segmentation.timepoint_pk
        for m in services.contouring.masks_of_case(case_pk)
        if m.lesion.pk == f1
    )
    assert len(timepoints) == 2
    controller.set_visible(f1, False)  # a view flag the restore brings back
    # The right-click menu holds both the jump and the segment edit.
    texts = [a.text() for a in panel.context_menu(f1).actions()]
    assert "Go to lesion" in texts
    assert "Set Couinaud segment…" in texts
    jumps: list[object] = []
    panel.jump_requested.connect(jumps.append)
    panel.table.cellDoubleClicked.emit(0, SEGMENT_COLUMN)  # edits the segment: no jump
    assert jumps == []
    next(a for a in panel.context_menu(f1).actions() if a.text() == "Go to lesion").trigger()
    assert len(jumps) == 1

    asked: list[str] = []
    monkeypatch.setattr(
        LesionPanel, "confirm_delete", classmethod(lambda cls, _p, text: asked.append(text) or True)
    )
    panel.select_lesion(f1)
    panel.delete_button.click()
    assert len(asked) == 1
    assert "F1" in asked[-1]
    assert panel.lesions == []
    assert all(controller.lesion_state(f1, t) is None for t in timepoints)
    assert not [m for m in services.contouring.masks_of_case(case_pk) if m.lesion.pk == f1]

    window.undo_action.trigger()
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    assert [item.name for item in panel.lesions] == ["F1"]
    restored = panel.lesions[0].pk
    states = [controller.lesion_state(restored, t) for t in timepoints]
    assert all(state is not None and state.mask.any() for state in states)
    assert not any(state.visible for state in states)
    assert {m.segmentation.timepoint_pk for m in services.contouring.masks_of_case(case_pk)
            if m.lesion.pk == restored} == set(timepoints)  # fmt: skip
    # An undo of the follow-up contour still finds its mask under the restored lesion id.
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=20_000)
    assert not controller.lesion_state(restored, timepoints[1]).mask.any()
    assert controller.lesion_state(restored, timepoints[0]).mask.any()


def test_the_lesions_dock_follows_the_timepoint_of_the_open_series(qtbot, window) -> None:
    """Opening follow-up 1 left the dock at the baseline's values until something was
    contoured there: a radiologist reading the follow-up saw the baseline's volumes."""
    panel = window.lesion_panel
    _open(qtbot, window, "baseline")
    assert panel.timepoint_pk is None  # the baseline
    baseline_title = window.slice_view.title
    follow_up = _open(qtbot, window, "follow_up_1")
    venous = next(s["series_uid"] for s in follow_up["series"] if s["folder"] == "CT_venous")
    _, expected, _ = window._test_services.contouring.series_context(venous)
    assert expected is not None
    assert panel.timepoint_pk == expected  # nothing contoured there: the open series decides
    assert panel.timepoint_box.currentData() == expected
    # both venous series are "Abdomen portal venous 5mm": the titles say which visit
    title = window.slice_view.title
    assert title.startswith("Abdomen portal venous 5mm · follow-up 1, 20")
    assert baseline_title.startswith("Abdomen portal venous 5mm · baseline, 20")
    assert title in window.view_title.text()
    panel.timepoint_box.setCurrentIndex(0)  # the user reads the baseline's values meanwhile
    window.slice_view.show_slice(window.slice_view.slice_index + 1)  # scrolling keeps it
    assert panel.timepoint_pk is None
    _open(qtbot, window, "follow_up_2")
    assert panel.timepoint_pk not in (None, expected)


def test_contours_confirmed_in_the_follow_up_review_show_in_the_plan_workspace(
    qtbot, open_window, contoured_demo_copy
) -> None:
    """Confirmed in the Follow-up workspace, a follow-up's contours are what the Plan
    workspace shows and edits next (not the copy it read when the case was chosen)."""
    window = open_window(contoured_demo_copy)
    services = window._test_services
    case_pk = services.cases.list_cases()[0].pk
    window.select_case(case_pk)
    page = window.followup_review
    page.timepoints.setCurrentIndex(page.timepoints.findText("follow-up 1"))
    page.propose()
    qtbot.waitUntil(lambda: page.review.item is not None, timeout=60_000)
    item = page.review.item
    controller = window.contour_controller
    f1 = next(p for p in item.proposals if p.name == "F1")
    assert controller.lesion_state(f1.lesion_pk, item.follow_up.pk) is None  # not contoured yet
    page.review.confirm_button.click()
    state = controller.lesion_state(f1.lesion_pk, item.follow_up.pk)
    assert state is not None
    stored = services.contouring.load_mask(f1.lesion_pk, item.follow_up.pk)
    assert np.array_equal(state.mask, stored.mask)
    assert state.version == stored.segmentation.version
