"""Annotations drawn on images; clinical inputs and treatment plans of a case.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Written by hand; names follow the naming convention of ``tace_planner.store.models``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
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


def upgrade() -> None:
    """Create the annotation, clinical_inputs and treatment_plan tables."""
    op.create_table(
        "annotation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_pk", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _fk("series_pk", "series", "annotation", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation")),
    )
    op.create_index(op.f("ix_annotation_series_pk"), "annotation", ["series_pk"], unique=False)

    op.create_table(
        "clinical_inputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("bilirubin_mg_dl", sa.Float(), nullable=True),
        sa.Column("ecog", sa.Integer(), nullable=True),
        sa.Column("ugt1a1_status", sa.String(length=32), nullable=False),
        sa.Column("extrahepatic_disease", sa.Boolean(), nullable=True),
        sa.Column("ia_lidocaine_planned", sa.Boolean(), nullable=True),
        sa.Column("measured_on", sa.Date(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("case_pk", "treatment_case", "clinical_inputs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_inputs")),
        sa.UniqueConstraint("case_pk", name=op.f("uq_clinical_inputs_case_pk")),
    )

    op.create_table(
        "treatment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("supersedes_pk", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("case_pk", "treatment_case", "treatment_plan", "CASCADE"),
        _fk("supersedes_pk", "treatment_plan", "treatment_plan", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_plan")),
        sa.UniqueConstraint(
            "case_pk", "plan_version", name=op.f("uq_treatment_plan_case_version")
        ),
    )
    op.create_index(
        op.f("ix_treatment_plan_case_pk"), "treatment_plan", ["case_pk"], unique=False
    )


def downgrade() -> None:
    """Drop the tables of this revision, children first."""
    op.drop_index(op.f("ix_treatment_plan_case_pk"), table_name="treatment_plan")
    op.drop_table("treatment_plan")
    op.drop_table("clinical_inputs")
    op.drop_index(op.f("ix_annotation_series_pk"), table_name="annotation")
    op.drop_table("annotation")
