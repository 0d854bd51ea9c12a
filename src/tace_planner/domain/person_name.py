"""DICOM person names (PN) as people read them: "FAMILY, Given Middle".

A PN value (PS3.5 §6.2) holds up to three component groups separated by "=" (alphabetic,
ideographic, phonetic), each of up to five components separated by "^": family name,
given name, middle name, prefix, suffix. Anonymised data often put words joined by "_"
in them ("liver_17^patient"). :func:`readable_person_name` shows the alphabetic group
with the family name in capitals first, as on a hospital wristband.
"""

from __future__ import annotations


def _words(component: str) -> str:
    return " ".join(component.replace("_", " ").split())


def readable_person_name(value: str | None) -> str:
    """``"liver_17^patient"`` → ``"LIVER 17, patient"``; ``"Doe^John^A^Dr^Jr"`` → ``"Dr DOE,
    John A, Jr"``.

    A value without "^" (free text, already readable) is returned with its spaces tidied;
    empty or None gives "".
    """
    if not value:
        return ""
    group = str(value).split("=", 1)[0]
    if "^" not in group:
        return _words(group)
    parts = [_words(p) for p in group.split("^")] + [""] * 5
    family, given, middle, prefix, suffix = parts[:5]
    first = " ".join(p for p in (given, middle) if p)
    head = " ".join(p for p in (prefix, family.upper()) if p)
    text = ", ".join(p for p in (head, first) if p)
    return f"{text}, {suffix}" if suffix else text
