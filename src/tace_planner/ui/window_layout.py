"""The main window's layout between starts: geometry, docks and tool bars, workspace (QSettings).

A display preference, so it lives in ``QSettings`` beside the settings file
(``window.ini``), never in the database or the services. A damaged or
foreign entry is ignored: the window then opens maximised with its default docks.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

#: Bumped when the docks or tool bars change so that an old saved state is not applied.
STATE_VERSION = 3
_GEOMETRY = "window/geometry"
_STATE = "window/state"
_WORKSPACE = "window/workspace"


class WindowLayoutStore:
    """Saves and restores one main window's layout.

    Parameters
    ----------
    settings : QSettings, optional
        Where the layout is kept; None keeps nothing (tests, a read-only profile).
    """

    def __init__(self, settings: QSettings | None) -> None:
        self._settings = settings

    def save(self, window: QMainWindow, workspace: str) -> None:
        """Remember the window's geometry, its docks and tool bars and the workspace."""
        if self._settings is None:
            return
        self._settings.setValue(_GEOMETRY, window.saveGeometry())
        self._settings.setValue(_STATE, window.saveState(STATE_VERSION))
        self._settings.setValue(_WORKSPACE, workspace)
        self._settings.sync()

    def workspace(self) -> str:
        """The workspace shown at the last close ("" when none was saved)."""
        if self._settings is None:
            return ""
        return str(self._settings.value(_WORKSPACE, "") or "")

    def restore_geometry(self, window: QMainWindow) -> bool:
        """Apply the saved geometry; False when there is none (open maximised then)."""
        value = self._value(_GEOMETRY)
        return value is not None and bool(window.restoreGeometry(value))

    def restore_state(self, window: QMainWindow) -> bool:
        """Apply the saved docks and tool bars; False when none fits this version."""
        value = self._value(_STATE)
        return value is not None and bool(window.restoreState(value, STATE_VERSION))

    def _value(self, key: str) -> QByteArray | None:
        if self._settings is None:
            return None
        value = self._settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None
