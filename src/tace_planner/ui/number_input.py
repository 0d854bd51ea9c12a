"""How the forms read a number typed into a text field (no Qt here).

The Plan form and the procedure form read numbers the same way, so that "0,8" means
0.8 in both: a decimal comma is a decimal point.
"""

from __future__ import annotations

import math


def float_or_none(text: str) -> float | None:
    """The number typed in ``text``: ``None`` when empty, NaN when it is no number.

    Surrounding spaces are ignored and a decimal comma is read as a decimal point
    ("0,8" → 0.8). NaN, not an exception, marks a text that is not a number, so that the
    caller can name the field (or pass the text on for the service to name).
    """
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value
