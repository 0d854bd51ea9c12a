"""The read side of the procedure log: records at a revision, open plan sessions, the course.

Functions of an open session, no unit of work and no audit: they read what
:class:`~tace_planner.services.procedures.ProcedureService` shows (a record as a
:class:`ProcedureItem`, the approved plan sessions not yet logged, the course so far)
and what its writes check against (the row at the expected version, the latest
revision, the next TACE number, the case's baseline date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.domain.procedure import Difference, PlannedSession, record_from_json
from tace_planner.domain.procedure_risk import RiskFactor
from tace_planner.services.planning_records import (
    get_case,
    plan_item,
    read_course,
    signed_procedures,
)
from tace_planner.services.procedure_dto import CourseSummary, ProcedureItem, RevisionSummary
from tace_planner.store.models import TimepointRow, TreatmentPlanRow
from tace_planner.store.procedure_rows import ProcedureRevisionRow, ProcedureRow

EDIT_MESSAGE = "this procedure was changed on another workstation — reload and try again"


def baseline_on(session: Session, case_pk: int) -> dt.date | None:
    """The date of the case's (earliest) baseline imaging, if any."""
    return session.scalar(
        select(func.min(TimepointRow.imaged_on)).where(
            TimepointRow.case_pk == case_pk, TimepointRow.kind == "baseline"
        )
    )


def planned_session(plan: TreatmentPlanRow, number: int) -> PlannedSession:
    """Session ``number`` of a plan, as a record is prefilled from and compared with.

    Raises
    ------
    InvalidInputError
        The plan has no such session.
    """
    item = plan_item(plan)
    for session in item.sessions:
        if session.number == number:
            product = item.proposal.parameters.get("product", {})
            return PlannedSession(
                plan_pk=plan.id,
                plan_version=plan.plan_version,
                number=session.number,
                territory_label=session.territory_label,
                segments=tuple(session.segments),
                product_code=str(product.get("code", "")),
                product_name=str(product.get("name", "")),
                vials=session.vials,
                vial_loads_mg=tuple(session.vial_loads_mg),
                loaded_mg=session.irinotecan_loaded_mg,
                expected_delivered_mg=session.irinotecan_expected_delivered_mg,
                beads_ml=session.beads_ml,
                prepared_beads_ml=session.prepared_beads_ml,
                planned_on=session.on,
                interval_days=item.proposal.options.interval_days,
            )
    raise InvalidInputError("session", f"plan {plan.id} has no session {number}")


def open_sessions(
    session: Session, case_pk: int, taken: set[tuple[int | None, int | None]]
) -> list[PlannedSession]:
    """Sessions of the approved plans (not superseded) not in ``taken``, in order."""
    plans = session.scalars(
        select(TreatmentPlanRow)
        .where(TreatmentPlanRow.case_pk == case_pk, TreatmentPlanRow.status == "approved")
        .order_by(TreatmentPlanRow.plan_version)
    ).all()
    superseded = {p.supersedes_pk for p in plans if p.supersedes_pk is not None}
    return [
        planned_session(plan, planned.number)
        for plan in plans
        if plan.id not in superseded
        for planned in plan_item(plan).sessions
        if (plan.id, planned.number) not in taken
    ]


def logged_sessions(session: Session, case_pk: int) -> set[tuple[int | None, int | None]]:
    """(plan, session number) of every procedure of the case, draft or signed."""
    return {
        (row.plan_pk, row.session_number)
        for row in session.scalars(select(ProcedureRow).where(ProcedureRow.case_pk == case_pk))
    }


def procedure_row(
    session: Session, procedure_pk: int, expected_version: int | None = None
) -> ProcedureRow:
    """The procedure row, checked against the version the caller read.

    Raises
    ------
    NotFoundError
        No such procedure.
    ConcurrentEditError
        The procedure changed since ``expected_version``.
    """
    procedure = session.get(ProcedureRow, procedure_pk)
    if procedure is None:
        raise NotFoundError(f"procedure {procedure_pk} does not exist")
    if expected_version is not None and procedure.version != expected_version:
        raise ConcurrentEditError(EDIT_MESSAGE)
    return procedure


def revisions_of(session: Session, procedure: ProcedureRow) -> list[ProcedureRevisionRow]:
    """Every revision of a procedure, oldest first."""
    return list(
        session.scalars(
            select(ProcedureRevisionRow)
            .where(ProcedureRevisionRow.procedure_pk == procedure.id)
            .order_by(ProcedureRevisionRow.revision)
        )
    )


def latest_revision(session: Session, procedure: ProcedureRow) -> ProcedureRevisionRow:
    """The procedure's current revision (draft or signed)."""
    return revisions_of(session, procedure)[-1]


