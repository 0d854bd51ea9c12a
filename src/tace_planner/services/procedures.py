"""The procedure log: log a TACE (prefilled from the approved plan), sign it, amend it.

One unit of work per user action, each with its audit event (before/after). The
rules are pure (:mod:`tace_planner.domain.procedure`,
:mod:`tace_planner.domain.procedure_risk`); this service reads what they need
(the case's baseline date, the plan session, the earlier procedures of the
course), stores revisions and keeps every signed one unchanged: a change of a
signed record is an amendment, a new signed revision with its reason.

Log, edit, sign and amend share the revision bookkeeping and its audit snapshots,
so they stay together here; the read side (records at a revision, open plan
sessions, course totals) is :mod:`tace_planner.services.procedure_queries`.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.catalogue import BeadCatalogue
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.procedure import (
    PlannedSession,
    ProcedureFieldError,
    ProcedureRecord,
    RecordContext,
    SignedRecordError,
    check_record,
    delivered_dose_mg,
    delivered_explanation,
    field_label,
    loaded_dose_mg,
    missing_to_sign,
    plan_differences,
    prefill_from_session,
    read_entries,
    record_from_json,
    unexplained,
    validate_record,
    with_reasons,
)
from tace_planner.domain.procedure_risk import (
    CourseContext,
    ProcedureParameters,
    RiskFactor,
    risk_factors,
)
from tace_planner.services.planning_records import get_case, inputs_row, signed_procedures
from tace_planner.services.procedure_dto import CourseSummary, ProcedureDraft, ProcedureItem
from tace_planner.services.procedure_queries import (
    baseline_on,
    course_summary,
    latest_revision,
    logged_sessions,
    next_number,
    open_sessions,
    planned_of,
    planned_session,
    procedure_item,
    procedure_row,
    product_name,
)
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import TreatmentPlanRow, utc_now
from tace_planner.store.procedure_rows import ProcedureRevisionRow, ProcedureRow
from tace_planner.store.unit_of_work import UnitOfWork

PROCEDURE_FILE = "procedure.json"


def load_procedure_parameters(path: Path | None = None) -> ProcedureParameters:
    """Read ``procedure.json`` (default: the packaged file); the field is named on error."""
    if path is None:
        resource = importlib.resources.files("tace_planner.resources") / "parameters"
        text = (resource / PROCEDURE_FILE).read_text(encoding="utf-8")
        origin = "procedure"
    else:
        text, origin = path.read_text(encoding="utf-8"), str(path)
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInputError(origin, f"not valid JSON ({error})") from None
    return ProcedureParameters.from_dict(data, origin=origin)


class ProcedureService:
    """Logs, signs and amends procedure records; reads the course they make.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    user : str
        Written into the records (who logged, signed, amended) and the audit trail.
    parameters : ProcedureParameters, optional
        Explicit parameters (tests); default the packaged ``procedure.json``.
    clock : callable, optional
        Aware UTC now (tests); "today" for the date checks is its date.
    catalogue : callable, optional
        The bead catalogue in use (``lambda: planning.catalogue``: the institution's file,
        else the packaged one), so that the form offers the products planning offers;
        default the packaged catalogue.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        *,
        parameters: ProcedureParameters | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        catalogue: Callable[[], BeadCatalogue] | None = None,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self._parameters = parameters
        self._clock = clock
        self._catalogue = catalogue

    @property
    def parameters(self) -> ProcedureParameters:
        """The procedure parameters in use."""
        if self._parameters is None:
            self._parameters = load_procedure_parameters()
        return self._parameters

    # -- reading ---------------------------------------------------------------

    def get(self, procedure_pk: int, revision: int | None = None) -> ProcedureItem:
        """A procedure at its latest revision (or at ``revision``, an earlier version).

        Raises
        ------
        NotFoundError
            No such procedure or revision.
        """
        with self._sessions() as session:
            procedure = procedure_row(session, procedure_pk)
            return procedure_item(session, procedure, revision)

    def list_procedures(self, case_pk: int) -> list[ProcedureItem]:
        """Every procedure of a case in course order, at its latest revision."""
        with self._sessions() as session:
            get_case(session, case_pk)
            rows = session.scalars(
                select(ProcedureRow)
                .where(ProcedureRow.case_pk == case_pk)
                .order_by(ProcedureRow.number)
            ).all()
            return [procedure_item(session, row) for row in rows]

    def products(self) -> list[tuple[str, str]]:
        """(code, display name) of each bead product of the catalogue in use (the one
        planning uses), in its order: what the form offers (a record keeps the code,
        people read the name).

        Raises
        ------
        ProcedureFieldError
            The bead catalogue cannot be read or is invalid: one line for the "Product"
            field naming the file and the problem (the form stays usable without products).
        """
        from tace_planner.services.planning_parameters import CATALOGUE_FILE, load_bead_catalogue

        try:
            return [(p.code, p.name) for p in (self._catalogue or load_bead_catalogue)().products]
        except InvalidInputError as error:
            raise ProcedureFieldError(
                "product_code",
                f"no bead product to choose from: the bead catalogue {CATALOGUE_FILE} cannot be "
                f"used ({error})",
            ) from error

    def approved_sessions(self, case_pk: int) -> list[PlannedSession]:
        """The sessions of the case's approved plans (not superseded) that no procedure
        records yet, in order — what "Log this session" offers."""
        with self._sessions() as session:
            get_case(session, case_pk)
            return open_sessions(session, case_pk, logged_sessions(session, case_pk))

    def prefill(
        self,
        case_pk: int,
        plan_pk: int | None = None,
        session_number: int | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> ProcedureDraft:
        """A record prefilled from an approved plan's session (not saved), with the
        differences and risk factors it would show.

        Raises
        ------
        InvalidInputError
            The plan is not an approved plan of the case, or has no such session.
        """
        with self._sessions() as session:
            get_case(session, case_pk)
            planned, record = self._prefilled(session, case_pk, plan_pk, session_number, values)
            number = next_number(session, case_pk)
            risks = self._risks(session, case_pk, number, record, planned, exclude_pk=None)
        return _draft(case_pk, number, record, planned, risks)

    def preview(
        self,
        case_pk: int,
        values: Mapping[str, Any],
        *,
        plan_pk: int | None = None,
        session_number: int | None = None,
        procedure_pk: int | None = None,
    ) -> ProcedureDraft:
        """What a record with ``values`` would show, without saving: the delivered dose
        with its explanation, the differences, the risk factors and every field problem
        (impossible and implausible), for the form to show beside each field.

        A value that cannot be read (not a date, time or number) is one of the problems,
        its field left empty, so that the other fields are still checked: the form
        shows every field's problem at once.
        """
        values, unreadable = read_entries(values)
        with self._sessions() as session:
            get_case(session, case_pk)
            if procedure_pk is not None:
                procedure = procedure_row(session, procedure_pk)
                planned = planned_of(latest_revision(session, procedure))
                record = record_from_json(dict(values))
                number = procedure.number
            else:
                planned, record = self._prefilled(session, case_pk, plan_pk, session_number, values)
                number = next_number(session, case_pk)
            risks = self._risks(session, case_pk, number, record, planned, exclude_pk=procedure_pk)
            context = self._context(session, case_pk)
        return _draft(
            case_pk,
            number,
            record,
            planned,
            risks,
            problems=(*unreadable, *check_record(record, context)),
            delivered_explanation=delivered_explanation(record),
        )

    def course(self, case_pk: int) -> CourseSummary:
        """Sessions done vs planned, delivered vs planned irinotecan, the next session due."""
        with self._sessions() as session:
            return course_summary(
                session, case_pk, lambda: self.parameters.value("default_interval_days")
            )

    # -- writing ---------------------------------------------------------------

    def log(
        self,
        case_pk: int,
        values: Mapping[str, Any] | ProcedureRecord,
        *,
        plan_pk: int | None = None,
        session_number: int | None = None,
        confirm_implausible: bool = False,
    ) -> ProcedureItem:
        """Save a new procedure of the case as a draft (TACE n, numbered automatically).

        ``values`` are laid over the prefill of the plan session (``plan_pk`` and
        ``session_number``), or make an unplanned procedure without them.

        Raises
        ------
        ProcedureFieldError
            An impossible (or unconfirmed implausible) value; the field is named.
        InvalidInputError
            The plan session is not an approved one of the case, or is already logged.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            get_case(session, case_pk)
            if isinstance(values, ProcedureRecord):
                values = values.to_json()
            planned, record = self._prefilled(session, case_pk, plan_pk, session_number, values)
            if planned is not None:
                taken = session.scalar(
                    select(ProcedureRow.number).where(
                        ProcedureRow.plan_pk == planned.plan_pk,
                        ProcedureRow.session_number == planned.number,
                    )
                )
                if taken is not None:
                    raise InvalidInputError(
                        "session",
                        f"session {planned.number} of plan {planned.plan_pk} is logged "
                        f"already as TACE {taken}",
                    )
            confirmed = self._validate(session, case_pk, record, confirm_implausible)
            number = next_number(session, case_pk)
            now = self._clock()
            procedure = ProcedureRow(
                case_pk=case_pk,
                number=number,
                plan_pk=planned.plan_pk if planned else None,
                session_number=planned.number if planned else None,
                created_at=now,
                created_by=self._user,
                updated_at=now,
            )
            session.add(procedure)
            uow.flush()
            revision = ProcedureRevisionRow(
                procedure_pk=procedure.id,
                revision=1,
                status="draft",
                created_at=now,
                created_by=self._user,
                amendment_reason="",
                signed_by="",
            )
            self._fill(session, revision, procedure, record, planned, confirmed)
            session.add(revision)
            uow.flush()
            uow.audit(
                action="log_procedure",
                entity="procedure",
                entity_pk=procedure,
                after={"procedure": row_snapshot(procedure), "revision": row_snapshot(revision)},
                summary=f"case {case_pk}: TACE {number} logged as draft"
                + (f" from plan {planned.plan_pk} session {planned.number}" if planned else "")
                + (" (unplanned)" if planned is None else ""),
            )
            uow.commit()
            return procedure_item(session, procedure)

    def update_draft(
        self,
        procedure_pk: int,
        values: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        confirm_implausible: bool = False,
    ) -> ProcedureItem:
        """Change fields of a draft record in place (audited).

        Raises
        ------
        SignedRecordError
            The record is signed: amend it instead.
        ProcedureFieldError
            An impossible (or unconfirmed implausible) value.
        ConcurrentEditError
            The procedure changed since ``expected_version``.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            procedure = procedure_row(session, procedure_pk, expected_version)
            revision = latest_revision(session, procedure)
            if revision.signed_at is not None:
                raise SignedRecordError()
            record = record_from_json(revision.record).changed(**values)
            planned = planned_of(revision)
            confirmed = self._validate(session, procedure.case_pk, record, confirm_implausible)
            before = row_snapshot(revision)
            self._fill(session, revision, procedure, record, planned, confirmed)
            procedure.updated_at = self._clock()
            uow.flush()
            uow.audit(
                action="update_procedure",
                entity="procedure_revision",
                entity_pk=revision,
                before=before,
                after=row_snapshot(revision),
                summary=f"case {procedure.case_pk}: TACE {procedure.number} draft changed: "
                + ", ".join(sorted(values)),
            )
            uow.commit()
            return procedure_item(session, procedure)

    def sign(self, procedure_pk: int, *, expected_version: int | None = None) -> ProcedureItem:
        """Sign a draft record: it is locked afterwards (who and when are recorded).

        Raises
        ------
        ProcedureFieldError
            A field sign-off needs is empty, or a difference from the plan has no
            reason (the field is named).
        SignedRecordError
            The record is signed already.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            procedure = procedure_row(session, procedure_pk, expected_version)
            revision = latest_revision(session, procedure)
            if revision.signed_at is not None:
                raise SignedRecordError(
                    f"TACE {procedure.number} is signed already (by {revision.signed_by})"
                )
            record = record_from_json(revision.record)
            missing = missing_to_sign(record)
            if missing:
                raise ProcedureFieldError(
                    missing[0],
                    "is needed before signing (also missing: "
                    + (", ".join(field_label(k) for k in missing[1:]) or "nothing else")
                    + ")",
                )
            self._validate(session, procedure.case_pk, record, confirm_implausible=True)
            planned = planned_of(revision)
            _require_reasons(record, planned, "give the reason before signing")
            before = row_snapshot(revision)
            revision.status = "signed"
            revision.signed_at = self._clock()
            revision.signed_by = self._user
            procedure.updated_at = revision.signed_at
            uow.flush()
            uow.audit(
                action="sign_procedure",
                entity="procedure_revision",
                entity_pk=revision,
                before=before,
                after=row_snapshot(revision),
                summary=f"case {procedure.case_pk}: TACE {procedure.number} signed by "
                f"{self._user} ({revision.delivered_mg:.1f} mg delivered)",
            )
            uow.commit()
            return procedure_item(session, procedure)

    def amend(
        self,
        procedure_pk: int,
        reason: str,
        values: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        confirm_implausible: bool = False,
    ) -> ProcedureItem:
        """Amend a signed record: a new signed revision with the reason; the previous
        one is kept unchanged and stays viewable (audited before/after).

        Raises
        ------
        ProcedureFieldError
            No reason (field "Amendment reason"), or an impossible value.
        InvalidInputError
            The record is a draft (edit it instead) or nothing changes.
        """
        if not str(reason or "").strip():
            raise ProcedureFieldError("amendment_reason", "an amendment needs a reason")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            procedure = procedure_row(session, procedure_pk, expected_version)
            previous = latest_revision(session, procedure)
            if previous.signed_at is None:
                raise InvalidInputError(
                    "procedure", f"TACE {procedure.number} is a draft: edit it, then sign it"
                )
            old = record_from_json(previous.record)
            record = old.changed(**values)
            if record == old:
                raise InvalidInputError("procedure", "the amendment changes nothing")
            planned = planned_of(previous)
            confirmed = self._validate(session, procedure.case_pk, record, confirm_implausible)
            _require_reasons(record, planned, "give the reason")
            now = self._clock()
            revision = ProcedureRevisionRow(
                procedure_pk=procedure.id,
                revision=previous.revision + 1,
                status="signed",
                created_at=now,
                created_by=self._user,
                amendment_reason=reason.strip(),
                signed_at=now,
                signed_by=self._user,
            )
            self._fill(session, revision, procedure, record, planned, confirmed)
            session.add(revision)
            procedure.updated_at = now
            uow.flush()
            uow.audit(
                action="amend_procedure",
                entity="procedure",
                entity_pk=procedure,
                before=row_snapshot(previous),
                after=row_snapshot(revision),
                summary=f"case {procedure.case_pk}: TACE {procedure.number} amended "
                f"(revision {revision.revision}): {reason.strip()}",
            )
            uow.commit()
            return procedure_item(session, procedure)

    # -- helpers ---------------------------------------------------------------

    def _prefilled(
        self,
        session: Session,
        case_pk: int,
        plan_pk: int | None,
        session_number: int | None,
        values: Mapping[str, Any] | None,
    ) -> tuple[PlannedSession | None, ProcedureRecord]:
        values = dict(values or {})
        if "bilirubin_mg_dl" not in values:
            inputs = inputs_row(session, case_pk)
            if inputs is not None and inputs.bilirubin_mg_dl is not None:
                values["bilirubin_mg_dl"] = inputs.bilirubin_mg_dl
        if plan_pk is None:
            if session_number is not None:
                raise InvalidInputError("plan", "a session number needs its plan (--from-plan)")
            if values.get("product_code") and not values.get("product_name"):
                values["product_name"] = product_name(str(values["product_code"]), self._catalogue)
            return None, record_from_json(values)
        plan = session.get(TreatmentPlanRow, plan_pk)
        if plan is None or plan.case_pk != case_pk:
            raise InvalidInputError("plan", f"no plan {plan_pk} in case {case_pk}")
        if plan.status != "approved":
            raise InvalidInputError(
                "plan", f"plan {plan_pk} is a draft: approve it first, or log without a plan"
            )
        planned = planned_session(plan, session_number or 1)
        if values.get("product_code") and values["product_code"] != planned.product_code:
            values.setdefault(
                "product_name", product_name(str(values["product_code"]), self._catalogue)
            )
        return planned, prefill_from_session(planned, **values)

    def _context(self, session: Session, case_pk: int) -> RecordContext:
        return RecordContext(
            today=self._clock().date(),
            baseline_on=baseline_on(session, case_pk),
            limits=self.parameters.limits,
        )

    def _validate(
        self, session: Session, case_pk: int, record: ProcedureRecord, confirm_implausible: bool
    ) -> tuple[str, ...]:
        context = self._context(session, case_pk)
        problems = validate_record(record, context, confirm_implausible=confirm_implausible)
        return tuple(p.key for p in problems)

    def _risks(
        self,
        session: Session,
        case_pk: int,
        number: int,
        record: ProcedureRecord,
        planned: PlannedSession | None,
        *,
        exclude_pk: int | None,
    ) -> tuple[RiskFactor, ...]:
        earlier = [
            r.performed_on
            for p, r in signed_procedures(session, case_pk)
            if p.id != exclude_pk
            and p.number < number
            and r.performed_on is not None
            and (record.performed_on is None or r.performed_on <= record.performed_on)
        ]
        course = CourseContext(
            number=number,
            previous_on=max(earlier, default=None),
            planned_interval_days=planned.interval_days if planned else None,
        )
        return risk_factors(record, course, self.parameters)

    def _fill(
        self,
        session: Session,
        revision: ProcedureRevisionRow,
        procedure: ProcedureRow,
        record: ProcedureRecord,
        planned: PlannedSession | None,
        confirmed: tuple[str, ...],
    ) -> None:
        risks = self._risks(
            session, procedure.case_pk, procedure.number, record, planned, exclude_pk=procedure.id
        )
        revision.record = record.to_json()
        revision.performed_on = record.performed_on
        revision.loaded_mg = loaded_dose_mg(record)
        revision.delivered_mg = delivered_dose_mg(record)
        revision.delivered_fraction = record.delivered_fraction
        revision.endpoint = record.endpoint
        revision.derived = {
            "planned": planned.to_json() if planned else None,
            "differences": [d.to_json() for d in plan_differences(record, planned)],
            "risk_factors": [r.to_json() for r in risks],
            "parameters_version": self.parameters.version,
            "confirmed_implausible": list(confirmed),
        }


def _require_reasons(record: ProcedureRecord, planned: PlannedSession | None, ask: str) -> None:
    """Refuse a record that differs from the plan without a reason (the field is named).

    Raises
    ------
    ProcedureFieldError
        For the first difference without a reason; ``ask`` ends the message.
    """
    open_ = unexplained(plan_differences(record, planned))
    if open_:
        first = open_[0]
        raise ProcedureFieldError(
            first.key,
            f"differs from the plan ({first.planned} planned, {first.actual} done): {ask}",
        )


def _draft(
    case_pk: int,
    number: int,
    record: ProcedureRecord,
    planned: PlannedSession | None,
    risks: tuple[RiskFactor, ...],
    **checked: Any,
) -> ProcedureDraft:
    """What the form shows of an unsaved record (``checked``: its problems, explained)."""
    return ProcedureDraft(
        case_pk=case_pk,
        number=number,
        record=record,
        planned=planned,
        differences=plan_differences(record, planned),
        risk_factors=risks,
        loaded_mg=loaded_dose_mg(record),
        delivered_mg=delivered_dose_mg(record),
        **checked,
    )


def with_difference_reasons(
    values: Mapping[str, Any], reasons: Mapping[str, str]
) -> dict[str, Any]:
    """``values`` with difference reasons added (for the CLI and the form)."""
    record = with_reasons(record_from_json({}), reasons)
    merged = dict(values)
    merged["difference_reasons"] = {
        **dict(values.get("difference_reasons") or {}),
        **dict(record.difference_reasons),
    }
    return merged
