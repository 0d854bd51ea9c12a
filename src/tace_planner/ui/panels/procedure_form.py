"""The procedure form's fields and how their text is read and written (no widgets here).

What the radiosurgeon types is text; :func:`from_text` turns it into the record values
the procedure service checks (a decimal comma is read as the Plan form reads it:
"0,8" = 0.8), :func:`as_text` turns stored values back into the text shown. The line on
the delivered dose (:func:`delivered_line`) is the service's answer in words, shown only
when what it is computed from is possible.
"""

from __future__ import annotations

import math
from typing import Any

from tace_planner.domain.procedure import (
    ACCESS_SITES,
    ENDPOINT_LABELS,
    ENDPOINTS,
    NUMBER_FIELDS,
    SIDES,
    field_label,
    parse_adverse_event,
)
from tace_planner.domain.procedure_plan import delivery_against_plan
from tace_planner.domain.procedure_risk import CIRSE_SOURCE, CTCAE_SOURCE
from tace_planner.ui.number_input import float_or_none

FIELDS: tuple[tuple[str, str], ...] = (
    ("performed_on", "text"),
    ("start_time", "text"),
    ("end_time", "text"),
    ("operator", "text"),
    ("assistant", "text"),
    ("access_site", "choice"),
    ("access_side", "choice"),
    ("feeding_arteries", "text"),
    ("angiography_note", "text"),
    ("vessels", "text"),
    ("microcatheter", "text"),
    ("product_code", "choice"),
    ("size_range", "text"),
    ("lot", "text"),
    ("expiry", "text"),
    ("vials", "text"),
    ("loaded_per_vial_mg", "text"),
    ("loaded_mg", "text"),
    ("contrast_mixed_ml", "text"),
    ("injected_ml", "text"),
    ("delivered_fraction", "text"),
    ("delivered_per_vial_mg", "text"),
    ("endpoint", "choice"),
    ("contrast_ml", "text"),
    ("fluoroscopy_min", "text"),
    ("dap_gy_cm2", "text"),
    ("air_kerma_mgy", "text"),
    ("lidocaine_mg", "text"),
    ("lidocaine_timing", "text"),
    ("antiemetics", "text"),
    ("analgesia", "text"),
    ("antibiotics", "text"),
    ("bilirubin_mg_dl", "text"),
    ("adverse_events", "text"),
    ("post_embolisation_syndrome", "choice"),
    ("stay_days", "text"),
    ("note", "multiline"),
)
"""(key, kind) in form order; kind: text, choice, multiline."""

CHOICES: dict[str, list[tuple[str, Any]]] = {
    "access_site": [("—", ""), *[(s, s) for s in ACCESS_SITES]],
    "access_side": [("—", ""), *[(s, s) for s in SIDES]],
    "endpoint": [("—", ""), *[(ENDPOINT_LABELS[e], e) for e in ENDPOINTS]],
    "post_embolisation_syndrome": [("not recorded", None), ("no", False), ("yes", True)],
    "product_code": [("—", "")],  # the catalogue's products are added by the panel
}
"""(text shown, value stored) of each choice; the first is "not entered"."""

