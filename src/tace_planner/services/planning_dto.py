"""Read models of treatment planning handed to the UI and the CLI (no SQLAlchemy here).

The UI imports this module, and the import contract forbids ``ui → sqlalchemy`` even
indirectly, so it imports only the domain. A :class:`PlanProposal` is what
:meth:`PlanningService.propose` returns (not saved); a :class:`PlanItem` is a saved
plan version with its status, the warnings acknowledged and the overrides.

The module is longer than most because each read model carries its JSON form and
the inverse (the stored plan record and the CLI's ``plan --json`` document); it
holds no logic beyond that.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tace_planner.domain.body import PatientInputs
from tace_planner.domain.catalogue import BeadProduct
from tace_planner.domain.dosing import (
    BurdenInputs,
    CourseHistory,
    PlanOptions,
    PlanResult,
    SessionPlan,
)
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.dosing_results import total_expected_delivered_mg, total_loaded_mg
from tace_planner.domain.explanation import Advisory, Explanation

if TYPE_CHECKING:
    from tace_planner.services.plan_progress import PlanProgress

DISCLAIMER = (
    "Planning aid for research and clinical decision support — not a prescription. "
    "The physician decides."
)
PLAN_FORMAT = "tace-planner-plan/1"


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _timestamp(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class ClinicalInputsItem:
    """A case's stored patient inputs (``inputs`` is all-None when nothing was entered)."""

    case_pk: int
    inputs: PatientInputs
    updated_at: dt.datetime | None = None
    updated_by: str = ""
    version: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "case_pk": self.case_pk,
            **self.inputs.to_json(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True, slots=True)
class FocusItem:
    """One focus measured at baseline, as the planner uses it."""

    name: str
    couinaud_segment: str
    volume_cm3: float
    method: str = ""
    trust: str = ""
    measured_at: dt.datetime | None = None
    trust_reason: str = ""


@dataclass(frozen=True, slots=True)
class UnmeasuredItem:
    """A baseline focus without a usable volume, and why (planning refuses to rest on it)."""

    name: str
    couinaud_segment: str
    reason: str


