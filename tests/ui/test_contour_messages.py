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


def _shown(window) -> str:
    """What the window shows of the last contour message: the status bar, or the note above
    the images for one too long for the status bar."""
    return window.contour_note.text() or window.statusBar().currentMessage()


def _click(qtbot, window, tool: str, point) -> None:
    controller = window.contour_controller
    controller.set_tool(tool)
    _send(window, point)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=30_000)
    controller.set_tool(None)


def test_a_click_on_plain_parenchyma_is_asked_about_first(qtbot, window, monkeypatch) -> None:
    """A misclick in healthy liver (with a liver contour) is asked about, as fat is.

    On the running app such a click drew a small "focus" with no word, and that focus
    then counted in the tumour volume; answered No, nothing is stored.
    """
    from tace_planner.ui import contour_actions

    controller = window.contour_controller
    _click(qtbot, window, "liver", LIVER_SEED_LPS)
    before = [item.name for item in window.lesion_panel.lesions]
    questions: list[str] = []
    monkeypatch.setattr(
        contour_actions, "ask_contour_anyway", lambda parent, q: questions.append(q) or False
    )
    messages: list[str] = []
    controller.error.connect(messages.append)
    _click(qtbot, window, "auto", LIVER_SEED_LPS)
    qtbot.waitUntil(lambda: bool(messages), timeout=30_000)
    assert [item.name for item in window.lesion_panel.lesions] == before
    assert len(questions) == 1
    assert "level of the liver parenchyma" in questions[0]
    assert questions[0].endswith("contour anyway?")
    assert messages[-1].startswith("Not contoured: ")


def test_a_confirmed_click_on_parenchyma_says_so_in_the_window(qtbot, window, monkeypatch) -> None:
    """Confirmed, the click is contoured and the service's warnings reach the window."""
    from tace_planner.ui import contour_actions

    controller = window.contour_controller
    _click(qtbot, window, "liver", LIVER_SEED_LPS)
    monkeypatch.setattr(contour_actions, "ask_contour_anyway", lambda parent, q: True)
    messages: list[str] = []
    controller.error.connect(messages.append)
    _click(qtbot, window, "auto", LIVER_SEED_LPS)
    qtbot.waitUntil(lambda: not window.lesion_panel.lesions[-1].is_liver, timeout=30_000)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=30_000)
    focus = window.lesion_panel.lesions[-1]
    masks = window._test_services.contouring.masks_of_case(focus.case_pk)
    stored = next(m for m in masks if m.lesion.pk == focus.pk)
    series_uid = window.viewer.active_view.series_key[0]
    service = window._test_services.contouring.auto_contour(
        focus.case_pk, series_uid, LIVER_SEED_LPS, focus.name, confirmed=True
    )
    assert service.warnings, "the service gives no warning for this click any more"
    assert stored.mask.any()
    assert messages, "the window said nothing about the click"
    for warning in service.warnings:
        assert warning in messages[-1]
    assert _shown(window) == messages[-1]


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


def test_what_the_liver_tool_left_out_is_said_in_the_window(qtbot, window, monkeypatch) -> None:
    """The liver tool's notes (the IVC left out of its groove) reach the status bar."""
    import dataclasses

    service = window.contour_controller._contouring
    original = service.contour_liver_task
    note = "The inferior vena cava running through the liver's groove was left out (16 cm³)"

    def with_note(*args, **kwargs):
        result = yield from original(*args, **kwargs)
        return dataclasses.replace(result, notes=(note,))

    monkeypatch.setattr(service, "contour_liver_task", with_note)
    messages: list[str] = []
    window.contour_controller.error.connect(messages.append)
    _click(qtbot, window, "liver", LIVER_SEED_LPS)
    qtbot.waitUntil(lambda: bool(messages), timeout=30_000)
    assert note in messages[-1]
    assert note in _shown(window)


def test_a_long_message_is_shown_whole_above_the_images_until_the_next_gesture(
    qtbot, window
) -> None:
    """The faint-edge advice measured 1377 px in the status bar's font: beside the status
    bar's permanent widgets it was cut at the right, where the advice is, at 1400-1600 px."""
    window.resize(1400, 860)
    qtbot.wait(50)
    bar, note = window.statusBar(), window.contour_note
    long = (
        "Faint edge (82 HU against 105 ± 13 HU around it): the contour may miss part of the "
        "focus or take in tissue around it; check it all round and correct it with include or "
        "exclude clicks, or move the whole contour out or in by a margin."
    )
    assert bar.fontMetrics().horizontalAdvance(long) > bar.width() - window.database_label.width()
    view = window.viewer.active_view
    before = (view.mapTo(window, view.rect().topLeft()), view.size())
    window.contour_controller.error.emit(long)
    qtbot.wait(20)
    assert note.text() == long  # whole, wrapped over the top of the images
    assert note.isVisible()
    assert note.label.wordWrap()
    assert note.width() <= window.viewer.width()
    assert note.height() >= 2 * note.fontMetrics().lineSpacing()  # wrapped, not cut to a line
    # floating over the views: they keep their place and size (the image stays still)
    assert (view.mapTo(window, view.rect().topLeft()), view.size()) == before
    assert bar.currentMessage() == ""  # not a cut copy in the status bar
    window.contour_controller.busy_changed.emit(True)  # the next gesture starts
    assert note.text() == ""
    assert not note.isVisible()
    window.contour_controller.busy_changed.emit(False)
    window.contour_controller.error.emit(long)
    note.close_button.click()
    assert note.text() == ""
    window.contour_controller.error.emit(long.replace("± 13 HU", "< 13 HU <b>"))
    assert "<b>" in note.label.text()  # plain text: shown as written, never as markup
    assert note.label.textFormat() == Qt.TextFormat.PlainText
    window.contour_controller.error.emit("Select a lesion first.")  # short: the status bar
    assert bar.currentMessage() == "Select a lesion first."
    assert note.text() == ""
