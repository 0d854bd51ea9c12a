"""Unit constants and conversions used across the core."""

from __future__ import annotations

MM3_PER_CM3 = 1000.0
"""Cubic millimetres in one cubic centimetre (= one millilitre)."""

MM_PER_CM = 10.0
