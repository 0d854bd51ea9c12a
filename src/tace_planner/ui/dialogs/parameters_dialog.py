"""Planning parameters dialog: a form of the institution's planning parameters, and the catalogue.

The planning parameters are a form, one row per parameter: its name as people know
it, the value, the unit, the allowed range (with the reason for its bounds as a
tooltip) and the source. A value outside its range is shown in red and refused
on save with a message naming the parameter. The bead catalogue's numbers are a
form of the same kind, per product; its other fields (sizes, label, notes) are
edited as the file's JSON text. Every save that changes something is a new version (the service
assigns it), and closing with unsaved edits asks Save / Discard / Cancel.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from tace_planner.domain.catalogue import Sourced
from tace_planner.domain.planning_ranges import (
    CATALOGUE_SPECS,
    PLANNING_SPECS,
    ParameterSpec,
    catalogue_problems,
    planning_problems,
)
from tace_planner.ui.dialogs.versioned_file_dialog import (
    VersionedFileDialog,
    mark_invalid,
)
from tace_planner.ui.errors import message_for
from tace_planner.ui.widget_sizes import widen_to_content

KINDS = {
    "planning": "Planning parameters",
    "catalogue": "Bead catalogue",
    "catalogue_text": "Bead catalogue (all fields, text)",
}
FILE_KIND = {"planning": "planning", "catalogue": "catalogue", "catalogue_text": "catalogue"}


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _catalogue_or_packaged(planning: Any) -> Any:
    """The catalogue in use, or the packaged one when the institution's file is refused
    (the dialog must open to let the user correct the files)."""
    if hasattr(planning, "parameters_for_display"):
        return planning.parameters_for_display()[1]
    return planning.catalogue


class PlanningForm(QWidget):
    """One row per planning parameter: name, value, unit, allowed range, source."""

    def __init__(self, products: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data: dict[str, Any] = {}
        self.value_edits: dict[str, QLineEdit | QComboBox] = {}
        self.source_edits: dict[str, QLineEdit] = {}
        self.range_labels: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        for column, title in enumerate(("Parameter", "Value", "Unit", "Allowed", "Source")):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
        for row, spec in enumerate(PLANNING_SPECS, start=1):
            label = QLabel(spec.label)
            label.setToolTip(spec.reason)
            grid.addWidget(label, row, 0)
            editor = self._editor(spec, products)
            grid.addWidget(editor, row, 1)
            grid.addWidget(QLabel(spec.unit), row, 2)
            allowed = QLabel(spec.range_text() if spec.kind != "product" else "catalogue")
            allowed.setToolTip(f"Why: {spec.reason}")
            allowed.setObjectName(f"allowed:{spec.name}")
            self.range_labels[spec.name] = allowed
            grid.addWidget(allowed, row, 3)
            source = QLineEdit()
            source.setObjectName(f"source:{spec.name}")
            source.setMinimumWidth(320)
            source.setCursorPosition(0)
            self.source_edits[spec.name] = source
            grid.addWidget(source, row, 4)
        grid.setColumnStretch(4, 1)

    def _editor(self, spec: ParameterSpec, products: list[tuple[str, str]]) -> QWidget:
        if spec.kind in ("choice", "product"):
            combo = QComboBox()
            for value, text in spec.choices if spec.kind == "choice" else products:
                combo.addItem(text, value)
            combo.setObjectName(f"value:{spec.name}")
            self.value_edits[spec.name] = combo
            return combo
        edit = QLineEdit()
        edit.setObjectName(f"value:{spec.name}")
        edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.setMaximumWidth(110)
        edit.textChanged.connect(self.check)
        self.value_edits[spec.name] = edit
        return edit

    def load(self, data: dict[str, Any]) -> None:
        """Show the content of a planning file."""
        self._data = json.loads(json.dumps(data))
        values = self._data.get("values", {})
        for name, editor in self.value_edits.items():
            entry = values.get(name, {})
            value = entry.get("value")
            if isinstance(editor, QComboBox):
                index = editor.findData(value)
                if index < 0 and value is not None:
                    editor.addItem(str(value), value)
                    index = editor.count() - 1
                editor.setCurrentIndex(index)
            else:
                editor.setText(_format(value))
            source = self.source_edits[name]
            source.setText(str(entry.get("source", "")))
            source.setToolTip(
                Sourced(value, str(entry.get("source", "")), str(entry.get("evidence", ""))).cite()
            )
            source.setCursorPosition(0)
        self.check()

    def values(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The values entered, and (key, message) for each that cannot be read as a number."""
        values: dict[str, Any] = {}
        unreadable: list[tuple[str, str]] = []
        for spec in PLANNING_SPECS:
            editor = self.value_edits[spec.name]
            if isinstance(editor, QComboBox):
                values[spec.name] = editor.currentData()
                continue
            text = editor.text().strip().replace(",", ".")
            try:
                number = float(text)
            except ValueError:
                unreadable.append((spec.name, f"{spec.label}: {text!r} is not a number"))
                continue
            if spec.kind == "integer" and number.is_integer():
                values[spec.name] = int(number)
            else:
                values[spec.name] = number
        return values, unreadable

    def problems(self) -> list[tuple[str, str]]:
        """Every reason the form cannot be saved, as (key, message naming the parameter)."""
        values, unreadable = self.values()
        return unreadable + planning_problems(values)

    def check(self) -> list[tuple[str, str]]:
        """Colour every value outside its range (or unreadable) red; return the problems."""
        problems = self.problems()
        mark_invalid(self.value_edits, problems)
        return problems

    def to_data(self) -> dict[str, Any]:
        """The file content with the values and sources entered (call after :meth:`check`)."""
        data = json.loads(json.dumps(self._data))
        values, _ = self.values()
        entries = data.setdefault("values", {})
        for name, value in values.items():
            entry = dict(entries.get(name, {}))
            entry["value"] = value
            entry["source"] = self.source_edits[name].text().strip()
            entries[name] = entry
        return data

    def is_invalid(self, name: str) -> bool:
        """True when the value of ``name`` is shown in red."""
        return bool(self.value_edits[name].property("invalid"))


