"""Small wording helpers shared by the panels."""

from __future__ import annotations


def capitalised(text: str) -> str:
    """``text`` with its first letter upper-cased, the rest kept ("follow-up 1" → "Follow-up 1").

    Unlike :meth:`str.capitalize`, which lower-cases the rest ("CT" → "Ct").
    """
    return text[:1].upper() + text[1:]
