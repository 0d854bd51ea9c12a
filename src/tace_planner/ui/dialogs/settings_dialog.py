"""Settings dialog: data folder, database URL and user name (applied at next start)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tace_planner.services.settings import AppSettings


@dataclass(frozen=True, slots=True)
class SettingsChoice:
    """What the user entered; empty strings mean "use the default"."""

    data_dir: str
    db_url: str
    user: str


class SettingsDialog(QDialog):
    """Edits the data folder, the database URL and the user name.

    Shows the values in force; the caller saves the choice with
    ``services.settings.save_settings`` and the app uses it at its next start.
    """

    def __init__(self, current: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.data_dir_edit = QLineEdit(str(current.data_dir))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_dir_edit)
        folder_row.addWidget(browse)
        self.db_url_edit = QLineEdit(current.db_url or "")
        self.db_url_edit.setPlaceholderText("empty: SQLite file in the data folder")
        self.user_edit = QLineEdit(current.user)
        form = QFormLayout()
        form.addRow("Data folder", folder_row)
        form.addRow("Database URL", self.db_url_edit)
        form.addRow("User name", self.user_edit)
        note = QLabel("Changes take effect the next time TACE Planner starts.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir_edit.text())
        if folder:
            self.data_dir_edit.setText(str(Path(folder)))

    def choice(self) -> SettingsChoice:
        """The values currently entered."""
        return SettingsChoice(
            data_dir=self.data_dir_edit.text().strip(),
            db_url=self.db_url_edit.text().strip(),
            user=self.user_edit.text().strip(),
        )

    @classmethod
    def ask(cls, current: AppSettings, parent: QWidget | None = None) -> SettingsChoice | None:
        """Show the dialog; return the choice, or None when cancelled."""
        dialog = cls(current, parent)
        return dialog.choice() if dialog.exec() == QDialog.Accepted else None
