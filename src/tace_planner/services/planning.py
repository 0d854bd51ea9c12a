"""Treatment planning use cases: patient inputs, burden, proposal, save, approve, revise.

The numbers come from the pure model (:mod:`tace_planner.domain.dosing`); this
service reads what the model needs from the database (clinical inputs, the latest
baseline measurements, earlier approved plans, the imaging protocol's verdict on
the baseline age), loads the versioned parameter files, and records plans. An
approved plan is never changed: :meth:`PlanningService.revise` makes a new
version that supersedes it. Every write is one unit of work with its audit event.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.body import (
    PatientInputs,
    check_patient_field,
)
from tace_planner.domain.catalogue import BeadCatalogue
from tace_planner.domain.dosing import (
    BaselineImaging,
    CourseHistory,
    PlanOptions,
    SessionPlan,
    propose_plan,
)
from tace_planner.domain.dosing_overrides import (
    OVERRIDABLE_FIELDS,
    field_label,
    override_session,
    rejudge,
)
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.domain.explanation import Advisory
from tace_planner.services.plan_key_image import KeyImage, build_key_image
from tace_planner.services.planning_dto import (
    BurdenItem,
    CaseHeader,
    ClinicalInputsItem,
    OverrideItem,
    PlanItem,
    PlanProposal,
    proposal_from_result,
)
from tace_planner.services.planning_records import (
    coerce_patient_value,
    dataclass_fields,
    get_case,
    inputs_item,
    inputs_row,
    plan_item,
    product_from_snapshot,
    read_burden,
    read_course,
)
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    ClinicalInputsRow,
    TreatmentPlanRow,
    utc_now,
)
from tace_planner.store.unit_of_work import UnitOfWork

PLANNING_FILE = "planning.json"
CATALOGUE_FILE = "bead_catalogue.json"
ACKNOWLEDGE_SEVERITIES = ("warning", "strong_warning")
"""Advisories an approver must acknowledge (info needs none; a block cannot be approved)."""


# ---------------------------------------------------------------------------
# Parameter files
# ---------------------------------------------------------------------------


def _read_json(path: Path | None, name: str) -> tuple[dict[str, Any], str]:
    if path is None:
        resource = importlib.resources.files("tace_planner.resources") / "parameters" / name
        origin = name.removesuffix(".json")
        try:
            text = resource.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInputError(name, f"cannot be read ({error})") from None
    else:
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise InvalidInputError(origin, f"cannot be read ({error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInputError(origin, f"not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidInputError(origin, "must hold a JSON object")
    return data, origin


def load_planning_parameters(path: Path | None = None) -> PlanningParameters:
    """Read ``planning.json`` (default: the packaged file).

    Raises
    ------
    InvalidInputError
        The file is unreadable or a value is invalid; the message names file and field.
    """
    if path is None:
        return _packaged_parameters()
    data, origin = _read_json(path, PLANNING_FILE)
    return PlanningParameters.from_dict(data, origin=origin)


def load_bead_catalogue(path: Path | None = None) -> BeadCatalogue:
    """Read ``bead_catalogue.json`` (default: the packaged file).

    Raises
    ------
    InvalidInputError
        The file is unreadable or a value is invalid; the message names file and field.
    """
    if path is None:
        return _packaged_catalogue()
    data, origin = _read_json(path, CATALOGUE_FILE)
    return BeadCatalogue.from_dict(data, origin=origin)


@functools.cache
def _packaged_parameters() -> PlanningParameters:
    data, origin = _read_json(None, PLANNING_FILE)
    return PlanningParameters.from_dict(data, origin=origin)


@functools.cache
def _packaged_catalogue() -> BeadCatalogue:
    data, origin = _read_json(None, CATALOGUE_FILE)
    return BeadCatalogue.from_dict(data, origin=origin)


# ---------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------


class PlanningService:
    """Proposes, records and approves DEBIRI treatment plans.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    user : str
        Written into audit events and plan records.
    protocol : ProtocolService, optional
        Judges the age of the baseline imaging (``check_baseline``); by default a
        ``ProtocolService`` on the same database.
    parameters_dir : pathlib.Path, optional
        Folder of the institution's own ``planning.json`` and ``bead_catalogue.json``
        (edited in settings); a file present there replaces the packaged one.
    parameters, catalogue : optional
        Explicit parameters (tests); they win over the files.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        *,
        protocol: Any = None,
        parameters_dir: Path | None = None,
        parameters: PlanningParameters | None = None,
        catalogue: BeadCatalogue | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self._protocol = protocol
        self._parameters_dir = parameters_dir
        self._parameters = parameters
        self._catalogue = catalogue
        self._clock = clock

    # -- parameters ----------------------------------------------------------

    def _institution_file(self, name: str) -> Path | None:
        if self._parameters_dir is None:
            return None
        path = self._parameters_dir / name
        return path if path.is_file() else None

    @property
    def parameters(self) -> PlanningParameters:
        """The planning parameters in use (institution file, else packaged)."""
        if self._parameters is None:
            self._parameters = load_planning_parameters(self._institution_file(PLANNING_FILE))
        return self._parameters

    @property
    def catalogue(self) -> BeadCatalogue:
        """The bead catalogue in use (institution file, else packaged)."""
        if self._catalogue is None:
            self._catalogue = load_bead_catalogue(self._institution_file(CATALOGUE_FILE))
        return self._catalogue

    def parameter_file_text(self, kind: str) -> tuple[str, str]:
        """The ``planning`` or ``catalogue`` file in use as (where it comes from, JSON text).

        Raises
        ------
        InvalidInputError
            ``kind`` is unknown.
        """
        names = {"planning": PLANNING_FILE, "catalogue": CATALOGUE_FILE}
        if kind not in names:
            raise InvalidInputError("kind", f"{kind!r}: expected 'planning' or 'catalogue'")
        own = self._institution_file(names[kind])
        if own is not None:
            return str(own), own.read_text(encoding="utf-8")
        resource = importlib.resources.files("tace_planner.resources") / "parameters" / names[kind]
        return f"packaged {names[kind]}", resource.read_text(encoding="utf-8")

    def save_institution_file(self, kind: str, data: Mapping[str, Any]) -> Path:
        """Validate and save the institution's ``planning`` or ``catalogue`` file (audited).

        Raises
        ------
        InvalidInputError
            No parameters folder was configured, ``kind`` is unknown, or the content is
            invalid (nothing is written then).
        """
        if self._parameters_dir is None:
            raise InvalidInputError("parameters folder", "not configured")
        if kind == "planning":
            name = PLANNING_FILE
            PlanningParameters.from_dict(data, origin=name)
        elif kind == "catalogue":
            name = CATALOGUE_FILE
            BeadCatalogue.from_dict(data, origin=name)
        else:
            raise InvalidInputError("kind", f"{kind!r}: expected 'planning' or 'catalogue'")
        path = self._parameters_dir / name
        with UnitOfWork(self._sessions, user=self._user) as uow:
            before = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
            uow.audit(
                action="save_parameters",
                entity=name.removesuffix(".json"),
                before={"content": before},
                after={"content": dict(data)},
                summary=f"{name} version {data.get('version')} saved",
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
            uow.commit()
        self._parameters = self._catalogue = None
        return path

    # -- clinical inputs -------------------------------------------------------

    def clinical_inputs(self, case_pk: int) -> ClinicalInputsItem:
        """The case's stored patient inputs (all empty when none were entered).

        Raises
        ------
        NotFoundError
            The case does not exist.
        """
        with self._sessions() as session:
            get_case(session, case_pk)
            row = inputs_row(session, case_pk)
            return inputs_item(case_pk, row)

    def set_clinical_inputs(
        self, case_pk: int, *, confirm_implausible: bool = False, **fields: Any
    ) -> ClinicalInputsItem:
        """Validate and store patient inputs; only the fields given change.

        Parameters
        ----------
        case_pk : int
            The case.
        confirm_implausible : bool
            Store values that are possible but implausible (outside the plausible
            adult range); impossible values are never stored.
        **fields
            Any of height_cm, weight_kg, bilirubin_mg_dl, ecog, ugt1a1_status,
            extrahepatic_disease, ia_lidocaine_planned, measured_on (a date or
            ISO string); None clears a field.

        Raises
        ------
        InvalidInputError
            An unknown field, or an impossible (or unconfirmed implausible) value;
            ``error.field`` names it. Nothing is saved.
        NotFoundError
            The case does not exist.
        """
        today = self._clock().date()
        values = {name: coerce_patient_value(name, value) for name, value in fields.items()}
        for name, value in values.items():
            problem = check_patient_field(name, value, today=today)
            if problem is None:
                continue
            if problem.kind == "impossible" or not confirm_implausible:
                raise problem.to_error()
        with UnitOfWork(self._sessions, user=self._user) as uow:
            get_case(uow.session, case_pk)
            row = inputs_row(uow.session, case_pk)
            before = row_snapshot(row) if row is not None else None
            if row is None:
                row = ClinicalInputsRow(case_pk=case_pk, extra={})
                uow.session.add(row)
            for name, value in values.items():
                setattr(row, name, "" if name == "ugt1a1_status" and value is None else value)
            row.updated_at = self._clock()
            row.updated_by = self._user
            uow.flush()
            changed = ", ".join(sorted(values)) or "nothing"
            uow.audit(
                action="set_clinical_inputs",
                entity="clinical_inputs",
                entity_pk=row,
                before=before,
                after=row_snapshot(row),
                summary=f"case {case_pk}: {changed}",
            )
            uow.commit()
            return inputs_item(case_pk, row)

    # -- burden ------------------------------------------------------------------

    def burden_inputs(self, case_pk: int) -> BurdenItem:
        """Liver and focus volumes from the latest measurements of the baseline timepoint.

        ``problems`` says what is missing in plain words; contouring fills these
        tables (``MeasurementRow`` per ``SegmentationRow`` of a lesion at baseline).

        Raises
        ------
        NotFoundError
            The case does not exist.
        """
        with self._sessions() as session:
            get_case(session, case_pk)
            return read_burden(session, case_pk)

    # -- proposals ---------------------------------------------------------------

    def propose(
        self,
        case_pk: int,
        model: str | None = None,
        options: PlanOptions | Mapping[str, Any] | None = None,
        *,
        patient_changes: Mapping[str, Any] | None = None,
        supersedes_pk: int | None = None,
    ) -> PlanProposal:
        """Compute a plan (not saved).

        Parameters
        ----------
        case_pk : int
            The case.
        model : {"burden", "fixed"}, optional
            Default: the parameter file's ``default_model``.
        options : PlanOptions or mapping, optional
            The user's choices (a mapping is read with ``PlanOptions.from_json``).
        patient_changes : mapping, optional
            Unsaved patient inputs laid over the stored ones (live recomputation in
            the UI); validated like :meth:`set_clinical_inputs` (implausible values
            are accepted here, since nothing is stored).
        supersedes_pk : int, optional
            The plan a revision replaces; it is left out of the course history.

        Raises
        ------
        InvalidInputError
            An option or a patient value is impossible (the field is named).
        NotFoundError
            The case does not exist.
        """
        if isinstance(options, Mapping):
            options = PlanOptions.from_json(options)
        options = options or PlanOptions()
        if model is not None:
            options = PlanOptions(**{**dataclass_fields(options), "model": model})
        with self._sessions() as session:
            case = get_case(session, case_pk)
            header = CaseHeader(
                case_pk=case.id,
                patient_id=case.patient.patient_id,
                patient_name=case.patient.name,
                case_title=case.title,
                planned_tace_on=case.planned_tace_on,
            )
            stored = inputs_item(case_pk, inputs_row(session, case_pk)).inputs
            burden = read_burden(session, case_pk)
            course = read_course(session, case_pk, exclude=supersedes_pk)
        patient = stored
        if patient_changes:
            values = {n: coerce_patient_value(n, v) for n, v in patient_changes.items()}
            for name, value in values.items():
                problem = check_patient_field(name, value, today=self._clock().date())
                if problem is not None and problem.kind == "impossible":
                    raise problem.to_error()
            patient = PatientInputs(**{**dataclass_fields(stored), **values})
        if options.first_session_on is None and header.planned_tace_on is not None:
            options = PlanOptions(
                **{**dataclass_fields(options), "first_session_on": header.planned_tace_on}
            )
        params = self.parameters
        product = self.catalogue.product(options.product_code or params.value("default_product"))
        result = propose_plan(
            patient,
            burden.to_domain(),
            product,
            params,
            options,
            course=course,
            baseline=self._baseline(case_pk, params),
        )
        return proposal_from_result(
            result,
            case=header,
            patient=patient,
            burden=burden,
            product=product,
            parameters=params,
            catalogue_version=self.catalogue.version,
            course=course,
            user=self._user,
            computed_at=self._clock(),
        )

    def _baseline(self, case_pk: int, params: PlanningParameters) -> BaselineImaging | None:
        protocol = self._protocol
        if protocol is None:
            from tace_planner.services.protocol import ProtocolService

            protocol = self._protocol = ProtocolService(self._sessions, self._user)
        result = protocol.check_baseline(case_pk)
        ages = [r for r in result.requirements if r.code.startswith("baseline_age.")]
        limit = int(result.parameters.baseline_max_age_days)
        if not ages:
            return BaselineImaging("not_evaluated", "no baseline imaging is linked", limit)
        failed = [r for r in ages if r.status == "fail"]
        if failed:
            return BaselineImaging("fail", "; ".join(r.reason for r in failed), limit)
        if all(r.status == "not_evaluated" for r in ages):
            return BaselineImaging("not_evaluated", "; ".join(r.reason for r in ages), limit)
        return BaselineImaging("pass", "; ".join(r.reason for r in ages), limit)

    # -- plan records --------------------------------------------------------------

    def save_plan(self, proposal: PlanProposal, *, supersedes_pk: int | None = None) -> PlanItem:
        """Save a proposal as a new draft version of the case's plan (audited).

        Raises
        ------
        InvalidInputError
            ``supersedes_pk`` is not a plan of the same case.
        NotFoundError
            The case does not exist.
        """
        case_pk = proposal.case.case_pk
        with UnitOfWork(self._sessions, user=self._user) as uow:
            get_case(uow.session, case_pk)
            if supersedes_pk is not None:
                old = uow.session.get(TreatmentPlanRow, supersedes_pk)
                if old is None or old.case_pk != case_pk:
                    raise InvalidInputError(
                        "supersedes_pk", f"no plan {supersedes_pk} in this case"
                    )
            versions = uow.session.scalars(
                select(TreatmentPlanRow.plan_version).where(TreatmentPlanRow.case_pk == case_pk)
            ).all()
            data = proposal.to_json()
            row = TreatmentPlanRow(
                case_pk=case_pk,
                plan_version=max(versions, default=0) + 1,
                supersedes_pk=supersedes_pk,
                status="draft",
                model=proposal.model,
                inputs={
                    k: data[k] for k in ("case", "inputs", "options", "burden", "figures", "course")
                },
                parameters=data["parameters"],
                results={
                    k: data[k]
                    for k in (
                        "product",
                        "sessions",
                        "totals",
                        "warnings",
                        "explanations",
                        "computed_at",
                    )
                },
                warnings={"shown": data["warnings"], "acknowledged": []},
                overrides={},
                explanation=proposal.explanation_text(),
                created_at=self._clock(),
                created_by=self._user,
            )
            uow.session.add(row)
            uow.flush()
            uow.audit(
                action="save_plan",
                entity="treatment_plan",
                entity_pk=row,
                after={
                    "plan_version": row.plan_version,
                    "model": row.model,
                    "totals": data["totals"],
                },
                summary=f"case {case_pk}: plan version {row.plan_version} saved as draft",
            )
            uow.commit()
            return plan_item(row)

    def approve(
        self,
        plan_pk: int,
        acknowledged_warnings: Iterable[str],
        overrides: Mapping[str, tuple[float, str]] | None = None,
        *,
        contraindication_reasons: Mapping[str, str] | None = None,
        expected_version: int | None = None,
    ) -> PlanItem:
        """Approve a draft plan; afterwards it never changes.

        Parameters
        ----------
        plan_pk : int
            A draft plan.
        acknowledged_warnings : iterable of str
            Codes of every warning and strong warning of the sessions that will be
            approved (see :meth:`preview_overrides`, which judges them again).
        overrides : mapping, optional
            ``{"session1.beads_ml": (value, reason), …}`` for fields in
            ``OVERRIDABLE_FIELDS``; dependent numbers are re-derived by the dosing
            kernel, and the session and course checks run again on the result. An
            advisory the overrides raise or change has the code ``override.<code>``
            and must be acknowledged on its own.
        contraindication_reasons : mapping, optional
            ``{code: reason}`` for every contraindication shown: the physician's
            override of a contraindication, with the reason (recorded and printed).
        expected_version : int, optional
            The row version the approver saw; a different one means another
            workstation changed the plan.

        Raises
        ------
        InvalidInputError
            The plan is approved already, blocked, a warning is not acknowledged, a
            contraindication has no reason, or an override is impossible (the field
            is named). Nothing is saved.
        ConcurrentEditError
            The plan changed since ``expected_version``.
        NotFoundError
            No such plan.
        """
        acknowledged = set(acknowledged_warnings)
        reasons = {
            str(code): str(reason).strip()
            for code, reason in (contraindication_reasons or {}).items()
        }
        with UnitOfWork(self._sessions, user=self._user) as uow:
            row = uow.session.get(TreatmentPlanRow, plan_pk)
            if row is None:
                raise NotFoundError(f"plan {plan_pk} does not exist")
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentEditError(
                    "this plan was changed on another workstation — reload and try again"
                )
            if row.status == "approved":
                raise InvalidInputError(
                    "plan",
                    f"version {row.plan_version} is approved and cannot change; "
                    "revise it to make a new version",
                )
            item = plan_item(row)
            if item.blocked:
                reasons_text = "; ".join(
                    a.message for a in item.advisories if a.severity == "block"
                )
                raise InvalidInputError("plan", f"blocked, nothing to approve: {reasons_text}")
            if not item.proposal.sessions:
                raise InvalidInputError("plan", "has no session to approve")
            course = read_course(uow.session, row.case_pk, exclude=row.supersedes_pk)
            sessions, shown, override_items = self._judge(item, overrides or {}, course)
            needed = {a.code for a in shown if a.severity in ACKNOWLEDGE_SEVERITIES}
            missing = [a for a in shown if a.code in needed - acknowledged]
            if missing:
                raise InvalidInputError(
                    "acknowledged_warnings",
                    "acknowledge every warning first: "
                    + "; ".join(f"{a.code} ({a.message})" for a in missing),
                )
            unknown = sorted(acknowledged - needed)
            if unknown:
                raise InvalidInputError(
                    "acknowledged_warnings", f"not shown with this plan: {', '.join(unknown)}"
                )
            contra = {a.code: a for a in shown if a.severity == "contraindication"}
            unanswered = [a for code, a in contra.items() if not reasons.get(code)]
            if unanswered:
                raise InvalidInputError(
                    "contraindication_reasons",
                    "a contraindication is approved only with the physician's reason: "
                    + "; ".join(a.message for a in unanswered),
                )
            stray = sorted(set(reasons) - set(contra))
            if stray:
                raise InvalidInputError(
                    "contraindication_reasons", f"not shown with this plan: {', '.join(stray)}"
                )
            before = row_snapshot(row)
            row.status = "approved"
            row.approved_at = self._clock()
            row.approved_by = self._user
            row.warnings = {
                "shown": [a.to_json() for a in shown],
                "acknowledged": sorted(acknowledged),
                "contraindications_overridden": {code: reasons[code] for code in sorted(contra)},
            }
            row.overrides = {o.field: o.to_json() for o in override_items}
            row.results = {
                **row.results,
                "effective_sessions": [s.to_json() for s in sessions],
                "course_at_approval": course.to_json(),
            }
            uow.flush()
            uow.audit(
                action="approve_plan",
                entity="treatment_plan",
                entity_pk=row,
                before=before,
                after=row_snapshot(row),
                summary=f"case {row.case_pk}: plan version {row.plan_version} approved"
                + (f" with {len(override_items)} override(s)" if override_items else "")
                + (f", {len(contra)} contraindication(s) overridden" if contra else ""),
            )
            uow.commit()
            return plan_item(row)

    def preview_overrides(
        self, plan_pk: int, overrides: Mapping[str, tuple[float, str]]
    ) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...]]:
        """The sessions and every advisory that approving with ``overrides`` would show.

        The session and course checks run again on the overridden sessions and on
        the course as it stands now (nothing saved); pass ``{}`` to judge the plan
        as proposed against today's course.

        Raises
        ------
        InvalidInputError
            An override is impossible (the field is named).
        """
        with self._sessions() as session:
            row = session.get(TreatmentPlanRow, plan_pk)
            if row is None:
                raise NotFoundError(f"plan {plan_pk} does not exist")
            item = plan_item(row)
            course = read_course(session, row.case_pk, exclude=row.supersedes_pk)
        sessions, shown, _ = self._judge(item, overrides, course)
        return sessions, shown

    def _judge(
        self,
        item: PlanItem,
        overrides: Mapping[str, tuple[float, str]],
        course: CourseHistory,
    ) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...], tuple[OverrideItem, ...]]:
        """Apply overrides, then judge the resulting sessions and the course again."""
        params = PlanningParameters.from_dict(item.proposal.parameters["planning"])
        product = product_from_snapshot(item.proposal.parameters["product"])
        sessions, records = self._apply_overrides(item, overrides, params, product)
        shown = rejudge(item.proposal.advisories, sessions, product, params, course)
        return sessions, shown, records

    def _apply_overrides(
        self,
        item: PlanItem,
        overrides: Mapping[str, tuple[float, str]],
        params: PlanningParameters,
        product: Any,
    ) -> tuple[tuple[SessionPlan, ...], tuple[OverrideItem, ...]]:
        by_session: dict[int, dict[str, tuple[float, str]]] = {}
        for key, entry in overrides.items():
            head, _, name = key.partition(".")
            number = head.removeprefix("session")
            if not number.isdigit() or name not in OVERRIDABLE_FIELDS:
                raise InvalidInputError(
                    key, f"expected session<n>.<{'|'.join(OVERRIDABLE_FIELDS)}>"
                )
            if not isinstance(entry, tuple | list) or len(entry) != 2:
                raise InvalidInputError(field_label(key), "expected (value, reason)")
            by_session.setdefault(int(number), {})[name] = (entry[0], str(entry[1]))
        numbers = {s.number for s in item.proposal.sessions}
        for number in by_session:
            if number not in numbers:
                raise InvalidInputError(f"Session {number}", "the plan has no such session")
        sessions = []
        records = []
        for session in item.proposal.sessions:
            changes = by_session.get(session.number)
            if not changes:
                sessions.append(session)
                continue
            blank = [n for n, (_, r) in changes.items() if not r.strip()]
            if blank:
                raise InvalidInputError(
                    field_label(f"session{session.number}.{blank[0]}"), "give a reason"
                )
            reason = "; ".join(sorted({r.strip() for _, r in changes.values()}))
            updated = override_session(
                session,
                product,
                params,
                item.model,  # type: ignore[arg-type]
                {name: value for name, (value, _) in changes.items()},
                reason=reason,
                by=self._user,
                loading_mg_per_ml=item.proposal.options.loading_mg_per_ml,
            )
            sessions.append(updated)
            for name, (value, why) in changes.items():
                records.append(
                    OverrideItem(
                        f"session{session.number}.{name}",
                        float(value),
                        float(getattr(session, name)),
                        why.strip(),
                    )
                )
        return tuple(sessions), tuple(records)

    def revise(
        self,
        plan_pk: int,
        model: str | None = None,
        options: PlanOptions | Mapping[str, Any] | None = None,
    ) -> PlanItem:
        """Recompute a plan from the current inputs and save it as a new draft superseding it.

        Raises
        ------
        NotFoundError
            No such plan.
        """
        old = self.get_plan(plan_pk)
        proposal = self.propose(
            old.case_pk,
            model=model or old.model,
            options=options if options is not None else old.proposal.options,
            supersedes_pk=plan_pk,
        )
        return self.save_plan(proposal, supersedes_pk=plan_pk)

    def get_plan(self, plan_pk: int) -> PlanItem:
        """One saved plan version.

        Raises
        ------
        NotFoundError
            No such plan.
        """
        with self._sessions() as session:
            row = session.get(TreatmentPlanRow, plan_pk)
            if row is None:
                raise NotFoundError(f"plan {plan_pk} does not exist")
            return plan_item(row)

    def list_plans(self, case_pk: int) -> list[PlanItem]:
        """Every plan version of a case, oldest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(TreatmentPlanRow)
                .where(TreatmentPlanRow.case_pk == case_pk)
                .order_by(TreatmentPlanRow.plan_version)
            ).all()
            return [plan_item(row) for row in rows]

    def warnings_to_acknowledge(self, plan_pk: int) -> tuple[Advisory, ...]:
        """The advisories an approver must acknowledge for this plan as proposed
        (judged against the course as it stands now)."""
        _, shown = self.preview_overrides(plan_pk, {})
        return tuple(a for a in shown if a.severity in ACKNOWLEDGE_SEVERITIES)

    def contraindications(self, plan_pk: int) -> tuple[Advisory, ...]:
        """The contraindications an approver must override with a reason."""
        _, shown = self.preview_overrides(plan_pk, {})
        return tuple(a for a in shown if a.severity == "contraindication")

    def key_image(self, case_pk: int, load_series: Callable[[str], Any]) -> KeyImage | None:
        """The plan sheet's key image: the baseline slice through the largest focus, contoured.

        Parameters
        ----------
        case_pk : int
            The case.
        load_series : callable
            ``StudyService.load_series`` (series UID → task returning an ImageVolume).

        Returns
        -------
        KeyImage or None
            None when no focus is contoured at baseline.
        """
        return build_key_image(self._sessions, case_pk, load_series)

    def course_history(self, case_pk: int, *, exclude: int | None = None) -> CourseHistory:
        """Irinotecan and sessions of the course's approved plans not superseded by another.

        Notes
        -----
        Procedures actually performed (their delivered dose) will replace the planned
        numbers of the sessions they record once the procedure log exists; until then
        the approved plans stand for the course, as planned.
        """
        with self._sessions() as session:
            return read_course(session, case_pk, exclude=exclude)
