"""The fields of a procedure record: vocabularies, names for people and the typed errors."""

from __future__ import annotations

from collections.abc import Mapping

from tace_planner.domain.errors import InvalidInputError

ENDPOINTS = ("near-stasis", "stasis", "pruned-tree", "other")
"""Angiographic end points; complete stasis is an adverse-event risk factor (Martin 2010)."""
ENDPOINT_LABELS = {
    "near-stasis": "near-stasis",
    "stasis": "complete stasis",
    "pruned-tree": '"pruned tree"',
    "other": "other",
}
ACCESS_SITES = ("femoral", "radial")
SIDES = ("right", "left")
ARTERIES = (
    "coeliac trunk",
    "superior mesenteric artery",
    "common hepatic artery",
    "proper hepatic artery",
    "right hepatic artery",
    "left hepatic artery",
    "middle hepatic artery",
    "replaced right hepatic artery",
    "replaced left hepatic artery",
    "accessory right hepatic artery",
    "accessory left hepatic artery",
    "segmental branch",
    "parasitised extrahepatic feeder",
)
"""Feeding arteries an angiography may identify (free text is allowed beside them)."""

FIELD_LABELS: Mapping[str, str] = {
    "performed_on": "Date of the procedure",
    "start_time": "Start time",
    "end_time": "End time",
    "operator": "Radiosurgeon",
    "assistant": "Assistant",
    "access_site": "Access",
    "access_side": "Access side",
    "feeding_arteries": "Feeding arteries",
    "angiography_note": "Angiography findings",
    "vessels": "Vessels treated",
    "microcatheter": "Microcatheter",
    "product_code": "Product",
    "size_range": "Size range",
    "lot": "Lot",
    "expiry": "Expiry date",
    "vials": "Vials prepared",
    "loaded_per_vial_mg": "Irinotecan loaded per vial (mg)",
    "loaded_mg": "Irinotecan loaded (mg)",
    "contrast_mixed_ml": "Contrast mixed (mL)",
    "injected_ml": "Volume injected (mL)",
    "delivered_fraction": "Delivered fraction",
    "delivered_per_vial_mg": "Irinotecan delivered per vial (mg)",
    "endpoint": "End point",
    "endpoint_note": "End point note",
    "contrast_ml": "Contrast volume (mL)",
    "fluoroscopy_min": "Fluoroscopy time (min)",
    "dap_gy_cm2": "Dose–area product (Gy·cm²)",
    "air_kerma_mgy": "Air kerma (mGy)",
    "lidocaine_mg": "Intra-arterial lidocaine (mg)",
    "lidocaine_timing": "Lidocaine timing",
    "antiemetics": "Antiemetics",
    "analgesia": "Analgesia",
    "antibiotics": "Antibiotics",
    "bilirubin_mg_dl": "Bilirubin at the procedure (mg/dL)",
    "adverse_events": "Adverse events",
    "post_embolisation_syndrome": "Post-embolisation syndrome",
    "stay_days": "Length of stay (days)",
    "note": "Note",
    "difference_reasons": "Reasons for differences from the plan",
    "amendment_reason": "Amendment reason",
    "plan": "Plan",
}
"""How each field of the record is named for people (errors, the form, the note)."""


class ProcedureFieldError(InvalidInputError):
    """An impossible value in a procedure record; ``key`` is the record field, ``field``
    its name for people."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(FIELD_LABELS.get(key, key), message)
        self.key = key


def field_label(key: str) -> str:
    """The name of a record field for people."""
    return FIELD_LABELS.get(key, key)


class SignedRecordError(InvalidInputError):
    """A signed procedure record was to be changed in place: only an amendment may change it."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            "procedure",
            message or "a signed record cannot be edited; amend it (with a reason) instead",
        )
