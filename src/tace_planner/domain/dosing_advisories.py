"""The safety warnings of a plan (clinical-reference §9.2): one small rule per concern.

Each rule returns the advisories it raises; :func:`input_advisories` runs the rules
that need only the inputs (a ``block`` among them stops the dose), and
:func:`dose_advisories` those that judge the computed sessions. Thresholds are
strict: a rule fires *above* its limit, never at it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from tace_planner.domain.dosing_parameters import (
    COUINAUD_SOURCE,
    SEGMENTS,
    PlanningParameters,
)
from tace_planner.domain.explanation import Advisory

if TYPE_CHECKING:
    from tace_planner.domain.body import PatientInputs
    from tace_planner.domain.catalogue import BeadProduct
    from tace_planner.domain.dosing import (
        BaselineImaging,
        BurdenInputs,
        CourseHistory,
        PlanOptions,
        SessionPlan,
    )

Figures = Mapping[str, float | None]
_EPS = 1e-9

MARTIN_2010 = "Martin, CVIR 2010 [S]"


def input_advisories(
    patient: PatientInputs,
    burden: BurdenInputs,
    product: BeadProduct,
    params: PlanningParameters,
    options: PlanOptions,
    figures: Figures,
    baseline: BaselineImaging | None,
) -> tuple[Advisory, ...]:
    """Advisories that depend only on the inputs (blocks first in the rule order)."""
    return (
        *_dose_impossible(burden, product, options),
        *_product_label(product),
        *_burden(burden, params),
        *_labs(patient, params, figures),
        *_patient(patient),
        *_liver_volume(burden, params, options, figures),
        *_baseline(baseline),
        Advisory(
            "endpoint.near_stasis",
            "info",
            "Aim for near-stasis: complete stasis and ≥ 3 treatments were independent "
            "predictors of adverse events.",
            f"{MARTIN_2010} (clinical-reference §1.5)",
        ),
    )


def _dose_impossible(
    burden: BurdenInputs, product: BeadProduct, options: PlanOptions
) -> list[Advisory]:
    out = []
    v_mts, v_liv = burden.tumour_volume_cm3, burden.liver_volume_cm3
    if v_mts <= 0:
        message = "No tumour volume: contour the foci on the baseline imaging first."
        out.append(Advisory("burden.no_tumour", "block", message))
    if v_liv is not None and v_mts > v_liv:
        message = (
            f"Tumour volume {v_mts:.1f} cm³ exceeds the liver volume {v_liv:.0f} cm³: the "
            "liver contour must include the foci — check the contours."
        )
        out.append(Advisory("burden.tumour_exceeds_liver", "block", message))
    capacity = product.irinotecan_capacity_mg_per_ml
    if not capacity.known:
        message = (
            f"{product.name} has no irinotecan loading capacity in the catalogue, so no dose "
            "is computed. Enter the institution's validated capacity (mg/mL) to plan with it."
        )
        out.append(Advisory("product.no_capacity", "block", message, capacity.cite()))
    vial = product.vial_bead_volume_ml
    if not vial.known:
        message = (
            f"{product.name} has no bead volume per vial in the catalogue, so vials cannot be "
            "counted. Enter the hydrated bead volume per vial (mL)."
        )
        out.append(Advisory("product.no_vial_volume", "block", message, vial.cite()))
    if options.delivery == "segmental" and options.segments:
        chosen = set(options.segments)
        if not any(f.segment in chosen and f.volume_cm3 > 0 for f in burden.foci):
            message = f"No contoured focus lies in the chosen segments {', '.join(chosen)}."
            out.append(Advisory("segments.no_tumour", "block", message))
        untreated = sorted(
            {str(f.segment) for f in burden.foci if f.segment and f.segment not in chosen},
            key=SEGMENTS.index,
        )
        if untreated:
            message = f"Segments with tumour not treated in this plan: {', '.join(untreated)}."
            out.append(Advisory("segments.untreated", "info", message))
    return out


def _product_label(product: BeadProduct) -> list[Advisory]:
    label = product.irinotecan_label
    if label.value == "no":
        message = f"{product.name} is not labelled for irinotecan: loading it is off-label."
        return [Advisory("product.off_label", "strong_warning", message, label.cite())]
    if label.value is None:
        message = f"No label for irinotecan is documented for {product.name} in the catalogue."
        return [Advisory("product.label_unknown", "warning", message, label.cite())]
    return []


def _burden(burden: BurdenInputs, params: PlanningParameters) -> list[Advisory]:
    out = []
    unassigned = [f.name for f in burden.foci if f.lobe is None]
    if unassigned:
        message = (
            f"Foci without a Couinaud segment ({', '.join(unassigned)}) count in F but in no "
            "territory: assign their segment."
        )
        out.append(Advisory("burden.unassigned_segment", "warning", message, COUINAUD_SOURCE))
    if any(f.lobe == "caudate" and f.volume_cm3 > 0 for f in burden.foci):
        message = (
            "Caudate-lobe (segment I) focus: NET caudate lesions responded to TACE in 12.3 % "
            "vs 82 % elsewhere; it is fed from both sides (planned with the first session)."
        )
        source = "WJSO 2015 [S] (clinical-reference §6.3, §9.2 item 9)"
        out.append(Advisory("caudate.focus", "info", message, source))
    f_total = burden.burden_percent
    warn, strong = (
        params.value("burden_warning_percent"),
        params.value("burden_strong_warning_percent"),
    )
    if burden.liver_volume_cm3 is None:
        message = (
            "The liver is not contoured: tumour burden F is unknown, so eligibility "
            f"(F ≤ {strong:g} %) cannot be checked."
        )
        out.append(Advisory("burden.no_liver_volume", "strong_warning", message))
    elif f_total is not None and f_total > strong:
        message = (
            f"Tumour burden F = {f_total:.1f} % exceeds {strong:g} % of the liver "
            "(consensus upper limit for DEBIRI)."
        )
        source = params.cite("burden_strong_warning_percent")
        out.append(Advisory("burden.above_strong_threshold", "strong_warning", message, source))
    elif f_total is not None and f_total > warn:
        message = (
            f"Tumour burden F = {f_total:.1f} % exceeds {warn:g} % of the liver "
            "(inclusion limit of several DEBIRI studies)."
        )
        source = params.cite("burden_warning_percent")
        out.append(Advisory("burden.above_threshold", "warning", message, source))
    return out


def _labs(patient: PatientInputs, params: PlanningParameters, figures: Figures) -> list[Advisory]:
    out = []
    limit = params.value("bilirubin_warning_mg_dl")
    warn_f = params.value("burden_warning_percent")
    f_total = figures.get("burden_percent")
    bilirubin = patient.bilirubin_mg_dl
    if bilirubin is None:
        message = "Bilirubin is not recorded: liver function cannot be checked."
        out.append(Advisory("inputs.missing_bilirubin", "warning", message, "§9.2 item 3"))
    elif bilirubin > limit and f_total is not None and f_total > warn_f:
        message = (
            f"Bilirubin {bilirubin:g} mg/dL > {limit:g} together with F = {f_total:.1f} % > "
            f"{warn_f:g} % predicted adverse events."
        )
        source = params.cite("bilirubin_warning_mg_dl")
        out.append(Advisory("bilirubin.with_burden", "strong_warning", message, source))
    elif bilirubin > limit:
        message = f"Bilirubin {bilirubin:g} mg/dL is above {limit:g} mg/dL."
        out.append(
            Advisory("bilirubin.high", "warning", message, params.cite("bilirubin_warning_mg_dl"))
        )
    ecog_max = params.value("ecog_max")
    if patient.ecog is None:
        message = "ECOG performance status is not recorded."
        out.append(Advisory("inputs.missing_ecog", "warning", message, "§9.2 item 3"))
    elif patient.ecog > ecog_max:
        message = f"ECOG {patient.ecog} is above the {ecog_max} accepted in DEBIRI series."
        out.append(Advisory("ecog.above_limit", "warning", message, params.cite("ecog_max")))
    return out


def _patient(patient: PatientInputs) -> list[Advisory]:
    out = []
    if patient.height_cm is None or patient.weight_kg is None:
        message = (
            "Height or weight missing: BSA and the standard liver volume (a sanity check of "
            "the liver contour) are not computed."
        )
        out.append(Advisory("inputs.missing_body", "info", message))
    if patient.ugt1a1_status == "reduced":
        message = (
            "Reduced UGT1A1 activity documented: ask oncology to review the irinotecan dose "
            "(the irinotecan label has a dosing section for it)."
        )
        source = "irinotecan labels (openFDA) [M], clinical-reference §1.6, §9.2 item 10"
        out.append(Advisory("ugt1a1.reduced", "warning", message, source))
    if patient.extrahepatic_disease:
        message = (
            "Extrahepatic disease: DEBIRI studies included liver-only disease; the consensus "
            "asks for liver-dominant disease (≥ 80 % of the tumour burden in the liver)."
        )
        source = "Ranieri 2016, Fiorentini 2017 [S]; Lencioni, JVIR 2014 [G] (§1.1–1.2)"
        out.append(Advisory("eligibility.extrahepatic", "warning", message, source))
    if patient.ia_lidocaine_planned is False:
        message = (
            "No intra-arterial lidocaine planned: not pre-treating with IA lidocaine was an "
            "independent predictor of adverse events."
        )
        source = f"{MARTIN_2010} (clinical-reference §1.4)"
        out.append(Advisory("premedication.no_ia_lidocaine", "warning", message, source))
    elif patient.ia_lidocaine_planned is None:
        message = "Premedication (intra-arterial lidocaine) is not recorded."
        source = f"{MARTIN_2010} (clinical-reference §1.4, §9.2 item 9)"
        out.append(Advisory("premedication.not_recorded", "info", message, source))
    return out


def _liver_volume(
    burden: BurdenInputs, params: PlanningParameters, options: PlanOptions, figures: Figures
) -> list[Advisory]:
    v_liv = burden.liver_volume_cm3
    if v_liv is None:
        return []
    out = []
    low, high = params.value("liver_volume_min_cm3"), params.value("liver_volume_max_cm3")
    if not low <= v_liv <= high:
        message = (
            f"Measured liver volume {v_liv:.0f} cm³ is outside {low:g}–{high:g} cm³: review "
            "the liver contour."
        )
        source = params.cite("liver_volume_max_cm3")
        out.append(Advisory("liver.volume_implausible", "warning", message, source))
    slv = figures.get("standard_liver_volume_cm3")
    limit = params.value("slv_deviation_warning_fraction")
    if slv and abs(v_liv / slv - 1.0) > limit:
        message = (
            f"Measured liver volume {v_liv:.0f} cm³ differs from the standard liver volume "
            f"{slv:.0f} cm³ ({options.slv_formula}) by {(v_liv / slv - 1.0) * 100:+.0f} % "
            f"(limit ±{limit * 100:g} %): review the contour (or hepatomegaly)."
        )
        source = params.cite("slv_deviation_warning_fraction")
        out.append(Advisory("liver.differs_from_standard", "warning", message, source))
    return out


def _baseline(baseline: BaselineImaging | None) -> list[Advisory]:
    if baseline is None:
        return []
    if baseline.status == "fail":
        message = (
            f"Baseline imaging is older than the protocol window ({baseline.limit_days} days): "
            f"{baseline.reason}."
        )
        source = "RECIST 1.1 (Eisenhauer 2009) [G]; imaging_protocol.json"
        return [Advisory("imaging.baseline_too_old", "warning", message, source)]
    if baseline.status == "not_evaluated":
        message = f"Age of the baseline imaging not evaluated: {baseline.reason}."
        return [Advisory("imaging.baseline_age_unknown", "info", message)]
    return []


def dose_advisories(
    sessions: Sequence[SessionPlan],
    product: BeadProduct,
    params: PlanningParameters,
    course: CourseHistory,
) -> tuple[Advisory, ...]:
    """Advisories on the computed sessions and on the course."""
    out = []
    warn_mg, cap_mg = params.value("per_session_warning_mg"), params.value("per_session_cap_mg")
    for s in sessions:
        n = s.number
        if "session_cap" in s.limited_by:
            message = (
                f"Session {n}: the dose asked exceeds the per-session cap {cap_mg:g} mg; the "
                f"loaded dose is limited to {s.irinotecan_loaded_mg:.0f} mg."
            )
            source = params.cite("per_session_cap_mg")
            out.append(Advisory(f"dose.cap_reached.s{n}", "warning", message, source))
        if "capacity" in s.limited_by:
            capacity = product.irinotecan_capacity_mg_per_ml
            message = (
                f"Session {n}: the loading asked exceeds {product.name}'s capacity of "
                f"{capacity.value:g} mg/mL; each vial is loaded to capacity."
            )
            out.append(
                Advisory(f"dose.capacity_exceeded.s{n}", "warning", message, capacity.cite())
            )
        if s.irinotecan_loaded_mg > warn_mg + _EPS:
            message = (
                f"Session {n}: {s.irinotecan_loaded_mg:.0f} mg loaded, above {warn_mg:g} mg per "
                "session — more than 100 mg in one treatment predicted adverse events."
            )
            source = params.cite("per_session_warning_mg")
            out.append(Advisory(f"dose.above_warning.s{n}", "warning", message, source))
        clamped = [c for c in ("min_beads", "max_beads") if c in s.limited_by]
        if clamped:
            which = "minimum" if clamped[0] == "min_beads" else "maximum"
            message = (
                f"Session {n}: bead volume set to the per-session {which} ({s.beads_ml:g} mL)."
            )
            source = params.cite(f"{clamped[0].split('_')[0]}_beads_per_session_ml")
            out.append(Advisory(f"beads.clamped.s{n}", "info", message, source))
    total = course.loaded_mg + math.fsum(s.irinotecan_loaded_mg for s in sessions)
    course_mg = params.value("course_warning_mg")
    if total > course_mg + _EPS:
        message = (
            f"Cumulative irinotecan over the course would be {total:.0f} mg "
            f"({course.loaded_mg:.0f} mg in earlier approved plans), above {course_mg:g} mg."
        )
        source = params.cite("course_warning_mg")
        out.append(Advisory("course.cumulative_dose", "warning", message, source))
    count = course.sessions + len(sessions)
    limit = params.value("sessions_warning_count")
    if count >= limit:
        message = (
            f"This plan makes {count} treatments in the course; ≥ {limit} treatments predicted "
            "adverse events."
        )
        source = params.cite("sessions_warning_count")
        out.append(Advisory("course.session_count", "warning", message, source))
    return tuple(out)
