"""The words the app uses for CT phases, MR sequences, image planes, its own lesion names and
the values of the cohort's case groups."""

from __future__ import annotations

import re

CT_PHASES = ("native", "arterial", "venous", "delayed", "unknown")
"""CT contrast phases ("" for other modalities)."""

MR_SEQUENCES = ("t1", "t2", "dwi", "adc", "other")
"""MR sequence families ("" for other modalities)."""

PLANES = ("axial", "coronal", "sagittal")
"""Acquisition planes; "" when oblique or unknown."""

STANDARD_LESION_NAME = re.compile(r"(F\d{1,3}|Liver)", re.IGNORECASE)
"""The lesion names the app gives (F1 … F999, Liver), matched whole (``fullmatch``): they
hold nothing about the patient, so de-identification keeps them; any other name is free
text a user typed and is replaced by a code."""

ALL_CASES = "all"
"""The grouping that keeps the cohort whole (the Cohort page's "All cases"), and the value of
its one group."""

GROUP_VALUE_LABELS = {
    ALL_CASES: "all cases",
    "synchronous": "synchronous",
    "metachronous": "metachronous",
    "immediate": "immediately",
    "after_chemotherapy": "after chemotherapy",
}
"""The stored values of a case's groups (liver metastases timing, TACE sequence) as people
read them; exports keep the stored values."""


def group_value_label(value: str) -> str:
    """A case group's stored value as people read it ("after_chemotherapy" → "after
    chemotherapy"); any other text as it is."""
    return GROUP_VALUE_LABELS.get(value, value)
