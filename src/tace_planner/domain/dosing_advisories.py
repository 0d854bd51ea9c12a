"""The safety advisories of a plan: one small rule per concern.

Severities (:data:`tace_planner.domain.explanation.SEVERITIES`):

* ``block`` — no dose can rest on these inputs (a focus without a volume, an
  unmeasurable geometry, no tumour, a product without a capacity); nothing to
  approve until the inputs are fixed.
* ``contraindication`` — a published contraindication applies (liver involvement
  above 60 %, bilirubin above the limit together with > 50 % involvement, ECOG
  above 2): the dose is computed and shown, but the plan is approved only with a
  physician's override that states the reason.
* ``strong_warning`` / ``warning`` — must be acknowledged one by one by the approver.
* ``info`` — shown, nothing to do.

:func:`input_advisories` runs the rules that need only the inputs (a ``block``
among them stops the dose); :func:`dose_advisories` judges computed sessions and
the course — the proposal's, and again the sessions that will actually be
approved after overrides. Thresholds are strict: a rule fires *above* its limit.
:func:`shared_volume_advisories` judges the volume pairs of foci hold in common,
which the planning service measures on the contours (``services/focus_overlap.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from tace_planner.domain.anatomy import COUINAUD_SOURCE, SEGMENTS
from tace_planner.domain.dosing_kernel import vials_for
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.explanation import Advisory, Severity

if TYPE_CHECKING:
    from tace_planner.domain.body import PatientInputs
    from tace_planner.domain.catalogue import BeadProduct
    from tace_planner.domain.dosing_inputs import (
        BaselineImaging,
        BurdenInputs,
        CourseHistory,
        PlanOptions,
    )
    from tace_planner.domain.dosing_results import SessionPlan

Figures = Mapping[str, float | None]
_EPS = 1e-9

MARTIN_2010 = "Martin, Cardiovasc Intervent Radiol 2010"
DOSE_CODE_PREFIXES = ("dose.", "beads.", "course.", "override.")
"""Codes of the advisories that judge sessions (recomputed after overrides)."""


def _mg(value: float, limit: float) -> str:
    """A dose with just enough decimals to show on which side of ``limit`` it lies."""
    for digits in (0, 1, 2, 3):
        text = f"{value:.{digits}f}"
        if (float(text) > limit) == (value > limit) and float(text) != limit:
            return text
    return f"{value:.3f}"


def is_dose_advisory(advisory: Advisory) -> bool:
    """True for the advisories :func:`dose_advisories` raises."""
    return advisory.code.startswith(DOSE_CODE_PREFIXES)


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
    stranded = _contours_without_study(baseline)
    out = (
        *_trust(burden),
        *_dose_impossible(burden, product, params, options),
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
            MARTIN_2010,
        ),
    )
    if stranded:  # the contours exist, on a study moved away: said once, by the block
        hidden = {"burden.no_tumour"}
        if baseline is not None and baseline.liver_stranded:
            hidden.add("burden.no_liver_volume")
        out = tuple(a for a in out if a.code not in hidden)
    return (*stranded, *out)


def _trust(burden: BurdenInputs) -> list[Advisory]:
    out = []
    for focus in burden.unmeasured:
        message = (
            f"{focus.name} has no volume at baseline ({focus.reason}): contour it on the "
            "baseline imaging, or delete it if it is not a focus. Planning without it would "
            "understate the tumour burden."
        )
        out.append(Advisory(f"burden.unmeasured.{focus.name}", "block", message))
    for focus in burden.foci:
        if focus.trust == "unmeasurable":
            message = (
                f"The volume of {focus.name} comes from a series whose slice geometry is "
                f"unmeasurable ({focus.trust_reason or 'see the series geometry'}): contour it "
                "on a series with regular slices."
            )
            out.append(Advisory(f"burden.unmeasurable.{focus.name}", "block", message))
        elif focus.trust == "warning":
            message = (
                f"The volume of {focus.name} ({focus.volume_cm3:.1f} cm³) comes from a series "
                f"with questionable slice geometry ({focus.trust_reason or 'tilt or gaps'}): "
                "review the contour before relying on it."
            )
            out.append(Advisory(f"burden.untrusted.{focus.name}", "strong_warning", message))
    if burden.liver_volume_cm3 is not None and burden.liver_trust == "unmeasurable":
        message = (
            "The liver volume comes from a series whose slice geometry is unmeasurable "
            f"({burden.liver_trust_reason or 'see the series geometry'}): contour the liver "
            "on a series with regular slices."
        )
        out.append(Advisory("burden.unmeasurable.liver", "block", message))
    elif burden.liver_volume_cm3 is not None and burden.liver_trust == "warning":
        message = (
            "The liver volume comes from a series with questionable slice geometry "
            f"({burden.liver_trust_reason or 'tilt or gaps'}): review the liver contour."
        )
        out.append(Advisory("burden.untrusted.liver", "strong_warning", message))
    return out


def _dose_impossible(
    burden: BurdenInputs, product: BeadProduct, params: PlanningParameters, options: PlanOptions
) -> list[Advisory]:
    out = []
    v_mts, v_liv = burden.tumour_volume_cm3, burden.liver_volume_cm3
    if v_mts <= 0 and not burden.unmeasured:
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
    if options.model == "fixed" and capacity.known and vial.known:
        out += _fixed_dose_loadable(product, params, options)
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


def _fixed_dose_loadable(
    product: BeadProduct, params: PlanningParameters, options: PlanOptions
) -> list[Advisory]:
    vial_ml = float(product.vial_bead_volume_ml.value or 0.0)
    capacity = float(product.irinotecan_capacity_mg_per_ml.value or 0.0)
    loading = float(options.loading_mg_per_ml or params.value("loading_mg_per_ml"))
    fixed_mg = float(params.value("fixed_dose_mg"))
    fixed_ml = float(params.value("fixed_beads_ml"))
    vials = vials_for(fixed_ml, vial_ml)
    prepared = vials * vial_ml
    most = prepared * min(loading, capacity)
    out = []
    if fixed_mg > most + _EPS:
        message = (
            f"The fixed dose {fixed_mg:g} mg cannot be loaded into {vials} vial(s) of "
            f"{vial_ml:g} mL of {product.name} at {min(loading, capacity):g} mg/mL "
            f"({most:g} mg at most): choose another product or the burden-scaled model."
        )
        source = f"loading: {params.cite('loading_mg_per_ml')}"
        out.append(Advisory("model.fixed_dose_not_loadable", "block", message, source))
    elif abs(prepared - fixed_ml) > _EPS:
        message = (
            f"{product.name} comes in vials of {vial_ml:g} mL: the fixed {fixed_mg:g} mg is "
            f"loaded into {prepared:g} mL ({fixed_mg / prepared:.3g} mg/mL) instead of "
            f"{fixed_ml:g} mL, and all of it is planned for injection."
        )
        out.append(Advisory("model.fixed_dose_vial_volume", "info", message))
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
        where = "assign it in the Lesions list (right-click → Set Couinaud segment…)"
        severity: Severity
        if any(f.lobe is not None and f.volume_cm3 > 0 for f in burden.foci):
            severity = "warning"
            message = (
                f"Foci without a Couinaud segment ({', '.join(unassigned)}) count in F but in "
                f"no treated territory: {where}."
            )
        else:  # no territory at all: no session can be planned
            severity = "block"
            message = (
                f"No focus has a Couinaud segment ({', '.join(unassigned)}), so no territory "
                f"can be treated: {where}."
            )
        out.append(Advisory("burden.unassigned_segment", severity, message, COUINAUD_SOURCE))
    if any(f.lobe == "caudate" and f.volume_cm3 > 0 for f in burden.foci):
        message = (
            "Caudate-lobe (segment I) focus: NET caudate lesions responded to TACE in 12.3 % "
            "vs 82 % elsewhere; it is fed from both sides (planned with the first session)."
        )
        source = (
            "World J Surg Oncol 2015 (NET caudate-lobe metastases and TACE), "
            "doi:10.1186/s12957-015-0551-4"
        )
        out.append(Advisory("caudate.focus", "info", message, source))
    f_total = burden.burden_percent
    warn, strong = (
        params.value("burden_warning_percent"),
        params.value("burden_strong_warning_percent"),
    )
    if burden.liver_volume_cm3 is None:
        message = (
            "The liver is not contoured: tumour burden F is unknown, so the contraindication "
            f"F > {strong:g} % cannot be checked. Contour the liver, or approve only with an "
            "override that gives the reason."
        )
        source = params.cite("burden_strong_warning_percent")
        out.append(Advisory("burden.no_liver_volume", "contraindication", message, source))
    elif f_total is not None and f_total > strong:
        message = (
            f"Tumour burden F = {f_total:.1f} % exceeds {strong:g} % of the liver: DEBIRI is "
            "contraindicated above this involvement (consensus upper limit). Approve only with "
            "an override that gives the reason."
        )
        source = params.cite("burden_strong_warning_percent")
        out.append(Advisory("burden.above_consensus_limit", "contraindication", message, source))
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
        out.append(
            Advisory(
                "inputs.missing_bilirubin",
                "warning",
                message,
                params.cite("bilirubin_warning_mg_dl"),
            )
        )
    elif bilirubin > limit and f_total is not None and f_total > warn_f:
        message = (
            f"Bilirubin {bilirubin:g} mg/dL > {limit:g} together with F = {f_total:.1f} % > "
            f"{warn_f:g} % predicted adverse events: a contraindication. Approve only with an "
            "override that gives the reason."
        )
        source = params.cite("bilirubin_warning_mg_dl")
        out.append(Advisory("bilirubin.with_burden", "contraindication", message, source))
    elif bilirubin > limit:
        message = (
            f"Bilirubin {bilirubin:g} mg/dL is above {limit:g} mg/dL: liver function is "
            f"impaired; above {warn_f:g} % liver involvement this combination predicted "
            "adverse events. Review the indication."
        )
        out.append(
            Advisory(
                "bilirubin.high", "strong_warning", message, params.cite("bilirubin_warning_mg_dl")
            )
        )
    ecog_max = params.value("ecog_max")
    if patient.ecog is None:
        message = "ECOG performance status is not recorded."
        out.append(Advisory("inputs.missing_ecog", "warning", message, params.cite("ecog_max")))
    elif patient.ecog > ecog_max:
        message = (
            f"ECOG {patient.ecog} is above the {ecog_max} accepted in DEBIRI series: a "
            "contraindication. Approve only with an override that gives the reason."
        )
        out.append(
            Advisory("ecog.above_limit", "contraindication", message, params.cite("ecog_max"))
        )
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
        source = "irinotecan hydrochloride prescribing information (US label, revision 1/2022)"
        out.append(Advisory("ugt1a1.reduced", "warning", message, source))
    if patient.extrahepatic_disease:
        message = (
            "Extrahepatic disease: DEBIRI studies included liver-only disease; the consensus "
            "asks for liver-dominant disease (≥ 80 % of the tumour burden in the liver)."
        )
        source = (
            "Ranieri, OncoTargets Ther 2016; Fiorentini, World J Gastrointest Oncol 2017; "
            "Lencioni, J Vasc Interv Radiol 2014"
        )
        out.append(Advisory("eligibility.extrahepatic", "warning", message, source))
    if patient.ia_lidocaine_planned is False:
        message = (
            "No intra-arterial lidocaine planned: not pre-treating with IA lidocaine was an "
            "independent predictor of adverse events."
        )
        out.append(Advisory("premedication.no_ia_lidocaine", "warning", message, MARTIN_2010))
    elif patient.ia_lidocaine_planned is None:
        message = "Premedication (intra-arterial lidocaine) is not recorded."
        out.append(Advisory("premedication.not_recorded", "info", message, MARTIN_2010))
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


def _contours_without_study(baseline: BaselineImaging | None) -> list[Advisory]:
    """A block when baseline contours lie on a study no longer linked to the baseline."""
    if baseline is None or not baseline.stranded_contours:
        return []
    names = ", ".join(name for name, _ in baseline.stranded_contours)
    places = sorted({where for _, where in baseline.stranded_contours})
    now = " and ".join(f"now linked to {w}" if w else "linked to no timepoint" for w in places)
    if not baseline.has_study:
        message = (
            f"The baseline has no study linked: its contours ({names}) lie on a study {now}, "
            "so no dose is proposed from them. Link that study to the baseline again, or "
            "contour the baseline imaging."
        )
    else:
        message = (
            f"The baseline contours of {names} lie on a study {now}, not at the baseline, so "
            "no dose is proposed from them. Link that study to the baseline again, or contour "
            "them on the baseline imaging."
        )
    return [Advisory("burden.contours_without_study", "block", message)]


def _baseline(baseline: BaselineImaging | None) -> list[Advisory]:
    if baseline is None:
        return []
    if baseline.status == "fail":
        message = (
            f"Baseline imaging is older than the protocol window ({baseline.limit_days} days): "
            f"{baseline.reason}."
        )
        source = "RECIST 1.1 (Eisenhauer, Eur J Cancer 2009); the institution's imaging protocol"
        return [Advisory("imaging.baseline_too_old", "warning", message, source)]
    if baseline.status == "not_evaluated":
        message = f"Age of the baseline imaging not evaluated: {baseline.reason}."
        return [Advisory("imaging.baseline_age_unknown", "info", message)]
    return []


FOCI_SHARED_MIN_CM3 = 0.01
"""Two foci holding at least this volume in common are flagged: the tumour volume counts it
twice (institutional default: the precision the volumes are shown to)."""


def counts_twice(shared_cm3: float, *, min_cm3: float = FOCI_SHARED_MIN_CM3) -> bool:
    """Whether a volume two foci both hold is large enough to say (≥ ``min_cm3``)."""
    return shared_cm3 >= min_cm3 - _EPS


def shared_volume_advisories(
    shared: Iterable[tuple[str, str, float]], *, min_cm3: float = FOCI_SHARED_MIN_CM3
) -> tuple[Advisory, ...]:
    """A warning for each pair of foci whose contours overlap, naming both and the volume.

    The tumour volume V_mts is the sum of the foci's volumes, so a volume that two
    contours both hold is counted twice, and F with it. A hand edit may overlap two
    foci on purpose; the plan must not rest on it unseen. The two contours may lie on one
    series or on two series of one frame of reference (one tumour drawn as F1 on the
    arterial and as F2 on the portal-venous phase): the message names both foci and
    reads the same for either, since the viewer shows each phase's contours on the other.

    Parameters
    ----------
    shared : iterable of (first focus, second focus, shared volume in cm³)
    min_cm3 : float
        Smaller shared volumes are not flagged.
    """
    out = []
    for first, second, shared_cm3 in shared:
        if not counts_twice(shared_cm3, min_cm3=min_cm3):
            continue
        message = (
            f"The contours of {first} and {second} overlap by {shared_cm3:.2f} cm³: that "
            "volume is counted in both foci, so the tumour volume is overstated by "
            f"{shared_cm3:.2f} cm³, and the tumour burden F with it. Erase the overlap from "
            "one of the two contours to count it once."
        )
        source = (
            "F = V_mts / V_liv × 100 %, V_mts the sum of the foci volumes; flagged from "
            f"{min_cm3:g} cm³ in common, institutional default"
        )
        out.append(Advisory(f"burden.foci_overlap.{first}.{second}", "warning", message, source))
    return tuple(out)


def _beads_above_maximum(session: SessionPlan, params: PlanningParameters) -> list[Advisory]:
    """One warning when the session's beads are above the per-session maximum.

    Both the bead volume planned for injection and the bead volume prepared (whole
    vials × the product's bead volume per vial) are judged: overriding the number of
    vials alone (10 vials → 20 mL of beads) leaves the planned injection as it was
    but loads and prepares far more. When both are above, one warning names both —
    one cause, one acknowledgement.

    The burden model clamps its proposal to the maximum; an override (or a fixed-model
    bead volume set above it) can exceed it.
    No publication gives a maximum bead volume per session — studies used one 2 mL vial
    (about 100 mg) per session — so the maximum is the institution's parameter and the
    rule is a warning the approver acknowledges, not a refusal. Only an override more
    than twice the maximum, a slip rather than a choice, is refused before it is judged
    (:func:`tace_planner.domain.dosing_overrides.refuse_implausible_beads`).
    """
    beads_max = float(params.value("max_beads_per_session_ml"))
    injected_above = session.beads_ml > beads_max + _EPS
    prepared = session.prepared_beads_ml
    if not injected_above and not prepared > beads_max + _EPS:
        return []
    source = params.cite("max_beads_per_session_ml")
    n, vials = session.number, session.vials
    held = f"{vials} vial{'' if vials == 1 else 's'}"
    limit = f"the per-session maximum of {beads_max:g} mL ({source})"
    if injected_above:
        message = (
            f"Session {n} bead volume: {session.beads_ml:g} mL is above {limit}; "
            f"the {held} prepared for it hold{'s' if vials == 1 else ''} {prepared:g} mL of beads."
        )
    else:
        message = f"Session {n} vials: {held} ({prepared:g} mL of beads) prepared is above {limit}."
    code = f"beads.above_session_maximum.s{n}"
    return [Advisory(code, "warning", message, source)]


def dose_advisories(
    sessions: Sequence[SessionPlan],
    product: BeadProduct,
    params: PlanningParameters,
    course: CourseHistory,
) -> tuple[Advisory, ...]:
    """Advisories on the sessions (as proposed or as overridden) and on the course.

    Each session is judged on the dose loaded *and* on the dose expected to be
    delivered (a loaded dose may all be injected; the planned injection may
    deliver less, see the whole-vial step). A bead volume planned or prepared above
    the per-session maximum (an override's) is a warning to acknowledge.
    """
    out = []
    warn_mg, cap_mg = params.value("per_session_warning_mg"), params.value("per_session_cap_mg")
    for s in sessions:
        n = s.number
        out.extend(_beads_above_maximum(s, params))
        loaded, delivered = s.irinotecan_loaded_mg, s.irinotecan_expected_delivered_mg
        if "session_cap" in s.limited_by:
            message = (
                f"Session {n}: the prepared beads could take more irinotecan; the loaded dose is "
                f"held at the session limit of {cap_mg:g} mg."
            )
            source = params.cite("per_session_cap_mg")
            out.append(Advisory(f"dose.session_limit.s{n}", "info", message, source))
        if loaded > cap_mg + _EPS:
            message = (
                f"Session {n}: {_mg(loaded, cap_mg)} mg loaded, above the session limit of "
                f"{cap_mg:g} mg."
            )
            source = params.cite("per_session_cap_mg")
            out.append(
                Advisory(f"dose.above_session_limit.s{n}", "strong_warning", message, source)
            )
        if "capacity" in s.limited_by:
            capacity = product.irinotecan_capacity_mg_per_ml
            message = (
                f"Session {n}: the loading asked exceeds {product.name}'s capacity of "
                f"{capacity.value:g} mg/mL; each vial is loaded to capacity."
            )
            out.append(
                Advisory(f"dose.capacity_exceeded.s{n}", "warning", message, capacity.cite())
            )
        if delivered > warn_mg + _EPS:
            message = (
                f"Session {n}: {_mg(delivered, warn_mg)} mg expected to be delivered, above "
                f"{warn_mg:g} mg "
                "per session — more than 100 mg in one treatment predicted adverse events."
            )
            source = params.cite("per_session_warning_mg")
            out.append(Advisory(f"dose.delivered_above_warning.s{n}", "warning", message, source))
        if loaded > warn_mg + _EPS:
            message = (
                f"Session {n}: {_mg(loaded, warn_mg)} mg loaded, above {warn_mg:g} mg per session"
                + (
                    f" (expected delivered {delivered:.0f} mg; if every prepared bead is injected "
                    f"the session delivers up to {loaded:.0f} mg)"
                    if delivered < loaded - _EPS
                    else ""
                )
                + " — more than 100 mg in one treatment predicted adverse events."
            )
            source = params.cite("per_session_warning_mg")
            out.append(Advisory(f"dose.loaded_above_warning.s{n}", "warning", message, source))
        prepared = s.prepared_beads_ml
        if prepared > s.beads_ml + _EPS and loaded > delivered + _EPS:
            message = (
                f"Session {n}: whole vials — {s.beads_ml:.4g} mL of beads planned needs "
                f"{s.vials} vial(s) ({prepared:g} mL); {loaded:.1f} mg loaded, "
                f"{delivered:.1f} mg expected delivered with the planned volume "
                "(vials are prepared whole and injected in order)."
            )
            out.append(Advisory(f"dose.whole_vial_step.s{n}", "info", message))
        clamped = [c for c in ("min_beads", "max_beads") if c in s.limited_by]
        if clamped:
            which = "minimum" if clamped[0] == "min_beads" else "maximum"
            message = (
                f"Session {n}: bead volume set to the per-session {which} ({s.beads_ml:g} mL)."
            )
            source = params.cite(f"{clamped[0].split('_')[0]}_beads_per_session_ml")
            out.append(Advisory(f"beads.clamped.s{n}", "info", message, source))
    this_plan = math.fsum(s.irinotecan_loaded_mg for s in sessions)
    total = course.committed_mg + this_plan
    course_mg = params.value("course_warning_mg")
    if total > course_mg + _EPS:
        parts = []
        if course.delivered_mg:
            parts.append(f"{course.delivered_mg:.0f} mg delivered in {course.procedures} TACE")
        if course.planned_mg:
            parts.append(f"{course.planned_mg:.0f} mg in approved sessions not yet performed")
        parts.append(f"{this_plan:.0f} mg loaded in this plan")
        message = (
            f"Cumulative irinotecan over the course would be {total:.0f} mg "
            f"({'; '.join(parts)}), above {course_mg:g} mg."
        )
        source = params.cite("course_warning_mg")
        out.append(Advisory("course.cumulative_dose", "warning", message, source))
    count = course.treatments_with(len(sessions))
    limit = params.value("sessions_warning_count")
    if count.total >= limit:
        message = f"This plan makes {count.words()}; ≥ {limit} treatments predicted adverse events."
        source = params.cite("sessions_warning_count")
        out.append(Advisory("course.session_count", "warning", message, source))
    return tuple(out)
