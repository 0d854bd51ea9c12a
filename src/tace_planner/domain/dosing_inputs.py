"""Inputs of a treatment plan: the measured foci and burden, the course so far, the options.

Value types only (frozen dataclasses with their JSON forms and validation); the
computation is :func:`tace_planner.domain.dosing.propose_plan`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tace_planner.domain.anatomy import SEGMENTS, UNASSIGNED, lobe_of_segment, segment_of
from tace_planner.domain.body import BSA_FORMULAS, SLV_FORMULAS, BsaFormula, SlvFormula
from tace_planner.domain.burden import (
    burden_percent,
    burden_vs_non_tumour_percent,
    volumes_by_lobe,
    volumes_by_segment,
)
from tace_planner.domain.dosing_parameters import (
    DELIVERIES,
    MODELS,
    SCHEDULES,
    Delivery,
    Model,
    Schedule,
)
from tace_planner.domain.errors import InvalidInputError

TRUST_LEVELS = ("ok", "warning", "unmeasurable")
"""How far a volume can be trusted: "warning" = questionable geometry (tilt, gaps, uneven
spacing) that needs review, "unmeasurable" = no volume can be computed from it."""


@dataclass(frozen=True, slots=True)
class TumourFocus:
    """One measured focus at baseline: name, Couinaud segment, volume (cm³) and its trust.

    ``trust`` is "ok", "warning" (questionable slice geometry: review before relying
    on it) or "unmeasurable" (the volume cannot be trusted at all); ``trust_reason``
    says why in words.
    """

    name: str
    couinaud_segment: str
    volume_cm3: float
    trust: str = "ok"
    trust_reason: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.volume_cm3) or self.volume_cm3 < 0:
            raise InvalidInputError(f"focus {self.name}", f"volume {self.volume_cm3!r} cm³")
        if self.trust not in TRUST_LEVELS:
            raise InvalidInputError(f"focus {self.name}", f"trust {self.trust!r}")

    @property
    def segment(self) -> str | None:
        """Segment "I"…"VIII" (sub-segments of IV count as IV), or None."""
        return segment_of(self.couinaud_segment)

    @property
    def lobe(self) -> str | None:
        """Lobe of the segment, or None when the segment is unknown."""
        return lobe_of_segment(self.couinaud_segment)


@dataclass(frozen=True, slots=True)
class UnmeasuredFocus:
    """A focus of the baseline that has no usable volume, and why."""

    name: str
    couinaud_segment: str
    reason: str


@dataclass(frozen=True, slots=True)
class BurdenInputs:
    """Tumour burden from the baseline measurements.

    Parameters
    ----------
    liver_volume_cm3 : float or None
        V_liv: the whole liver contour *including* the foci, cm³.
    foci : tuple of TumourFocus
        Every contoured focus.

    Notes
    -----
    F = V_mts / V_liv × 100 % with V_liv the total liver including tumour; the
    burden relative to the non-tumour liver, V_mts / (V_liv − V_mts), is shown
    beside it because published series define the denominator differently.
    """

    liver_volume_cm3: float | None
    foci: tuple[TumourFocus, ...] = ()
    unmeasured: tuple[UnmeasuredFocus, ...] = ()
    liver_trust: str = "ok"
    liver_trust_reason: str = ""

    @property
    def tumour_volume_cm3(self) -> float:
        """V_mts: sum of the measured focus volumes, cm³."""
        return math.fsum(f.volume_cm3 for f in self.foci)

    @property
    def complete(self) -> bool:
        """True when every baseline focus has a volume."""
        return not self.unmeasured

    def by_lobe(self) -> dict[str, float]:
        """Tumour volume per lobe (right, left, caudate, and "unassigned" if any), cm³."""
        totals = volumes_by_lobe((f.couinaud_segment, f.volume_cm3) for f in self.foci)
        if not any(f.lobe is None for f in self.foci):
            totals.pop(UNASSIGNED)
        return totals

    def by_segment(self) -> dict[str, float]:
        """Tumour volume per Couinaud segment (only segments with foci), cm³."""
        return volumes_by_segment((f.couinaud_segment, f.volume_cm3) for f in self.foci)

    @property
    def burden_percent(self) -> float | None:
        """F = V_mts / V_liv × 100 % (:func:`tace_planner.domain.burden.burden_percent`)."""
        return burden_percent(self.tumour_volume_cm3, self.liver_volume_cm3)

    @property
    def burden_percent_of_non_tumour_liver(self) -> float | None:
        """V_mts / (V_liv − V_mts) × 100 %, or None when undefined."""
        return burden_vs_non_tumour_percent(self.tumour_volume_cm3, self.liver_volume_cm3)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "liver_volume_cm3": self.liver_volume_cm3,
            "liver_trust": self.liver_trust,
            "liver_trust_reason": self.liver_trust_reason,
            "foci": [
                {
                    "name": f.name,
                    "couinaud_segment": f.couinaud_segment,
                    "volume_cm3": f.volume_cm3,
                    "trust": f.trust,
                    "trust_reason": f.trust_reason,
                }
                for f in self.foci
            ],
            "unmeasured": [
                {"name": u.name, "couinaud_segment": u.couinaud_segment, "reason": u.reason}
                for u in self.unmeasured
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BurdenInputs:
        """Inverse of :meth:`to_json`."""
        return cls(
            liver_volume_cm3=data.get("liver_volume_cm3"),
            foci=tuple(
                TumourFocus(
                    str(f["name"]),
                    str(f["couinaud_segment"]),
                    float(f["volume_cm3"]),
                    str(f.get("trust") or "ok"),
                    str(f.get("trust_reason", "")),
                )
                for f in data.get("foci", ())
            ),
            unmeasured=tuple(
                UnmeasuredFocus(
                    str(u["name"]), str(u.get("couinaud_segment", "")), str(u["reason"])
                )
                for u in data.get("unmeasured", ())
            ),
            liver_trust=str(data.get("liver_trust") or "ok"),
            liver_trust_reason=str(data.get("liver_trust_reason", "")),
        )


@dataclass(frozen=True, slots=True)
class BaselineImaging:
    """The imaging protocol's verdict on the age of the baseline imaging, and baseline
    contours left without their study.

    ``status`` is "pass", "fail" (older than ``limit_days``) or "not_evaluated".
    """

    status: str
    reason: str
    limit_days: int = 28
    stranded_contours: tuple[tuple[str, str], ...] = ()
    """(lesion name, where its study is now: "follow-up 1", "" for no timepoint) for each
    baseline contour whose study is no longer linked to the baseline."""
    has_study: bool = True
    """False when no study is linked to the baseline timepoint at all."""
    liver_stranded: bool = False
    """True when the liver contour is among ``stranded_contours``."""


@dataclass(frozen=True, slots=True)
class CourseHistory:
    """The irinotecan of the course before this plan.

    ``delivered_mg`` / ``procedures`` come from the procedure log (what reached the
    patient); ``planned_mg`` / ``planned_sessions`` are sessions of approved plans
    that have not been performed (their loaded dose: all of it may still be given).
    The course checks judge ``committed_mg`` = delivered + planned, plus this plan.
    A plan of the course is judged against :meth:`before_a_new_plan`: it replaces
    the sessions still planned, so they are not counted beside its own.
    ``last_performed_on`` is the date of the latest treatment performed (None when
    none was): a plan's first session is dated after it
    (:func:`~tace_planner.domain.dosing_sessions.date_first_session`).
    """

    delivered_mg: float = 0.0
    procedures: int = 0
    planned_mg: float = 0.0
    planned_sessions: int = 0
    last_performed_on: dt.date | None = None

    def __post_init__(self) -> None:
        for name in ("delivered_mg", "planned_mg"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise InvalidInputError(f"course {name}", f"must be ≥ 0, got {value!r}")
        for name in ("procedures", "planned_sessions"):
            if getattr(self, name) < 0:
                raise InvalidInputError(f"course {name}", "must be ≥ 0")

    @property
    def committed_mg(self) -> float:
        """Delivered plus still planned irinotecan of the course."""
        return self.delivered_mg + self.planned_mg

    @property
    def sessions(self) -> int:
        """Treatments performed plus approved and not yet performed."""
        return self.procedures + self.planned_sessions

    def before_a_new_plan(self) -> CourseHistory:
        """The course a new plan of it is judged against: the treatments performed only.

        A case holds one treatment course and a plan is its schedule of sessions. A
        plan proposed, saved or approved for the course (the approved plan proposed
        again, a draft or a revision of it) replaces the sessions approved and not yet
        performed; counting them beside its own counted the same treatments twice ("4
        treatments" for an approved plan of 2 re-opened). Performed treatments always
        count, with the dose they delivered.
        """
        return CourseHistory(
            delivered_mg=self.delivered_mg,
            procedures=self.procedures,
            last_performed_on=self.last_performed_on,
        )

    def treatments_with(self, plan_sessions: int) -> TreatmentCount:
        """The treatments of the course once a plan of ``plan_sessions`` sessions is added."""
        return TreatmentCount(self.procedures, self.planned_sessions, plan_sessions)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (stored with each plan). ``prior_loaded_mg`` / ``prior_sessions``
        (committed dose and sessions) keep the keys of plans written before the
        procedure log; ``last_performed_on`` is written only when a treatment was
        performed (the content of plans saved before it is unchanged)."""
        data: dict[str, Any] = {
            "prior_loaded_mg": self.committed_mg,
            "prior_sessions": self.sessions,
            "delivered_mg": self.delivered_mg,
            "procedures": self.procedures,
            "planned_mg": self.planned_mg,
            "planned_sessions": self.planned_sessions,
        }
        if self.last_performed_on is not None:
            data["last_performed_on"] = self.last_performed_on.isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CourseHistory:
        """Inverse of :meth:`to_json`; plans saved before the procedure log stored
        ``prior_loaded_mg`` / ``prior_sessions`` (approved plans), read as planned."""
        if "prior_loaded_mg" in data and "planned_mg" not in data:
            return cls(
                planned_mg=float(data.get("prior_loaded_mg") or 0.0),
                planned_sessions=int(data.get("prior_sessions") or 0),
            )
        last = data.get("last_performed_on")
        return cls(
            delivered_mg=float(data.get("delivered_mg") or 0.0),
            procedures=int(data.get("procedures") or 0),
            planned_mg=float(data.get("planned_mg") or 0.0),
            planned_sessions=int(data.get("planned_sessions") or 0),
            last_performed_on=dt.date.fromisoformat(last) if last else None,
        )


@dataclass(frozen=True, slots=True)
class TreatmentCount:
    """The treatments of a course with a plan: performed, approved and still to perform
    (another plan's sessions), and this plan's sessions.

    The course-count warning (≥ 3 treatments, Martin, Cardiovasc Intervent Radiol 2010)
    judges :attr:`total`; :meth:`words` says what it is made of, so that a session
    already performed is not read as counted twice.
    """

    performed: int
    approved_open: int
    this_plan: int

    @property
    def total(self) -> int:
        """Every treatment of the course with this plan."""
        return self.performed + self.approved_open + self.this_plan

    def words(self) -> str:
        """ "3 treatments in the course (1 performed, 2 in this plan)"; without treatments
        before the plan, "2 treatments in the course"."""
        total = self.total
        text = f"{total} treatment{'s' if total != 1 else ''} in the course"
        if not (self.performed or self.approved_open):
            return text
        parts = [f"{self.performed} performed"] if self.performed else []
        if self.approved_open:
            parts.append(f"{self.approved_open} approved, not yet performed")
        parts.append(f"{self.this_plan} in this plan")
        return f"{text} ({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """The user's planning choices; None means "the parameter file's default"."""

    model: Model | None = None
    product_code: str | None = None
    delivery: Delivery = "lobar"
    schedule: Schedule = "sequential"
    segments: tuple[str, ...] = ()
    interval_days: int | None = None
    bsa_formula: BsaFormula | None = None
    slv_formula: SlvFormula | None = None
    loading_mg_per_ml: float | None = None
    capacity_mg_per_ml: float | None = None
    vial_bead_volume_ml: float | None = None
    first_session_on: dt.date | None = None

    def validated(self) -> PlanOptions:
        """Self, after checking every choice; segments normalised.

        Raises
        ------
        InvalidInputError
            A choice is not allowed; the field is named.
        """
        for name, value, allowed in (
            ("model", self.model, MODELS),
            ("delivery", self.delivery, DELIVERIES),
            ("schedule", self.schedule, SCHEDULES),
            ("bsa_formula", self.bsa_formula, BSA_FORMULAS),
            ("slv_formula", self.slv_formula, SLV_FORMULAS),
        ):
            if value is not None and value not in allowed:
                raise InvalidInputError(name, f"{value!r} is not one of {list(allowed)}")
        segments = []
        for text in self.segments:
            segment = segment_of(text)
            if segment is None:
                raise InvalidInputError("segments", f"{text!r} is not a Couinaud segment I–VIII")
            segments.append(segment)
        if self.interval_days is not None and (
            isinstance(self.interval_days, bool) or not 1 <= int(self.interval_days) <= 365
        ):
            raise InvalidInputError("interval_days", "must be 1–365 days")
        for name in ("loading_mg_per_ml", "capacity_mg_per_ml", "vial_bead_volume_ml"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value <= 0):
                raise InvalidInputError(name, f"must be a positive number, got {value!r}")
        return replace(self, segments=tuple(sorted(set(segments), key=SEGMENTS.index)))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["segments"] = list(self.segments)
        data["first_session_on"] = (
            self.first_session_on.isoformat() if self.first_session_on else None
        )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlanOptions:
        """Inverse of :meth:`to_json` (unknown keys are refused)."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise InvalidInputError("options", f"unknown option(s) {sorted(unknown)}")
        values = dict(data)
        values["segments"] = tuple(values.get("segments") or ())
        first = values.get("first_session_on")
        values["first_session_on"] = dt.date.fromisoformat(first) if first else None
        return cls(**values)
