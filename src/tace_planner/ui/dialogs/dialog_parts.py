"""Parts the form dialogs share: the line that names the field to fix, and OK / Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QDialog, QDialogButtonBox, QLabel, QWidget

ERROR_STYLE = "color: #b00020"
"""The colour of a field error (the app's error red)."""


def add_error_and_buttons(dialog: QDialog, layout: QBoxLayout) -> tuple[QLabel, QDialogButtonBox]:
    """Add to the foot of ``layout`` a hidden error line (object name ``error_label``) and
    *OK* / *Cancel* buttons wired to ``dialog.accept`` and ``dialog.reject``; returns both."""
    error_label = QLabel("")
    error_label.setObjectName("error_label")
    error_label.setStyleSheet(ERROR_STYLE)
    error_label.setWordWrap(True)
    error_label.hide()
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(error_label)
    layout.addWidget(buttons)
    return error_label, buttons


def show_problem(error_label: QLabel, problem: str) -> bool:
    """Show ``problem`` (which field to fix) on ``error_label``; whether there was one."""
    if not problem:
        return False
    error_label.setText(problem)
    error_label.show()
    _grow_to_fit(error_label.window())
    return True


def _grow_to_fit(dialog: QWidget) -> None:
    """Make ``dialog`` tall enough for what it holds now (a problem wrapped over lines), so
    its fields keep their height; a size the user chose larger is kept."""
    layout = dialog.layout()
    if layout is None:
        return
    layout.activate()
    width = dialog.width()
    needed = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
    height = max(dialog.height(), needed, layout.totalMinimumSize().height())
    if height > dialog.height():
        dialog.resize(width, height)
