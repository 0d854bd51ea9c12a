"""Read models of the procedure log handed to the UI and the CLI (no SQLAlchemy here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tace_planner.domain.procedure import (
    DELIVERED_DOSE_RULE,
    Difference,
    FieldProblem,
    PlannedSession,
    ProcedureRecord,
    missing_to_sign,
    unexplained,
)
from tace_planner.domain.procedure_risk import RiskFactor

DISCLAIMER = (
    "Planning aid for research and clinical decision support — not a prescription. "
    "The physician decides."
)
PROCEDURE_FORMAT = "tace-planner-procedure/1"


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class RevisionSummary:
    """One version of a procedure record, as listed under "previous versions"."""

    revision: int
    status: str
    delivered_mg: float | None
    created_by: str
    created_at: dt.datetime | None
    signed_by: str = ""
    signed_at: dt.datetime | None = None
    amendment_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "revision": self.revision,
            "status": self.status,
            "delivered_mg": self.delivered_mg,
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "signed_by": self.signed_by,
            "signed_at": _iso(self.signed_at),
            "amendment_reason": self.amendment_reason,
        }


@dataclass(frozen=True)
class ProcedureDraft:
    """A record not saved yet (prefilled from a plan session), with what it would show."""

    case_pk: int
    number: int
    record: ProcedureRecord
    planned: PlannedSession | None
    differences: tuple[Difference, ...]
    risk_factors: tuple[RiskFactor, ...]
    loaded_mg: float | None
    delivered_mg: float | None
    problems: tuple[FieldProblem, ...] = ()
    delivered_explanation: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcedureItem:
    """One procedure (TACE n of a case) at one of its revisions (the latest by default).

    ``status`` is "draft" (editable), "signed" (locked) or "amended" (locked, a
    later signed revision replaced the first); ``loaded_mg`` and ``delivered_mg``
    are kept apart, the course counts the delivered dose of signed records only.
    """

    pk: int
    case_pk: int
    number: int
    plan_pk: int | None
    session_number: int | None
    status: str
    revision: int
    record: ProcedureRecord
    loaded_mg: float | None
    delivered_mg: float | None
    differences: tuple[Difference, ...]
    risk_factors: tuple[RiskFactor, ...]
    planned: PlannedSession | None
    revisions: tuple[RevisionSummary, ...] = ()
    signed_by: str = ""
    signed_at: dt.datetime | None = None
    amendment_reason: str = ""
    created_by: str = ""
    created_at: dt.datetime | None = None
    version: int = 1
    patient_id: str = ""
    patient_name: str = ""
    case_title: str = ""
    parameters_version: str = ""
    is_latest: bool = True
    confirmed_implausible: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def unplanned(self) -> bool:
        """True when no approved plan session is recorded."""
        return self.planned is None

    @property
    def locked(self) -> bool:
        """True once signed (edits become amendments)."""
        return self.status != "draft"

    @property
    def unexplained_differences(self) -> tuple[Difference, ...]:
        """Differences from the plan still without a reason (sign-off needs them)."""
        return tuple(unexplained(self.differences))

    @property
    def missing_to_sign(self) -> tuple[str, ...]:
        """Fields still empty that sign-off needs."""
        return tuple(missing_to_sign(self.record))

    def to_json(self) -> dict[str, Any]:
        """The ``procedure … --json`` document."""
        return {
            "format": PROCEDURE_FORMAT,
            "procedure_id": self.pk,
            "case_id": self.case_pk,
            "number": self.number,
            "status": self.status,
            "revision": self.revision,
            "is_latest": self.is_latest,
            "plan_id": self.plan_pk,
            "session": self.session_number,
            "unplanned": self.unplanned,
            "performed_on": _iso(self.record.performed_on),
            "loaded_mg": self.loaded_mg,
            "delivered_mg": self.delivered_mg,
            "delivered_fraction": self.record.delivered_fraction,
            "delivered_rule": DELIVERED_DOSE_RULE,
            "endpoint": self.record.endpoint,
            "differences": [d.to_json() for d in self.differences],
            "risk_factors": [r.to_json() for r in self.risk_factors],
            "planned": self.planned.to_json() if self.planned else None,
            "record": self.record.to_json(),
            "missing_to_sign": list(self.missing_to_sign),
            "signed_by": self.signed_by,
            "signed_at": _iso(self.signed_at),
            "amendment_reason": self.amendment_reason,
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "revisions": [r.to_json() for r in self.revisions],
            "patient_id": self.patient_id,
            "case_title": self.case_title,
            "parameters_version": self.parameters_version,
            "confirmed_implausible": list(self.confirmed_implausible),
            "disclaimer": DISCLAIMER,
        }


@dataclass(frozen=True, slots=True)
class CourseSummary:
    """The course of a case as the procedure log sees it (for planning and follow-up).

    ``delivered_mg`` / ``procedures``: signed procedures; ``planned_mg`` /
    ``planned_sessions``: approved sessions not yet performed (their loaded dose,
    labelled planned); ``next_session_due_on``: the next planned session (e.g. the
    second lobe), the previous TACE plus the plan's interval.
    """

    case_pk: int
    procedures: int
    delivered_mg: float
    planned_sessions: int
    planned_mg: float
    last_procedure_on: dt.date | None = None
    next_session: int | None = None
    next_session_label: str = ""
    next_session_due_on: dt.date | None = None

    @property
    def committed_mg(self) -> float:
        """Delivered plus planned."""
        return self.delivered_mg + self.planned_mg

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "case_id": self.case_pk,
            "procedures": self.procedures,
            "delivered_mg": self.delivered_mg,
            "planned_sessions": self.planned_sessions,
            "planned_mg": self.planned_mg,
            "committed_mg": self.committed_mg,
            "last_procedure_on": _iso(self.last_procedure_on),
            "next_session": self.next_session,
            "next_session_label": self.next_session_label,
            "next_session_due_on": _iso(self.next_session_due_on),
        }
