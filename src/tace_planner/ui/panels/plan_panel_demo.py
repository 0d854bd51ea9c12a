"""A planning service with demo data and no database, for the panel's demo and UI tests.

It answers like :class:`tace_planner.services.planning.PlanningService` (the same
domain model, the packaged parameter files) for one demo case whose burden is the
phantom's baseline truth, keeping inputs and plans in memory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.resources
import json
from collections.abc import Iterable, Mapping
from typing import Any

from tace_planner.domain.body import PatientInputs, check_patient_field
from tace_planner.domain.catalogue import BeadCatalogue
from tace_planner.domain.dosing import CourseHistory, PlanOptions, propose_plan
from tace_planner.domain.dosing_overrides import override_session
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.explanation import Advisory
from tace_planner.services.planning_dto import (
    BurdenItem,
    CaseHeader,
    ClinicalInputsItem,
    FocusItem,
    OverrideItem,
    PlanItem,
    PlanProposal,
    proposal_from_result,
)

DEMO_CASE = CaseHeader(
    1, "TACE-DEMO-001", "Demo^Phantom", "NET liver metastases (demo)", dt.date(2026, 3, 16)
)
DEMO_BURDEN = BurdenItem(
    case_pk=1,
    liver_volume_cm3=1572.703,
    foci=tuple(
        FocusItem(name, segment, volume)
        for name, segment, volume in (
            ("F1", "VIII", 82.448),
            ("F2", "VI", 12.667),
            ("F3", "I", 2.572),
            ("F4", "IV", 4.059),
            ("F5", "III", 0.18),
            ("F6", "VII", 4.849),
            ("F7", "V", 7.037),
        )
    ),
    timepoint_label="baseline",
    imaged_on=dt.date(2026, 3, 2),
)


def _resource(name: str) -> dict[str, Any]:
    folder = importlib.resources.files("tace_planner.resources") / "parameters"
    return json.loads((folder / name).read_text(encoding="utf-8"))


class DemoPlanningService:
    """In-memory stand-in for ``PlanningService`` (case 1 only)."""

    def __init__(self, user: str = "demo user") -> None:
        self.user = user
        self.parameters = PlanningParameters.from_dict(_resource("planning.json"))
        self.catalogue = BeadCatalogue.from_dict(_resource("bead_catalogue.json"))
        self._inputs = PatientInputs(175.0, 70.0, 0.8, 1, "normal", False, True)
        self._plans: list[PlanItem] = []

    def _check_case(self, case_pk: int) -> None:
        if case_pk != DEMO_CASE.case_pk:
            raise NotFoundError(f"case {case_pk} does not exist")

    def clinical_inputs(self, case_pk: int) -> ClinicalInputsItem:
        """The demo patient's inputs."""
        self._check_case(case_pk)
        return ClinicalInputsItem(case_pk, self._inputs)

    def set_clinical_inputs(
        self, case_pk: int, *, confirm_implausible: bool = False, **fields: Any
    ) -> ClinicalInputsItem:
        """Validate and keep the inputs (like the real service)."""
        self._check_case(case_pk)
        for name, value in fields.items():
            problem = check_patient_field(name, value)
            if problem is not None and (problem.kind == "impossible" or not confirm_implausible):
                raise problem.to_error()
        self._inputs = dataclasses.replace(self._inputs, **fields)
        return self.clinical_inputs(case_pk)

    def propose(
        self,
        case_pk: int,
        model: str | None = None,
        options: PlanOptions | Mapping[str, Any] | None = None,
        *,
        patient_changes: Mapping[str, Any] | None = None,
        supersedes_pk: int | None = None,
    ) -> PlanProposal:
        """A proposal from the demo burden."""
        self._check_case(case_pk)
        if isinstance(options, Mapping):
            options = PlanOptions.from_json(options)
        options = options or PlanOptions()
        if model is not None:
            options = dataclasses.replace(options, model=model)  # type: ignore[arg-type]
        if options.first_session_on is None:
            options = dataclasses.replace(options, first_session_on=DEMO_CASE.planned_tace_on)
        patient = self._inputs
        if patient_changes:
            for name, value in patient_changes.items():
                problem = check_patient_field(name, value)
                if problem is not None and problem.kind == "impossible":
                    raise problem.to_error()
            patient = dataclasses.replace(patient, **patient_changes)
        code = options.product_code or self.parameters.value("default_product")
        product = self.catalogue.product(code)
        approved = [p for p in self._plans if p.is_approved and p.pk != supersedes_pk]
        course = CourseHistory(
            sum(p.total_loaded_mg for p in approved), sum(len(p.sessions) for p in approved)
        )
        result = propose_plan(
            patient, DEMO_BURDEN.to_domain(), product, self.parameters, options, course=course
        )
        return proposal_from_result(
            result,
            case=DEMO_CASE,
            patient=patient,
            burden=DEMO_BURDEN,
            product=product,
            parameters=self.parameters,
            catalogue_version=self.catalogue.version,
            course=course,
            user=self.user,
            computed_at=dt.datetime.now(dt.UTC),
        )

    def save_plan(self, proposal: PlanProposal, *, supersedes_pk: int | None = None) -> PlanItem:
        """Keep a draft version."""
        plan = PlanItem(
            pk=len(self._plans) + 1,
            case_pk=proposal.case.case_pk,
            plan_version=len(self._plans) + 1,
            supersedes_pk=supersedes_pk,
            status="draft",
            proposal=proposal,
            sessions=proposal.sessions,
            advisories=proposal.advisories,
            created_by=self.user,
            created_at=dt.datetime.now(dt.UTC),
        )
        self._plans.append(plan)
        return plan

    def _overridden(
        self, plan: PlanItem, overrides: Mapping[str, tuple[float, str]]
    ) -> tuple[tuple[Any, ...], tuple[Advisory, ...], tuple[OverrideItem, ...]]:
        from tace_planner.domain.catalogue import BeadCatalogue as Catalogue

        product = Catalogue.from_dict(
            {
                "format": "tace-planner-bead-catalogue/1",
                "version": "snapshot",
                "products": [plan.proposal.parameters["product"]],
            }
        ).products[0]
        sessions, raised, records = [], [], []
        for session in plan.proposal.sessions:
            mine = {
                k.split(".", 1)[1]: v
                for k, v in overrides.items()
                if k.startswith(f"session{session.number}.")
            }
            if not mine:
                sessions.append(session)
                continue
            reason = "; ".join(sorted({r for _, r in mine.values()}))
            updated, advisories = override_session(
                session,
                product,
                self.parameters,
                plan.model,  # type: ignore[arg-type]
                {name: value for name, (value, _) in mine.items()},
                reason=reason,
                by=self.user,
                loading_mg_per_ml=plan.proposal.options.loading_mg_per_ml,
            )
            sessions.append(updated)
            raised += advisories
            records += [
                OverrideItem(f"session{session.number}.{name}", value, getattr(session, name), why)
                for name, (value, why) in mine.items()
            ]
        return tuple(sessions), tuple(raised), tuple(records)

    def preview_overrides(
        self, plan_pk: int, overrides: Mapping[str, tuple[float, str]]
    ) -> tuple[tuple[Any, ...], tuple[Advisory, ...]]:
        """What the overrides would give."""
        sessions, raised, _ = self._overridden(self._plans[plan_pk - 1], overrides)
        return sessions, raised

    def approve(
        self,
        plan_pk: int,
        acknowledged_warnings: Iterable[str],
        overrides: Mapping[str, tuple[float, str]] | None = None,
    ) -> PlanItem:
        """Approve a draft (every warning acknowledged)."""
        plan = self._plans[plan_pk - 1]
        if plan.is_approved:
            raise InvalidInputError("plan", "approved plans cannot change")
        sessions, raised, records = self._overridden(plan, overrides or {})
        acknowledged = set(acknowledged_warnings) | {a.code for a in raised}
        missing = [
            a.code
            for a in plan.advisories
            if a.severity in ("warning", "strong_warning") and a.code not in acknowledged
        ]
        if missing and not records:
            raise InvalidInputError("acknowledged_warnings", f"acknowledge {', '.join(missing)}")
        approved = dataclasses.replace(
            plan,
            status="approved",
            sessions=sessions,
            advisories=plan.advisories + raised,
            acknowledged=tuple(sorted(acknowledged)),
            overrides=records,
            approved_by=self.user,
            approved_at=dt.datetime.now(dt.UTC),
        )
        self._plans[plan_pk - 1] = approved
        return approved

    def list_plans(self, case_pk: int) -> list[PlanItem]:
        """Every plan kept."""
        self._check_case(case_pk)
        return list(self._plans)
