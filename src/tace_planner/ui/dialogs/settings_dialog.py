"""Settings dialog: data folder and database URL (next start), follow-up linking of new
studies; the audit user, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
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

from tace_planner.services.settings import (
    USER_FROM_ARGUMENT,
    USER_FROM_ENV,
    USER_FROM_OS,
    AppSettings,
)

#: How the audit user was set, for people (the settings name the command-line option).
_USER_SOURCE_WORDS = {
    USER_FROM_OS: "Set from your login to this computer.",
    USER_FROM_ARGUMENT: "Set when TACE Planner was started, by the shortcut or launcher "
    "your administrator set up (institutional setting).",
    USER_FROM_ENV: "Set when TACE Planner was started, by the computer's configuration "
    "that your administrator set up (institutional setting).",
}


def audit_user_note(user_source: str) -> str:
    """How the audit user was set and how to work under another name, without commands."""
    how = _USER_SOURCE_WORDS.get(user_source, f"Set from the {user_source}.")
    return (
        f"{how} Every change you make is recorded under this name. It cannot be changed "
        "here, so that no one records actions under another person's name: to work under "
        "another name, log in to the computer as that person, or ask your administrator."
    )


@dataclass(frozen=True, slots=True)
class SettingsChoice:
    """What the user entered; empty strings mean "use the default"."""

    data_dir: str
    db_url: str
    link_new_studies: bool = False


class SettingsDialog(QDialog):
    """Edits the data folder, the database URL and the follow-up linking of new studies;
    shows the audit user read-only.

    Shows the values in force; the caller saves the choice with
    ``services.settings.save_settings`` and the app uses it at its next start. The
    name written into the audit trail is the operating-system login (or the name its
    launcher gives at start, ``--user`` or ``TACE_PLANNER_USER``): it is shown with how
    it was set, in words and without commands (:func:`audit_user_note`), and cannot be
    changed here, so that no one records actions under another person's name.
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
        self.user_edit.setObjectName("audit_user")
        self.user_edit.setReadOnly(True)
        self.user_edit.setEnabled(False)
        self.user_note = QLabel(audit_user_note(current.user_source))
        self.user_note.setObjectName("audit_user_note")
        self.user_note.setWordWrap(True)
        self.user_note.setStyleSheet("color: #555")
        self.link_new_studies = QCheckBox(
            "Link newly imported studies to their expected follow-up at once"
        )
        self.link_new_studies.setObjectName("link_new_studies")
        self.link_new_studies.setChecked(current.link_new_studies)
        self.link_note = QLabel(
            "When a new study's date lies in exactly one follow-up window of its patient. "
            "Off: the study is proposed on its worklist row and linked when you confirm. "
            "Takes effect at once."
        )
        self.link_note.setWordWrap(True)
        self.link_note.setStyleSheet("color: #555")
        form = QFormLayout()
        form.addRow("Data folder", folder_row)
        form.addRow("Database URL", self.db_url_edit)
        form.addRow("Audit user", self.user_edit)
        form.addRow(self.user_note)
        form.addRow("Follow-up", self.link_new_studies)
        form.addRow(self.link_note)
        note = QLabel("Data folder and database: used the next time TACE Planner starts.")
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
            link_new_studies=self.link_new_studies.isChecked(),
        )

    @classmethod
    def ask(cls, current: AppSettings, parent: QWidget | None = None) -> SettingsChoice | None:
        """Show the dialog; return the choice, or None when cancelled."""
        dialog = cls(current, parent)
        return dialog.choice() if dialog.exec() == QDialog.Accepted else None