@dataclass(frozen=True, slots=True)
class BurdenItem:
    """Tumour burden inputs read from the latest baseline measurements of a case.

    ``problems`` says in plain words what is missing (no baseline timepoint, no
    contours yet, a focus without a volume …); ``available`` is True when at
    least one focus has a volume.
    """

    case_pk: int
    liver_volume_cm3: float | None
    foci: tuple[FocusItem, ...] = ()
    timepoint_label: str = ""
    imaged_on: dt.date | None = None
    problems: tuple[str, ...] = ()
    unmeasured: tuple[UnmeasuredItem, ...] = ()
    liver_trust: str = "ok"
    liver_trust_reason: str = ""
    outside_liver: tuple[tuple[str, float], ...] = ()
    """(focus name, share of it outside the liver contour), for every focus where it is known."""
    stranded: tuple[tuple[str, str], ...] = ()
    """(lesion name, where its study is now) for each baseline contour lying on a study no
    longer linked to the baseline (left out of the volumes; planning refuses)."""
    liver_stranded: bool = False
    baseline_has_study: bool = True
    shared_volumes: tuple[tuple[str, str, float], ...] = ()
    """(focus, focus, cm³ both contours hold) for each pair of foci on one grid that overlap:
    that volume is counted twice in the tumour volume (see ``services/focus_overlap.py``)."""

    @property
    def available(self) -> bool:
        """True when at least one focus has a measured volume."""
        return bool(self.foci)

    def to_domain(self) -> BurdenInputs:
        """The domain value the dosing model takes."""
        from tace_planner.domain.dosing import TumourFocus, UnmeasuredFocus

        return BurdenInputs(
            self.liver_volume_cm3,
            tuple(
                TumourFocus(
                    f.name, f.couinaud_segment, f.volume_cm3, f.trust or "ok", f.trust_reason
                )
                for f in self.foci
            ),
            unmeasured=tuple(
                UnmeasuredFocus(u.name, u.couinaud_segment, u.reason) for u in self.unmeasured
            ),
            liver_trust=self.liver_trust or "ok",
            liver_trust_reason=self.liver_trust_reason,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "case_pk": self.case_pk,
            "liver_volume_cm3": self.liver_volume_cm3,
            "timepoint_label": self.timepoint_label,
            "imaged_on": self.imaged_on.isoformat() if self.imaged_on else None,
            "foci": [
                {
                    "name": f.name,
                    "couinaud_segment": f.couinaud_segment,
                    "volume_cm3": f.volume_cm3,
                    "method": f.method,
                    "trust": f.trust,
                    "trust_reason": f.trust_reason,
                    "measured_at": f.measured_at.isoformat() if f.measured_at else None,
                }
                for f in self.foci
            ],
            "unmeasured": [
                {"name": u.name, "couinaud_segment": u.couinaud_segment, "reason": u.reason}
                for u in self.unmeasured
            ],
            "liver_trust": self.liver_trust,
            "liver_trust_reason": self.liver_trust_reason,
            "outside_liver": [[name, share] for name, share in self.outside_liver],
            "stranded": [[name, where] for name, where in self.stranded],
            "liver_stranded": self.liver_stranded,
            "baseline_has_study": self.baseline_has_study,
            "shared_volumes": [[a, b, cm3] for a, b, cm3 in self.shared_volumes],
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BurdenItem:
        """Inverse of :meth:`to_json`."""
        return cls(
            case_pk=int(data["case_pk"]),
            liver_volume_cm3=data.get("liver_volume_cm3"),
            timepoint_label=str(data.get("timepoint_label", "")),
            imaged_on=_date(data.get("imaged_on")),
            foci=tuple(
                FocusItem(
                    name=str(f["name"]),
                    couinaud_segment=str(f["couinaud_segment"]),
                    volume_cm3=float(f["volume_cm3"]),
                    method=str(f.get("method", "")),
                    trust=str(f.get("trust", "")),
                    measured_at=_timestamp(f.get("measured_at")),
                    trust_reason=str(f.get("trust_reason", "")),
                )
                for f in data.get("foci", ())
            ),
            problems=tuple(data.get("problems", ())),
            unmeasured=tuple(
                UnmeasuredItem(str(u["name"]), str(u.get("couinaud_segment", "")), str(u["reason"]))
                for u in data.get("unmeasured", ())
            ),
            liver_trust=str(data.get("liver_trust") or "ok"),
            liver_trust_reason=str(data.get("liver_trust_reason", "")),
            outside_liver=tuple(
                (str(name), float(share)) for name, share in data.get("outside_liver", ())
            ),
            stranded=tuple((str(name), str(where)) for name, where in data.get("stranded", ())),
            liver_stranded=bool(data.get("liver_stranded", False)),
            baseline_has_study=bool(data.get("baseline_has_study", True)),
            shared_volumes=tuple(
                (str(a), str(b), float(cm3)) for a, b, cm3 in data.get("shared_volumes", ())
            ),
        )


@dataclass(frozen=True, slots=True)
class CaseHeader:
    """Who and what the plan is for (printed on the plan sheet)."""

    case_pk: int
    patient_id: str = ""
    patient_name: str = ""
    case_title: str = ""
    planned_tace_on: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "case_pk": self.case_pk,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "case_title": self.case_title,
            "planned_tace_on": self.planned_tace_on.isoformat() if self.planned_tace_on else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseHeader:
        """Inverse of :meth:`to_json`."""
        return cls(
            case_pk=int(data["case_pk"]),
            patient_id=str(data.get("patient_id", "")),
            patient_name=str(data.get("patient_name", "")),
            case_title=str(data.get("case_title", "")),
            planned_tace_on=_date(data.get("planned_tace_on")),
        )


@dataclass(frozen=True)
class PlanProposal:
    """A computed plan with everything needed to explain, save and print it.

    Parameters
    ----------
    case : CaseHeader
        Patient and case.
    model : {"burden", "fixed"}
        The planning model used.
    options : PlanOptions
        The choices, with every default resolved.
    patient : PatientInputs
        The patient inputs used.
    burden : BurdenItem
        The burden inputs used.
    figures : mapping
        Derived inputs: bsa_m2, standard_liver_volume_cm3, liver_volume_cm3,
        tumour_volume_cm3 (and per lobe ``tumour_volume_cm3.right`` …),
        burden_percent, burden_percent_of_non_tumour_liver.
    sessions : tuple of SessionPlan
        Empty when blocked.
    advisories : tuple of Advisory
        Ranked block → info.
    explanations : mapping of str to Explanation
        One per figure; sessions carry their own.
    parameters : mapping
        The snapshot: ``{"planning": …, "catalogue_version": …, "product": …}``.
    course : mapping
        :meth:`CourseHistory.to_json` of the course before this plan (delivered in
        logged procedures, planned in approved plans).
    computed_at : datetime.datetime
        Aware UTC.
    progress : PlanProgress, optional
        The case's approved plan under way when this was proposed (its sessions
        performed and to perform), shown and printed beside a live proposal; not saved
        with a plan, nor part of its content (:func:`plan_content`).
    """

    case: CaseHeader
    model: str
    options: PlanOptions
    patient: PatientInputs
    burden: BurdenItem
    figures: Mapping[str, float | None]
    sessions: tuple[SessionPlan, ...]
    advisories: tuple[Advisory, ...]
    explanations: Mapping[str, Explanation]
    parameters: Mapping[str, Any]
    course: Mapping[str, Any] = field(default_factory=dict)
    computed_at: dt.datetime | None = None
    progress: PlanProgress | None = field(default=None, compare=False)

    # -- convenience --------------------------------------------------------

    @property
    def blocked(self) -> bool:
        """True when a block advisory prevents a dose."""
        return any(a.severity == "block" for a in self.advisories)

    @property
    def contraindications(self) -> tuple[Advisory, ...]:
        """Advisories that need a physician's override with a reason to approve."""
        return tuple(a for a in self.advisories if a.severity == "contraindication")

    @property
    def product_name(self) -> str:
        """Name of the product planned with."""
        return str(self.parameters.get("product", {}).get("name", ""))

    @property
    def total_loaded_mg(self) -> float:
        """Irinotecan loaded over the plan's sessions."""
        return total_loaded_mg(self.sessions)

    @property
    def total_expected_delivered_mg(self) -> float:
        """Expected delivered irinotecan over the plan's sessions."""
        return total_expected_delivered_mg(self.sessions)

    def explanation(self, key: str) -> Explanation | None:
        """The explanation of a figure (``"bsa_m2"``) or of a session number
        (``"session1.beads_ml"``), or None."""
        if key.startswith("session") and "." in key:
            head, name = key.split(".", 1)
            number = int(head.removeprefix("session"))
            for session in self.sessions:
                if session.number == number:
                    return session.explanations.get(name)
            return None
        return self.explanations.get(key)

    def explanation_text(self) -> str:
        """Every explanation as text (stored with the plan record)."""
        blocks = [e.to_text() for e in self.explanations.values()]
        for session in self.sessions:
            blocks.append(f"Session {session.number} — {session.territory_label}")
            blocks += [e.to_text() for e in session.explanations.values()]
        return "\n\n".join(blocks)

    # -- JSON ------------------------------------------------------------------

    def inputs_json(self) -> dict[str, Any]:
        """The inputs block of the CLI JSON (and of the stored plan)."""
        lobes = {
            key.split(".", 1)[1]: value
            for key, value in self.figures.items()
            if key.startswith("tumour_volume_cm3.")
        }
        planning = self.parameters.get("planning", {}).get("values", {})
        return {
            "liver_volume_cm3": self.figures.get("liver_volume_cm3"),
            "tumour_volume_cm3": {**lobes, "total": self.figures.get("tumour_volume_cm3")},
            "tumour_volume_by_segment_cm3": self.burden.to_domain().by_segment(),
            "burden_percent": self.figures.get("burden_percent"),
            "burden_percent_of_non_tumour_liver": self.figures.get(
                "burden_percent_of_non_tumour_liver"
            ),
            "bsa_m2": self.figures.get("bsa_m2"),
            "standard_liver_volume_cm3": self.figures.get("standard_liver_volume_cm3"),
            "patient": self.patient.to_json(),
            "parameters": {name: item.get("value") for name, item in planning.items()},
        }

    def to_json(self) -> dict[str, Any]:
        """The ``tace-planner plan --json`` document; :meth:`from_json` reads it back."""
        return {
            "format": PLAN_FORMAT,
            "case": self.case.to_json(),
            "model": self.model,
            "product": {
                "code": self.parameters.get("product", {}).get("code"),
                "name": self.product_name,
            },
            "inputs": self.inputs_json(),
            "options": self.options.to_json(),
            "burden": self.burden.to_json(),
            "figures": dict(self.figures),
            "sessions": [s.to_json() for s in self.sessions],
            "totals": {
                "sessions": len(self.sessions),
                "irinotecan_loaded_mg": self.total_loaded_mg,
                "irinotecan_expected_delivered_mg": self.total_expected_delivered_mg,
                "course_loaded_mg": CourseHistory.from_json(self.course).committed_mg
                + self.total_loaded_mg,
            },
            "warnings": [a.to_json() for a in self.advisories],
            "blocked": self.blocked,
            "explanations": {k: e.to_json() for k, e in self.explanations.items()},
            "parameters": dict(self.parameters),
            "course": dict(self.course),
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "disclaimer": DISCLAIMER,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlanProposal:
        """Inverse of :meth:`to_json`."""
        return cls(
            case=CaseHeader.from_json(data["case"]),
            model=str(data["model"]),
            options=PlanOptions.from_json(data["options"]),
            patient=PatientInputs.from_json(data["inputs"]["patient"]),
            burden=BurdenItem.from_json(data["burden"]),
            figures=dict(data["figures"]),
            sessions=tuple(SessionPlan.from_json(s) for s in data["sessions"]),
            advisories=tuple(Advisory.from_json(a) for a in data["warnings"]),
            explanations={k: Explanation.from_json(v) for k, v in data["explanations"].items()},
            parameters=dict(data["parameters"]),
            course=dict(data.get("course", {})),
            computed_at=_timestamp(data.get("computed_at")),
        )


@dataclass(frozen=True, slots=True)
class OverrideItem:
    """A physician's change of a proposed number, with the reason."""

    field: str
    value: float
    proposed: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The stored form ``{"value", "proposed", "reason"}``."""
        return {"value": self.value, "proposed": self.proposed, "reason": self.reason}


@dataclass(frozen=True)
class PlanItem:
    """One saved plan version.

    ``proposal`` is what the app proposed; ``sessions`` are the sessions after the
    physician's overrides (equal to the proposal's when there are none);
    ``advisories`` are every advisory shown (once approved: judged again on the
    effective sessions and the course at approval), ``acknowledged`` the codes the
    approver acknowledged and ``contraindications_overridden`` the physician's reason
    for each contraindication approved anyway.
    """

    pk: int
    case_pk: int
    plan_version: int
    supersedes_pk: int | None
    status: str
    proposal: PlanProposal
    sessions: tuple[SessionPlan, ...]
    advisories: tuple[Advisory, ...]
    acknowledged: tuple[str, ...] = ()
    overrides: tuple[OverrideItem, ...] = ()
    contraindications_overridden: Mapping[str, str] = field(default_factory=dict)
    created_by: str = ""
    created_at: dt.datetime | None = None
    approved_by: str = ""
    approved_at: dt.datetime | None = None
    version: int = 1
    supersedes_version: int | None = None
    """The plan version of ``supersedes_pk`` (what people read: "supersedes version 2")."""

    @property
    def model(self) -> str:
        """The planning model."""
        return self.proposal.model

    @property
    def case(self) -> CaseHeader:
        """Patient and case."""
        return self.proposal.case

    @property
    def figures(self) -> Mapping[str, float | None]:
        """Derived inputs of the proposal."""
        return self.proposal.figures

    @property
    def explanations(self) -> Mapping[str, Explanation]:
        """Explanations of the figures."""
        return self.proposal.explanations

    @property
    def product_name(self) -> str:
        """Name of the product."""
        return self.proposal.product_name

    @property
    def blocked(self) -> bool:
        """True when the proposal was blocked."""
        return self.proposal.blocked

    @property
    def is_approved(self) -> bool:
        """True once approved (then immutable)."""
        return self.status == "approved"

    @property
    def total_loaded_mg(self) -> float:
        """Irinotecan loaded over the (possibly overridden) sessions."""
        return math.fsum(s.irinotecan_loaded_mg for s in self.sessions)

    @property
    def total_expected_delivered_mg(self) -> float:
        """Expected delivered irinotecan over the (possibly overridden) sessions."""
        return math.fsum(s.irinotecan_expected_delivered_mg for s in self.sessions)

    def explanation(self, key: str) -> Explanation | None:
        """See :meth:`PlanProposal.explanation` (for the effective sessions)."""
        return replace(self.proposal, sessions=self.sessions).explanation(key)

    def repeated_by(self, proposal: PlanProposal | None) -> bool:
        """True when saving ``proposal`` after this version stores nothing.

        The rule of *Save draft*, read by the service
        (:meth:`~tace_planner.services.planning.PlanningService.save_plan_if_changed`)
        and by the Plan panel's button: a draft with the proposal's content is not
        stored again. An approved version never changes, so the same proposal after it
        is stored as a new draft (the way to approve it again, by a colleague or with
        other acknowledgements or overrides; :meth:`save_draft_note` says so).
        """
        return (
            proposal is not None
            and self.status == "draft"
            and plan_content(self.proposal) == plan_content(proposal)
        )

    def save_draft_note(self, proposal: PlanProposal | None) -> str:
        """What *Save draft* does with ``proposal`` after this version ("" when nothing
        needs saying: a changed proposal is simply stored as the next draft)."""
        if self.repeated_by(proposal):
            return f"Nothing changed since v{self.plan_version} was saved."
        if (
            proposal is not None
            and self.is_approved
            and plan_content(self.proposal) == plan_content(proposal)
        ):
            return (
                f"Stores a new draft with the inputs of approved plan v{self.plan_version}; "
                f"v{self.plan_version} remains in force until another version is approved. "
                "A draft is how an approved plan is approved again (by a colleague, or with "
                "other acknowledgements or overrides)."
            )
        return ""

    def to_json(self) -> dict[str, Any]:
        """The proposal's JSON with the effective sessions and the plan record fields."""
        data = replace(self.proposal, sessions=self.sessions, advisories=self.advisories).to_json()
        data["plan"] = {
            "pk": self.pk,
            "plan_version": self.plan_version,
            "supersedes_pk": self.supersedes_pk,
            "status": self.status,
            "acknowledged": list(self.acknowledged),
            "overrides": {o.field: o.to_json() for o in self.overrides},
            "contraindications_overridden": dict(self.contraindications_overridden),
            "proposed_sessions": [s.to_json() for s in self.proposal.sessions],
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
        }
        return data


def proposal_from_result(
    result: PlanResult,
    *,
    case: CaseHeader,
    patient: PatientInputs,
    burden: BurdenItem,
    product: BeadProduct,
    parameters: PlanningParameters,
    catalogue_version: Any,
    course: CourseHistory,
    user: str,
    computed_at: dt.datetime,
    progress: PlanProgress | None = None,
) -> PlanProposal:
    """Assemble the read model of a computed plan (``domain.dosing.propose_plan``'s result).

    The product is recorded with any capacity or vial volume the user entered, so
    the parameter snapshot says exactly what the dose was computed from.
    """
    user_product = product.with_user_values(
        capacity_mg_per_ml=result.options.capacity_mg_per_ml,
        vial_bead_volume_ml=result.options.vial_bead_volume_ml,
        entered_by=user,
    )
    return PlanProposal(
        case=case,
        model=result.model,
        options=result.options,
        patient=patient,
        burden=burden,
        figures=dict(result.figures),
        sessions=result.sessions,
        advisories=result.advisories,
        explanations=dict(result.explanations),
        parameters={
            "planning": parameters.to_json(),
            "catalogue_version": catalogue_version,
            "product": user_product.to_json(),
        },
        course=course.to_json(),
        computed_at=computed_at,
        progress=progress,
    )


def plan_content(proposal: PlanProposal) -> dict[str, Any]:
    """What a saved plan holds, without the moment it was computed.

    Two proposals with the same content (case, inputs, options, burden, parameters,
    course, sessions, warnings and explanations) are the same plan: saving the second
    would only repeat the first in the case's plan history and audit trail.
    """
    content = proposal.to_json()
    content.pop("computed_at", None)
    return content
