"""Settings resolution: command line, then environment, then the settings file, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.settings import (
    AppSettings,
    resolve_settings,
    save_settings,
)


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "settings.json"
    env = {"TACE_PLANNER_CONFIG": str(config)}
    save_settings(data_dir=tmp_path / "saved", db_url=None, env=env)
    assert resolve_settings(env=env).data_dir == tmp_path / "saved"
    env["TACE_PLANNER_DATA"] = str(tmp_path / "from-env")
    assert resolve_settings(env=env).data_dir == tmp_path / "from-env"
    chosen = resolve_settings(data_dir=tmp_path / "arg", user="dr who", env=env)
    assert chosen.data_dir == tmp_path / "arg"
    assert chosen.user == "dr who"
    assert chosen.database_url.endswith("/arg/tace-planner.sqlite")


def test_database_url_override_and_password_hidden(tmp_path: Path) -> None:
    settings = AppSettings(tmp_path, "postgresql+psycopg://ir:secret@pacs-db:5432/tace", "x")
    assert settings.database_url.startswith("postgresql+psycopg://ir:secret")
    assert "secret" not in settings.describe_database()
    assert settings.describe_database().endswith("pacs-db:5432/tace")


def test_bad_settings_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "settings.json"
    config.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"settings\.json"):
        resolve_settings(env={"TACE_PLANNER_CONFIG": str(config)})


def test_malformed_database_url_is_refused(tmp_path: Path) -> None:
    env = {"TACE_PLANNER_CONFIG": str(tmp_path / "none.json")}
    with pytest.raises(InvalidInputError, match="database URL"):
        resolve_settings(db_url="not-a-url", env=env)


@pytest.mark.parametrize("name", ["a?b#c", "p%20y", "100% sure", "é+ü;@=&"])
def test_database_url_keeps_url_characters_in_the_folder_name(tmp_path: Path, name: str) -> None:
    from sqlalchemy.engine import make_url

    from tace_planner.store.db import sqlite_url_for

    settings = AppSettings(data_dir=tmp_path / name, db_url=None, user="x")
    expected = (tmp_path / name / "tace-planner.sqlite").resolve()
    assert make_url(settings.database_url).database == str(expected)
    assert make_url(sqlite_url_for(settings.database_file)).database == str(expected)


def test_audit_user_is_the_login_or_the_command_line_never_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from tace_planner.services import settings as settings_module

    monkeypatch.setattr(settings_module, "os_user", lambda: "jdoe")
    config = tmp_path / "settings.json"
    env = {"TACE_PLANNER_CONFIG": str(config)}
    # A settings file written by an older version (or by hand) names someone else.
    config.write_text(json.dumps({"user": "dr house"}), encoding="utf-8")
    resolved = resolve_settings(env=env)
    assert resolved.user == "jdoe"
    assert resolved.user_source == "operating-system login"
    chosen = resolve_settings(user="dr who", env=env)
    assert (chosen.user, chosen.user_source) == ("dr who", "--user on the command line")
    save_settings(data_dir=tmp_path / "data", db_url=None, env=env)
    assert "user" not in json.loads(config.read_text(encoding="utf-8"))


def test_link_new_studies_is_saved_with_the_other_settings_and_off_by_default(
    tmp_path: Path,
) -> None:
    env = {"TACE_PLANNER_CONFIG": str(tmp_path / "settings.json")}
    assert resolve_settings(env=env).link_new_studies is False
    save_settings(data_dir=tmp_path / "d", db_url=None, env=env)
    assert resolve_settings(env=env).link_new_studies is False
    save_settings(data_dir=tmp_path / "d", db_url=None, link_new_studies=True, env=env)
    saved = resolve_settings(env=env)
    assert (saved.link_new_studies, saved.data_dir) == (True, tmp_path / "d")
    save_settings(data_dir=None, db_url=None, link_new_studies=False, env=env)
    assert resolve_settings(env=env).link_new_studies is False
