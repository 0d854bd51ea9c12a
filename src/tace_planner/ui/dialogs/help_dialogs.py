"""Help menu dialogs: the bundled user manual and the table of keyboard and mouse shortcuts."""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the viewer (pyqtgraph) is imported when a window shows it (issue 17)
    from tace_planner.ui.viewer.window_presets import WindowPreset

MANUAL_FILE = "manual.md"

#: Keys and mouse gestures of the slice views (they are not menu actions): what
#: ui/viewer/gestures.py binds. The number keys come from :func:`preset_key_rows`.
VIEWER_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Wheel, ↑ ↓ ← →", "Previous / next slice"),
    ("PgUp / PgDn", "10 slices back / on"),
    ("Home / End", "First / last slice"),
    (
        "Left drag",
        "Window (horizontal) and level (vertical), or the chosen tool "
        "(ruler, ellipse, angle, cursor)",
    ),
    ("Right drag, Ctrl + left drag", "Zoom"),
    ("Middle drag, Shift + left drag", "Pan"),
    ("Click (Cursor tool)", "Move the 3D cursor; linked views follow"),
    ("Double click", "Show the view alone; again: back to the layout"),
    ("Drag a series from the study tree", "Show it in the view where it is dropped"),
    ("I", "Invert the grey scale"),
    ("R", "Reset zoom, pan and window"),
    ("Esc", "Cancel the measurement being drawn"),
)

#: Clicks and drags of the contour tools, named as in the Contour menu: what
#: ui/contour_tools.py binds. With any tool, Shift + left drag still pans and
#: Ctrl + left drag still zooms (a click is not a drag).
CONTOUR_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Click (Auto contour)", "Contour the clicked focus in 3D"),
    ("Ctrl + click (Auto contour)", "Add the clicked tissue to the selected focus"),
    ("Shift + click (Auto contour)", "Exclude the clicked tissue from the selected focus"),
    ("Click (Liver from click)", "Contour the liver"),
    ("Ctrl + click (Liver from click)", "Add the clicked tissue to the liver"),
    ("Shift + click (Liver from click)", "Exclude the clicked tissue from the liver"),
    (
        "Click (2D auto contour on this slice)",
        "Add the focus's contour on this slice to the lesion",
    ),
    ("Left drag (Brush, Eraser)", "Paint into / erase from the selected lesion"),
    ("Left drag (Threshold paint)", "Paint only voxels within the HU range of the tool bar"),
    ("Left drag (Polygon fill)", "Draw an outline; its inside is filled on this slice"),
)

#: Keys of lists and forms outside the viewer.
PANEL_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Delete, Backspace (Measurements list)", "Delete the selected measurement"),
    ("Ctrl+S (Procedure form)", "Save the procedure record"),
)


def preset_key_rows(presets: Sequence[WindowPreset] | None = None) -> list[tuple[str, str]]:
    """The number keys of the window presets: 1 to the number of presets, and 0.

    Keys beyond the last preset do nothing (``SliceView.apply_preset_key``), so the
    row names only the keys that act; default: the shipped presets.
    """
    from tace_planner.ui.viewer.window_presets import default_presets

    shown = tuple(default_presets() if presets is None else presets)[:9]  # one digit a key
    names = ", ".join(_in_a_sentence(p.name) for p in shown)
    rows = [("0", "Automatic window from percentiles (MR)")]
    if shown:
        keys = "1" if len(shown) == 1 else f"1 – {len(shown)}"
        rows.insert(0, (keys, f"Window presets ({names})"))
    return rows


def manual_text() -> str:
    """The bundled user manual (Markdown)."""
    resource = importlib.resources.files("tace_planner.resources") / "help" / MANUAL_FILE
    return resource.read_text(encoding="utf-8")


class ManualDialog(QDialog):
    """Shows the user manual in a text browser (modeless; links open in the system browser)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("manual_dialog")
        self.setWindowTitle("TACE Planner — user manual")
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        try:
            self.browser.setMarkdown(manual_text())
        except OSError as error:
            self.browser.setPlainText(f"The user manual cannot be read: {error}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 720)


def menu_shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what) of every action of ``window`` that has a shortcut, in menu order."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString()
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and text and (keys, text) not in seen and keys not in seen:
            seen.add(keys)
            rows.append((keys, text))
    return rows


def _in_a_sentence(name: str) -> str:
    """ "Liver" → "liver" inside a list; "MR soft tissue" keeps its capitals."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _section(title: str, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str, str]]:
    return [(title, "", "")] + [("", k, t) for k, t in keys]


class ShortcutsDialog(QDialog):
    """A table of the menu shortcuts, the viewer's keys and mouse gestures, the contour
    tools' clicks and the keys of lists and forms."""

    def __init__(
        self,
        menu_rows: list[tuple[str, str]],
        parent: QWidget | None = None,
        presets: Sequence[WindowPreset] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard shortcuts")
        sections = (
            ("Menus", menu_rows),
            ("Viewer", [*VIEWER_SHORTCUTS, *preset_key_rows(presets)]),
            ("Contour tools", CONTOUR_SHORTCUTS),
            ("Lists and forms", PANEL_SHORTCUTS),
        )
        rows = [row for title, keys in sections for row in _section(title, keys)]
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys / mouse", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for row, (section, keys, text) in enumerate(rows):
            if section:
                item = QTableWidgetItem(section)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                self.table.setItem(row, 0, item)
                self.table.setSpan(row, 0, 1, 2)
                continue
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(620, 560)

    def rows(self) -> list[tuple[str, str]]:
        """(keys, does) of every row but the section titles (for tests)."""
        found = []
        for row in range(self.table.rowCount()):
            keys, text = self.table.item(row, 0), self.table.item(row, 1)
            if keys is not None and text is not None:
                found.append((keys.text(), text.text()))
        return found
