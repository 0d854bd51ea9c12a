"""ORM rows of the core entities, with a naming convention and version columns."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC timestamp; SQLite returns naive values, read back here as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Store aware timestamps converted to UTC; naive values are refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware (UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Return an aware UTC timestamp whatever the database gave back."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utc_now() -> dt.datetime:
    """Return the current time as an aware UTC timestamp."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        dt.datetime: UtcDateTime(),
    }


class PatientRow(Base):
    """One person, identified by the DICOM (0010,0020) *Patient ID* and issuer."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("patient_id", "issuer", name="uq_patient_id_issuer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    birth_on: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    cases: Mapped[list[CaseRow]] = relationship(back_populates="patient")
    studies: Mapped[list[StudyRow]] = relationship(back_populates="patient")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class CaseRow(Base):
    """One treatment course of a patient (primary tumour, liver metastases, TACE)."""

    __tablename__ = "treatment_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    primary_site: Mapped[str] = mapped_column(String(100), default="")
    grade: Mapped[str] = mapped_column(String(20), default="")
    metastases_timing: Mapped[str] = mapped_column(String(20), default="")
    planned_tace_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # -- follow-up (migration 0004) --
    diagnosed_on: Mapped[dt.date | None] = mapped_column(Date)
    """Date of the primary tumour's diagnosis."""
    liver_metastases_on: Mapped[dt.date | None] = mapped_column(Date)
    """Date liver metastases were detected."""
    tace_sequence: Mapped[str] = mapped_column(String(20), default="", server_default="")
    """Entered "immediate" or "after_chemotherapy" ("" = derived from the therapy lines)."""
    followup_preset: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """Schedule preset chosen for the case ("" = the parameter file's default)."""
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closure_reason: Mapped[str] = mapped_column(String(16), default="", server_default="")
    """death, progression, withdrawal or lost; "" while follow-up goes on."""

    patient: Mapped[PatientRow] = relationship(back_populates="cases")
    timepoints: Mapped[list[TimepointRow]] = relationship(back_populates="case")
    lesions: Mapped[list[LesionRow]] = relationship(back_populates="case")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class StudyRow(Base):
    """A DICOM study, identified by (0020,000D) *Study Instance UID*."""

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    case_pk: Mapped[int | None] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="SET NULL"), index=True
    )
    timepoint_pk: Mapped[int | None] = mapped_column(
        ForeignKey("timepoint.id", ondelete="SET NULL"), index=True
    )
    study_uid: Mapped[str] = mapped_column(String(64), unique=True)
    study_on: Mapped[dt.date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200), default="")
    accession_number: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(default=utc_now)

    patient: Mapped[PatientRow] = relationship(back_populates="studies")
    series: Mapped[list[SeriesRow]] = relationship(back_populates="study")


