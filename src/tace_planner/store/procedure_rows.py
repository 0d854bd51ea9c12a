"""ORM rows of the procedure log, and the guard that keeps a signed record unchanged.

A :class:`ProcedureRow` is one TACE of a case (its number in the course, the plan
session it records); its content lives in :class:`ProcedureRevisionRow` rows, one
per version: a draft is edited in place (optimistic locking), signing locks it,
and an amendment adds a new signed revision, so every earlier version stays.

A signed revision is never updated nor deleted: the mapper events below refuse
it for the ORM (:class:`tace_planner.domain.procedure.SignedRecordError`), and
on SQLite the triggers of migration 0003 refuse it for any SQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tace_planner.domain.procedure import SignedRecordError
from tace_planner.store.models import Base, utc_now


class ProcedureRow(Base):
    """One TACE of a case: number n in the course, the plan session it records (if any)."""

    __tablename__ = "procedure"
    __table_args__ = (UniqueConstraint("case_pk", "number", name="uq_procedure_case_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_pk: Mapped[int] = mapped_column(
        ForeignKey("treatment_case.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    plan_pk: Mapped[int | None] = mapped_column(
        ForeignKey("treatment_plan.id", ondelete="SET NULL"), index=True
    )
    session_number: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    revisions: Mapped[list[ProcedureRevisionRow]] = relationship(
        back_populates="procedure", order_by="ProcedureRevisionRow.revision"
    )

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class ProcedureRevisionRow(Base):
    """One version of a procedure record: draft (editable) or signed (never changed)."""

    __tablename__ = "procedure_revision"
    __table_args__ = (
        UniqueConstraint("procedure_pk", "revision", name="uq_procedure_revision_procedure_pk"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    procedure_pk: Mapped[int] = mapped_column(
        ForeignKey("procedure.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft / signed
    performed_on: Mapped[dt.date | None] = mapped_column(Date)
    loaded_mg: Mapped[float | None] = mapped_column(Float)
    delivered_mg: Mapped[float | None] = mapped_column(Float)
    delivered_fraction: Mapped[float | None] = mapped_column(Float)
    endpoint: Mapped[str] = mapped_column(String(16), default="")
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The record's content (``ProcedureRecord.to_json()``)."""
    derived: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Differences from the plan, risk factors, the planned session and parameter version."""
    amendment_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    signed_at: Mapped[dt.datetime | None] = mapped_column()
    signed_by: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    procedure: Mapped[ProcedureRow] = relationship(back_populates="revisions")

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


def _was_signed(target: ProcedureRevisionRow) -> bool:
    """True when the row, as last loaded from the database, was signed."""
    history = sa_inspect(target).attrs.signed_at.history
    original = history.deleted or history.unchanged
    return bool(original) and original[0] is not None


@event.listens_for(ProcedureRevisionRow, "before_update")
def _refuse_update_of_signed(mapper: Any, connection: Any, target: ProcedureRevisionRow) -> None:
    state = sa_inspect(target)
    changed = [
        attr.key
        for attr in state.mapper.column_attrs
        if attr.key != "version" and state.attrs[attr.key].history.has_changes()
    ]
    if changed and _was_signed(target):
        raise SignedRecordError(
            f"revision {target.revision} of procedure {target.procedure_pk} is signed: "
            f"{', '.join(changed)} cannot change; amend the record (with a reason) instead"
        )


@event.listens_for(ProcedureRevisionRow, "before_delete")
def _refuse_delete_of_signed(mapper: Any, connection: Any, target: ProcedureRevisionRow) -> None:
    if _was_signed(target):
        raise SignedRecordError(
            f"revision {target.revision} of procedure {target.procedure_pk} is signed "
            "and cannot be deleted"
        )
