"""What the dialogs that edit a versioned parameter file share.

A status line (red when an entry is refused), Save and Close buttons, "unsaved changes"
detection against the text loaded, and the question on closing (or switching files) with
edits unsaved: save, discard or stay. Subclasses say what the file is
(:meth:`_unsaved_title`), give the current entries as text (:meth:`_current_text`), load
(:meth:`_load`) and save (:meth:`save`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton

UnsavedChoice = Literal["save", "discard", "cancel"]
INVALID_STYLE = "background: #fde0e0; color: #b00020; border: 1px solid #b00020;"


def mark_invalid(editors: Mapping[str, Any], problems: Iterable[tuple[str, str]]) -> None:
    """Colour each editor whose key has a problem red, its first message as tooltip."""
    by_key: dict[str, str] = {}
    for key, message in problems:
        by_key.setdefault(key, message)
    for key, editor in editors.items():
        message = by_key.get(key)
        editor.setStyleSheet(INVALID_STYLE if message else "")
        editor.setToolTip(message or "")
        editor.setProperty("invalid", bool(message))


def ask_unsaved_changes(parent: Any, what: str, *, save_text: str = "") -> UnsavedChoice:
    """Ask Save / Discard / Cancel about ``what``'s unsaved changes (Save is the default).

    ``save_text`` renames the Save button (e.g. "Save draft"). The parameter dialogs and
    the panels that keep a form ask with these words.
    """
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unsaved changes",
        f"{what}: there are unsaved changes. Save them?",
        QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
        parent,
    )
    box.setDefaultButton(QMessageBox.Save)
    if save_text:
        box.button(QMessageBox.Save).setText(save_text)
    box.exec()
    answer = box.standardButton(box.clickedButton()) if box.clickedButton() else None
    if answer == QMessageBox.Save:
        return "save"
    if answer == QMessageBox.Discard:
        return "discard"
    return "cancel"


class VersionedFileDialog(QDialog):
    """Base of the parameter dialogs (see module)."""

    _loaded_text = ""

    def _status_and_buttons(self) -> QHBoxLayout:
        """Create ``status_label`` and ``save_button``; the row of Save … Close."""
        self.status_label = QLabel("")
        self.status_label.setObjectName("status_label")
        self.status_label.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        return buttons

    def _watch(self, editors: Iterable[Any]) -> None:
        """Re-check the entries whenever one of ``editors`` (combo boxes, text edits) changes."""
        for editor in editors:
            signal = (
                editor.currentIndexChanged if isinstance(editor, QComboBox) else editor.textChanged
            )
            signal.connect(self._on_edited)

    # -- to be given by the subclass ------------------------------------------------------

    def _unsaved_title(self) -> str:
        raise NotImplementedError

    def _current_text(self) -> str:
        raise NotImplementedError

    def _load(self) -> None:
        raise NotImplementedError

    def save(self) -> bool:
        raise NotImplementedError

    def _problems(self) -> list[tuple[str, str]]:
        """The entries' problems (field, message); none by default (free text)."""
        return []

    # -- shared behaviour ----------------------------------------------------------------

    def is_dirty(self) -> bool:
        """True when something was edited and not saved."""
        return self._current_text() != self._loaded_text

    def _on_edited(self) -> None:
        problems = self._problems()
        if problems:
            self._say(problems[0][1], error=True)
        else:
            self._say("Unsaved changes." if self.is_dirty() else "")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #b00020; font-weight: bold" if error else "")

    def _said_saved(self, path: Any, version: Any, consequence: str) -> None:
        if path is None:
            self._say(f"Nothing changed, nothing saved: version {version} stays in use.")
        else:
            self._say(f"Saved as version {version} ({path}); {consequence}")

    def ask_unsaved(self) -> UnsavedChoice:
        """Ask what to do with unsaved edits (tests replace this to avoid a modal box)."""
        return ask_unsaved_changes(self, self._unsaved_title())

    def _resolve_unsaved(self) -> bool:
        """True when the edits are saved or discarded, False to stay (Cancel or a refusal)."""
        if not self.is_dirty():
            return True
        choice = self.ask_unsaved()
        if choice == "cancel":
            return False
        if choice == "save":
            return self.save()
        self._load()  # discard: back to the file in use
        return True

    def reject(self) -> None:
        """Close (Close button, Escape, window close); ask first when edits are unsaved."""
        if self._resolve_unsaved():
            super().reject()
