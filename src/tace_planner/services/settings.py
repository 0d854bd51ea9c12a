"""Where the app keeps its data and who is using it: resolved from arguments, environment, file."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import platformdirs

from tace_planner.domain.errors import InvalidInputError

APP_NAME = "tace-planner"
ENV_DATA_DIR = "TACE_PLANNER_DATA"
ENV_DB_URL = "TACE_PLANNER_DB"
ENV_USER = "TACE_PLANNER_USER"
ENV_CONFIG = "TACE_PLANNER_CONFIG"
DATABASE_FILE_NAME = "tace-planner.sqlite"
MAX_USER_LENGTH = 64
"""The audit trail's user column holds this many characters."""
USER_FROM_OS = "operating-system login"
USER_FROM_ARGUMENT = "--user on the command line"
USER_FROM_ENV = f"{ENV_USER} environment variable"
"""How the audit user was set (:attr:`AppSettings.user_source`), in the words of the command
line and of the administrator who sets up a launcher: they name the option and the variable.
A window does not show them as they are: it says them for people, without commands (the
Settings dialog keeps its own sentence for each of the three)."""


@dataclass(frozen=True, slots=True)
class AppSettings:
    """Resolved settings of one running app.

    Parameters
    ----------
    data_dir : pathlib.Path
        Folder of the default SQLite database and of the managed image store.
    db_url : str or None
        SQLAlchemy URL of another database (e.g. PostgreSQL); None for the
        SQLite file in ``data_dir``.
    user : str
        Name written into every audit event: the operating-system login, or the
        name given with ``--user`` (or ``TACE_PLANNER_USER``) when the app starts.
        The settings file never sets it, so no one changes it from the Settings
        dialog.
    user_source : str
        How ``user`` was set: :data:`USER_FROM_OS`, :data:`USER_FROM_ARGUMENT` or
        :data:`USER_FROM_ENV` (the command line's words; a window says them without
        commands).
    link_new_studies : bool
        Link a newly imported study to its expected follow-up at once when its date lies
        in exactly one open window of its patient; False (default): propose it and let the
        user confirm.
    """

    data_dir: Path
    db_url: str | None
    user: str
    user_source: str = USER_FROM_OS
    link_new_studies: bool = False

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the database: ``db_url``, or the data folder's SQLite file.

        The file's path is percent-escaped, so a folder named ``a?b#c`` or
        ``p%20y`` is not read as a URL query, fragment or escape (the same URL as
        ``tace_planner.store.db.sqlite_url_for``, which the start-up uses; this
        module stays free of SQLAlchemy because the UI reads it).
        """
        if self.db_url:
            return self.db_url
        return "sqlite:///" + quote(str(self.database_file.resolve()), safe="/")

    @property
    def database_file(self) -> Path:
        """The default SQLite file in the data folder (used when ``db_url`` is None)."""
        return self.data_dir / DATABASE_FILE_NAME

    @property
    def image_store_dir(self) -> Path:
        """Folder where imported DICOM files are copied."""
        return self.data_dir / "images"

    @property
    def demo_dir(self) -> Path:
        """Folder where the generated demo phantom is cached."""
        return self.data_dir / "demo-phantom"

    def describe_database(self) -> str:
        """The database location for the status bar, without any password."""
        if not self.db_url:
            return str(self.database_file)
        url = self.db_url
        if "@" in url and "://" in url:
            scheme, rest = url.split("://", 1)
            return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
        return url.removeprefix("sqlite:///")


def default_data_dir() -> Path:
    """The per-user data folder (platformdirs)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The JSON file where the settings dialog saves its choices."""
    env = os.environ if env is None else env
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "settings.json"


def os_user() -> str:
    """The operating-system login, or "unknown" when it cannot be found."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


_TRUE = ("true", "1", "yes", "on")


def _read_config(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise InvalidInputError(str(path), f"settings file is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(str(path), "settings file must hold a JSON object")
    return {str(k): str(v) for k, v in data.items() if v not in (None, "")}


def resolve_settings(
    *,
    data_dir: Path | str | None = None,
    db_url: str | None = None,
    user: str | None = None,
    env: Mapping[str, str] | None = None,
) -> AppSettings:
    """Resolve settings: command-line value, else environment, else settings file, else default.

    Raises
    ------
    InvalidInputError
        The settings file is unreadable, or a value is malformed.
    """
    env = os.environ if env is None else env
    saved = _read_config(config_file(env))
    chosen_dir = data_dir or env.get(ENV_DATA_DIR) or saved.get("data_dir")
    chosen_url = db_url or env.get(ENV_DB_URL) or saved.get("db_url") or None
    # The audit user is who logged in (or who the launcher names); a "user" saved by
    # an older settings dialog is ignored, so nobody signs as someone else from Settings.
    if user:
        chosen_user, user_source = user, USER_FROM_ARGUMENT
    elif env.get(ENV_USER):
        chosen_user, user_source = env[ENV_USER], USER_FROM_ENV
    else:
        chosen_user, user_source = os_user(), USER_FROM_OS
    if chosen_url is not None and "://" not in chosen_url:
        raise InvalidInputError("database URL", f"{chosen_url!r} is not a SQLAlchemy URL")
    if chosen_dir and "\0" in str(chosen_dir):
        raise InvalidInputError("data folder", "the path contains a NUL character")
    return AppSettings(
        data_dir=Path(chosen_dir).expanduser() if chosen_dir else default_data_dir(),
        db_url=chosen_url,
        user=checked_user(chosen_user.strip()) or os_user(),
        user_source=user_source if chosen_user.strip() else USER_FROM_OS,
        link_new_studies=saved.get("link_new_studies", "").strip().lower() in _TRUE,
    )


def checked_user(name: str) -> str:
    """The user name for the audit trail, refused when too long or holding control characters.

    Raises
    ------
    InvalidInputError
        More than :data:`MAX_USER_LENGTH` characters, or a newline, tab or other
        control character.
    """
    if len(name) > MAX_USER_LENGTH:
        raise InvalidInputError(
            "user", f"at most {MAX_USER_LENGTH} characters, got {len(name)} (--user NAME)"
        )
    if any(not character.isprintable() for character in name):
        raise InvalidInputError("user", "control characters (newline, tab, …) are not allowed")
    return name


def save_settings(
    *,
    data_dir: Path | None,
    db_url: str | None,
    link_new_studies: bool = False,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Write the user's choices to the settings file and return its path.

    The data folder and the database are used at the next start. The audit user is
    not a setting: it is the operating-system login or ``--user``.
    """
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    values: dict[str, str | bool] = {
        "data_dir": str(data_dir) if data_dir else "",
        "db_url": db_url or "",
        "link_new_studies": bool(link_new_studies),
    }
    path.write_text(json.dumps(values, indent=2), encoding="utf-8")
    return path
