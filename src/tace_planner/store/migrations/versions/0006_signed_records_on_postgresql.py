"""Signed procedure records refused by the database on PostgreSQL too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Written by hand. Revision 0003 made SQLite refuse any UPDATE or DELETE of a signed
procedure revision with two triggers; a department's PostgreSQL database got none, so SQL
issued outside the app (a query tool, a script) could change a signed record there. This
revision adds the same guard on PostgreSQL: one PL/pgSQL function and two row triggers that
raise with the same message. SQLite is unchanged (nothing to do there).

PostgreSQL 10 names a trigger's function with ``EXECUTE PROCEDURE``; 11 introduced
``EXECUTE FUNCTION`` and keeps the older keyword only as a deprecated synonym, so the
keyword follows the server's version.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNED_MESSAGE = "a signed procedure record cannot be changed or deleted; amend it"
"""The message of revision 0003's SQLite triggers (the app and tests match it)."""
FUNCTION = "procedure_revision_signed_refused"
TRIGGERS = {
    "procedure_revision_signed_no_update": "UPDATE",
    "procedure_revision_signed_no_delete": "DELETE",
}


def _trigger_keyword(server_version: tuple[int, ...] | None) -> str:
    """``FUNCTION`` from PostgreSQL 11 on, ``PROCEDURE`` before (the only form 10 knows)."""
    return "FUNCTION" if server_version is None or server_version >= (11,) else "PROCEDURE"


def upgrade() -> None:
    """Create the function and triggers on PostgreSQL."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    keyword = _trigger_keyword(bind.dialect.server_version_info)
    op.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF OLD.signed_at IS NOT NULL THEN "
        f"RAISE EXCEPTION '{SIGNED_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; "
        "END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
        "RETURN NEW; "
        "END $$"
    )
    for name, action in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {action} ON procedure_revision "
            f"FOR EACH ROW EXECUTE {keyword} {FUNCTION}()"
        )


def downgrade() -> None:
    """Drop the triggers and the function on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON procedure_revision")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
