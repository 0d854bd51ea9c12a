"""Treatment planning: territories, microsphere volume and irinotecan dose, with warnings.

The model (docs/adr/0005-dosing-model.md)
-----------------------------------------
*Territories.* Foci are grouped by lobe from their Couinaud segment
(:mod:`tace_planner.domain.anatomy`): right lobe V–VIII, left lobe II–IV, caudate
lobe I. Foci in one lobe → one session to that lobe. Foci in both lobes → one
session per lobe, the larger burden first, ``interval_days`` apart (default 21
days, Szemitko, J Clin Med 2021), or every lobe in one session if the user
chooses. After a treatment performed, the first session comes no earlier than one
such interval after it
(:func:`~tace_planner.domain.dosing_sessions.date_first_session`). A caudate
focus is treated with the first session (segment I is fed from both sides; the
feeder is chosen at angiography). Segmental (superselective) delivery treats
only the chosen segments.

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
from dataclasses import replace

from tace_planner.domain.anatomy import COUINAUD_SOURCE, LOBE_LABELS
from tace_planner.domain.body import (
    BsaFormula,
    PatientInputs,
    SlvFormula,
    explain_bsa,
    explain_slv,
    plausible_body_surface_area_m2,
    standard_liver_volume_cm3,
)
from tace_planner.domain.burden import F_DEFINITION_SOURCE, lobe_of
from tace_planner.domain.catalogue import BeadProduct
from tace_planner.domain.dosing_advisories import dose_advisories, input_advisories
from tace_planner.domain.dosing_inputs import (
    TRUST_LEVELS,
    BaselineImaging,
    BurdenInputs,
    CourseHistory,
    PlanOptions,
    TumourFocus,
    UnmeasuredFocus,
)
from tace_planner.domain.dosing_kernel import delivered_mg, fill_vials
from tace_planner.domain.dosing_parameters import Delivery, Model, PlanningParameters, Schedule
from tace_planner.domain.dosing_results import (
    PlanResult,
    SessionPlan,
    foci_without_lobe,
    lobe_volume_cm3,
)
from tace_planner.domain.dosing_sessions import (
    build_session,
    date_first_session,
    plan_territories,
)
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import SEVERITIES, Explanation

__all__ = [
    "TRUST_LEVELS",
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
        first = date_first_session(options.first_session_on, course.last_performed_on, interval)
        built = []
        for number, territory in enumerate(territories, start=1):
            day = (number - 1) * interval
            on = first.on + dt.timedelta(days=day) if first.on else None
            built.append(
                build_session(
                    number,
                    territory,
                    day,
                    on,
                    model,
                    product,
                    params,
                    float(options.loading_mg_per_ml or 0.0),
                    first=first,
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
        # an implausible height or weight (a unit slip) gives no BSA, even confirmed
        bsa = plausible_body_surface_area_m2(patient.height_cm, patient.weight_kg, bsa_formula)
        explanations["bsa_m2"] = explain_bsa(patient.height_cm, patient.weight_kg, bsa_formula)
        if bsa is not None:
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
    # (lobe, "name (segment)", value) of every focus: a lobe's "why?" lists its own only
    lines: list[tuple[str, str, str]] = []
    for f in burden.foci:
        value = f"{f.volume_cm3:.2f} cm³"
        if f.trust != "ok":
            value += f" (geometry {f.trust}: {f.trust_reason or 'review it'})"
        lines.append(
            (lobe_of(f.couinaud_segment), f"{f.name} ({f.couinaud_segment or '?'})", value)
        )
    for u in burden.unmeasured:
        name = f"{u.name} ({u.couinaud_segment or '?'})"
        lines.append((lobe_of(u.couinaud_segment), name, f"not measured: {u.reason}"))
    per_focus = {name: value for _, name, value in lines}
    explanations["tumour_volume_cm3"] = Explanation(
        summary="Total tumour volume V_mts",
        formula="V_mts = Σ V_focus",
        inputs=per_focus,
        result=f"{v_mts:.1f} cm³",
        source="institutional default: baseline contours (voxel count × voxel volume)",
    )
    unplaced = foci_without_lobe(
        [(f.name, f.couinaud_segment) for f in burden.foci]
        + [(u.name, u.couinaud_segment) for u in burden.unmeasured]
    )
    for lobe, volume in burden.by_lobe().items():
        stated: float | None = volume
        result = f"{volume:.1f} cm³"
        if lobe in LOBE_LABELS and unplaced:  # 0 cm³ would read as "no tumour there"
            stated, at_least = lobe_volume_cm3(volume, unplaced)
            waiting = f"segment not assigned: {', '.join(unplaced)}"
            result = f"≥ {volume:.1f} cm³ ({waiting})" if at_least else f"unknown ({waiting})"
        figures[f"tumour_volume_cm3.{lobe}"] = stated
        if lobe in LOBE_LABELS:
            summary = f"Tumour volume in the {LOBE_LABELS[lobe]}"
            formula = "Σ V_focus over the foci whose segment lies in the lobe"
        else:
            summary = "Tumour volume of the foci without a Couinaud segment"
            formula = "Σ V_focus over the foci without a segment"
        explanations[f"tumour_volume_cm3.{lobe}"] = Explanation(
            summary=summary,
            formula=formula,
            inputs={name: value for of, name, value in lines if of == lobe} or {"foci": "none"},
            result=result,
            source=COUINAUD_SOURCE,
        )
    if v_liv:
        explanations["liver_volume_cm3"] = Explanation(
            summary="Measured liver volume V_liv (whole liver including the foci)",
            formula="V_liv = voxels in the liver contour × voxel volume",
            inputs={},
            result=f"{v_liv:.0f} cm³",
            source="institutional default: baseline liver contour (voxel count × voxel volume)",
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
