"""Treatment planning: territories, microsphere volume and irinotecan dose, with warnings.

The model (docs/adr/0005-dosing-model.md; clinical-reference.md §1, §2, §9)
---------------------------------------------------------------------------
*Territories.* Foci are grouped by lobe from their Couinaud segment: right lobe
V–VIII, left lobe II–IV, caudate lobe I (§7). Foci in one lobe → one session to
that lobe. Foci in both lobes → one session per lobe, the larger burden first,
``interval_days`` apart (default 21 days, Szemitko 2021 [S]), or every lobe in
one session if the user chooses. A caudate focus is treated with the first
session (segment I is fed from both sides; the feeder is chosen at angiography).
Segmental (superselective) delivery treats only the chosen segments.

*Burden-scaled model (default).* For each session::

    beads_ml  = clamp(V_territory × k, beads_min, beads_max)
    vials     = ⌈beads_ml / vial_ml⌉                       (whole vials are prepared)
    per vial  = vial_ml × min(c_load, capacity)            (mg loaded in a full vial)
    loaded    = Σ vial loads, filled in order, ≤ per-session cap
    delivered = Σ (fraction of vial i injected) × load_i   (vials injected in order)

with ``k`` the embolic-capacity coefficient (mL beads per cm³ tumour, an
institutional parameter whose default 0.05 is *derived*: ~40 cm³ median baseline
burden of the source study ↦ one 2 mL vial, the commonest practice per session,
§1.1), ``c_load`` the loading concentration (50 mg/mL, Taylor 2007; IFU [M]),
``capacity`` the product's irinotecan capacity (§2) and the per-session cap
institutional (200 mg has no published source, §1.1). No source links dose or bead
volume to tumour volume (§1.1 NOT FOUND): the model is a planning convention.

*Fixed-dose model.* ``fixed_dose_mg`` (100 mg) in ``fixed_beads_ml`` (2 mL) per
session (McGill 2015; Martin 2009; Szemitko 2021 [S]), same vial, capacity and
cap rules.

Properties (tested with Hypothesis): the same inputs give the same plan; more
tumour never gives fewer beads, vials or mg until a limit is reached; the loaded
dose never exceeds the cap or the product's capacity; delivered ≤ loaded.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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
from tace_planner.domain.catalogue import BeadProduct
from tace_planner.domain.dosing_advisories import dose_advisories, input_advisories
from tace_planner.domain.dosing_parameters import (
    COUINAUD_SOURCE,
    DELIVERIES,
    LOBE_LABELS,
    LOBES,
    MODELS,
    SCHEDULES,
    SEGMENTS,
    Delivery,
    Model,
    PlanningParameters,
    Schedule,
    lobe_of_segment,
    normalise_segment,
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
    "delivered_mg",
    "fill_vials",
    "plan_territories",
    "propose_plan",
]

_EPS = 1e-9

# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TumourFocus:
    """One contoured focus at baseline: its name, Couinaud segment and volume (cm³)."""

    name: str
    couinaud_segment: str
    volume_cm3: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.volume_cm3) or self.volume_cm3 < 0:
            raise InvalidInputError(f"focus {self.name}", f"volume {self.volume_cm3!r} cm³")

    @property
    def segment(self) -> str | None:
        """Normalised segment, or None."""
        return normalise_segment(self.couinaud_segment)

    @property
    def lobe(self) -> str | None:
        """Lobe of the segment, or None when the segment is unknown."""
        return lobe_of_segment(self.couinaud_segment)


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
    beside it because sources differ (clinical-reference §9.1).
    """

    liver_volume_cm3: float | None
    foci: tuple[TumourFocus, ...] = ()

    @property
    def tumour_volume_cm3(self) -> float:
        """V_mts: sum of the focus volumes, cm³."""
        return math.fsum(f.volume_cm3 for f in self.foci)

    def by_lobe(self) -> dict[str, float]:
        """Tumour volume per lobe (right, left, caudate, and "unassigned" if any), cm³."""
        totals = {lobe: 0.0 for lobe in LOBES}
        for focus in self.foci:
            key = focus.lobe or "unassigned"
            totals[key] = totals.get(key, 0.0) + focus.volume_cm3
        return totals

    def by_segment(self) -> dict[str, float]:
        """Tumour volume per Couinaud segment (only segments with foci), cm³."""
        totals: dict[str, float] = {}
        for focus in self.foci:
            key = focus.segment or "unassigned"
            totals[key] = totals.get(key, 0.0) + focus.volume_cm3
        return {key: totals[key] for key in (*SEGMENTS, "unassigned") if key in totals}

    @property
    def burden_percent(self) -> float | None:
        """F = V_mts / V_liv × 100 %, or None without a liver volume."""
        if not self.liver_volume_cm3:
            return None
        return self.tumour_volume_cm3 / self.liver_volume_cm3 * 100.0

    @property
    def burden_percent_of_non_tumour_liver(self) -> float | None:
        """V_mts / (V_liv − V_mts) × 100 %, or None when undefined."""
        if not self.liver_volume_cm3 or self.liver_volume_cm3 <= self.tumour_volume_cm3:
            return None
        return self.tumour_volume_cm3 / (self.liver_volume_cm3 - self.tumour_volume_cm3) * 100.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "liver_volume_cm3": self.liver_volume_cm3,
            "foci": [
                {"name": f.name, "couinaud_segment": f.couinaud_segment, "volume_cm3": f.volume_cm3}
                for f in self.foci
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BurdenInputs:
        """Inverse of :meth:`to_json`."""
        return cls(
            liver_volume_cm3=data.get("liver_volume_cm3"),
            foci=tuple(
                TumourFocus(str(f["name"]), str(f["couinaud_segment"]), float(f["volume_cm3"]))
                for f in data.get("foci", ())
            ),
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
    """What earlier approved plans of the course already planned to load."""

    loaded_mg: float = 0.0
    sessions: int = 0


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
            segment = normalise_segment(text)
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


def fill_vials(vials: int, per_vial_mg: float, total_mg: float) -> tuple[float, ...]:
    """Vial loads (mg) filled in order: full vials first, the last partly, then empty ones."""
    loads = []
    left = max(total_mg, 0.0)
    for _ in range(vials):
        load = min(per_vial_mg, left)
        loads.append(load)
        left -= load
    return tuple(loads)


def delivered_mg(beads_ml: float, vial_ml: float, loads: Sequence[float]) -> float:
    """Dose in the first ``beads_ml`` of suspension when vials are injected in order."""
    total = 0.0
    remaining = beads_ml
    for load in loads:
        fraction = min(max(remaining / vial_ml, 0.0), 1.0)
        total += fraction * load
        remaining -= vial_ml
    return total


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
        concentration = loading_mg_per_ml
        explanations["beads_ml"] = Explanation(
            summary="Bead volume from the tumour volume (burden-scaled model)",
            formula="beads = clamp(V_territory × k, min, max)",
            inputs={
                "V_territory": f"{volume:.1f} cm³",
                "k": f"{k:g} mL/cm³",
                "min": f"{beads_min:g} mL",
                "max": f"{beads_max:g} mL",
                "V × k": f"{raw:.2f} mL",
            },
            result=f"{beads:.2f} mL",
            source=f"k: {params.cite('embolic_capacity_ml_per_cm3')}; range: "
            f"{params.cite('max_beads_per_session_ml')}",
        )
        target_mg = math.inf  # every prepared vial is loaded at c_load
    else:
        beads = float(params.value("fixed_beads_ml"))
        fixed_mg = float(params.value("fixed_dose_mg"))
        concentration = fixed_mg / beads
        explanations["beads_ml"] = Explanation(
            summary="Bead volume per session (fixed-dose model)",
            formula="beads = fixed bead volume",
            inputs={"fixed bead volume": f"{beads:g} mL"},
            result=f"{beads:.2f} mL",
            source=params.cite("fixed_beads_ml"),
        )
        target_mg = fixed_mg
    vials = max(1, math.ceil(beads / vial_ml - _EPS))
    prepared = vials * vial_ml
    explanations["vials"] = Explanation(
        summary="Whole vials to prepare",
        formula="vials = ⌈beads / vial volume⌉",
        inputs={"beads": f"{beads:.2f} mL", "vial volume": f"{vial_ml:g} mL"},
        result=f"{vials} vial(s) = {prepared:g} mL of beads",
        source=f"vial volume: {product.vial_bead_volume_ml.cite()}",
    )
    per_vial = vial_ml * min(concentration, capacity)
    if concentration > capacity + _EPS:
        limited.append("capacity")
    requested = min(vials * vial_ml * concentration, target_mg)
    loaded_target = min(vials * per_vial, target_mg)
    if loaded_target > cap_mg + _EPS:
        limited.append("session_cap")
    loads = fill_vials(vials, per_vial, min(loaded_target, cap_mg))
    loaded = math.fsum(loads)
    explanations["irinotecan_loaded_mg"] = Explanation(
        summary="Irinotecan loaded into the prepared vials",
        formula="loaded = min(vials × vial × min(c_load, capacity), dose asked, cap); "
        "vials filled in order",
        inputs={
            "vials": str(vials),
            "vial volume": f"{vial_ml:g} mL",
            "c_load": f"{concentration:g} mg/mL",
            "capacity": f"{capacity:g} mg/mL",
            "dose asked": f"{requested:.1f} mg",
            "cap": f"{cap_mg:g} mg",
            "per vial": ", ".join(f"{v:.1f} mg" for v in loads),
        },
        result=f"{loaded:.1f} mg",
        source=(
            f"c_load: {params.cite('loading_mg_per_ml')}; "
            if model == "burden"
            else f"fixed dose: {params.cite('fixed_dose_mg')}; "
        )
        + f"capacity: {product.irinotecan_capacity_mg_per_ml.cite()}; "
        f"cap: {params.cite('per_session_cap_mg')}",
    )
    delivered = delivered_mg(beads, vial_ml, loads)
    explanations["irinotecan_expected_delivered_mg"] = Explanation(
        summary="Expected delivered irinotecan if the planned bead volume is injected",
        formula="delivered = Σ (fraction of vial i injected) × load_i, vials injected in order",
        inputs={
            "beads injected": f"{beads:.2f} mL",
            "per vial": ", ".join(f"{v:.1f} mg" for v in loads),
        },
        result=f"{delivered:.1f} mg",
        source="[D] homogeneous suspension (clinical-reference §1.5); loaded ≠ delivered: "
        "beads lose 4–6 % of irinotecan at once in contrast (Pereira 2016) — log the "
        "delivered fraction after the procedure",
    )
    explanations["day"] = Explanation(
        summary="Day of the session after the first one",
        formula="day = (session − 1) × interval",
        inputs={"session": str(number)},
        result=f"day {day}" + (f" ({on.isoformat()})" if on else ""),
        source=params.cite("lobar_interval_days"),
    )
    return SessionPlan(
        number=number,
        territory=territory.code,
        territory_label=territory.label,
        segments=territory.segments,
        day=day,
        on=on,
        tumour_volume_cm3=volume,
        beads_ml=beads,
        vials=vials,
        prepared_beads_ml=prepared,
        irinotecan_loaded_mg=loaded,
        vial_loads_mg=loads,
        irinotecan_expected_delivered_mg=delivered,
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
        f"{f.name} ({f.couinaud_segment or '?'})": f"{f.volume_cm3:.2f} cm³" for f in burden.foci
    }
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
            source="definition of clinical-reference §9.1 (V_liv includes tumour)",
        )
    if f_rest is not None and v_liv:
        explanations["burden_percent_of_non_tumour_liver"] = Explanation(
            summary="Tumour volume relative to the non-tumour liver",
            formula="V_mts / (V_liv − V_mts) × 100 %",
            inputs={"V_mts": f"{v_mts:.1f} cm³", "V_liv − V_mts": f"{v_liv - v_mts:.0f} cm³"},
            result=f"{f_rest:.1f} %",
            source="shown beside F because sources define F differently (clinical-reference §9.1)",
        )
    return figures, explanations
