"""Text a clinician reads: the protocol tooltip, the audit-user note, the shortcut list.

A reviewer found the protocol tooltip reading "not_evaluated: …" and naming series by
UID, the Settings dialog giving a command line, Help → Shortcuts without the
Ctrl-click that adds tissue to a contour, and the preset box promising keys 1–9 when
only 1–5 and 0 act. The shortcut tests compare the lists with what the view and the
contour tools actually do with each key and click.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

from tace_planner.ui.viewer.interaction import PointerEvent

UID = re.compile(r"\d+(\.\d+){4,}")
ARROWS = {"↑": "Up", "↓": "Down", "←": "Left", "→": "Right"}
NAMED = {**ARROWS, "PgUp": "PageUp", "PgDn": "PageDown", "Esc": "Escape"}
MOUSE_WORDS = ("drag", "Drag", "click", "Click", "(")


# --------------------------------------------------------------------------- protocol


@pytest.mark.db
@pytest.mark.dicom
def test_protocol_tooltip_says_the_status_in_words_and_names_series_without_uids(
    case_window: Any,
) -> None:
    tip = case_window.protocol_label.toolTip()
    lines = tip.splitlines()
    assert len(lines) == 19, tip  # one line per requirement
    for line in lines:
        assert line.split(":")[0] in ("Failed", "Not checked", "Passed"), line
        assert not UID.search(line), line
    for code in ("not_evaluated", "pass:", "fail:"):
        assert code not in tip
    # the small demo phantom has 5 mm CT slices: those failures come first
    assert lines[0].startswith("Failed: CT native phase: slices ≤ 2.5 mm thick"), lines[0]
    assert re.search(r"'[^']+' \(series \d+, arterial\)", tip), tip
    assert "(study date)" in tip


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize("source", ["os", "argument", "environment"])
def test_the_audit_user_note_says_what_a_person_does_not_a_command(
    qtbot: Any, tmp_path: Path, source: str
) -> None:
    from tace_planner.services import settings
    from tace_planner.ui.dialogs.settings_dialog import SettingsDialog

    how = {
        "os": settings.USER_FROM_OS,
        "argument": settings.USER_FROM_ARGUMENT,
        "environment": settings.USER_FROM_ENV,
    }[source]
    dialog = SettingsDialog(settings.AppSettings(tmp_path, None, "Dr A. Smith", how))
    qtbot.addWidget(dialog)
    note = dialog.user_note.text()
    for command in ("--user", "tace-planner", "TACE_PLANNER_USER", "command line"):
        assert command not in note
    assert "cannot be changed here" in note
    assert "log in to the computer as that person" in note
    if source == "os":
        assert note.startswith("Set from your login to this computer.")
    else:
        assert note.startswith("Set when TACE Planner was started")
        assert "administrator" in note


# --------------------------------------------------------------------------- shortcuts


def _help_keys(rows: list[tuple[str, str]]) -> set[int]:
    """The keyboard keys the help names for the views (rows of mouse gestures skipped)."""
    keys: set[int] = set()
    for text, _ in rows:
        if any(word in text for word in MOUSE_WORDS) or "+" in text:
            continue
        if (span := re.fullmatch(r"(\d) – (\d)", text)) is not None:
            first, last = int(span[1]), int(span[2])
            keys |= {int(Qt.Key.Key_0) + n for n in range(first, last + 1)}
            continue
        for token in re.split(r"[ ,/]+", text):
            if token == "Wheel":  # the mouse wheel shares the row of the arrow keys
                continue
            keys.add(int(getattr(Qt.Key, f"Key_{NAMED.get(token, token)}")))
    return keys


def _section_rows(dialog: Any, title: str) -> list[tuple[str, str]]:
    """(keys, does) of one section of the shortcuts table."""
    table, rows, current = dialog.table, [], ""
    for row in range(table.rowCount()):
        keys, does = table.item(row, 0), table.item(row, 1)
        if does is None:
            current = keys.text()
        elif current == title:
            rows.append((keys.text(), does.text()))
    assert rows, f"no section {title!r}"
    return rows


def _candidate_keys() -> list[Qt.Key]:
    names = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [str(n) for n in range(10)]
    names += [*NAMED.values(), "Home", "End", "Delete", "Backspace", "Space", "Plus", "Minus"]
    names += ["Return", "Tab", "Insert", *(f"F{n}" for n in range(1, 13))]
    return [getattr(Qt.Key, f"Key_{name}") for name in names]


@pytest.mark.db
@pytest.mark.dicom
def test_help_and_preset_box_name_exactly_the_keys_the_view_acts_on(window: Any) -> None:
    view = window.viewer.active_view
    acted = set()
    for key in _candidate_keys():
        event = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)
        if view.eventFilter(view.graphics.viewport(), event):
            acted.add(int(key))
    dialog = window.show_shortcuts()
    try:
        rows = _section_rows(dialog, "Viewer")
    finally:
        dialog.close()
    assert _help_keys(rows) == acted
    digits = {key - int(Qt.Key.Key_0) for key in acted if Qt.Key.Key_0 <= key <= Qt.Key.Key_9}
    count = len(window.viewer.presets.presets)
    assert digits == set(range(count + 1))  # 1 to the number of presets, and 0
    tip = window.viewer_toolbar.preset_box.toolTip()
    named = re.search(r"keys 1–(\d)", tip)
    assert named is not None, tip
    assert set(range(1, int(named[1]) + 1)) | {0} == digits
    assert "0 = automatic" in tip


def _click(window: Any, modifiers: Qt.KeyboardModifier) -> None:
    view = window.viewer.active_view
    centre = np.array(view.volume.voxels.shape) // 2
    point = (view.volume.index_to_lps @ np.append(centre, 1.0))[:3]
    voxel = tuple(int(v) for v in centre)
    window.viewer.pointer_event.emit(view, PointerEvent("click", point, voxel, voxel[0], modifiers))


@pytest.mark.db
@pytest.mark.dicom
def test_help_names_every_click_of_the_contour_tools_as_they_act(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = window.contour_controller
    calls: list[str] = []
    monkeypatch.setattr(
        controller,
        "auto_contour_at",
        lambda view, point, *, exclude=False, refine=False: calls.append(
            "Exclude" if exclude else "Add" if refine else "Contour"
        ),
    )
    monkeypatch.setattr(
        controller,
        "refine_liver_at",
        lambda view, voxel, *, include: calls.append("Add" if include else "Exclude"),
    )
    monkeypatch.setattr(controller, "liver_at", lambda view, point: calls.append("Contour"))
    rows = dict(window.show_shortcuts().rows())
    menu = {t: a.text().replace("&", "") for t, a in window.contour_tool_actions.items()}
    modifiers = {
        "": Qt.KeyboardModifier.NoModifier,
        "Ctrl + ": Qt.KeyboardModifier.ControlModifier,
        "Shift + ": Qt.KeyboardModifier.ShiftModifier,
    }
    for tool in ("auto", "liver"):
        controller.set_tool(tool)
        for prefix, modifier in modifiers.items():
            calls.clear()
            _click(window, modifier)
            assert len(calls) == 1, (tool, prefix, calls)
            keys = f"{prefix}{'click' if prefix else 'Click'} ({menu[tool]})"
            assert keys in rows, (keys, sorted(rows))
            assert rows[keys].startswith(calls[0]), (keys, rows[keys], calls[0])
    # every tool the help names in brackets is a tool of the Contour menu (or the viewer's)
    named = {m for keys in rows for m in re.findall(r"\(([^)]+)\)", keys)}
    tools = {part.strip() for name in named for part in name.split(",")}
    known = set(menu.values()) | {"Cursor tool", "Measurements list", "Procedure form"}
    assert tools <= known, tools - known
