"""Follow-up: schedules with their parameter snapshot, scheduled timepoints, therapy lines,
case closure and the case's group dates.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Written by hand; names follow the naming convention of ``tace_planner.store.models``.
New columns of existing tables have server defaults, so rows written by 0003 stay valid.
The composite index on timepoint (status, due_on, window_end_on) serves the worklist.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, referred_table: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    """A one-column foreign key to ``referred_table.id``, named by the convention."""
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred_table}.id"],
        name=op.f(f"fk_{table}_{column}_{referred_table}"),
        ondelete=ondelete,
    )


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=False, server_default="")


def upgrade() -> None:
    """Create followup_schedule and therapy_line; add the follow-up columns."""
    op.create_table(
        "followup_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("procedure_pk", sa.Integer(), nullable=True),
        sa.Column("tace_number", sa.Integer(), nullable=False),
        sa.Column("anchor_on", sa.Date(), nullable=False),
        sa.Column("preset", sa.String(length=32), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("case_pk", "treatment_case", "followup_schedule", "CASCADE"),
        _fk("procedure_pk", "procedure", "followup_schedule", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_schedule")),
    )
    op.create_index(
        op.f("ix_followup_schedule_case_pk"), "followup_schedule", ["case_pk"], unique=False
    )
    op.create_index(
        op.f("ix_followup_schedule_procedure_pk"),
        "followup_schedule",
        ["procedure_pk"],
        unique=False,
    )
    op.create_table(
        "therapy_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("drug", sa.String(length=200), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("stop_on", sa.Date(), nullable=True),
        sa.Column("best_response", sa.String(length=16), nullable=False),
        sa.Column("progression_on", sa.Date(), nullable=True),
        sa.Column("progression_site", sa.String(length=16), nullable=False),
        sa.Column("progression_established", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("case_pk", "treatment_case", "therapy_line", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_therapy_line")),
    )
    op.create_index(op.f("ix_therapy_line_case_pk"), "therapy_line", ["case_pk"], unique=False)

    with op.batch_alter_table("treatment_case") as batch:
        batch.add_column(sa.Column("diagnosed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("liver_metastases_on", sa.Date(), nullable=True))
        batch.add_column(_text("tace_sequence", 20))
        batch.add_column(_text("followup_preset", 32))
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch.add_column(_text("closure_reason", 16))

    with op.batch_alter_table("timepoint") as batch:
        batch.add_column(sa.Column("schedule_pk", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("tace_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("followup_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("window_start_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("window_end_on", sa.Date(), nullable=True))
        batch.add_column(_text("status", 16))
        batch.add_column(_text("modality", 16))
        batch.add_column(_text("radiologist", 64))
        batch.add_column(_text("progression_site", 16))
        batch.create_foreign_key(
            op.f("fk_timepoint_schedule_pk_followup_schedule"),
            "followup_schedule",
            ["schedule_pk"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_timepoint_schedule_pk"), ["schedule_pk"], unique=False)
        batch.create_index(
            "ix_timepoint_status_due_on", ["status", "due_on", "window_end_on"], unique=False
        )


def downgrade() -> None:
    """Drop the follow-up columns and tables, children first."""
    with op.batch_alter_table("timepoint") as batch:
        batch.drop_index("ix_timepoint_status_due_on")
        batch.drop_index(op.f("ix_timepoint_schedule_pk"))
        batch.drop_constraint(
            op.f("fk_timepoint_schedule_pk_followup_schedule"), type_="foreignkey"
        )
        for name in (
            "progression_site", "radiologist", "modality", "status", "window_end_on",
            "window_start_on", "due_on", "followup_number", "tace_number", "schedule_pk",
        ):  # fmt: skip
            batch.drop_column(name)
    with op.batch_alter_table("treatment_case") as batch:
        for name in (
            "closure_reason", "closed_on", "followup_preset", "tace_sequence",
            "liver_metastases_on", "diagnosed_on",
        ):  # fmt: skip
            batch.drop_column(name)
    op.drop_index(op.f("ix_therapy_line_case_pk"), table_name="therapy_line")
    op.drop_table("therapy_line")
    op.drop_index(op.f("ix_followup_schedule_procedure_pk"), table_name="followup_schedule")
    op.drop_index(op.f("ix_followup_schedule_case_pk"), table_name="followup_schedule")
    op.drop_table("followup_schedule")
