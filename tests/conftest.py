"""Shared fixtures: isolated settings, the small phantom, services on a temporary database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tace_planner.domain.progress import run_sync


@pytest.fixture(autouse=True)
def _isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never read or write the real user's settings, database or data folder."""
    config = tmp_path_factory.mktemp("config") / "settings.json"
    monkeypatch.setenv("TACE_PLANNER_CONFIG", str(config))
    for name in ("TACE_PLANNER_DATA", "TACE_PLANNER_DB", "TACE_PLANNER_USER"):
        monkeypatch.delenv(name, raising=False)


_SERVER_DATABASES: dict[Path, str] = {}
"""Data folder → its database on the PostgreSQL server of a ``TACE_TEST_POSTGRES`` run."""

_SERVER_RUN = os.urandom(4).hex()
"""This run's part of its database names; processes forked by a test share it."""


def _server_database(server: str, data_dir: Path) -> str:
    """The database of ``data_dir`` on the PostgreSQL server of ``TACE_TEST_POSTGRES``.

    ``TACE_TEST_POSTGRES=postgresql+psycopg://user:password@host pytest …`` runs the tests
    on a department's database: every data folder opened without a database URL (the
    desktop's SQLite file) gets a database of its own on that server instead, created at
    its first use and dropped at the end of the run. A data folder a test copies carries
    the name of its database (``.test-server-database``), so the copy starts from a copy.

    The name follows from the run and the folder, so processes a test forks (two imports
    at once) open the same database as they would the same SQLite file, and the run drops
    every database of its own at the end, also those a forked process created.
    """
    import hashlib

    key = data_dir.resolve()
    if key not in _SERVER_DATABASES:
        import psycopg.errors
        import sqlalchemy as sa

        UNIQUE_VIOLATIONS = (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation)
        digest = hashlib.sha1(str(key).encode("utf-8")).hexdigest()[:12]
        name = f"tace_test_{_SERVER_RUN}_{digest}"
        marker = data_dir / ".test-server-database"
        source = marker.read_text(encoding="utf-8") if marker.is_file() else None
        template = f' TEMPLATE "{source}"' if source and source != name else ""
        admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                exists = connection.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if exists is None:
                    try:
                        connection.execute(sa.text(f'CREATE DATABASE "{name}"{template}'))
                    except sa.exc.DBAPIError as error:  # another process was first
                        if not isinstance(error.orig, UNIQUE_VIOLATIONS):
                            raise
        finally:
            admin.dispose()
        _SERVER_DATABASES[key] = name
        data_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(name, encoding="utf-8")
    return f"{server}/{_SERVER_DATABASES[key]}"


def pytest_configure(config: pytest.Config) -> None:
    """A ``TACE_TEST_POSTGRES`` run: every data folder's database on that server (above)."""
    server = os.environ.get("TACE_TEST_POSTGRES")
    if server:
        from tace_planner.services import bootstrap

        def server_url(database_file: Path) -> str:
            return _server_database(server, database_file.parent)

        bootstrap.sqlite_url_for = server_url  # for the whole run, session fixtures too


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the databases a PostgreSQL run created (in this process or one it forked)."""
    server = os.environ.get("TACE_TEST_POSTGRES")
    if not server:
        return
    import sqlalchemy as sa

    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        names = connection.scalars(
            sa.text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
            {"prefix": f"tace_test_{_SERVER_RUN}_%"},
        ).all()
        for name in names:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def small_phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small phantom, written once per test session (read-only for tests)."""
    from tace_planner.imaging.phantom import write_phantom

    folder = tmp_path_factory.mktemp("phantom-small")
    write_phantom(folder, size="small", seed=0)
    return folder


def make_services(data_dir: Path, user: str = "tester"):
    """Open services on a fresh SQLite database in ``data_dir``."""
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data_dir, db_url=None, user=user))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[object]:
    """Services on an empty, migrated SQLite database in a temporary data folder."""
    opened = make_services(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path) -> Path:
    """A data folder holding the demo case built from the small phantom (shared, read-only)."""
    import shutil

    from tace_planner.services.demo import prepare_demo

    data_dir = tmp_path_factory.mktemp("demo-data")
    opened = make_services(data_dir)
    try:
        demo_dir = opened.settings.demo_dir
        shutil.copytree(small_phantom, demo_dir)
        (demo_dir / "phantom-parameters.json").write_text(
            '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
        )
        run_sync(prepare_demo(opened.studies, opened.cases, demo_dir, size="small", seed=0))
    finally:
        opened.close()
    return data_dir
