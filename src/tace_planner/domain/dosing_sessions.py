"""Territories and sessions: which foci each session treats, and its beads, vials and dose.

:func:`plan_territories` groups the treated foci by lobe (or by the chosen
segments) in treatment order; :func:`build_session` turns one territory into a
:class:`~tace_planner.domain.dosing_results.SessionPlan` with the burden-scaled or
fixed-dose model, each number explained. The model is described in
:mod:`tace_planner.domain.dosing`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from tace_planner.domain.anatomy import COUINAUD_SOURCE, LOBE_LABELS, LOBES, SEGMENTS
from tace_planner.domain.catalogue import BeadProduct
from tace_planner.domain.dosing_inputs import BurdenInputs, PlanOptions, TumourFocus
from tace_planner.domain.dosing_kernel import DELIVERY_ASSUMPTION, load_vials, vials_for
from tace_planner.domain.dosing_parameters import Model, PlanningParameters
from tace_planner.domain.dosing_results import SessionPlan
from tace_planner.domain.explanation import Explanation

FIRST_SESSION_RULE = "first session ≥ last treatment performed + interval"
"""How a plan made after a treatment performed dates its first session (never on or before
the treatment performed): the plan's own interval between sessions, by default the
3-week lobar interval (Szemitko, J Clin Med 2021)."""


@dataclass(frozen=True, slots=True)
class FirstSession:
    """The date of a plan's first session and what it rests on (for the *why?*).

    ``inputs`` are empty when no treatment was performed: the date asked is kept.
    """

    on: dt.date | None
    inputs: Mapping[str, str] = field(default_factory=dict)


def date_first_session(
    asked_on: dt.date | None, last_performed_on: dt.date | None, interval_days: int
) -> FirstSession:
    """The first session's date: ``asked_on``, but never before the last treatment
    performed plus the plan's interval.

    Parameters
    ----------
    asked_on : datetime.date or None
        The date asked (the case's planned TACE date); None: none asked.
    last_performed_on : datetime.date or None
        The latest treatment performed in the course; None: none was.
    interval_days : int
        The plan's interval between sessions (days).

    Returns
    -------
    FirstSession
        Without a treatment performed, ``asked_on`` as it is. After one, the later of
        ``asked_on`` and ``last_performed_on + interval_days``: a plan that replaces the
        sessions not performed starts one interval after the last one performed, as
        its own sessions follow each other (:data:`FIRST_SESSION_RULE`).
    """
    if last_performed_on is None:
        return FirstSession(asked_on)
    earliest = last_performed_on + dt.timedelta(days=interval_days)
    inputs = {
        "last treatment performed": last_performed_on.isoformat(),
        "interval": f"{interval_days} days",
    }
    if asked_on is not None:
        inputs["date planned"] = asked_on.isoformat()
    on = earliest if asked_on is None or asked_on < earliest else asked_on
    return FirstSession(on, inputs)


@dataclass(frozen=True, slots=True)
class Territory:
    """The foci one session treats: a code, a label for people, segments, volume and lobes."""

    code: str
    label: str
    segments: tuple[str, ...]
    volume_cm3: float
    lobes: tuple[str, ...]


def plan_territories(
    burden: BurdenInputs, options: PlanOptions, params: PlanningParameters
) -> list[Territory]:
    """Group the treated foci into sessions (see :mod:`tace_planner.domain.dosing`), in order."""
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
            Territory(code, label, segments, math.fsum(f.volume_cm3 for f in foci), tuple(lobes))
        )
    return territories


def build_session(
    number: int,
    territory: Territory,
    day: int,
    on: dt.date | None,
    model: Model,
    product: BeadProduct,
    params: PlanningParameters,
    loading_mg_per_ml: float,
    *,
    first: FirstSession | None = None,
) -> SessionPlan:
    """Session ``number`` on ``territory``: beads, vials and irinotecan by ``model``, explained.

    ``first`` is how the plan's first session was dated (:func:`date_first_session`);
    its reasons join the *why?* of the session's day.
    """
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
        vials: int | None = None  # as many as the beads need
        dose_mg: float | None = None  # every vial loaded at c_load
        dose_rule = "every prepared vial loaded at c_load, up to the session limit"
        dose_source = f"c_load: {params.cite('loading_mg_per_ml')}"
    else:
        fixed_beads = float(params.value("fixed_beads_ml"))
        fixed_mg = float(params.value("fixed_dose_mg"))
        vials = vials_for(fixed_beads, vial_ml)
        beads = vials * vial_ml  # the fixed dose is spread through whole vials, all injected
        dose_mg = fixed_mg
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
    loading = load_vials(
        beads_ml=beads,
        vial_ml=vial_ml,
        loading_mg_per_ml=loading_mg_per_ml,
        capacity_mg_per_ml=capacity,
        session_limit_mg=cap_mg,
        vials=vials,
        dose_mg=dose_mg,
    )
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
    dated = first is not None and bool(first.inputs)
    explanations["day"] = Explanation(
        summary="Day of the session, counted from the first one"
        + ("; the first session follows the last treatment performed" if dated else ""),
        formula="day = (session − 1) × interval" + (f"; {FIRST_SESSION_RULE}" if dated else ""),
        inputs={"session": str(number), **(first.inputs if first is not None else {})},
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
