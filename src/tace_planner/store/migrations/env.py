"""Alembic environment: runs the migrations on the app's connection, or on a URL for developers."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from tace_planner.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: object) -> None:
    """Configure the migration context the same way online, offline and for autogenerate."""
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Write the migrations as SQL (``alembic upgrade --sql``) without connecting."""
    _configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    """Run the migrations on one connection."""
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the shared connection, else on a new engine from the URL.

    ``tace_planner.store.upgrade`` passes its connection in
    ``config.attributes["connection"]`` (Alembic cookbook, "Sharing a Connection across
    one or more programmatic migration commands"), already inside a transaction that it
    commits itself.
    """
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the migrations")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as new_connection:
            _run_on(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
