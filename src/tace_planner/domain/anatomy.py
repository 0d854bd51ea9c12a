"""Liver anatomy: Couinaud segments and lobes — the one parser every layer uses.

Couinaud (World J Gastrointest Surg 2013;5(5):146, Fig 1): I = caudate lobe;
II–IV = left hemiliver (II, III lateral; IV medial, IVa superior / IVb
inferior); V–VIII = right hemiliver. For planning the caudate lobe (segment I) is
its own territory because it is fed from both sides.

Accepted spellings (case and spaces ignored): Roman "VI", Arabic "6", with a
prefix "Segment 6", "Seg. VI", "S6", and the sub-segments of IV as "IVa", "4a",
"S4b". The canonical code keeps the sub-segment ("IVa"); the segment used for
territories and per-segment totals drops it ("IV").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Lobe = Literal["right", "left", "caudate"]

SEGMENTS: tuple[str, ...] = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
"""The eight Couinaud segments, in order."""

SEGMENT_CODES: tuple[str, ...] = ("I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII")
"""Every canonical code a lesion may carry (segment IV with or without its sub-segment)."""

LOBES: tuple[Lobe, ...] = ("right", "left", "caudate")
LOBE_SEGMENTS = MappingProxyType(
    {
        "right": ("V", "VI", "VII", "VIII"),
        "left": ("II", "III", "IV"),
        "caudate": ("I",),
    }
)
LOBE_LABELS = MappingProxyType(
    {
        "right": "right lobe (V–VIII)",
        "left": "left lobe (II–IV)",
        "caudate": "caudate lobe (I)",
    }
)
UNASSIGNED = "unassigned"
COUINAUD_SOURCE = (
    "Couinaud segments (Couinaud, Le foie: études anatomiques et chirurgicales, Masson 1957, "
    "illustrated in World J Gastrointest Surg 2013;5(5):146)"
)

_LOBE_OF = {segment: lobe for lobe, segments in LOBE_SEGMENTS.items() for segment in segments}
_ROMAN_OF_ARABIC = {str(n): roman for n, roman in enumerate(SEGMENTS, start=1)}
_PREFIX = re.compile(r"^(?:SEGMENTS?|SEGM?\.?|S)(?=[\dIVX])")


@dataclass(frozen=True, slots=True)
class Segment:
    """A parsed Couinaud segment.

    Attributes
    ----------
    code : str
        Canonical code: "I" … "VIII", or "IVa" / "IVb".
    segment : str
        The segment without sub-segment: "I" … "VIII".
    lobe : {"right", "left", "caudate"}
    """

    code: str
    segment: str
    lobe: Lobe

    @property
    def lobe_label(self) -> str:
        """For people, e.g. "right lobe (V–VIII)"."""
        return LOBE_LABELS[self.lobe]


def parse_segment(text: str | None) -> Segment | None:
    """The Couinaud segment a text names, or None when it names none.

    >>> parse_segment("Segment 6").code, parse_segment("IVA").code, parse_segment("s4b").code
    ('VI', 'IVa', 'IVb')
    """
    if text is None:
        return None
    cleaned = re.sub(r"[\s_\-]+", "", str(text)).upper()
    cleaned = _PREFIX.sub("", cleaned)
    sub = ""
    if len(cleaned) > 1 and cleaned[-1] in "AB" and cleaned[:-1] in ("IV", "4"):
        sub = cleaned[-1].lower()
        cleaned = cleaned[:-1]
    roman = _ROMAN_OF_ARABIC.get(cleaned, cleaned)
    if roman not in _LOBE_OF:
        return None
    return Segment(code=roman + sub, segment=roman, lobe=_LOBE_OF[roman])  # type: ignore[arg-type]


def canonical_segment(text: str | None) -> str | None:
    """Canonical code ("VI", "IVa") of a segment text, or None when it names none."""
    parsed = parse_segment(text)
    return None if parsed is None else parsed.code


def segment_of(text: str | None) -> str | None:
    """The segment "I" … "VIII" without sub-segment ("IVa" → "IV"), or None."""
    parsed = parse_segment(text)
    return None if parsed is None else parsed.segment


def lobe_of_segment(text: str | None) -> Lobe | None:
    """ "right", "left" or "caudate" for a segment text, or None when it names none."""
    parsed = parse_segment(text)
    return None if parsed is None else parsed.lobe
