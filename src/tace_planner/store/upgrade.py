"""Schema upgrade at start-up: compare with head, back the SQLite file up, migrate."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from tace_planner.domain.errors import StoreError
from tace_planner.store.db import sqlite_file_of

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions that migrate: a database already at head (every
# start but the first after an update) is recognised without it, off the path to the window.

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpgradeResult:
    """What :func:`upgrade_to_head` did.

    Attributes
    ----------
    from_revision : str or None
        The revision found in the database; None for an empty database.
    to_revision : str
        The revision the database is at now (the app's head).
    backup_path : pathlib.Path or None
        The copy of the SQLite file taken before migrating, or None if no copy was
        needed (already at head, new empty database, or not a SQLite file).
    """

    from_revision: str | None
    to_revision: str
    backup_path: Path | None


def _script_location() -> str:
    """Return the folder of the migrations shipped inside the package."""
    location = files("tace_planner.store.migrations")
    if not location.is_dir() or not location.joinpath("env.py").is_file():
        raise StoreError(
            f"the database migrations are missing from the installation ({location}); "
            "reinstall the app"
        )
    return str(location)


def alembic_config(url: str | None = None) -> Config:
    """Build the Alembic configuration in code; no ``alembic.ini`` is needed.

    Parameters
    ----------
    url : str, optional
        Database URL used by ``env.py`` when no connection is passed in
        ``config.attributes["connection"]``.

    Returns
    -------
    alembic.config.Config
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    if url is not None:
        # ConfigParser interpolation: a literal % must be doubled.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """Return the newest revision shipped with the app."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise StoreError("the app ships no database migration")
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the revision stamped in the database, or None if it has none.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    """
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


_REVISION_LINE = re.compile(
    r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|\"[^\"]*\"|'[^']*')\s*$", re.MULTILINE
)


def shipped_head() -> str | None:
    """The head revision read from the shipped revision files, without importing Alembic.

    Returns None when the files do not show one plain linear head (a merge, a tuple
    of down revisions, an unreadable file): :func:`head_revision` decides then.
    """
    revisions: dict[str, str | None] = {}
    try:
        for entry in files("tace_planner.store.migrations").joinpath("versions").iterdir():
            if not entry.name.endswith(".py") or entry.name.startswith("__"):
                continue
            found = dict(_REVISION_LINE.findall(entry.read_text(encoding="utf-8")))
            if "revision" not in found or "down_revision" not in found:
                return None
            down = found["down_revision"]
            revisions[found["revision"].strip("\"'")] = (
                None if down == "None" else down.strip("\"'")
            )
    except (OSError, UnicodeDecodeError):
        return None
    heads = set(revisions) - {down for down in revisions.values() if down is not None}
    return heads.pop() if len(heads) == 1 else None


def stamped_revision(engine: Engine) -> str | None:
    """The revision in the database's ``alembic_version`` table (None: no table, no row)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def backup_sqlite(engine: Engine, destination_dir: Path, from_revision: str | None) -> Path:
    """Copy a SQLite database with the ``sqlite3`` online backup API.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A SQLite file engine.
    destination_dir : pathlib.Path
        Folder of the copy; created if missing.
    from_revision : str or None
        Revision of the database, written into the copy's name (``base`` for None).

    Returns
    -------
    pathlib.Path
        ``<destination_dir>/<stem>.<revision>.<UTC timestamp>.bak.sqlite``, a
        self-contained file (rollback journal, no ``-wal``) that passed
        ``PRAGMA quick_check``.

    Raises
    ------
    StoreError
        If the copy cannot be written or does not check out.
    """
    source = sqlite_file_of(engine.url)
    if source is None:
        raise StoreError(f"{engine.url!r} is not a SQLite file and cannot be backed up")
    destination_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{source.stem}.{from_revision or 'base'}.{_utc_stamp()}"
    target = destination_dir / f"{stem}.bak.sqlite"
    counter = 1
    while target.exists():
        target = destination_dir / f"{stem}-{counter}.bak.sqlite"
        counter += 1
    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE").fetchall()
            check = copy.execute("PRAGMA quick_check").fetchall()
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise StoreError(
            f"{target}: could not back up the database before upgrading: {exc}"
        ) from exc
    finally:
        raw.close()
    if check != [("ok",)]:
        raise StoreError(f"{target}: the backup copy failed its integrity check: {check}")
    return target


UPGRADE_LOCK_KEY = int.from_bytes(b"TACEupgr", "big")
"""PostgreSQL advisory lock held while the schema is migrated (one migration at a time)."""


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """Yield a connection inside a transaction that commits if the block succeeds.

    On SQLite, foreign keys are switched off for the migration, as the SQLite manual
    asks for schema changes: batch mode drops and re-creates tables, and a DROP with
    foreign keys on would cascade-delete the rows that refer to it. The driver is also
    told to leave BEGIN to us so that DDL is transactional; foreign keys are checked
    before commit and everything is restored before the connection goes back to the pool.

    On PostgreSQL, workstations that start at once on a new or older department database
    take turns: a transaction-scoped advisory lock is held for the migration, and Alembic
    reads the revision after it is granted (the second finds the database at head).
    """
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY}
                    )
                yield connection
            return
        raw = connection.connection.driver_connection
        saved_isolation = raw.isolation_level
        raw.isolation_level = None  # autocommit at driver level: no implicit BEGIN/COMMIT
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield connection
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise StoreError(
                        f"the upgraded database breaks {len(problems)} foreign key(s), "
                        f"first: {tuple(problems[0])}; the upgrade was rolled back"
                    )
        finally:
            if raw.in_transaction:
                raw.rollback()
            raw.isolation_level = saved_isolation
            raw.execute("PRAGMA foreign_keys=ON")


