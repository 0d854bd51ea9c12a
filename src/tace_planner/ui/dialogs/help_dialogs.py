"""Help menu dialogs: the bundled user manual and the table of keyboard and mouse shortcuts."""

from __future__ import annotations

import importlib.resources

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

MANUAL_FILE = "manual.md"

#: Keys and mouse gestures of the slice views (they are not menu actions).
VIEWER_SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Wheel, ↑ ↓ ← →", "Previous / next slice"),
    ("PgUp / PgDn", "10 slices back / on"),
    ("Home / End", "First / last slice"),
    ("Left drag", "Window (horizontal) and level (vertical), or the chosen tool"),
    ("Right drag, Ctrl + left drag", "Zoom"),
    ("Middle drag, Shift + left drag", "Pan"),
    ("Double click", "Show the view alone; again: back to the layout"),
    ("1 – 5", "Window presets (abdomen, liver, bone, lung, narrow soft tissue)"),
    ("0", "Automatic window from percentiles (MR)"),
    ("I", "Invert the grey scale"),
    ("R", "Reset zoom, pan and window"),
    ("Esc", "Cancel a drawing"),
    ("Shift + click (auto contour)", "Exclude the clicked region from the focus"),
)


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


class ShortcutsDialog(QDialog):
    """A table of the menu shortcuts and the viewer's keys and mouse gestures."""

    def __init__(self, menu_rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard shortcuts")
        rows = [("Menus", "", "")] + [("", k, t) for k, t in menu_rows]
        rows += [("Viewer", "", "")] + [("", k, t) for k, t in VIEWER_SHORTCUTS]
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
