"""The words the app uses for CT phases, MR sequences, image planes and its own lesion names."""

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
