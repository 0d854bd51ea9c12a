"""The main window's layout between starts: geometry, docks and tool bars, workspace (QSettings).

A display preference, so it lives in ``QSettings`` beside the settings file
(``window.ini``), never in the database or the services. A damaged or
foreign entry is ignored: the window then opens maximised with its default docks.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

#: Bumped when the docks or tool bars change so that an old saved state is not applied.
#: 4: a first start gives the images the larger share (the plan dock had 54–67 %).
STATE_VERSION = 4
#: Older versions whose arrangement is still restored, its docks' widths fitted once.
REFITTED_VERSIONS = (3,)
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
        """Apply the saved docks and tool bars; False when their widths are to be fitted.

        A layout of :data:`STATE_VERSION` is applied as it is. One of
        :data:`REFITTED_VERSIONS`, saved before a first start gave the images the larger
        share (the plan dock at 54–67 % of the window), keeps its arrangement (tool
        bars, tabs, floating docks) but answers False, so that the window fits the
        docks' widths once, as on a first start; the next close saves it in this
        version. None saved, or another version: False, and nothing is applied.
        """
        value = self._value(_STATE)
        if value is None:
            return False
        if window.restoreState(value, STATE_VERSION):
            return True
        for version in REFITTED_VERSIONS:
            if window.restoreState(value, version):
                return False
        return False

    def _value(self, key: str) -> QByteArray | None:
        if self._settings is None:
            return None
        value = self._settings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None
