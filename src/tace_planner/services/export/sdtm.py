"""CDISC SDTM as CSV: DM (minimal), TU and TR from the lesions and their measurements.

TU identifies each focus once (TULNKID T01… for target, NT01… for non-target lesions, at
its first timepoint); TR holds the longest axial diameter (LDIAM, mm) and the volume
(VOLUME, cm3) per lesion and timepoint. The RS domain (responses) is not written: this
version has no response engine. De-identified, USUBJID is the pseudonym and every date
moves by one shift per patient (intervals and study days unchanged).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from tace_planner.services.export.record import CaseRecord

STUDYID = "TACEPLANNER"
DM = ("STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "SEX", "AGE", "AGEU")
TU = ("STUDYID", "DOMAIN", "USUBJID", "TUSEQ", "TULNKID", "TUTESTCD", "TUTEST", "TUORRES",
      "TUSTRESC", "TULOC", "TUMETHOD", "TUEVAL", "VISITNUM", "VISIT", "TUDTC", "TUDY")  # fmt: skip
TR = ("STUDYID", "DOMAIN", "USUBJID", "TRSEQ", "TRLNKID", "TRTESTCD", "TRTEST", "TRORRES",
      "TRORRESU", "TRSTRESC", "TRSTRESN", "TRSTRESU", "TRSTAT", "TREVAL", "VISITNUM",
      "VISIT", "TRDTC", "TRDY")  # fmt: skip


def _dy(on: dt.date | None, reference: dt.date | None) -> int | None:
    """SDTM study day: day 1 is the reference date, the day before it is -1 (no day 0)."""
    if on is None or reference is None:
        return None
    days = (on - reference).days
    return days + 1 if days >= 0 else days


def write_sdtm(records: list[CaseRecord], folder: Path, pseudonyms: Any = None) -> list[Path]:
    """``dm.csv``, ``tu.csv``, ``tr.csv``; ``pseudonyms.shift_days`` shifts dates when given."""
    dm, tu, tr = [], [], []
    for number, record in enumerate(records, start=1):
        shift = dt.timedelta(days=pseudonyms.shift_days(record.record_id) if pseudonyms else 0)

        def date(on: dt.date | None, shift: dt.timedelta = shift) -> str:
            return "" if on is None else (on + shift).isoformat()

        subject = f"{record.record_id}-{number}"
        usubjid = f"{STUDYID}-{subject}"
        reference = record.case.get("first_tace_on")
        dm.append([STUDYID, "DM", usubjid, subject, date(reference), record.case["sex"] or "",
                   record.case["age_at_anchor_years"], "YEARS"])  # fmt: skip
        ids: dict[str, str] = {}
        visits: dict[str, int] = {}
        for row in record.lesions:
            if row["lesion_kind"] != "focus":
                continue
            visit = visits.setdefault(row["visit"], len(visits) + 1)
            on = row["imaged_on"]
            if row["lesion"] not in ids:
                prefix = "T" if row["is_target"] else "NT"
                count = sum(1 for v in ids.values() if v.startswith(prefix)) + 1
                ids[row["lesion"]] = f"{prefix}{count:02d}"
                kind = "TARGET" if row["is_target"] else "NON-TARGET"
                tu.append([STUDYID, "TU", usubjid, len(tu) + 1, ids[row["lesion"]], "TUMIDENT",
                           "Tumor Identification", kind, kind, "LIVER", "CT", "INVESTIGATOR",
                           visit, row["visit"].upper(), date(on),
                           _dy(on, reference)])  # fmt: skip
            tests = (("LDIAM", "Longest Diameter", row["longest_axial_diameter_mm"], "mm"),
                     ("VOLUME", "Volume", row["volume_cm3"], "cm3"))  # fmt: skip
            for code, name, value, unit in tests:
                status = "" if value is not None else "NOT DONE"
                shown = "" if value is None else f"{value:g}"
                tr.append([STUDYID, "TR", usubjid, len(tr) + 1, ids[row["lesion"]], code, name,
                           shown, unit, shown, shown, unit, status, "INVESTIGATOR", visit,
                           row["visit"].upper(), date(on), _dy(on, reference)])  # fmt: skip
    written = []
    for name, header, rows in (("dm", DM, dm), ("tu", TU, tu), ("tr", TR, tr)):
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(["" if v is None else v for v in row] for row in rows)
        written.append(path)
    return written