PLACEHOLDERS = {
    "performed_on": "YYYY-MM-DD",
    "expiry": "YYYY-MM-DD",
    "start_time": "HH:MM",
    "end_time": "HH:MM",
    "feeding_arteries": "e.g. right hepatic artery, replaced left hepatic artery",
    "vessels": "artery: segments; … e.g. right hepatic artery: VI, VIII",
    "loaded_per_vial_mg": "e.g. 100, 100",
    "delivered_per_vial_mg": "optional, e.g. 100, 20",
    "delivered_fraction": "0–1, e.g. 0.6",
    "adverse_events": "e.g. Abdominal pain:2:1:0; Nausea:1",
}
TOOLTIPS = {
    "adverse_events": (
        "One event per ';': the term and its CTCAE grade (1–5), then optionally the CIRSE "
        "grade (1–6) and the day of onset after the procedure, separated by ':'.\n"
        "Example: Abdominal pain:2:1:0 — grade 2 pain, CIRSE grade 1, on the day of the "
        f"procedure.\nGrades: {CTCAE_SOURCE}; {CIRSE_SOURCE}."
    ),
    "delivered_fraction": (
        "The share of the prepared bead suspension injected, 0–1 (0.6: 60 %); the vials "
        "count as injected in the order prepared, as the plan counts them."
    ),
    "delivered_per_vial_mg": "Instead of the fraction: the dose delivered from each vial, in mg.",
}
DOSE_FIELDS = ("loaded_mg", "loaded_per_vial_mg", "delivered_fraction", "delivered_per_vial_mg")
"""The fields the delivered dose is computed from."""


def _split(text: str, sep: str = ",") -> list[str]:
    return [part.strip() for part in text.split(sep) if part.strip()]


def as_text(key: str, value: Any) -> str:
    """A stored record value as the form shows it."""
    if value in (None, ""):
        return ""
    if key == "vessels":
        return "; ".join(f"{v['artery']}: {', '.join(v['segments'])}" for v in value)
    if key == "adverse_events":
        parts = []
        for event in value:
            text = f"{event['term']}:{event['ctcae_grade']}"
            if event.get("cirse_grade") is not None:
                text += f":{event['cirse_grade']}"
                if event.get("onset_day") is not None:
                    text += f":{event['onset_day']}"
            parts.append(text)
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def from_text(key: str, text: str) -> Any:
    """What the form's text of ``key`` means as a record value (the service checks it).

    One number is read as the Plan form reads its numbers (a decimal comma is a decimal
    point); a text that is no number is passed on as it is, for the service to name.

    Raises
    ------
    ProcedureFieldError
        An adverse event cannot be read (the field is named).
    """
    text = text.strip()
    if key in NUMBER_FIELDS:
        number = float_or_none(text)
        return text if number is not None and math.isnan(number) else number
    if key in ("loaded_per_vial_mg", "delivered_per_vial_mg", "feeding_arteries"):
        return _split(text)
    if key == "vessels":
        vessels = []
        for part in _split(text, ";"):
            artery, _, segments = part.partition(":")
            vessels.append({"artery": artery.strip(), "segments": _split(segments)})
        return vessels
    if key == "adverse_events":
        return [parse_adverse_event(part).to_json() for part in _split(text, ";")]
    return text


def delivered_line(draft: Any) -> str:
    """The form's line on a draft's delivered dose, kept distinct from the loaded dose, or
    what is still missing (or to be corrected) to know it."""
    loaded_mg = draft.loaded_mg
    loaded = "—" if loaded_mg is None else f"{loaded_mg:.1f} mg"
    wrong = [
        field_label(key)
        for key in dict.fromkeys(
            p.key for p in draft.problems if p.kind == "impossible" and p.key in DOSE_FIELDS
        )
    ]
    if wrong:
        return f"Delivered: not known — correct {' and '.join(wrong)} first"
    if draft.delivered_mg is not None:
        inputs = draft.delivered_explanation.get("inputs", "")  # names the loaded dose once
        line = f"Delivered: {draft.delivered_mg:.1f} mg = {inputs}"
        fraction = None if draft.planned is None else draft.record.delivered_fraction
        against = delivery_against_plan(draft.delivered_mg, draft.planned, fraction)
        if against is not None and against.material:
            line += f" — {against.text[0].lower()}{against.text[1:]}"
        return line
    if loaded_mg is None:
        return (
            "Delivered: not known yet — enter the irinotecan loaded (per vial or in all) "
            "and the delivered fraction, or the dose delivered from each vial"
        )
    return (
        "Delivered: not known yet — enter the delivered fraction or the dose delivered "
        f"from each vial (loaded {loaded})"
    )