class SeriesRow(Base):
    """A DICOM series, identified by (0020,000E) *Series Instance UID*, with its classification."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    series_uid: Mapped[str] = mapped_column(String(64), unique=True)
    modality: Mapped[str] = mapped_column(String(16), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    series_number: Mapped[int | None] = mapped_column(Integer)
    series_on: Mapped[dt.date | None] = mapped_column(Date)
    frame_of_reference_uid: Mapped[str] = mapped_column(String(64), default="")
    sop_class_uid: Mapped[str] = mapped_column(String(64), default="")
    is_volume: Mapped[bool] = mapped_column(Boolean, default=True)
    phase: Mapped[str] = mapped_column(String(16), default="")
    sequence: Mapped[str] = mapped_column(String(16), default="")
    plane: Mapped[str] = mapped_column(String(16), default="")
    classification_source: Mapped[str] = mapped_column(String(16), default="auto")
    slice_thickness_mm: Mapped[float | None] = mapped_column(Float)
    field_strength_t: Mapped[float | None] = mapped_column(Float)
    geometry_status: Mapped[str] = mapped_column(String(16), default="")
    geometry_report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    study: Mapped[StudyRow] = relationship(back_populates="series")
    instances: Mapped[list[InstanceRow]] = relationship(back_populates="series")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class InstanceRow(Base):
    """One stored DICOM file, identified by (0008,0018) *SOP Instance UID*."""

    __tablename__ = "instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_pk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    sop_class_uid: Mapped[str] = mapped_column(String(64), default="")
    instance_number: Mapped[int | None] = mapped_column(Integer)
    stored_path: Mapped[str] = mapped_column(String(400))
    """Path of the copy inside the managed image store, relative to its root."""
    transfer_syntax_uid: Mapped[str] = mapped_column(String(64), default="")
    file_size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    position_along_normal_mm: Mapped[float | None] = mapped_column(Float)

    series: Mapped[SeriesRow] = relationship(back_populates="instances")


class TimepointRow(Base):
    """A moment of a case's course: baseline, or follow-up n after a TACE."""

    __tablename__ = "timepoint"
    __table_args__ = (
        UniqueConstraint("case_pk", "label", name="uq_timepoint_case_label"),
        Index("ix_timepoint_status_due_on", "status", "due_on", "window_end_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # "baseline" or "follow_up"
    label: Mapped[str] = mapped_column(String(64))
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    imaged_on: Mapped[dt.date | None] = mapped_column(Date)
    # -- follow-up schedule (migration 0004); empty for timepoints made by linking studies --
    schedule_pk: Mapped[int | None] = mapped_column(
        ForeignKey("followup_schedule.id", ondelete="SET NULL"), index=True
    )
    tace_number: Mapped[int | None] = mapped_column(Integer)
    followup_number: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    window_start_on: Mapped[dt.date | None] = mapped_column(Date)
    window_end_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="", server_default="")
    """scheduled, done, unscheduled, superseded or ended ("" = made by linking a study)."""
    modality: Mapped[str] = mapped_column(String(16), default="", server_default="")
    radiologist: Mapped[str] = mapped_column(String(64), default="", server_default="")
    progression_site: Mapped[str] = mapped_column(String(16), default="", server_default="")
    """Progression seen at this assessment: liver, extrahepatic, both, unspecified ("" none)."""

    case: Mapped[CaseRow] = relationship(back_populates="timepoints")


class LesionRow(Base):
    """The liver or one tumour focus of a case; its identity holds across timepoints."""

    __tablename__ = "lesion"
    __table_args__ = (UniqueConstraint("case_pk", "name", name="uq_lesion_case_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="focus")  # "liver" or "focus"
    couinaud_segment: Mapped[str] = mapped_column(String(8), default="")
    is_target: Mapped[bool] = mapped_column(Boolean, default=False)
    target_override_reason: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(9), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    case: Mapped[CaseRow] = relationship(back_populates="lesions")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class SegmentationRow(Base):
    """A lesion's mask at one timepoint on one series grid, stored compressed."""

    __tablename__ = "segmentation"
    __table_args__ = (
        UniqueConstraint("lesion_pk", "timepoint_pk", name="uq_segmentation_lesion_timepoint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesion_pk: Mapped[int] = mapped_column(ForeignKey("lesion.id", ondelete="CASCADE"), index=True)
    timepoint_pk: Mapped[int] = mapped_column(
        ForeignKey("timepoint.id", ondelete="CASCADE"), index=True
    )
    series_pk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    grid_shape: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """{"shape": [z, y, x], "bbox": [z0, y0, x0, z1, y1, x1]} of the packed mask."""
    mask_packed: Mapped[bytes] = mapped_column(LargeBinary)
    method: Mapped[str] = mapped_column(String(16), default="manual")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class MeasurementRow(Base):
    """Numbers measured on a segmentation, with how they were obtained."""

    __tablename__ = "measurement"

    id: Mapped[int] = mapped_column(primary_key=True)
    segmentation_pk: Mapped[int] = mapped_column(
        ForeignKey("segmentation.id", ondelete="CASCADE"), index=True
    )
    volume_cm3: Mapped[float | None] = mapped_column(Float)
    longest_axial_diameter_mm: Mapped[float | None] = mapped_column(Float)
    short_axis_mm: Mapped[float | None] = mapped_column(Float)
    longest_3d_diameter_mm: Mapped[float | None] = mapped_column(Float)
    mean_hu: Mapped[float | None] = mapped_column(Float)
    enhancing_fraction: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16), default="auto")
    trust: Mapped[str] = mapped_column(String(16), default="ok")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    measured_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    measured_by: Mapped[str] = mapped_column(String(64), default="")


class AuditEventRow(Base):
    """Who changed what and when, with the values before and after."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utc_now, index=True)
    user: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_pk: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")


class AnnotationRow(Base):
    """A measurement drawn on an image (ruler, ellipse ROI, angle), kept with its series."""

    __tablename__ = "annotation"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_pk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    part: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16))  # "ruler", "ellipse", "angle"
    geometry: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Points in LPS millimetres and the view they were drawn in."""
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What was measured (length_mm, mean_hu, area_mm2, angle_deg …)."""
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class ClinicalInputsRow(Base):
    """A case's patient measurements used for planning (height, weight, labs, ECOG …)."""

    __tablename__ = "clinical_inputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), unique=True
    )
    height_cm: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    bilirubin_mg_dl: Mapped[float | None] = mapped_column(Float)
    ecog: Mapped[int | None] = mapped_column(Integer)
    ugt1a1_status: Mapped[str] = mapped_column(String(32), default="")
    extrahepatic_disease: Mapped[bool | None] = mapped_column(Boolean)
    ia_lidocaine_planned: Mapped[bool | None] = mapped_column(Boolean)
    measured_on: Mapped[dt.date | None] = mapped_column(Date)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class TreatmentPlanRow(Base):
    """One version of a treatment plan: inputs, parameter snapshot, results, warnings.

    An approved plan is never changed; a change makes a new version that
    points to the one it supersedes.
    """

    __tablename__ = "treatment_plan"
    __table_args__ = (
        UniqueConstraint("case_pk", "plan_version", name="uq_treatment_plan_case_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), index=True
    )
    plan_version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_pk: Mapped[int | None] = mapped_column(
        ForeignKey("treatment_plan.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft/approved
    model: Mapped[str] = mapped_column(String(16), default="burden")  # burden/fixed
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """{"shown": [...], "acknowledged": [...]}."""
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """{field: {"value": …, "proposed": …, "reason": …}}."""
    explanation: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    approved_at: Mapped[dt.datetime | None] = mapped_column()
    approved_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


# The procedure log's rows live in their own module; importing it here registers them
# on Base.metadata for every user of the models.
from tace_planner.store import assessment_rows as _assessment_rows  # noqa: E402, F401
from tace_planner.store import followup_rows as _followup_rows  # noqa: E402, F401
from tace_planner.store import procedure_rows as _procedure_rows  # noqa: E402, F401
from tace_planner.store.text_lengths import guard as _guard  # noqa: E402

_guard(Base)
