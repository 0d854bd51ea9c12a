"""The loaded and the delivered dose of a procedure record, and how the delivered one is derived.

The delivered dose follows the plan's delivery model
(:func:`~tace_planner.domain.dosing_kernel.delivered_from_fraction_mg`): the vials
are injected in the order prepared, each vial's beads carrying its own load, so
that a plan and the procedure that carries it out count the same dose for the same
vials and fraction. Doses entered per vial take precedence; without per-vial loads
the load is taken as spread evenly over the vials (loaded × fraction).
"""

from __future__ import annotations

import math

from tace_planner.domain.dosing_kernel import (
    NO_PUBLISHED_RULE,
    VIALS_IN_ORDER,
    delivered_from_fraction_mg,
)
from tace_planner.domain.procedure_record import ProcedureRecord

DELIVERED_DOSE_RULE = (
    "delivered = Σ (fraction of vial i injected) × load of vial i: "
    f"{VIALS_IN_ORDER}, the rule of the plan's expected delivered dose; a dose entered "
    f"per vial takes precedence; {NO_PUBLISHED_RULE}"
)
EVEN_LOAD = (
    "per-vial loads not recorded: the load is taken as spread evenly through the "
    "suspension, so delivered = loaded × fraction"
)


def loaded_dose_mg(record: ProcedureRecord) -> float | None:
    """The loaded dose: as entered, else the sum of the per-vial loads, else None."""
    if record.loaded_mg is not None:
        return record.loaded_mg
    if record.loaded_per_vial_mg:
        return math.fsum(record.loaded_per_vial_mg)
    return None


def _vial_loads(record: ProcedureRecord) -> tuple[float, ...]:
    """The per-vial loads the delivery model uses (empty: not recorded or impossible)."""
    loads = record.loaded_per_vial_mg
    if not loads or any(v < 0 for v in loads):
        return ()
    return loads


def delivered_dose_mg(record: ProcedureRecord) -> float | None:
    """The delivered dose: Σ per-vial delivered doses when entered, else the plan's
    delivery model on the per-vial loads and the fraction (loaded × fraction without
    per-vial loads).

    None when neither is known, and when what it would come from is impossible (a
    fraction outside [0, 1], a negative dose): then nothing is counted or shown as
    delivered.
    """
    if record.delivered_per_vial_mg:
        if any(v < 0 for v in record.delivered_per_vial_mg):
            return None
        return math.fsum(record.delivered_per_vial_mg)
    fraction = record.delivered_fraction
    if fraction is None or not 0.0 <= fraction <= 1.0:
        return None
    loads = _vial_loads(record)
    if loads:
        return delivered_from_fraction_mg(loads, fraction)
    loaded = loaded_dose_mg(record)
    if loaded is None or loaded < 0:
        return None
    return loaded * fraction


def _percent(share: float) -> str:
    """0.2 → ``20 %``."""
    return f"{share * 100:.0f} %"


def _vial_terms(loads: tuple[float, ...], fraction: float) -> str:
    """``vial 1 whole (100 mg) + 20 % of vial 2 (0 mg)``: what each vial gave."""
    injected = fraction * len(loads)
    terms = []
    for i, load in enumerate(loads):
        share = min(max(injected - i, 0.0), 1.0)
        if share <= 0.0:
            break
        part = "whole" if share >= 1.0 else _percent(share)
        terms.append(
            f"vial {i + 1} {part} ({load:g} mg)" if part == "whole" else
            f"{part} of vial {i + 1} ({load:g} mg)"
        )  # fmt: skip
    return " + ".join(terms) or "no vial"


def delivered_explanation(record: ProcedureRecord) -> dict[str, str]:
    """How the delivered dose was obtained (formula, inputs, result, which assumption).

    ``inputs`` names the loaded dose once, so that a line "Delivered: X mg = inputs"
    reads without repeating it.
    """
    delivered = delivered_dose_mg(record)
    loaded = loaded_dose_mg(record)
    loaded_text = "—" if loaded is None else f"{loaded:g} mg"
    fraction = record.delivered_fraction
    loads = _vial_loads(record)
    if record.delivered_per_vial_mg:
        formula = "delivered = Σ dose delivered from each vial (entered per vial)"
        inputs = (
            " + ".join(f"{v:g}" for v in record.delivered_per_vial_mg)
            + f" mg entered per vial, of {loaded_text} loaded"
        )
        source = "doses entered per vial (they take precedence over the fraction)"
    elif loads and fraction is not None and len(set(loads)) > 1:
        formula = "delivered = Σ (fraction of vial i injected) × load of vial i"
        inputs = (
            f"{_percent(fraction)} of {len(loads)} vials loaded "
            + " + ".join(f"{v:g}" for v in loads)
            + f" mg: {_vial_terms(loads, fraction)}"
        )
        source = DELIVERED_DOSE_RULE
    else:
        formula = "delivered = loaded × delivered fraction"
        inputs = (
            f"loaded {loaded_text} × fraction {fraction:g}"
            if loaded is not None and fraction is not None
            else "loaded dose or delivered fraction missing"
        )
        source = DELIVERED_DOSE_RULE if loads else f"{EVEN_LOAD}; {NO_PUBLISHED_RULE}"
    return {
        "summary": "Irinotecan delivered (what reached the patient, not what was loaded)",
        "formula": formula,
        "inputs": inputs,
        "result": "—" if delivered is None else f"{delivered:.1f} mg",
        "source": source,
    }
