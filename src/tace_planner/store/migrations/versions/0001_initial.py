"""Initial schema: patients, cases, imaging index, lesions, segmentations, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Reviewed by hand (autogenerate was the draft). Every constraint and index is named
explicitly with the name the naming convention of ``tace_planner.store.models`` gives,
wrapped in ``op.f`` so that the convention is not applied a second time. Tables are
created parents first and dropped children first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
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


def _index(table: str, column: str) -> None:
    """A non-unique index on one column, named by the convention."""
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_on", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("patient_id", "issuer", name=op.f("uq_patient_id_issuer")),
    )

    op.create_table(
        "treatment_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_pk", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("primary_site", sa.String(length=100), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=False),
        sa.Column("metastases_timing", sa.String(length=20), nullable=False),
        sa.Column("planned_tace_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("patient_pk", "patient", "treatment_case", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_case")),
    )
    _index("treatment_case", "patient_pk")

    op.create_table(
        "timepoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("imaged_on", sa.Date(), nullable=True),
        _fk("case_pk", "treatment_case", "timepoint", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timepoint")),
        sa.UniqueConstraint("case_pk", "label", name=op.f("uq_timepoint_case_label")),
    )
    _index("timepoint", "case_pk")

    op.create_table(
        "study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_pk", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=True),
        sa.Column("timepoint_pk", sa.Integer(), nullable=True),
        sa.Column("study_uid", sa.String(length=64), nullable=False),
        sa.Column("study_on", sa.Date(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("accession_number", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        _fk("patient_pk", "patient", "study", "CASCADE"),
        _fk("case_pk", "treatment_case", "study", "SET NULL"),
        _fk("timepoint_pk", "timepoint", "study", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study")),
        sa.UniqueConstraint("study_uid", name=op.f("uq_study_study_uid")),
    )
    _index("study", "patient_pk")
    _index("study", "case_pk")
    _index("study", "timepoint_pk")

    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_pk", sa.Integer(), nullable=False),
        sa.Column("series_uid", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("series_number", sa.Integer(), nullable=True),
        sa.Column("series_on", sa.Date(), nullable=True),
        sa.Column("frame_of_reference_uid", sa.String(length=64), nullable=False),
        sa.Column("sop_class_uid", sa.String(length=64), nullable=False),
        sa.Column("is_volume", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.String(length=16), nullable=False),
        sa.Column("plane", sa.String(length=16), nullable=False),
        sa.Column("classification_source", sa.String(length=16), nullable=False),
        sa.Column("slice_thickness_mm", sa.Float(), nullable=True),
        sa.Column("field_strength_t", sa.Float(), nullable=True),
        sa.Column("geometry_status", sa.String(length=16), nullable=False),
        sa.Column("geometry_report", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("study_pk", "study", "series", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("series_uid", name=op.f("uq_series_series_uid")),
    )
    _index("series", "study_pk")

    op.create_table(
        "instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_pk", sa.Integer(), nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("sop_class_uid", sa.String(length=64), nullable=False),
        sa.Column("instance_number", sa.Integer(), nullable=True),
        sa.Column("stored_path", sa.String(length=400), nullable=False),
        sa.Column("transfer_syntax_uid", sa.String(length=64), nullable=False),
        sa.Column("file_size_bytes", sa.Integer(), nullable=False),
        sa.Column("position_along_normal_mm", sa.Float(), nullable=True),
        _fk("series_pk", "series", "instance", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance")),
        sa.UniqueConstraint("sop_instance_uid", name=op.f("uq_instance_sop_instance_uid")),
    )
    _index("instance", "series_pk")

    op.create_table(
        "lesion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("couinaud_segment", sa.String(length=8), nullable=False),
        sa.Column("is_target", sa.Boolean(), nullable=False),
        sa.Column("target_override_reason", sa.Text(), nullable=False),
        sa.Column("colour", sa.String(length=9), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("case_pk", "treatment_case", "lesion", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesion")),
        sa.UniqueConstraint("case_pk", "name", name=op.f("uq_lesion_case_name")),
    )
    _index("lesion", "case_pk")

    op.create_table(
        "segmentation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesion_pk", sa.Integer(), nullable=False),
        sa.Column("timepoint_pk", sa.Integer(), nullable=False),
        sa.Column("series_pk", sa.Integer(), nullable=False),
        sa.Column("grid_shape", sa.JSON(), nullable=False),
        sa.Column("mask_packed", sa.LargeBinary(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk("lesion_pk", "lesion", "segmentation", "CASCADE"),
        _fk("timepoint_pk", "timepoint", "segmentation", "CASCADE"),
        _fk("series_pk", "series", "segmentation", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segmentation")),
        sa.UniqueConstraint(
            "lesion_pk", "timepoint_pk", name=op.f("uq_segmentation_lesion_timepoint")
        ),
    )
    _index("segmentation", "lesion_pk")
    _index("segmentation", "timepoint_pk")
    _index("segmentation", "series_pk")

    op.create_table(
        "measurement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segmentation_pk", sa.Integer(), nullable=False),
        sa.Column("volume_cm3", sa.Float(), nullable=True),
        sa.Column("longest_axial_diameter_mm", sa.Float(), nullable=True),
        sa.Column("short_axis_mm", sa.Float(), nullable=True),
        sa.Column("longest_3d_diameter_mm", sa.Float(), nullable=True),
        sa.Column("mean_hu", sa.Float(), nullable=True),
        sa.Column("enhancing_fraction", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("trust", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measured_by", sa.String(length=64), nullable=False),
        _fk("segmentation_pk", "segmentation", "measurement", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement")),
    )
    _index("measurement", "segmentation_pk")

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_pk", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    _index("audit_event", "at")


def downgrade() -> None:
    """Drop every table of the first release (all data is lost)."""
    # Dropping a table drops its indexes; children go before their parents.
    for table in (
        "audit_event",
        "measurement",
        "segmentation",
        "lesion",
        "instance",
        "series",
        "study",
        "timepoint",
        "treatment_case",
        "patient",
    ):
        op.drop_table(table)