def _reason(exc: Exception) -> str:
    """The driver's own message when there is one, without SQLAlchemy's SQL echo."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig)
    return str(exc)


def _has_tables(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(inspect(connection).get_table_names())


def upgrade_to_head(engine: Engine, *, backup_dir: Path | None = None) -> UpgradeResult:
    """Bring the database to the app's head revision, backing a SQLite file up first.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        From :func:`tace_planner.store.db.make_engine`.
    backup_dir : pathlib.Path, optional
        Folder of the backup; the database's own folder by default.

    Returns
    -------
    UpgradeResult

    Raises
    ------
    StoreError
        If the database was written by a newer version of the app (its revision is
        unknown here; it is left untouched), if the backup fails (nothing is
        migrated), or if a migration fails (the database is rolled back; the message
        names the backup).
    """
    fast_head = shipped_head()
    if fast_head is not None:
        try:
            if stamped_revision(engine) == fast_head:  # the usual start: nothing to do
                return UpgradeResult(
                    from_revision=fast_head, to_revision=fast_head, backup_path=None
                )
        except SQLAlchemyError:
            pass  # said plainly below, by the full check
    head = head_revision()
    try:
        current = current_revision(engine)
        has_tables = _has_tables(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"could not open the database {engine.url!r}: {_reason(exc)}") from exc
    if current == head:
        return UpgradeResult(from_revision=current, to_revision=head, backup_path=None)
    if current is not None and current not in _known_revisions():
        raise StoreError(
            f"the database is at revision {current!r}, which this version of the app does "
            f"not know (newest known: {head!r}); it was probably written by a newer "
            "version. Update the app; the database was not changed."
        )
    backup_path = None
    source = sqlite_file_of(engine.url)
    if source is not None and has_tables:
        backup_path = backup_sqlite(engine, backup_dir or source.parent, current)
        logger.info("backed up %s to %s before upgrading from %s", source, backup_path, current)
    from alembic import command

    cfg = alembic_config()
    try:
        with _migration_connection(engine) as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except StoreError:
        raise
    except Exception as exc:
        kept = f"; the copy taken before is {backup_path}" if backup_path else ""
        raise StoreError(
            f"upgrading the database from {current or 'empty'} to {head} failed "
            f"and was rolled back: {_reason(exc)}{kept}"
        ) from exc
    logger.info("upgraded the database from %s to %s", current, head)
    return UpgradeResult(from_revision=current, to_revision=head, backup_path=backup_path)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"`` empties it); for tests.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    revision : str
        Target revision.
    """
    from alembic import command

    cfg = alembic_config()
    with _migration_connection(engine) as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
