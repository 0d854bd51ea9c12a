"""Treatment planning: territories, microsphere volume and irinotecan dose, with warnings.

The model (docs/adr/0005-dosing-model.md)
-----------------------------------------
*Territories.* Foci are grouped by lobe from their Couinaud segment
(:mod:`tace_planner.domain.anatomy`): right lobe V–VIII, left lobe II–IV, caudate
lobe I. Foci in one lobe → one session to that lobe. Foci in both lobes → one
session per lobe, the larger burden first, ``interval_days`` apart (default 21
days, Szemitko, J Clin Med 2021), or every lobe in one session if the user
chooses. A caudate focus is treated with the first session (segment I is fed
from both sides; the feeder is chosen at angiography). Segmental
(superselective) delivery treats only the chosen segments.

*Burden-scaled model (default).* For each session::

    beads_ml  = clamp(V_territory × k, beads_min, beads_max)
    vials, loads, delivered = load_vials(beads_ml, …)       (domain.dosing_kernel)

with ``k`` the embolic-capacity coefficient (mL beads per cm³ tumour, an
institutional parameter), ``c_load`` the loading concentration (50 mg/mL, Taylor,
Eur J Pharm Sci 2007; DC Bead IFU) and the session limit 100 mg by default: 100 mg
per session is the common practice (McGill 2015; Martin 2009; Szemitko 2021) and
more than 100 mg in one treatment predicted adverse events (Martin, CVIR 2010).
The burden may raise the bead volume, the vials or the number of sessions, never
the dose of a session above the limit; a higher dose needs the institution's
parameters or a physician's override with a reason. No published source links
dose or bead volume to tumour volume: the model is a planning convention.

*Fixed-dose model.* ``fixed_dose_mg`` (100 mg) per session loaded into the whole
vials that hold ``fixed_beads_ml`` (2 mL), all of them injected, at no more than
the loading concentration and the product's capacity — otherwise the model
refuses; same session limit.

*Trust.* A plan rests on every focus of the baseline: a focus without a volume or
with an unmeasurable geometry blocks the proposal; a questionable geometry
raises an advisory that must be acknowledged.

Properties (tested with Hypothesis): the same inputs give the same plan; more
tumour never gives fewer beads, vials or mg until a limit is reached; the loaded
dose never exceeds the session limit or the product's capacity; delivered ≤ loaded.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tace_planner.domain.anatomy import (
    COUINAUD_SOURCE,
    LOBE_LABELS,
    LOBES,
    SEGMENTS,
    UNASSIGNED,
    lobe_of_segment,
    segment_of,
)
from tace_planner.domain.body import (
    BSA_FORMULAS,
    SLV_FORMULAS,
    BsaFormula,
    PatientInputs,
    SlvFormula,
    body_surface_area_m2,
    explain_bsa,
    explain_slv,
    standard_liver_volume_cm3,
)
from tace_planner.domain.burden import (
    F_DEFINITION_SOURCE,
    burden_percent,
    burden_vs_non_tumour_percent,
    volumes_by_lobe,
    volumes_by_segment,
)
from tace_planner.domain.catalogue import BeadProduct
from tace_planner.domain.dosing_advisories import dose_advisories, input_advisories
from tace_planner.domain.dosing_kernel import (
    DELIVERY_ASSUMPTION,
    delivered_mg,
    fill_vials,
    load_vials,
    vials_for,
)
from tace_planner.domain.dosing_parameters import (
    DELIVERIES,
    MODELS,
    SCHEDULES,
    Delivery,
    Model,
    PlanningParameters,
    Schedule,
)
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import SEVERITIES, Advisory, Explanation

__all__ = [
    "BaselineImaging",
    "BurdenInputs",
    "CourseHistory",
    "Delivery",
    "Model",
    "PlanOptions",
    "PlanResult",
    "PlanningParameters",
    "Schedule",
    "SessionPlan",
    "TumourFocus",
    "UnmeasuredFocus",
    "delivered_mg",
    "fill_vials",
    "plan_territories",
    "propose_plan",
]

TRUST_LEVELS = ("ok", "warning", "unmeasurable")
"""How far a volume can be trusted: "warning" = questionable geometry (tilt, gaps, uneven
spacing) that needs review, "unmeasurable" = no volume can be computed from it."""

_EPS = 1e-9

# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


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
    """The imaging protocol's verdict on the age of the baseline imaging.

    ``status`` is "pass", "fail" (older than ``limit_days``) or "not_evaluated".
    """

    status: str
    reason: str
    limit_days: int = 28


@dataclass(frozen=True, slots=True)
class CourseHistory:
    """The irinotecan of the course before this plan.

    ``delivered_mg`` / ``procedures`` come from the procedure log (what reached the
    patient); ``planned_mg`` / ``planned_sessions`` are sessions of approved plans
    that have not been performed (their loaded dose: all of it may still be given).
    The course checks judge ``committed_mg`` = delivered + planned, plus this plan.
    """

    delivered_mg: float = 0.0
    procedures: int = 0
    planned_mg: float = 0.0
    planned_sessions: int = 0

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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (stored with each plan). ``prior_loaded_mg`` / ``prior_sessions``
        (committed dose and sessions) keep the keys of plans written before the
        procedure log."""
        return {
            "prior_loaded_mg": self.committed_mg,
            "prior_sessions": self.sessions,
            "delivered_mg": self.delivered_mg,
            "procedures": self.procedures,
            "planned_mg": self.planned_mg,
            "planned_sessions": self.planned_sessions,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CourseHistory:
        """Inverse of :meth:`to_json`; plans saved before the procedure log stored
        ``prior_loaded_mg`` / ``prior_sessions`` (approved plans), read as planned."""
        if "prior_loaded_mg" in data and "planned_mg" not in data:
            return cls(
                planned_mg=float(data.get("prior_loaded_mg") or 0.0),
                planned_sessions=int(data.get("prior_sessions") or 0),
            )
        return cls(
            delivered_mg=float(data.get("delivered_mg") or 0.0),
            procedures=int(data.get("procedures") or 0),
            planned_mg=float(data.get("planned_mg") or 0.0),
            planned_sessions=int(data.get("planned_sessions") or 0),
        )


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


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionPlan:
    """One planned TACE session.

    Parameters
    ----------
    number : int
        1, 2, … in order of treatment.
    territory : str
        Code: "right", "left", "caudate", "right+caudate", "right+left", or
        "segments:VI,VIII" for segmental delivery.
    territory_label : str
        For people, e.g. "right lobe (V–VIII) + caudate lobe (I)".
    segments : tuple of str
        The Couinaud segments whose foci the session treats.
    day : int
        Days after the first session.
    on : datetime.date or None
        Date of the session when the first session's date is known.
    tumour_volume_cm3 : float
        Tumour volume in the treated territory.
    beads_ml : float
        Planned injection volume of loaded beads.
    vials : int
        Whole vials prepared (``prepared_beads_ml = vials × vial_ml``).
    irinotecan_loaded_mg : float
        Irinotecan loaded into the prepared vials.
    vial_loads_mg : tuple of float
        Irinotecan per vial, in the order they are injected.
    irinotecan_expected_delivered_mg : float
        Expected delivered dose if ``beads_ml`` is injected (homogeneous suspension).
    limited_by : tuple of str
        Limits that changed the numbers: "min_beads", "max_beads", "capacity",
        "session_cap".
    explanations : mapping of str to Explanation
        Keys: tumour_volume_cm3, beads_ml, vials, irinotecan_loaded_mg,
        irinotecan_expected_delivered_mg, day.
    """

    number: int
    territory: str
    territory_label: str
    segments: tuple[str, ...]
    day: int
    on: dt.date | None
    tumour_volume_cm3: float
    beads_ml: float
    vials: int
    prepared_beads_ml: float
    irinotecan_loaded_mg: float
    vial_loads_mg: tuple[float, ...]
    irinotecan_expected_delivered_mg: float
    limited_by: tuple[str, ...] = ()
    explanations: Mapping[str, Explanation] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the CLI's session entry)."""
        return {
            "number": self.number,
            "territory": self.territory,
            "territory_label": self.territory_label,
            "segments": list(self.segments),
            "day": self.day,
            "on": self.on.isoformat() if self.on else None,
            "tumour_volume_cm3": self.tumour_volume_cm3,
            "beads_ml": self.beads_ml,
            "vials": self.vials,
            "prepared_beads_ml": self.prepared_beads_ml,
            "irinotecan_loaded_mg": self.irinotecan_loaded_mg,
            "vial_loads_mg": list(self.vial_loads_mg),
            "irinotecan_expected_delivered_mg": self.irinotecan_expected_delivered_mg,
            "limited_by": list(self.limited_by),
            "explanations": {k: e.to_json() for k, e in self.explanations.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionPlan:
        """Inverse of :meth:`to_json`."""
        on = data.get("on")
        return cls(
            number=int(data["number"]),
            territory=str(data["territory"]),
            territory_label=str(data["territory_label"]),
            segments=tuple(data.get("segments", ())),
            day=int(data["day"]),
            on=dt.date.fromisoformat(on) if on else None,
            tumour_volume_cm3=float(data["tumour_volume_cm3"]),
            beads_ml=float(data["beads_ml"]),
            vials=int(data["vials"]),
            prepared_beads_ml=float(data["prepared_beads_ml"]),
            irinotecan_loaded_mg=float(data["irinotecan_loaded_mg"]),
            vial_loads_mg=tuple(float(v) for v in data.get("vial_loads_mg", ())),
            irinotecan_expected_delivered_mg=float(data["irinotecan_expected_delivered_mg"]),
            limited_by=tuple(data.get("limited_by", ())),
            explanations={
                k: Explanation.from_json(v) for k, v in data.get("explanations", {}).items()
            },
        )


@dataclass(frozen=True)
class PlanResult:
    """The proposed plan: sessions, derived figures, advisories and explanations.

    ``figures`` holds the derived inputs (bsa_m2, standard_liver_volume_cm3,
    liver_volume_cm3, tumour_volume_cm3, burden_percent, …; None when not
    computable); ``explanations`` explains each of them. ``blocked`` is True
    when a ``block`` advisory stops the dose (then ``sessions`` is empty).
    """

    model: Model
    options: PlanOptions
    sessions: tuple[SessionPlan, ...]
    advisories: tuple[Advisory, ...]
    figures: Mapping[str, float | None]
    explanations: Mapping[str, Explanation]

    @property
    def blocked(self) -> bool:
        """True when a block advisory prevents a dose."""
        return any(a.severity == "block" for a in self.advisories)

    @property
    def total_loaded_mg(self) -> float:
        """Irinotecan loaded over the plan's sessions."""
        return math.fsum(s.irinotecan_loaded_mg for s in self.sessions)

    @property
    def total_expected_delivered_mg(self) -> float:
        """Expected delivered irinotecan over the plan's sessions."""
        return math.fsum(s.irinotecan_expected_delivered_mg for s in self.sessions)


# ---------------------------------------------------------------------------
# The computation
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Territory:
    code: str
    label: str
    segments: tuple[str, ...]
    volume_cm3: float
    lobes: tuple[str, ...]


def plan_territories(
    burden: BurdenInputs, options: PlanOptions, params: PlanningParameters
) -> list[_Territory]:
    """Group the treated foci into sessions (see the module notes), in treatment order."""
    treated = [f for f in burden.foci if f.lobe is not None and f.volume_cm3 > 0]
    if options.delivery == "segmental" and options.segments:
        treated = [f for f in treated if f.segment in options.segments]
    by_lobe: dict[str, list[TumourFocus]] = {}
    for focus in treated:
        by_lobe.setdefault(str(focus.lobe), []).append(focus)
    volumes = {lobe: math.fsum(f.volume_cm3 for f in foci) for lobe, foci in by_lobe.items()}
    # Larger burden first; ties in a fixed order so that the same inputs give the same plan.
    order = sorted(volumes, key=lambda lobe: (-volumes[lobe], LOBES.index(lobe)))
    groups: list[list[str]] = [[lobe] for lobe in order]
    if "caudate" in volumes and len(groups) > 1:
        groups = [g for g in groups if g != ["caudate"]]
        groups[0].append("caudate")
    if options.schedule == "single" and len(groups) > 1:
        groups = [sorted((lobe for group in groups for lobe in group), key=LOBES.index)]
    territories = []
    for lobes in groups:
        foci = [f for lobe in lobes for f in by_lobe[lobe]]
        segments = tuple(sorted({str(f.segment) for f in foci}, key=SEGMENTS.index))
        if options.delivery == "segmental":
            code = "segments:" + ",".join(segments)
            label = f"segments {', '.join(segments)} (superselective)"
        else:
            code = "+".join(lobes)
            label = " + ".join(LOBE_LABELS[lobe] for lobe in lobes)
        territories.append(
            _Territory(code, label, segments, math.fsum(f.volume_cm3 for f in foci), tuple(lobes))
        )
    return territories


def _session(
    number: int,
    territory: _Territory,
    day: int,
    on: dt.date | None,
    model: Model,
    product: BeadProduct,
    params: PlanningParameters,
    loading_mg_per_ml: float,
) -> SessionPlan:
    vial_ml = float(product.vial_bead_volume_ml.value or 0.0)
    capacity = float(product.irinotecan_capacity_mg_per_ml.value or 0.0)
    cap_mg = float(params.value("per_session_cap_mg"))
    beads_min = float(params.value("min_beads_per_session_ml"))
    beads_max = float(params.value("max_beads_per_session_ml"))
    limited: list[str] = []
    volume = territory.volume_cm3
    explanations: dict[str, Explanation] = {
        "tumour_volume_cm3": Explanation(
            summary=f"Tumour volume in the treated territory: {territory.label}",
            formula="V_territory = Σ V_focus over the foci in the territory",
            inputs={"segments": ", ".join(territory.segments)},
            result=f"{volume:.1f} cm³",
            source=f"baseline contours; {COUINAUD_SOURCE}",
        )
    }
    if model == "burden":
        k = float(params.value("embolic_capacity_ml_per_cm3"))
        raw = volume * k
        beads = min(max(raw, beads_min), beads_max)
        if raw < beads_min:
            limited.append("min_beads")
        if raw > beads_max:
            limited.append("max_beads")
        explanations["beads_ml"] = Explanation(
            summary="Bead volume from the tumour volume (burden-scaled model)",
            formula="beads = clamp(V_territory × k, min, max)",
            inputs={
                "V_territory": f"{volume:.1f} cm³",
                "k": f"{k:g} mL/cm³",
                "min": f"{beads_min:g} mL",
                "max": f"{beads_max:g} mL",
                "V × k": f"{raw:.4g} mL",
            },
            result=f"{beads:.4g} mL",
            source=f"k: {params.cite('embolic_capacity_ml_per_cm3')}; range: "
            f"{params.cite('max_beads_per_session_ml')}",
        )
        loading = load_vials(
            beads_ml=beads,
            vial_ml=vial_ml,
            loading_mg_per_ml=loading_mg_per_ml,
            capacity_mg_per_ml=capacity,
            session_limit_mg=cap_mg,
        )
        dose_rule = "every prepared vial loaded at c_load, up to the session limit"
        dose_source = f"c_load: {params.cite('loading_mg_per_ml')}"
    else:
        fixed_beads = float(params.value("fixed_beads_ml"))
        fixed_mg = float(params.value("fixed_dose_mg"))
        vials = vials_for(fixed_beads, vial_ml)
        beads = vials * vial_ml  # the fixed dose is spread through whole vials, all injected
        loading = load_vials(
            beads_ml=beads,
            vial_ml=vial_ml,
            loading_mg_per_ml=loading_mg_per_ml,
            capacity_mg_per_ml=capacity,
            session_limit_mg=cap_mg,
            vials=vials,
            dose_mg=fixed_mg,
        )
        explanations["beads_ml"] = Explanation(
            summary="Bead volume per session (fixed-dose model)",
            formula="beads = whole vials holding the fixed bead volume, all injected",
            inputs={
                "fixed bead volume": f"{fixed_beads:g} mL",
                "vial volume": f"{vial_ml:g} mL",
                "fixed dose": f"{fixed_mg:g} mg",
            },
            result=f"{beads:.4g} mL ({fixed_mg / beads:.4g} mg/mL)",
            source=f"{params.cite('fixed_beads_ml')}; vial volume: "
            f"{product.vial_bead_volume_ml.cite()}",
        )
        dose_rule = "the fixed dose, loaded in whole vials, up to the session limit"
        dose_source = f"fixed dose: {params.cite('fixed_dose_mg')}"
    limited += [x for x in loading.limited_by if x not in limited]
    explanations["vials"] = Explanation(
        summary="Whole vials to prepare",
        formula="vials = ⌈beads / vial volume⌉",
        inputs={"beads": f"{loading.beads_ml:.4g} mL", "vial volume": f"{vial_ml:g} mL"},
        result=f"{loading.vials} vial(s) = {loading.prepared_ml:g} mL of beads",
        source=f"vial volume: {product.vial_bead_volume_ml.cite()}",
    )
    loads_text = ", ".join(f"{v:.1f} mg" for v in loading.loads_mg)
    explanations["irinotecan_loaded_mg"] = Explanation(
        summary="Irinotecan loaded into the prepared vials",
        formula=f"loaded = {dose_rule}; a vial holds ≤ vial volume × min(c_load, capacity); "
        "vials filled in order",
        inputs={
            "vials": str(loading.vials),
            "vial volume": f"{vial_ml:g} mL",
            "c_load": f"{loading_mg_per_ml:g} mg/mL",
            "capacity": f"{capacity:g} mg/mL",
            "dose asked": f"{loading.asked_mg:.1f} mg",
            "session limit": f"{cap_mg:g} mg",
            "per vial": loads_text,
        },
        result=f"{loading.loaded_mg:.1f} mg",
        source=f"{dose_source}; capacity: {product.irinotecan_capacity_mg_per_ml.cite()}; "
        f"session limit: {params.cite('per_session_cap_mg')}",
    )
    step = (
        f"; whole-vial step: {loading.prepared_ml:g} mL prepared for {loading.beads_ml:.4g} mL "
        f"planned, so {loading.undelivered_mg:.1f} mg of the loaded dose is not planned for "
        "injection"
        if loading.whole_vial_step
        else ""
    )
    explanations["irinotecan_expected_delivered_mg"] = Explanation(
        summary="Expected delivered irinotecan if the planned bead volume is injected",
        formula="delivered = Σ (fraction of vial i injected) × load_i, vials injected in order",
        inputs={"beads injected": f"{loading.beads_ml:.4g} mL", "per vial": loads_text},
        result=f"{loading.expected_delivered_mg:.1f} mg{step}",
        source=DELIVERY_ASSUMPTION,
    )
    explanations["day"] = Explanation(
        summary="Day of the session after the first one",
        formula="day = (session − 1) × interval",
        inputs={"session": str(number)},
        result=f"day {day}" + (f" ({on.isoformat()})" if on else ""),
        source=params.cite("lobar_interval_days"),
    )
    if loading.whole_vial_step:
        limited.append("whole_vial_step")
    return SessionPlan(
        number=number,
        territory=territory.code,
        territory_label=territory.label,
        segments=territory.segments,
        day=day,
        on=on,
        tumour_volume_cm3=volume,
        beads_ml=loading.beads_ml,
        vials=loading.vials,
        prepared_beads_ml=loading.prepared_ml,
        irinotecan_loaded_mg=loading.loaded_mg,
        vial_loads_mg=loading.loads_mg,
        irinotecan_expected_delivered_mg=loading.expected_delivered_mg,
        limited_by=tuple(limited),
        explanations=explanations,
    )


def propose_plan(
    patient: PatientInputs,
    burden: BurdenInputs,
    product: BeadProduct,
    params: PlanningParameters,
    options: PlanOptions | None = None,
    *,
    course: CourseHistory | None = None,
    baseline: BaselineImaging | None = None,
) -> PlanResult:
    """Propose sessions, bead volumes, vials and irinotecan doses, with advisories.

    Parameters
    ----------
    patient : PatientInputs
        Validated patient inputs (see :func:`tace_planner.domain.body.check_patient_inputs`).
    burden : BurdenInputs
        Liver and focus volumes from the baseline contours.
    product : BeadProduct
        The product chosen (user-entered capacity or vial volume are applied from
        ``options`` here).
    params : PlanningParameters
        The institution's parameters.
    options : PlanOptions, optional
        The user's choices; defaults from ``params``.
    course : CourseHistory, optional
        What earlier approved plans of the course loaded.
    baseline : BaselineImaging, optional
        The imaging protocol's verdict on the baseline age.

    Returns
    -------
    PlanResult
        Deterministic: the same arguments give an equal result.

    Raises
    ------
    InvalidInputError
        An option is invalid.
    """
    options = (options or PlanOptions()).validated()
    model: Model = options.model or params.value("default_model")
    options = replace(
        options,
        model=model,
        product_code=product.code,
        interval_days=options.interval_days or params.value("lobar_interval_days"),
        bsa_formula=options.bsa_formula or params.value("bsa_formula"),
        slv_formula=options.slv_formula or params.value("slv_formula"),
        loading_mg_per_ml=options.loading_mg_per_ml or params.value("loading_mg_per_ml"),
    )
    product = product.with_user_values(
        capacity_mg_per_ml=options.capacity_mg_per_ml,
        vial_bead_volume_ml=options.vial_bead_volume_ml,
    )
    course = course or CourseHistory()
    figures, explanations = _figures(patient, burden, options)
    advisories = input_advisories(patient, burden, product, params, options, figures, baseline)
    sessions: tuple[SessionPlan, ...] = ()
    if not any(a.severity == "block" for a in advisories):
        territories = plan_territories(burden, options, params)
        interval = int(options.interval_days or 0)
        built = []
        for number, territory in enumerate(territories, start=1):
            day = (number - 1) * interval
            on = (
                options.first_session_on + dt.timedelta(days=day)
                if options.first_session_on
                else None
            )
            built.append(
                _session(
                    number,
                    territory,
                    day,
                    on,
                    model,
                    product,
                    params,
                    float(options.loading_mg_per_ml or 0.0),
                )
            )
        sessions = tuple(built)
        advisories += dose_advisories(sessions, product, params, course)
    ranked = sorted(advisories, key=lambda a: -SEVERITIES.index(a.severity))
    return PlanResult(
        model=model,
        options=options,
        sessions=sessions,
        advisories=tuple(ranked),
        figures=figures,
        explanations=explanations,
    )


def _figures(
    patient: PatientInputs, burden: BurdenInputs, options: PlanOptions
) -> tuple[dict[str, float | None], dict[str, Explanation]]:
    figures: dict[str, float | None] = {}
    explanations: dict[str, Explanation] = {}
    bsa_formula: BsaFormula = options.bsa_formula or "mosteller"
    slv_formula: SlvFormula = options.slv_formula or "urata"
    bsa = slv = None
    if patient.height_cm and patient.weight_kg:
        bsa = body_surface_area_m2(patient.height_cm, patient.weight_kg, bsa_formula)
        explanations["bsa_m2"] = explain_bsa(patient.height_cm, patient.weight_kg, bsa_formula)
        try:
            slv = standard_liver_volume_cm3(bsa, slv_formula)
            explanations["standard_liver_volume_cm3"] = explain_slv(bsa, slv_formula)
        except InvalidInputError:
            slv = None
    figures["bsa_m2"] = bsa
    figures["standard_liver_volume_cm3"] = slv
    v_liv, v_mts = burden.liver_volume_cm3, burden.tumour_volume_cm3
    figures["liver_volume_cm3"] = v_liv
    figures["tumour_volume_cm3"] = v_mts
    per_focus = {
        f"{f.name} ({f.couinaud_segment or '?'})": f"{f.volume_cm3:.2f} cm³"
        + ("" if f.trust == "ok" else f" (geometry {f.trust}: {f.trust_reason or 'review it'})")
        for f in burden.foci
    }
    per_focus.update(
        {
            f"{u.name} ({u.couinaud_segment or '?'})": f"not measured: {u.reason}"
            for u in burden.unmeasured
        }
    )
    explanations["tumour_volume_cm3"] = Explanation(
        summary="Total tumour volume V_mts",
        formula="V_mts = Σ V_focus",
        inputs=per_focus,
        result=f"{v_mts:.1f} cm³",
        source="baseline contours (voxel count × voxel volume)",
    )
    for lobe, volume in burden.by_lobe().items():
        figures[f"tumour_volume_cm3.{lobe}"] = volume
        explanations[f"tumour_volume_cm3.{lobe}"] = Explanation(
            summary=f"Tumour volume in the {LOBE_LABELS.get(lobe, lobe)}",
            formula="Σ V_focus over foci whose segment lies in the lobe",
            inputs={k: v for k, v in per_focus.items()},
            result=f"{volume:.1f} cm³",
            source=COUINAUD_SOURCE,
        )
    if v_liv:
        explanations["liver_volume_cm3"] = Explanation(
            summary="Measured liver volume V_liv (whole liver including the foci)",
            formula="V_liv = voxels in the liver contour × voxel volume",
            inputs={},
            result=f"{v_liv:.0f} cm³",
            source="baseline liver contour",
        )
    f_total = burden.burden_percent
    f_rest = burden.burden_percent_of_non_tumour_liver
    figures["burden_percent"] = f_total
    figures["burden_percent_of_non_tumour_liver"] = f_rest
    if f_total is not None:
        explanations["burden_percent"] = Explanation(
            summary="Tumour burden F (share of the liver replaced by tumour)",
            formula="F = V_mts / V_liv × 100 %",
            inputs={"V_mts": f"{v_mts:.1f} cm³", "V_liv": f"{v_liv:.0f} cm³"},
            result=f"{f_total:.1f} %",
            source=F_DEFINITION_SOURCE,
        )
    if f_rest is not None and v_liv:
        explanations["burden_percent_of_non_tumour_liver"] = Explanation(
            summary="Tumour volume relative to the non-tumour liver",
            formula="V_mts / (V_liv − V_mts) × 100 %",
            inputs={"V_mts": f"{v_mts:.1f} cm³", "V_liv − V_mts": f"{v_liv - v_mts:.0f} cm³"},
            result=f"{f_rest:.1f} %",
            source=F_DEFINITION_SOURCE,
        )
    return figures, explanations
