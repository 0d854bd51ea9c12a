"""Treatment planning use cases: patient inputs, burden, proposal, save, approve, revise.

The numbers come from the pure model (:mod:`tace_planner.domain.dosing`); this
service reads what the model needs from the database (clinical inputs, the latest
baseline measurements, earlier approved plans, the imaging protocol's verdict on
the baseline age), loads the versioned parameter files, and records plans. An
approved plan is never changed: :meth:`PlanningService.revise` makes a new
version that supersedes it. A proposal that repeats the case's latest draft unchanged
is not stored again (:meth:`PlanningService.save_plan_if_changed`). Every write is one
unit of work with its audit event.
Approval lives in :mod:`tace_planner.services.plan_approval` and the parameter files
in :mod:`tace_planner.services.planning_parameters`; what remains here (inputs,
burden, proposal, plan records) is one use case each, slightly above 500 lines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.body import (
    PatientInputs,
    check_patient_field,
)
from tace_planner.domain.burden import outside_liver_advisories
from tace_planner.domain.catalogue import BeadCatalogue
from tace_planner.domain.dosing import (
    BaselineImaging,
    CourseHistory,
    PlanOptions,
    PlanResult,
    SessionPlan,
    propose_plan,
)
from tace_planner.domain.dosing_advisories import shared_volume_advisories
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import (
    ConcurrentEditError,
    InvalidInputError,
    NotFoundError,
    TacePlannerError,
)
from tace_planner.domain.explanation import SEVERITIES, Advisory
from tace_planner.services.focus_overlap import GridSource, shared_volumes
from tace_planner.services.plan_approval import (
    ACKNOWLEDGE_SEVERITIES,
    approve_plan,
    approve_row,
    preview_overrides,
    preview_proposal,
)
from tace_planner.services.plan_key_image import KeyImage, build_key_image
from tace_planner.services.plan_progress import PlanProgress, read_plan_progress
from tace_planner.services.planning_dto import (
    BurdenItem,
    CaseHeader,
    ClinicalInputsItem,
    PlanItem,
    PlanProposal,
    proposal_from_result,
)
from tace_planner.services.planning_parameters import (
    CATALOGUE_FILE,
    PLANNING_FILE,
    load_bead_catalogue,
    load_planning_parameters,
    parameter_file_text,
    save_institution_file,
)
from tace_planner.services.planning_records import (
    coerce_patient_value,
    dataclass_fields,
    get_case,
    inputs_item,
    inputs_row,
    plan_item,
    read_burden,
    read_course,
    read_course_for_plan,
    signed_procedures,
)
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    ClinicalInputsRow,
    TreatmentPlanRow,
    utc_now,
)
from tace_planner.store.unit_of_work import UnitOfWork

__all__ = ["PlanningService", "load_bead_catalogue", "load_planning_parameters"]


def _with_contour_checks(result: PlanResult, burden: BurdenItem) -> PlanResult:
    """The plan's advisories plus one per focus lying partly outside the liver contour
    and one per pair of foci whose contours overlap (counted twice in V_mts)."""
    extra = shared_volume_advisories(burden.shared_volumes)
    if burden.liver_volume_cm3 is not None:
        extra = (*outside_liver_advisories(dict(burden.outside_liver)), *extra)
    if not extra:
        return result
    ranked = sorted((*result.advisories, *extra), key=lambda a: -SEVERITIES.index(a.severity))
    return dataclasses.replace(result, advisories=tuple(ranked))


def _read_burden(session: Session, case_pk: int, grids: GridSource | None = None) -> BurdenItem:
    """The baseline burden inputs with the volume each pair of foci holds in common (foci
    on two series of one frame of reference too, when ``grids`` tells their grids)."""
    burden = read_burden(session, case_pk)
    volumes = {f.name: f.volume_cm3 for f in burden.foci}
    shared = shared_volumes(session, case_pk, burden.timepoint_label, volumes, grids=grids)
    return dataclasses.replace(burden, shared_volumes=shared) if shared else burden


def _course_for_plan(session: Session, case_pk: int) -> CourseHistory:
    """The course a new plan is judged against, with the date of its latest treatment
    performed (the plan's first session is dated after it; see
    :func:`~tace_planner.domain.dosing_sessions.date_first_session`)."""
    course = read_course_for_plan(session, case_pk)
    dates = [r.performed_on for _, r in signed_procedures(session, case_pk) if r.performed_on]
    return dataclasses.replace(course, last_performed_on=max(dates)) if dates else course


def _plan_rows(session: Session, case_pk: int) -> list[TreatmentPlanRow]:
    """Every plan version of a case, oldest first."""
    return list(
        session.scalars(
            select(TreatmentPlanRow)
            .where(TreatmentPlanRow.case_pk == case_pk)
            .order_by(TreatmentPlanRow.plan_version)
        )
    )


def _unchanged_draft(session: Session, proposal: PlanProposal) -> TreatmentPlanRow | None:
    """The case's latest version when saving ``proposal`` stores nothing, else None.

    Only the latest version counts (a proposal going back to an older one after a
    different one was saved is a change); the rule is :meth:`PlanItem.repeated_by`,
    which the Plan panel's *Save draft* reads on the latest of
    :meth:`PlanningService.list_plans` too.
    """
    rows = _plan_rows(session, proposal.case.case_pk)
    return rows[-1] if rows and plan_item(rows[-1]).repeated_by(proposal) else None


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
    grids : callable, optional
        Series UID and part → the series' grid (``focus_overlap.header_grids``), so that
        foci contoured on two phases of one study are compared for shared volume; without
        it only foci on one series are.
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
        grids: GridSource | None = None,
    ) -> None:
        self._sessions = session_factory
        self._grids = grids
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

    def parameters_for_display(self) -> tuple[PlanningParameters, BeadCatalogue, str]:
        """The parameters and catalogue in use, to lay out forms, and why a file was refused.

        When the institution's file is refused (e.g. a value out of its range), the
        packaged values are returned with the reason, so that the windows still open
        and say what to correct; :meth:`propose` keeps refusing until it is fixed.
        """
        problems = []
        try:
            params = self.parameters
        except TacePlannerError as error:
            params, problems = load_planning_parameters(), [*problems, str(error)]
        try:
            catalogue = self.catalogue
        except TacePlannerError as error:
            catalogue, problems = load_bead_catalogue(), [*problems, str(error)]
        return params, catalogue, "; ".join(problems)

    def parameter_file_text(self, kind: str) -> tuple[str, str]:
        """The ``planning`` or ``catalogue`` file in use as (where it comes from, JSON text)."""
        return parameter_file_text(kind, self._parameters_dir)

    def save_institution_file(
        self, kind: str, data: Mapping[str, Any], *, expected_version: str | None = None
    ) -> Path | None:
        """Validate and save the institution's ``planning`` or ``catalogue`` file (audited;
        None when nothing changed; refused when the file is no longer ``expected_version``);
        see :func:`tace_planner.services.planning_parameters.save_institution_file`."""
        path = save_institution_file(
            self._sessions,
            self._user,
            self._parameters_dir,
            kind,
            data,
            today=self._clock().date(),
            expected_version=expected_version,
        )
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
        self,
        case_pk: int,
        *,
        confirm_implausible: bool = False,
        expected_version: int | None = None,
        **fields: Any,
    ) -> ClinicalInputsItem:
        """Validate and store patient inputs; only the fields given change.

        Parameters
        ----------
        case_pk : int
            The case.
        confirm_implausible : bool
            Store values that are possible but implausible (outside the plausible
            adult range); impossible values are never stored.
        expected_version : int, optional
            The :attr:`ClinicalInputsItem.version` the form was loaded from (0 when
            nothing was stored); a different stored version means someone saved since
            (ConcurrentEditError). None: no check (a single field set on purpose).
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
        ConcurrentEditError
            Someone saved the inputs after ``expected_version``; nothing is saved.
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
            stored_version = 0 if row is None else row.version
            if expected_version is not None and stored_version != expected_version:
                by = (
                    ""
                    if row is None
                    else f" by {row.updated_by} on {row.updated_at:%Y-%m-%d %H:%M}"
                )
                raise ConcurrentEditError(
                    f"the patient inputs were saved{by} after you opened them — choose the case "
                    "again to load them, then enter your changes"
                )
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
            return _read_burden(session, case_pk, self._grids)

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
            The plan a revision replaces (accepted for the callers that name it). The
            course is that of every proposal: the treatments performed, never the
            sessions still planned, which a proposal replaces
            (:meth:`CourseHistory.before_a_new_plan`).

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
            burden = _read_burden(session, case_pk, self._grids)
            course = _course_for_plan(session, case_pk)
            progress = read_plan_progress(session, case_pk)
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
            baseline=self._baseline(case_pk, params, burden),
        )
        result = _with_contour_checks(result, burden)
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
            progress=progress,
        )

    def _baseline(
        self, case_pk: int, params: PlanningParameters, burden: BurdenItem
    ) -> BaselineImaging | None:
        verdict = self._baseline_age(case_pk, params)
        if not burden.stranded:
            return verdict
        return dataclasses.replace(
            verdict or BaselineImaging("not_evaluated", "no baseline imaging is linked"),
            stranded_contours=burden.stranded,
            has_study=burden.baseline_has_study,
            liver_stranded=burden.liver_stranded,
        )

    def _baseline_age(self, case_pk: int, params: PlanningParameters) -> BaselineImaging | None:
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

        As :meth:`save_plan_if_changed` (same refusals): a proposal that repeats the
        case's latest draft unchanged is not stored again, and that draft is returned.
        """
        return self.save_plan_if_changed(proposal, supersedes_pk=supersedes_pk)[0]

    def save_plan_if_changed(
        self, proposal: PlanProposal, *, supersedes_pk: int | None = None
    ) -> tuple[PlanItem, bool]:
        """Save a proposal as a new draft version unless it repeats the latest draft.

        When the case's latest stored version is a draft whose inputs, parameters and
        result equal the proposal's (only the moment it was computed differs; the rule
        is :meth:`~tace_planner.services.planning_dto.PlanItem.repeated_by`, which the
        Plan panel's *Save draft* reads too), nothing is written, not even an audit
        event: an identical version would only be noise in the plan history and the
        audit trail, and that draft is returned to be approved as it is. After an
        approved version, the same proposal is saved as a new draft: it is how an
        approved plan is approved again (:meth:`revise`).

        Returns
        -------
        (PlanItem, bool)
            The version saved and True, or the identical latest version and False.

        Raises
        ------
        InvalidInputError
            ``supersedes_pk`` is not a plan of the same case.
        NotFoundError
            The case does not exist.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            self._check_target(uow.session, proposal.case.case_pk, supersedes_pk)
            same = _unchanged_draft(uow.session, proposal)
            if same is not None:
                return plan_item(same), False
            row = self._add_draft(uow, proposal, supersedes_pk)
            uow.commit()
            return plan_item(row), True

    @staticmethod
    def _check_target(session: Session, case_pk: int, supersedes_pk: int | None) -> None:
        """Refuse a missing case, or a superseded plan that is not one of the case's."""
        get_case(session, case_pk)
        if supersedes_pk is not None:
            old = session.get(TreatmentPlanRow, supersedes_pk)
            if old is None or old.case_pk != case_pk:
                raise InvalidInputError("supersedes_pk", f"no plan {supersedes_pk} in this case")

    def _add_draft(
        self, uow: UnitOfWork, proposal: PlanProposal, supersedes_pk: int | None
    ) -> TreatmentPlanRow:
        """Add ``proposal`` as the case's next draft version inside ``uow`` (audited)."""
        case_pk = proposal.case.case_pk
        self._check_target(uow.session, case_pk, supersedes_pk)
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
            after={"plan_version": row.plan_version, "model": row.model, "totals": data["totals"]},
            summary=f"case {case_pk}: plan version {row.plan_version} saved as draft",
        )
        return row

    def approve_proposal(
        self,
        proposal: PlanProposal,
        acknowledged_warnings: Iterable[str],
        overrides: Mapping[str, tuple[float, str]] | None = None,
        *,
        contraindication_reasons: Mapping[str, str] | None = None,
    ) -> PlanItem:
        """Save ``proposal`` as a new version and approve it, in one transaction.

        When a check of :func:`approve_plan` fails, nothing is saved: no draft is
        left behind by an approval that did not happen. When the case's latest
        version is a draft ``proposal`` repeats unchanged (as in
        :meth:`save_plan_if_changed`), that draft is approved: no identical version
        is added beside it.

        Raises
        ------
        InvalidInputError
            As :meth:`approve`.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            get_case(uow.session, proposal.case.case_pk)
            same = _unchanged_draft(uow.session, proposal)
            row = same if same is not None else self._add_draft(uow, proposal, None)
            item = approve_row(
                uow,
                row,
                self._user,
                self._clock,
                acknowledged_warnings,
                overrides,
                contraindication_reasons=contraindication_reasons,
            )
            uow.commit()
            return item

    def preview_proposal(
        self, proposal: PlanProposal, overrides: Mapping[str, tuple[float, str]]
    ) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...]]:
        """As :meth:`preview_overrides` for a proposal not saved yet (nothing saved)."""
        return preview_proposal(self._sessions, self._user, proposal, overrides)

    def approve(
        self,
        plan_pk: int,
        acknowledged_warnings: Iterable[str],
        overrides: Mapping[str, tuple[float, str]] | None = None,
        *,
        contraindication_reasons: Mapping[str, str] | None = None,
        expected_version: int | None = None,
    ) -> PlanItem:
        """Approve a draft plan; afterwards it never changes (see :func:`approve_plan`)."""
        return approve_plan(
            self._sessions,
            self._user,
            self._clock,
            plan_pk,
            acknowledged_warnings,
            overrides,
            contraindication_reasons=contraindication_reasons,
            expected_version=expected_version,
        )

    def preview_overrides(
        self, plan_pk: int, overrides: Mapping[str, tuple[float, str]]
    ) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...]]:
        """The sessions and every advisory approving with ``overrides`` would show
        (see :func:`preview_overrides`; nothing saved)."""
        return preview_overrides(self._sessions, self._user, plan_pk, overrides)

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
            return [plan_item(row) for row in _plan_rows(session, case_pk)]

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
        """Irinotecan and sessions of the course: delivered in signed procedures, plus the
        sessions of approved plans (not superseded) that no signed procedure records yet,
        with their loaded dose, as planned (see :func:`read_course`)."""
        with self._sessions() as session:
            return read_course(session, case_pk, exclude=exclude)

    def plan_progress(self, case_pk: int) -> PlanProgress | None:
        """The case's latest approved plan under way: its sessions performed (signed
        procedures logged from them) and to perform; None when none is performed
        (see :func:`~tace_planner.services.plan_progress.read_plan_progress`)."""
        with self._sessions() as session:
            get_case(session, case_pk)
            return read_plan_progress(session, case_pk)
