"""Stored response assessments: one row per criterion and follow-up, superseded not replaced.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Written by hand; names follow the naming convention of ``tace_planner.store.models``.
A new table only: rows written by 0004 are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "response_assessment"


def upgrade() -> None:
    """Create response_assessment with its indexes."""
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("timepoint_pk", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("parameters_version", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("superseded_by_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_pk"], ["treatment_case.id"],
            name=op.f("fk_response_assessment_case_pk_treatment_case"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["timepoint_pk"], ["timepoint.id"],
            name=op.f("fk_response_assessment_timepoint_pk_timepoint"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_pk"], [f"{TABLE}.id"],
            name=op.f("fk_response_assessment_superseded_by_pk_response_assessment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_assessment")),
    )  # fmt: skip
    op.create_index(op.f("ix_response_assessment_case_pk"), TABLE, ["case_pk"], unique=False)
    op.create_index(
        op.f("ix_response_assessment_timepoint_pk"), TABLE, ["timepoint_pk"], unique=False
    )
    op.create_index(
        "ix_response_assessment_case_current",
        TABLE,
        ["case_pk", "status", "timepoint_pk", "criterion"],
        unique=False,
    )


def downgrade() -> None:
    """Drop response_assessment."""
    op.drop_index("ix_response_assessment_case_current", table_name=TABLE)
    op.drop_index(op.f("ix_response_assessment_timepoint_pk"), table_name=TABLE)
    op.drop_index(op.f("ix_response_assessment_case_pk"), table_name=TABLE)
    op.drop_table(TABLE)
