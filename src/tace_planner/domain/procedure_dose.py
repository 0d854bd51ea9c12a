"""The loaded and the delivered dose of a procedure record, and how the delivered one is derived."""

from __future__ import annotations

import math

from tace_planner.domain.procedure_record import ProcedureRecord

DELIVERED_DOSE_RULE = (
    "delivered = loaded × fraction of the prepared suspension injected (homogeneous "
    "suspension, an assumption of this planner: no published rule covers beads left "
    "undelivered); beads lose 4–6 % of irinotecan at once in contrast (Pereira, "
    "Anti-Cancer Drugs 2016)"
)


def loaded_dose_mg(record: ProcedureRecord) -> float | None:
    """The loaded dose: as entered, else the sum of the per-vial loads, else None."""
    if record.loaded_mg is not None:
        return record.loaded_mg
    if record.loaded_per_vial_mg:
        return math.fsum(record.loaded_per_vial_mg)
    return None


def delivered_dose_mg(record: ProcedureRecord) -> float | None:
    """The delivered dose: Σ per-vial delivered doses when entered, else loaded × fraction.

    None when neither is known, and when what it would come from is impossible (a
    fraction outside [0, 1], a negative dose): then nothing is counted or shown as
    delivered.
    """
    if record.delivered_per_vial_mg:
        if any(v < 0 for v in record.delivered_per_vial_mg):
            return None
        return math.fsum(record.delivered_per_vial_mg)
    loaded = loaded_dose_mg(record)
    fraction = record.delivered_fraction
    if loaded is None or fraction is None or loaded < 0 or not 0.0 <= fraction <= 1.0:
        return None
    return loaded * fraction


def delivered_explanation(record: ProcedureRecord) -> dict[str, str]:
    """How the delivered dose was obtained (formula, inputs, result, source)."""
    delivered = delivered_dose_mg(record)
    loaded = loaded_dose_mg(record)
    if record.delivered_per_vial_mg:
        formula = "delivered = Σ dose delivered from each vial (entered per vial)"
        inputs = " + ".join(f"{v:g}" for v in record.delivered_per_vial_mg) + " mg"
    else:
        formula = "delivered = loaded × delivered fraction"
        inputs = (
            f"loaded {loaded:g} mg × fraction {record.delivered_fraction:g}"
            if loaded is not None and record.delivered_fraction is not None
            else "loaded dose or delivered fraction missing"
        )
    return {
        "summary": "Irinotecan delivered (what reached the patient, not what was loaded)",
        "formula": formula,
        "inputs": inputs,
        "result": "—" if delivered is None else f"{delivered:.1f} mg",
        "source": DELIVERED_DOSE_RULE,
    }
