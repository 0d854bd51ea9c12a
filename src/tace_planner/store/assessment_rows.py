"""ORM row of a stored response assessment: one criterion at one follow-up (migration 0005).

A re-assessment of the same criterion at the same timepoint does not overwrite the
older row: the older one becomes ``superseded`` (kept, with ``superseded_by_pk``) and
both changes are audited by the service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tace_planner.store.models import Base, utc_now


class AssessmentRow(Base):
    """One criterion's response at one follow-up, with its explanation and parameters."""

    __tablename__ = "response_assessment"
    __table_args__ = (
        Index(
            "ix_response_assessment_case_current", "case_pk", "status", "timepoint_pk", "criterion"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), index=True
    )
    timepoint_pk: Mapped[int] = mapped_column(
        ForeignKey("timepoint.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(String(16))
    """recist, mrecist, easl, choi or volume (the keys of ``assess --criteria``)."""
    category: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(Text, default="")
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The criterion's JSON as ``assess --json`` prints it (with its parts for RECIST)."""
    parameters_version: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The threshold values used (``ResponseParameters.to_json()``)."""
    status: Mapped[str] = mapped_column(String(16), default="current")  # current / superseded
    superseded_by_pk: Mapped[int | None] = mapped_column(
        ForeignKey("response_assessment.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}
