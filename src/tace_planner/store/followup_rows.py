"""ORM rows of the follow-up: the schedule made after a TACE, and systemic therapy lines.

A :class:`FollowupScheduleRow` keeps the preset values it was made with (a snapshot of
``followup.json``), so a changed parameter file changes new schedules only. Its timepoints
are :class:`~tace_planner.store.models.TimepointRow` rows with the schedule fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tace_planner.store.models import Base, utc_now


class FollowupScheduleRow(Base):
    """The follow-up schedule after one TACE: anchor date, preset and its parameter snapshot."""

    __tablename__ = "followup_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), index=True
    )
    procedure_pk: Mapped[int | None] = mapped_column(
        ForeignKey("procedure.id", ondelete="SET NULL"), index=True
    )
    tace_number: Mapped[int] = mapped_column(Integer)
    anchor_on: Mapped[dt.date] = mapped_column(Date)
    preset: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """{"file_version": …, "preset": SchedulePreset.to_json(), "horizon_months": …}."""
    status: Mapped[str] = mapped_column(String(16), default="active")  # active/superseded/ended
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class TherapyLineRow(Base):
    """One line of systemic therapy of a case, with its progression date if any."""

    __tablename__ = "therapy_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), index=True
    )
    line_number: Mapped[int] = mapped_column(Integer)
    drug: Mapped[str] = mapped_column(String(200))
    start_on: Mapped[dt.date] = mapped_column(Date)
    stop_on: Mapped[dt.date | None] = mapped_column(Date)
    best_response: Mapped[str] = mapped_column(String(16), default="")
    progression_on: Mapped[dt.date | None] = mapped_column(Date)
    progression_site: Mapped[str] = mapped_column(String(16), default="unspecified")
    progression_established: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}