class CatalogueForm(QWidget):
    """The numbers of each bead product: value, unit, allowed range and source.

    Choose the product above the rows; edits of every product are kept until saved.
    An empty value is a value no source gives (the planner refuses what needs it).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._work: dict[str, Any] = {}
        self._code = ""
        self.product_box = QComboBox()
        self.product_box.setObjectName("product_box")
        self.product_box.currentIndexChanged.connect(self._on_product_changed)
        self.value_edits: dict[str, QLineEdit] = {}
        self.source_edits: dict[str, QLineEdit] = {}
        self.range_labels: dict[str, QLabel] = {}
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        grid = QGridLayout()
        for column, title in enumerate(("Parameter", "Value", "Unit", "Allowed", "Source")):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
        for row, spec in enumerate(CATALOGUE_SPECS, start=1):
            label = QLabel(spec.label)
            label.setToolTip(spec.reason)
            grid.addWidget(label, row, 0)
            edit = QLineEdit()
            edit.setObjectName(f"value:{spec.name}")
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.setMaximumWidth(110)
            edit.setPlaceholderText("not known")
            edit.textChanged.connect(self.check)
            self.value_edits[spec.name] = edit
            grid.addWidget(edit, row, 1)
            grid.addWidget(QLabel(spec.unit), row, 2)
            allowed = QLabel(spec.range_text())
            allowed.setToolTip(f"Why: {spec.reason}")
            self.range_labels[spec.name] = allowed
            grid.addWidget(allowed, row, 3)
            source = QLineEdit()
            source.setObjectName(f"source:{spec.name}")
            source.setMinimumWidth(320)
            self.source_edits[spec.name] = source
            grid.addWidget(source, row, 4)
        grid.setColumnStretch(4, 1)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Product"))
        top.addWidget(self.product_box, stretch=1)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def load(self, data: dict[str, Any]) -> None:
        """Show the content of a catalogue file."""
        self._work = json.loads(json.dumps(data))
        self._code = ""
        self.product_box.blockSignals(True)
        self.product_box.clear()
        for product in self._work.get("products", []):
            self.product_box.addItem(str(product.get("name", "")), product.get("code"))
        self.product_box.blockSignals(False)
        self._on_product_changed()

    def _product(self, code: str) -> dict[str, Any] | None:
        return next((p for p in self._work.get("products", []) if p.get("code") == code), None)

    def _store(self) -> None:
        """Write the rows into the working copy of the current product."""
        product = self._product(self._code)
        if product is None:
            return
        for spec in CATALOGUE_SPECS:
            entry = dict(product.get(spec.name) or {})
            text = self.value_edits[spec.name].text().strip().replace(",", ".")
            if not text:
                value: Any = None
            else:
                try:
                    value = float(text)
                except ValueError:
                    value = text  # refused by check(); kept so that the edit is not lost
            if (
                isinstance(value, float)
                and value.is_integer()
                and isinstance(entry.get("value"), int)
            ):
                value = int(value)
            entry["value"] = value
            entry["source"] = self.source_edits[spec.name].text().strip()
            product[spec.name] = entry

    def _on_product_changed(self) -> None:
        self._store()
        self._code = str(self.product_box.currentData() or "")
        product = self._product(self._code) or {}
        for spec in CATALOGUE_SPECS:
            entry = product.get(spec.name) or {}
            edit = self.value_edits[spec.name]
            edit.blockSignals(True)
            edit.setText(_format(entry.get("value")))
            edit.blockSignals(False)
            source = self.source_edits[spec.name]
            source.blockSignals(True)
            source.setText(str(entry.get("source", "")))
            source.setCursorPosition(0)
            source.blockSignals(False)
        sizes = (product.get("sizes_um") or {}).get("value") or []
        label = (product.get("irinotecan_label") or {}).get("value")
        self.summary.setText(
            "Sizes: "
            + (", ".join(f"{a}–{b} µm" for a, b in sizes) or "not known")
            + f" ({product.get('sizes_state', 'hydrated')}); irinotecan on the label: "
            + {"yes": "yes", "no": "no"}.get(str(label), "not known")
            + ". Sizes, label and notes: choose “Bead catalogue (all fields, text)”."
        )
        self.check()

    def problems(self) -> list[tuple[str, str]]:
        """Every reason the catalogue cannot be saved, naming product and value."""
        self._store()
        unreadable = []
        for product in self._work.get("products", []):
            for spec in CATALOGUE_SPECS:
                value = (product.get(spec.name) or {}).get("value")
                if isinstance(value, str):
                    unreadable.append(
                        (
                            f"{product.get('code')}.{spec.name}",
                            f"{product.get('name')}: {spec.label}: {value!r} is not a number",
                        )
                    )
        readable = json.loads(json.dumps(self._work))
        for product in readable.get("products", []):
            for spec in CATALOGUE_SPECS:
                entry = product.get(spec.name)
                if isinstance(entry, dict) and isinstance(entry.get("value"), str):
                    entry["value"] = None
        return unreadable + catalogue_problems(readable.get("products", []))

    def check(self) -> list[tuple[str, str]]:
        """Colour the current product's values that cannot be saved; return every problem."""
        problems = self.problems()
        mark_invalid({f"{self._code}.{n}": e for n, e in self.value_edits.items()}, problems)
        return problems

    def to_data(self) -> dict[str, Any]:
        """The catalogue content with every product's edits."""
        self._store()
        return json.loads(json.dumps(self._work))


