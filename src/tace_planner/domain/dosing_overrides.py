"""Physician overrides of a proposed session, re-derived by the model's rules.

An override changes one of :data:`OVERRIDABLE_FIELDS` with a reason; what depends
on it (vials, vial loads, expected delivered dose) is re-derived with the same
rules as the proposal (:mod:`tace_planner.domain.dosing`), impossible values are
refused, and the new numbers are judged again (a dose above the per-session cap
becomes a strong warning that the approver's reason answers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from tace_planner.domain.catalogue import BeadProduct
from tace_planner.domain.dosing import SessionPlan, delivered_mg, fill_vials
from tace_planner.domain.dosing_parameters import Model, PlanningParameters
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Advisory, Explanation

_EPS = 1e-9
OVERRIDABLE_FIELDS = ("beads_ml", "vials", "irinotecan_loaded_mg")
"""Session numbers a physician may override (with a reason) when approving a plan."""


def override_session(
    session: SessionPlan,
    product: BeadProduct,
    params: PlanningParameters,
    model: Model,
    changes: Mapping[str, float],
    *,
    reason: str,
    by: str,
    loading_mg_per_ml: float | None = None,
) -> tuple[SessionPlan, tuple[Advisory, ...]]:
    """Apply a physician's changes to one session and re-derive what depends on them.

    Parameters
    ----------
    session : SessionPlan
        The proposed session.
    product, params, model :
        As used for the proposal.
    changes : mapping
        Some of :data:`OVERRIDABLE_FIELDS` → new value.
    reason, by : str
        Why and who; shown in the explanations of the changed numbers.
    loading_mg_per_ml : float, optional
        Loading concentration of the burden model (default the parameter's).

    Returns
    -------
    (SessionPlan, tuple of Advisory)
        The session with the changes, the vials, loads and delivered dose re-derived
        by the model's rules, and the advisories the new numbers raise (a loaded
        dose above the per-session cap is a ``strong_warning``).

    Raises
    ------
    InvalidInputError
        A value is impossible: not positive, a fractional vial count, more beads than
        the vials hold, or more irinotecan than the vials can take at the product's
        capacity. The field is named ``session<n>.<name>``.
    """
    n = session.number
    unknown = sorted(set(changes) - set(OVERRIDABLE_FIELDS))
    if unknown:
        raise InvalidInputError(f"session{n}.{unknown[0]}", "cannot be overridden")
    if not reason.strip():
        raise InvalidInputError(f"session{n}", "an override needs a reason")
    for name, value in changes.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise InvalidInputError(
                f"session{n}.{name}", f"must be a positive number, got {value!r}"
            )
        if not math.isfinite(value):
            raise InvalidInputError(f"session{n}.{name}", f"must be finite, got {value!r}")
    vial_ml = float(product.vial_bead_volume_ml.value or 0.0)
    capacity = float(product.irinotecan_capacity_mg_per_ml.value or 0.0)
    cap_mg = float(params.value("per_session_cap_mg"))
    beads = float(changes.get("beads_ml", session.beads_ml))
    if "vials" in changes:
        if float(changes["vials"]) != int(changes["vials"]):
            raise InvalidInputError(f"session{n}.vials", "must be a whole number of vials")
        vials = int(changes["vials"])
    elif "beads_ml" in changes:
        vials = max(1, math.ceil(beads / vial_ml - _EPS))
    else:
        vials = session.vials
    if beads > vials * vial_ml + _EPS:
        raise InvalidInputError(
            f"session{n}.vials",
            f"{vials} vial(s) hold {vials * vial_ml:g} mL, less than the {beads:g} mL planned",
        )
    most_mg = vials * vial_ml * capacity
    if "irinotecan_loaded_mg" in changes:
        loaded_asked = float(changes["irinotecan_loaded_mg"])
        if loaded_asked > most_mg + _EPS:
            raise InvalidInputError(
                f"session{n}.irinotecan_loaded_mg",
                f"{loaded_asked:g} mg exceeds what {vials} vial(s) of {product.name} take up "
                f"at {capacity:g} mg/mL ({most_mg:g} mg)",
            )
        loads = fill_vials(vials, vial_ml * capacity, loaded_asked)
    elif model == "burden":
        concentration = loading_mg_per_ml or float(params.value("loading_mg_per_ml"))
        per_vial = vial_ml * min(concentration, capacity)
        loads = fill_vials(vials, per_vial, min(vials * per_vial, cap_mg))
    else:
        fixed_mg = float(params.value("fixed_dose_mg"))
        per_vial = vial_ml * min(fixed_mg / float(params.value("fixed_beads_ml")), capacity)
        loads = fill_vials(vials, per_vial, min(vials * per_vial, fixed_mg, cap_mg))
    loaded = math.fsum(loads)
    delivered = delivered_mg(beads, vial_ml, loads)
    new_values = {
        "beads_ml": (beads, f"{beads:.2f} mL"),
        "vials": (vials, f"{vials} vial(s)"),
        "irinotecan_loaded_mg": (loaded, f"{loaded:.1f} mg"),
        "irinotecan_expected_delivered_mg": (delivered, f"{delivered:.1f} mg"),
    }
    explanations = dict(session.explanations)
    for name, (value, text) in new_values.items():
        old = getattr(session, name)
        rederived = name == "vials" and "beads_ml" in changes
        if value == old and name not in changes and not rederived:
            continue
        overridden = name in changes
        explanations[name] = Explanation(
            summary=f"{'Overridden' if overridden else 'Re-derived after an override'} by {by}",
            formula="value entered by the physician"
            if overridden
            else "same rule as the proposal, from the overridden numbers",
            inputs={
                "proposed": f"{old:g}",
                "reason": reason,
                "beads": f"{beads:g} mL",
                "vials": str(vials),
                "vial loads": " + ".join(f"{v:.1f}" for v in loads) + " mg",
            },
            result=text,
            source=f"physician override ({by})",
        )
    updated = replace(
        session,
        beads_ml=beads,
        vials=vials,
        prepared_beads_ml=vials * vial_ml,
        irinotecan_loaded_mg=loaded,
        vial_loads_mg=loads,
        irinotecan_expected_delivered_mg=delivered,
        limited_by=(
            *(x for x in session.limited_by if x not in ("min_beads", "max_beads")),
            "override",
        ),
        explanations=explanations,
    )
    advisories = []
    if loaded > cap_mg + _EPS:
        advisories.append(
            Advisory(
                f"override.above_cap.s{n}",
                "strong_warning",
                f"Session {n}: overridden to {loaded:.0f} mg, above the per-session cap "
                f"{cap_mg:g} mg (reason: {reason}).",
                params.cite("per_session_cap_mg"),
            )
        )
    warn_mg = float(params.value("per_session_warning_mg"))
    if loaded > warn_mg + _EPS:
        advisories.append(
            Advisory(
                f"dose.above_warning.s{n}",
                "warning",
                f"Session {n}: {loaded:.0f} mg loaded, above {warn_mg:g} mg per session — more "
                "than 100 mg in one treatment predicted adverse events.",
                params.cite("per_session_warning_mg"),
            )
        )
    return updated, tuple(advisories)
