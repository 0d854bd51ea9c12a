"""The words the app uses for CT phases, MR sequences and image planes."""

from __future__ import annotations

CT_PHASES = ("native", "arterial", "venous", "delayed", "unknown")
"""CT contrast phases ("" for other modalities)."""

MR_SEQUENCES = ("t1", "t2", "dwi", "adc", "other")
"""MR sequence families ("" for other modalities)."""

PLANES = ("axial", "coronal", "sagittal")
"""Acquisition planes; "" when oblique or unknown."""
