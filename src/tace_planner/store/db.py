"""Engine and session factories: SQLite pragmas on the desktop, PostgreSQL for a department."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5_000
"""How long a SQLite connection waits for another writer's lock before failing, in ms."""


def sqlite_url_for(path: Path) -> str:
    """Return the SQLAlchemy URL of a SQLite database file.

    Parameters
    ----------
    path : pathlib.Path
        The database file; made absolute. Characters such as ``?``, ``#`` and ``%``
        in the path are escaped, so any file name works.

    Returns
    -------
    str
        A ``sqlite:///…`` URL for :func:`make_engine`.
    """
    return URL.create("sqlite", database=str(Path(path).resolve())).render_as_string()


def sqlite_read_only_url_for(path: Path, *, immutable: bool = False) -> str:
    """The URL of a SQLite file opened read-only (a data folder the user cannot write).

    ``immutable`` also tells SQLite that nobody writes the file meanwhile, which is
    needed when it cannot even create its shared-memory file beside the database.
    """
    query = {"mode": "ro", "uri": "true"}
    if immutable:
        query["immutable"] = "1"
    database = "file:" + quote(str(Path(path).resolve()))
    return URL.create("sqlite", database=database, query=query).render_as_string()


def sqlite_file_of(url: str | URL) -> Path | None:
    """Return the file of a SQLite URL, or None for an in-memory or non-SQLite database.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL
        A database URL.

    Returns
    -------
    pathlib.Path or None
        The database file (it may not exist yet).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if parsed.query.get("uri") in ("true", "1", "True"):
        if parsed.query.get("mode") == "memory":
            return None
        database = unquote(database.removeprefix("file:"))
    if database in ("", ":memory:"):
        return None
    return Path(database)


LOW_DISK_BYTES = 16 * 1024**2
"""Below this much free space, a failed database write is reported as a full disk."""


def describe_database_error(error: BaseException, folder: Path | None = None) -> str:
    """One line saying why the database could not be opened or written.

    SQLite reports a full disk as "database or disk is full" when writing and,
    at start-up, often as "disk I/O error"; both are said as a full disk when
    the disk of ``folder`` (the data folder) has almost no free space left.
    """
    import shutil

    original = getattr(error, "orig", None) or error
    text = str(original).splitlines()[0] if str(original) else type(original).__name__
    lowered = text.lower()
    free: int | None = None
    if folder is not None:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            free = None
    if "disk is full" in lowered or (
        "disk i/o error" in lowered and free is not None and free < LOW_DISK_BYTES
    ):
        where = f" ({folder})" if folder is not None else ""
        return f"the disk of the data folder{where} is full: free some space and try again"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the database is read-only here, nothing was changed ({text})"
    return f"the database could not be used ({text})"


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Set the per-connection pragmas every SQLite connection of the app needs."""
    cursor = dbapi_connection.cursor()
    try:
        # Run before any BEGIN: both pragmas are silently ignored inside a transaction.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.fetchall()
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """Create the engine of the app's database.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL: ``sqlite:///path/to/file.sqlite`` (see :func:`sqlite_url_for`),
        ``sqlite://`` for a throwaway in-memory database, or
        ``postgresql+psycopg://user@host/db`` for a department server.

    Returns
    -------
    sqlalchemy.Engine
        For SQLite, every new connection has foreign keys on, WAL journaling and a
        busy timeout of :data:`SQLITE_BUSY_TIMEOUT_MS`, and the folder of the file
        exists. Other databases get pre-ping so that a dropped server connection is
        replaced rather than reported.

    Notes
    -----
    The pysqlite driver's default ("legacy") transaction control is kept: it opens a
    transaction at the first INSERT, UPDATE or DELETE, so plain reads never hold a
    lock. Optimistic version columns protect read-modify-write cycles instead.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    path = sqlite_file_of(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory used by every unit of work.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        From :func:`make_engine`.

    Returns
    -------
    sqlalchemy.orm.sessionmaker
        Sessions keep their rows' loaded values after commit (``expire_on_commit=False``),
        so services can build read models from them once the unit of work has closed.
    """
    return sessionmaker(bind=engine, expire_on_commit=False)
