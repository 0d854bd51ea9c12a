"""Window/level presets: the shipped defaults (resources/parameters/window_presets.json) and edits.

The defaults are versioned with their sources; a user's edits are a display
preference, kept in ``QSettings`` (the only place the UI keeps preferences).
Number keys 1–9 pick the presets in list order; 0 picks the automatic
percentile window (for MR, which has no Hounsfield scale).
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import asdict, dataclass
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

PRESETS_FILE = "window_presets.json"
SETTINGS_KEY = "viewer/window_presets"


@dataclass(frozen=True, slots=True)
class WindowPreset:
    """A named display window in HU (width > 0; level = centre of the range)."""

    key: str
    name: str
    width_hu: float
    level_hu: float
    source: str = ""

    def __post_init__(self) -> None:
        if not self.width_hu > 0:
            raise ValueError(f"preset {self.name!r}: window width must be positive")

    @property
    def label(self) -> str:
        """Name and window, e.g. "Liver 150/90"."""
        return f"{self.name} {self.width_hu:g}/{self.level_hu:g}"


def _presets_from_json(records: list[dict[str, Any]]) -> tuple[WindowPreset, ...]:
    return tuple(
        WindowPreset(
            key=str(r["key"]),
            name=str(r["name"]),
            width_hu=float(r["width_hu"]),
            level_hu=float(r["level_hu"]),
            source=str(r.get("source", "")),
        )
        for r in records
    )


def default_presets() -> tuple[WindowPreset, ...]:
    """The presets shipped with the app, in key order."""
    resource = importlib.resources.files("tace_planner.resources") / "parameters" / PRESETS_FILE
    data = json.loads(resource.read_text(encoding="utf-8"))
    return _presets_from_json(data["presets"])


def presets_version() -> str:
    """The version of the shipped presets file."""
    resource = importlib.resources.files("tace_planner.resources") / "parameters" / PRESETS_FILE
    return str(json.loads(resource.read_text(encoding="utf-8"))["version"])


class WindowPresetStore:
    """The presets in use: the user's edits if any, else the shipped defaults.

    Parameters
    ----------
    settings : QSettings, optional
        Where edits are kept; None keeps them for this session only (tests).
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings
        self._presets = self._load()

    def _load(self) -> tuple[WindowPreset, ...]:
        if self._settings is not None:
            saved = self._settings.value(SETTINGS_KEY, "")
            if saved:
                try:
                    return _presets_from_json(json.loads(str(saved)))
                except (ValueError, KeyError, TypeError):
                    pass  # a damaged preference falls back to the shipped presets
        return default_presets()

    @property
    def presets(self) -> tuple[WindowPreset, ...]:
        """The presets, number key 1 first."""
        return self._presets

    def preset_for_key(self, number: int) -> WindowPreset | None:
        """The preset of number key ``number`` (1-based), or None."""
        return self._presets[number - 1] if 1 <= number <= len(self._presets) else None

    def save(self, presets: list[WindowPreset] | tuple[WindowPreset, ...]) -> None:
        """Keep edited presets (for the next start too, when settings are given)."""
        self._presets = tuple(presets)
        if self._settings is not None:
            self._settings.setValue(SETTINGS_KEY, json.dumps([asdict(p) for p in presets]))

    def reset(self) -> None:
        """Back to the shipped presets."""
        self._presets = default_presets()
        if self._settings is not None:
            self._settings.remove(SETTINGS_KEY)


class WindowPresetDialog(QDialog):
    """Edits the name, width and level of each preset; tests patch :meth:`ask`."""

    def __init__(self, presets: tuple[WindowPreset, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Window presets")
        self._keys = [p.key for p in presets]
        self._sources = [p.source for p in presets]
        self.table = QTableWidget(len(presets), 3, self)
        self.table.setHorizontalHeaderLabels(["Name", "Width (HU)", "Level (HU)"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._fill(presets)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet("color: #a31515;")
        defaults = QPushButton("Restore defaults")
        defaults.clicked.connect(self._on_defaults_clicked)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._on_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Number keys 1–9 pick these presets; 0 the automatic window."))
        layout.addWidget(self.table)
        layout.addWidget(self.error_label)
        layout.addWidget(defaults)
        layout.addWidget(buttons)
        self.result_presets: list[WindowPreset] | None = None

    def _fill(self, presets: tuple[WindowPreset, ...]) -> None:
        self.table.setRowCount(len(presets))
        for row, preset in enumerate(presets):
            name = QTableWidgetItem(preset.name)
            name.setToolTip(preset.source)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(f"{preset.width_hu:g}"))
            self.table.setItem(row, 2, QTableWidgetItem(f"{preset.level_hu:g}"))

    def presets(self) -> list[WindowPreset]:
        """The edited presets.

        Raises
        ------
        ValueError
            A width or level is not a number, or a width is not positive.
        """
        edited = []
        for row in range(self.table.rowCount()):
            name = self.table.item(row, 0).text().strip() or f"Preset {row + 1}"
            try:
                width = float(self.table.item(row, 1).text().replace(",", "."))
                level = float(self.table.item(row, 2).text().replace(",", "."))
            except ValueError:
                raise ValueError(f"row {row + 1}: width and level must be numbers") from None
            key = self._keys[row] if row < len(self._keys) else f"user_{row + 1}"
            source = self._sources[row] if row < len(self._sources) else "user"
            edited.append(WindowPreset(key, name, width, level, f"edited by the user; {source}"))
        return edited

    def _on_defaults_clicked(self) -> None:
        presets = default_presets()
        self._keys = [p.key for p in presets]
        self._sources = [p.source for p in presets]
        self._fill(presets)

    def _on_accepted(self) -> None:
        try:
            self.result_presets = self.presets()
        except ValueError as error:
            self.error_label.setText(str(error))
            return
        self.accept()

    @classmethod
    def ask(
        cls, presets: tuple[WindowPreset, ...], parent: QWidget | None = None
    ) -> list[WindowPreset] | None:
        """Show the dialog; the edited presets, or None when cancelled."""
        dialog = cls(presets, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.result_presets
