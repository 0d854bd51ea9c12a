"""Follow-up schedule parameters: a form of ``followup.json`` with units, ranges and sources.

One column per preset (study protocol, society guidance, 1-3-6-9-12 months), one row per
field: the first imaging in weeks (or the list of months), the repeat interval, the window
before and after the due date, the expected modality, and the source. Below, the default
preset and how far ahead schedules are laid out. A value outside its range
(:mod:`tace_planner.domain.followup_ranges`) is shown in red and refused on save with a
message naming the parameter. Every save that changes something is a new version (the
service assigns it); schedules laid out afterwards use it, schedules already laid out keep
the values they were made with. Closing with unsaved edits asks Save / Discard / Cancel.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.followup_ranges import FILE_SPECS, PRESET_SPECS, followup_problems
from tace_planner.domain.schedule import PRESET_PREFIX
from tace_planner.ui.dialogs.versioned_file_dialog import VersionedFileDialog, mark_invalid
from tace_planner.ui.errors import message_for

Editor = QLineEdit | QComboBox


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


class FollowupScheduleForm(QWidget):
    """The presets side by side, then the values of the whole file.

    Editors are keyed ``<preset>.<field>`` (``protocol.first_weeks``) and by the file
    value's name (``horizon_months``, ``default_preset``).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data: dict[str, Any] = {}
        self._presets: list[str] = []
        self.editors: dict[str, Editor] = {}
        self.label_edits: dict[str, QLineEdit] = {}
        self.source_edits: dict[str, QLineEdit] = {}
        self.range_labels: dict[str, QLabel] = {}
        self.presets_box = QGroupBox("Schedule presets (chosen per case)")
        self.presets_grid = QGridLayout(self.presets_box)
        self.file_box = QGroupBox("Every schedule")
        self.file_grid = QGridLayout(self.file_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.presets_box)
        layout.addWidget(self.file_box)
        layout.addStretch(1)

    # -- building ------------------------------------------------------------------

    def _clear(self) -> None:
        for grid in (self.presets_grid, self.file_grid):
            while grid.count():
                item = grid.takeAt(0)
                widget = item.widget()
                if widget is not None:
                    widget.deleteLater()
        self.editors.clear()
        self.label_edits.clear()
        self.source_edits.clear()
        self.range_labels.clear()

    def _line(self, key: str, *, width: int | None = 110) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"value:{key}")
        if width is not None:
            edit.setMaximumWidth(width)
        edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.textChanged.connect(self.check)
        self.editors[key] = edit
        return edit

    def _build(self, presets: list[str]) -> None:
        self._clear()
        self._presets = presets
        grid = self.presets_grid
        for column, title in enumerate(("Parameter", "Unit", "Allowed")):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
        grid.addWidget(QLabel("Name"), 1, 0)
        for offset, key in enumerate(presets):
            header = QLabel(f"<b>{key}</b>")
            header.setToolTip(f"tace-planner followup preset --case ID --preset {key}")
            grid.addWidget(header, 0, 3 + offset)
            grid.setColumnStretch(3 + offset, 1)
            edit = QLineEdit()
            edit.setObjectName(f"label:{key}")
            edit.setMinimumWidth(220)
            self.label_edits[key] = edit
            grid.addWidget(edit, 1, 3 + offset)
        for row, spec in enumerate(PRESET_SPECS, start=2):
            label = QLabel(spec.label)
            label.setToolTip(spec.reason)
            grid.addWidget(label, row, 0)
            grid.addWidget(QLabel(spec.unit), row, 1)
            allowed = QLabel(
                "e.g. 1, 3, 6, 9, 12 (each 1–60)" if spec.name == "months" else spec.range_text()
            )
            allowed.setToolTip(f"Why: {spec.reason}")
            self.range_labels[spec.name] = allowed
            grid.addWidget(allowed, row, 2)
            for offset, key in enumerate(presets):
                name = f"{key}.{spec.name}"
                if spec.kind == "choice":
                    combo = QComboBox()
                    combo.setObjectName(f"value:{name}")
                    for value, text in spec.choices:
                        combo.addItem(text, value)
                    combo.currentIndexChanged.connect(self.check)
                    self.editors[name] = combo
                    grid.addWidget(combo, row, 3 + offset)
                else:
                    edit = self._line(name, width=None)
                    if spec.name in ("first_weeks", "months"):
                        edit.setPlaceholderText("none")
                    grid.addWidget(edit, row, 3 + offset)
        source_row = 2 + len(PRESET_SPECS)
        grid.addWidget(QLabel("Source"), source_row, 0)
        for offset, key in enumerate(presets):
            source = QLineEdit()
            source.setObjectName(f"source:{key}")
            source.setMinimumWidth(220)
            self.source_edits[f"{PRESET_PREFIX}{key}"] = source
            grid.addWidget(source, source_row, 3 + offset)

        grid = self.file_grid
        for column, title in enumerate(("Parameter", "Value", "Unit", "Allowed", "Source")):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
        grid.addWidget(QLabel("Default preset of a new case"), 1, 0)
        default = QComboBox()
        default.setObjectName("value:default_preset")
        default.currentIndexChanged.connect(self.check)
        self.editors["default_preset"] = default
        grid.addWidget(default, 1, 1)
        grid.addWidget(QLabel("a preset above"), 1, 3)
        for row, spec in enumerate(FILE_SPECS, start=2):
            label = QLabel(spec.label)
            label.setToolTip(spec.reason)
            grid.addWidget(label, row, 0)
            grid.addWidget(self._line(spec.name), row, 1)
            grid.addWidget(QLabel(spec.unit), row, 2)
            allowed = QLabel(spec.range_text())
            allowed.setToolTip(f"Why: {spec.reason}")
            self.range_labels[spec.name] = allowed
            grid.addWidget(allowed, row, 3)
        for row, name in enumerate(("default_preset", *(s.name for s in FILE_SPECS)), start=1):
            source = QLineEdit()
            source.setObjectName(f"source:{name}")
            source.setMinimumWidth(320)
            self.source_edits[name] = source
            grid.addWidget(source, row, 4)
        grid.setColumnStretch(4, 1)

    # -- content -----------------------------------------------------------------

    def load(self, data: dict[str, Any]) -> None:
        """Show the content of a ``followup.json``."""
        self._data = json.loads(json.dumps(data))
        values = self._data.get("values", {})
        presets = [n.removeprefix(PRESET_PREFIX) for n in values if n.startswith(PRESET_PREFIX)]
        self._build(presets)
        for key in presets:
            preset = values[f"{PRESET_PREFIX}{key}"].get("value") or {}
            self.label_edits[key].setText(str(preset.get("label", key)))
            self.label_edits[key].setCursorPosition(0)
            for spec in PRESET_SPECS:
                editor = self.editors[f"{key}.{spec.name}"]
                if isinstance(editor, QComboBox):
                    editor.setCurrentIndex(max(0, editor.findData(preset.get(spec.name))))
                else:
                    editor.setText(_text(preset.get(spec.name)))
        default = self.editors["default_preset"]
        assert isinstance(default, QComboBox)
        for key in presets:
            default.addItem(self.label_edits[key].text(), key)
        default.setCurrentIndex(
            max(0, default.findData(values.get("default_preset", {}).get("value")))
        )
        for spec in FILE_SPECS:
            edit = self.editors[spec.name]
            assert isinstance(edit, QLineEdit)
            edit.setText(_text(values.get(spec.name, {}).get("value")))
        for name, source in self.source_edits.items():
            source.setText(str(values.get(name, {}).get("source", "")))
            source.setToolTip(source.text())
            source.setCursorPosition(0)
        for edit in self.source_edits.values():
            edit.textChanged.connect(self.check)
        for edit in self.label_edits.values():
            edit.textChanged.connect(self.check)
        self.check()

    def _integer(self, key: str, label: str, unreadable: list[tuple[str, str]]) -> Any:
        editor = self.editors[key]
        assert isinstance(editor, QLineEdit)
        text = editor.text().strip()
        if not text:
            return None
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            unreadable.append((key, f"{label}: {text!r} is not a number"))
            return None
        return int(number) if number.is_integer() else number

    def values(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The plain values entered (file value name → value), and what cannot be read."""
        unreadable: list[tuple[str, str]] = []
        out: dict[str, Any] = {}
        for key in self._presets:
            name = self.label_edits[key].text().strip() or key
            preset: dict[str, Any] = {"label": name}
            for spec in PRESET_SPECS:
                field = f"{key}.{spec.name}"
                editor = self.editors[field]
                if isinstance(editor, QComboBox):
                    preset[spec.name] = editor.currentData()
                elif spec.name == "months":
                    parts = [p.strip() for p in editor.text().replace(";", ",").split(",")]
                    months = []
                    for part in filter(None, parts):
                        if not part.isdigit():
                            unreadable.append(
                                (field, f"{name}: {spec.label}: {part!r} is not a whole number")
                            )
                            break
                        months.append(int(part))
                    preset["months"] = months
                else:
                    preset[spec.name] = self._integer(field, f"{name}: {spec.label}", unreadable)
                    missing = preset[spec.name] is None and spec.name != "first_weeks"
                    if missing and not any(k == field for k, _ in unreadable):
                        unreadable.append((field, f"{name}: {spec.label}: enter a value"))
            out[f"{PRESET_PREFIX}{key}"] = preset
        default = self.editors["default_preset"]
        assert isinstance(default, QComboBox)
        out["default_preset"] = default.currentData()
        for spec in FILE_SPECS:
            value = self._integer(spec.name, spec.label, unreadable)
            if value is None and not any(k == spec.name for k, _ in unreadable):
                unreadable.append((spec.name, f"{spec.label}: enter a value"))
            out[spec.name] = value
        return out, unreadable

    def problems(self) -> list[tuple[str, str]]:
        """Every reason the form cannot be saved, as (editor key, message for people)."""
        values, unreadable = self.values()
        bad = {key for key, _ in unreadable}
        checked = followup_problems(values)
        return unreadable + [(k, m) for k, m in checked if k not in bad]

    def check(self) -> list[tuple[str, str]]:
        """Colour every value that cannot be saved red; return the problems."""
        problems = self.problems()
        mark_invalid(self.editors, problems)
        return problems

    def is_invalid(self, key: str) -> bool:
        """True when the value of ``key`` (``protocol.first_weeks``, …) is shown in red."""
        return bool(self.editors[key].property("invalid"))

    def to_data(self) -> dict[str, Any]:
        """The file content with the values and sources entered."""
        data = json.loads(json.dumps(self._data))
        values, _ = self.values()
        entries = data.setdefault("values", {})
        for name, value in values.items():
            entry = dict(entries.get(name, {}))
            if name.startswith(PRESET_PREFIX):
                value = {**(entry.get("value") or {}), **value}
            entry["value"] = value
            if name in self.source_edits:
                entry["source"] = self.source_edits[name].text().strip()
            entries[name] = entry
        return data


class FollowupParametersDialog(VersionedFileDialog):
    """The follow-up schedule parameters as a form; saves a new version through the service.

    Parameters
    ----------
    followups : FollowupService
        Gives the file in use (``parameter_file_text``) and saves (``save_parameters``).
    """

    def __init__(self, followups: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Follow-up schedule parameters")
        self.resize(1180, 560)
        self._followups = followups
        self.origin_label = QLabel()
        self.origin_label.setObjectName("origin_label")
        self.origin_label.setWordWrap(True)
        self.form = FollowupScheduleForm()
        buttons = self._status_and_buttons()
        layout = QVBoxLayout(self)
        layout.addWidget(self.origin_label)
        layout.addWidget(self.form, stretch=1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self._load()

    def _unsaved_title(self) -> str:
        return "Follow-up schedule parameters"

    def _load(self) -> None:
        origin, text = self._followups.parameter_file_text()
        data = json.loads(text)
        self._loaded_version = str(data.get("version", "0"))  # a save since then is refused
        where = "packaged with the app" if origin.startswith("packaged") else origin
        self.origin_label.setText(
            f"In use: follow-up schedule version {data.get('version', '?')} ({where}). Every "
            "save that changes a value makes a new version: schedules laid out afterwards use "
            "it, schedules already laid out keep the values they were made with. Dates: weeks "
            "are exact, months are calendar months (the month's last day when shorter)."
        )
        self.form.load(data)
        self._watch(
            (
                *self.form.editors.values(),
                *self.form.source_edits.values(),
                *self.form.label_edits.values(),
            )
        )
        self._loaded_text = self._current_text()
        self._say("Each value carries its source: a publication, or “institutional default”.")

    def _current_text(self) -> str:
        return json.dumps(self.form.to_data(), sort_keys=True)

    def _problems(self) -> list[tuple[str, str]]:
        return list(self.form.check())

    def save(self) -> bool:
        """Check the entries and save them as the institution's file; say what happened."""
        problems = self._problems()
        if problems:
            self._say(f"Not saved: {problems[0][1]}", error=True)
            return False
        try:
            path = self._followups.save_parameters(
                self.form.to_data(), expected_version=self._loaded_version
            )
        except Exception as error:  # noqa: BLE001 - shown to the user, nothing was written
            self._say(f"Not saved: {message_for(error)}", error=True)
            return False
        self._load()
        version = json.loads(self._followups.parameter_file_text()[1]).get("version")
        self._said_saved(
            path,
            version,
            "new schedules use these values, schedules already laid out keep theirs.",
        )
        return True