def next_number(session: Session, case_pk: int) -> int:
    """The number the case's next procedure gets (TACE n)."""
    last = session.scalar(
        select(func.max(ProcedureRow.number)).where(ProcedureRow.case_pk == case_pk)
    )
    return int(last or 0) + 1


def planned_of(revision: ProcedureRevisionRow) -> PlannedSession | None:
    """The plan session a revision was compared with when it was saved, if any."""
    data = (revision.derived or {}).get("planned")
    return PlannedSession.from_json(data) if data else None


def product_name(code: str, catalogue: Callable[[], Any] | None = None) -> str:
    """The name of a bead product in the catalogue in use (``catalogue()``, the one
    planning uses; default the packaged one); an unknown product keeps its code."""
    from tace_planner.services.planning_parameters import load_bead_catalogue

    try:
        return (catalogue or load_bead_catalogue)().product(code).name
    except (InvalidInputError, KeyError, NotFoundError):  # an unknown product keeps its code
        return code


def procedure_item(
    session: Session, procedure: ProcedureRow, revision_number: int | None = None
) -> ProcedureItem:
    """A procedure at its latest revision (or at ``revision_number``) as the UI reads it.

    Raises
    ------
    NotFoundError
        The procedure has no such revision.
    """
    revisions = revisions_of(session, procedure)
    latest = revisions[-1]
    if revision_number is None:
        chosen = latest
    else:
        matches = [r for r in revisions if r.revision == revision_number]
        if not matches:
            raise NotFoundError(
                f"procedure {procedure.id} has no revision {revision_number} (1–{latest.revision})"
            )
        chosen = matches[0]
    if chosen.signed_at is None:
        status = "draft"
    elif chosen.revision > 1:
        status = "amended"
    else:
        status = "signed"
    derived = chosen.derived or {}
    planned = derived.get("planned")
    case = get_case(session, procedure.case_pk)
    return ProcedureItem(
        pk=procedure.id,
        case_pk=procedure.case_pk,
        number=procedure.number,
        plan_pk=procedure.plan_pk,
        session_number=procedure.session_number,
        status=status,
        revision=chosen.revision,
        record=record_from_json(chosen.record),
        loaded_mg=chosen.loaded_mg,
        delivered_mg=chosen.delivered_mg,
        differences=tuple(
            Difference(d["field"], d["planned"], d["actual"], d.get("reason", ""))
            for d in derived.get("differences", ())
        ),
        risk_factors=tuple(RiskFactor.from_json(r) for r in derived.get("risk_factors", ())),
        planned=PlannedSession.from_json(planned) if planned else None,
        revisions=tuple(
            RevisionSummary(
                revision=r.revision,
                status=r.status,
                delivered_mg=r.delivered_mg,
                created_by=r.created_by,
                created_at=r.created_at,
                signed_by=r.signed_by,
                signed_at=r.signed_at,
                amendment_reason=r.amendment_reason,
            )
            for r in revisions
        ),
        signed_by=chosen.signed_by,
        signed_at=chosen.signed_at,
        amendment_reason=chosen.amendment_reason,
        created_by=chosen.created_by,
        created_at=chosen.created_at,
        version=procedure.version,
        patient_id=case.patient.patient_id,
        patient_name=case.patient.name,
        case_title=case.title,
        parameters_version=str(derived.get("parameters_version", "")),
        is_latest=chosen.revision == latest.revision,
        confirmed_implausible=tuple(derived.get("confirmed_implausible", ())),
    )


def course_summary(
    session: Session, case_pk: int, default_interval_days: Callable[[], Any]
) -> CourseSummary:
    """Sessions done vs planned, delivered vs planned irinotecan, the next session due.

    The next session is due its plan's interval after the last signed procedure
    (``default_interval_days()`` when the plan has none), or on its planned date when
    nothing is performed yet.
    """
    get_case(session, case_pk)
    history = read_course(session, case_pk, exclude=None)
    performed = signed_procedures(session, case_pk)
    last_on = max(
        (r.performed_on for _, r in performed if r.performed_on is not None),
        default=None,
    )
    recorded = {(p.plan_pk, p.session_number) for p, _ in performed}
    pending = open_sessions(session, case_pk, recorded)
    next_session = pending[0] if pending else None
    due = None
    if next_session is not None:
        interval = next_session.interval_days or default_interval_days()
        if last_on is not None:
            due = last_on + dt.timedelta(days=int(interval))
        else:
            due = next_session.planned_on
    return CourseSummary(
        case_pk=case_pk,
        procedures=history.procedures,
        delivered_mg=history.delivered_mg,
        planned_sessions=history.planned_sessions,
        planned_mg=history.planned_mg,
        last_procedure_on=last_on,
        next_session=next_session.number if next_session else None,
        next_session_label=next_session.territory_label if next_session else "",
        next_session_due_on=due,
    )