class ParametersDialog(VersionedFileDialog):
    """The planning parameters as a form, and the bead catalogue as JSON; saves edits.

    Saving goes through ``PlanningService.save_institution_file``, which checks
    every value again, assigns the next version, audits the change and makes the
    file the institution's own; every plan made afterwards stores the values and
    the version it used.
    """

    def __init__(self, planning: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Planning parameters")
        self.resize(1100, 720)
        self._planning = planning
        self._loaded_text = ""
        self._kind = "planning"
        self.kind_box = QComboBox()
        for kind, label in KINDS.items():
            self.kind_box.addItem(label, kind)
        self.kind_box.currentIndexChanged.connect(self._on_kind_box_changed)
        self.origin_label = QLabel()
        self.origin_label.setObjectName("origin_label")
        products = [(p.code, p.name) for p in _catalogue_or_packaged(planning).products]
        self.form = PlanningForm(products)
        self._watch((*self.form.value_edits.values(), *self.form.source_edits.values()))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        self.catalogue_form = CatalogueForm()
        self._watch(
            (*self.catalogue_form.value_edits.values(), *self.catalogue_form.source_edits.values())
        )
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.editor.textChanged.connect(self._on_edited)
        self.stack = QStackedWidget()
        self.stack.addWidget(scroll)
        self.stack.addWidget(self.catalogue_form)
        self.stack.addWidget(self.editor)
        buttons = self._status_and_buttons()
        layout = QVBoxLayout(self)
        layout.addWidget(self.kind_box)
        layout.addWidget(self.origin_label)
        layout.addWidget(self.stack, stretch=1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self._load()
        widen_to_content(self, self.form)  # every source readable without scrolling sideways

    @property
    def kind(self) -> str:
        """ "planning", "catalogue" (form) or "catalogue_text"."""
        return self._kind

    # -- loading and state ---------------------------------------------------------

    def _load(self) -> None:
        origin, text = self._planning.parameter_file_text(FILE_KIND[self._kind])
        data = json.loads(text)
        self._loaded_version = str(data.get("version", "0"))  # a save since then is refused
        where = "packaged with the app" if origin.startswith("packaged") else origin
        what = "planning parameters" if self._kind == "planning" else "bead catalogue"
        self.origin_label.setText(
            f"In use: {what} version {data.get('version', '?')} "
            f"({where}). Every save that changes a value makes a new version."
        )
        self.stack.setCurrentIndex(list(KINDS).index(self._kind))
        if self._kind == "planning":
            self.form.load(data)
        elif self._kind == "catalogue":
            self.catalogue_form.load(data)
        else:
            self.editor.blockSignals(True)
            self.editor.setPlainText(text)
            self.editor.blockSignals(False)
        self._loaded_text = self._current_text()
        self._say("Each value carries its source: a publication, or “institutional default”.")

    def _current_text(self) -> str:
        if self._kind == "planning":
            return json.dumps(self.form.to_data(), sort_keys=True)
        if self._kind == "catalogue":
            return json.dumps(self.catalogue_form.to_data(), sort_keys=True)
        return self.editor.toPlainText()

    def _active_form(self) -> PlanningForm | CatalogueForm | None:
        return {"planning": self.form, "catalogue": self.catalogue_form}.get(self._kind)

    def _problems(self) -> list[tuple[str, str]]:
        form = self._active_form()
        return [] if form is None else list(form.check())

    def _unsaved_title(self) -> str:
        return KINDS[self._kind]

    def _on_kind_box_changed(self) -> None:
        kind = str(self.kind_box.currentData())
        if kind == self._kind:
            return
        if not self._resolve_unsaved():
            self.kind_box.blockSignals(True)
            self.kind_box.setCurrentIndex(self.kind_box.findData(self._kind))
            self.kind_box.blockSignals(False)
            return
        self._kind = kind
        self._load()

    # -- saving and closing -------------------------------------------------------------

    def save(self) -> bool:
        """Check the entries and save them as the institution's file; say what happened."""
        form = self._active_form()
        if form is not None:
            problems = self._problems()
            if problems:
                self._say(f"Not saved: {problems[0][1]}", error=True)
                return False
            data = form.to_data()
        else:
            try:
                data = json.loads(self.editor.toPlainText())
            except ValueError as error:
                self._say(f"Not saved: the text is not valid JSON ({error}).", error=True)
                return False
        try:
            path = self._planning.save_institution_file(
                FILE_KIND[self._kind], data, expected_version=self._loaded_version
            )
        except Exception as error:  # noqa: BLE001 - shown to the user, nothing was written
            self._say(f"Not saved: {message_for(error)}", error=True)
            return False
        self._load()
        text = self._planning.parameter_file_text(FILE_KIND[self._kind])[1]
        version = json.loads(text).get("version")
        self._said_saved(path, version, "new plans use these values.")
        return True
