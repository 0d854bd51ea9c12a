"""Procedure log: one row per TACE of a case, one revision row per version of its record.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Written by hand; names follow the naming convention of ``tace_planner.store.models``.
On SQLite two triggers refuse any UPDATE or DELETE of a signed revision, whatever
SQL issues it (the ORM refuses it too, see ``tace_planner.store.procedure_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNED_MESSAGE = "a signed procedure record cannot be changed or deleted; amend it"
TRIGGERS = {
    "procedure_revision_signed_no_update": "UPDATE",
    "procedure_revision_signed_no_delete": "DELETE",
}


def _fk(column: str, referred_table: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    """A one-column foreign key to ``referred_table.id``, named by the convention."""
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred_table}.id"],
        name=op.f(f"fk_{table}_{column}_{referred_table}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    """Create the procedure and procedure_revision tables (and the SQLite triggers)."""
    op.create_table(
        "procedure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("plan_pk", sa.Integer(), nullable=True),
        sa.Column("session_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("case_pk", "treatment_case", "procedure", "CASCADE"),
        _fk("plan_pk", "treatment_plan", "procedure", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure")),
        sa.UniqueConstraint("case_pk", "number", name=op.f("uq_procedure_case_number")),
    )
    op.create_index(op.f("ix_procedure_case_pk"), "procedure", ["case_pk"], unique=False)
    op.create_index(op.f("ix_procedure_plan_pk"), "procedure", ["plan_pk"], unique=False)

    op.create_table(
        "procedure_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_pk", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=True),
        sa.Column("loaded_mg", sa.Float(), nullable=True),
        sa.Column("delivered_mg", sa.Float(), nullable=True),
        sa.Column("delivered_fraction", sa.Float(), nullable=True),
        sa.Column("endpoint", sa.String(length=16), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("derived", sa.JSON(), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("procedure_pk", "procedure", "procedure_revision", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure_revision")),
        sa.UniqueConstraint(
            "procedure_pk", "revision", name=op.f("uq_procedure_revision_procedure_pk")
        ),
    )
    op.create_index(
        op.f("ix_procedure_revision_procedure_pk"),
        "procedure_revision",
        ["procedure_pk"],
        unique=False,
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, action in TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON procedure_revision "
                "FOR EACH ROW WHEN OLD.signed_at IS NOT NULL "
                f"BEGIN SELECT RAISE(ABORT, '{SIGNED_MESSAGE}'); END"
            )


def downgrade() -> None:
    """Drop the triggers and the tables of this revision, children first."""
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index(op.f("ix_procedure_revision_procedure_pk"), table_name="procedure_revision")
    op.drop_table("procedure_revision")
    op.drop_index(op.f("ix_procedure_plan_pk"), table_name="procedure")
    op.drop_index(op.f("ix_procedure_case_pk"), table_name="procedure")
    op.drop_table("procedure")
