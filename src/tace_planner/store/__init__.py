"""Persistence: SQLAlchemy models, sessions, Alembic migrations. The only place with SQL."""
