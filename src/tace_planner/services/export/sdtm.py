"""CDISC SDTM as CSV: DM (minimal), TU, TR and RS from the lesions and their measurements.

TU identifies each focus once, with its RECIST 1.1 role (Eisenhauer et al., European Journal
of Cancer 2009): the baseline targets T01…, the other baseline foci NT01…, a focus first
contoured at a follow-up NEW01… (at the visit it appeared). TR holds per lesion and visit
the longest axial diameter (LDIAM, to 0.1 mm) and the volume (VOLUME, to 0.01 cm3); a
non-target also gets its state (TUMSTATE: PRESENT, or ABSENT when its contour is empty),
and a baseline lesion not measured at a visit a NOT DONE record. RS is computed from TU and
TR by the response engine that ``tace-planner recist --sdtm`` runs
(:func:`tace_planner.services.sdtm.assess_sdtm`): TRGRESP, NTRGRESP, NEWLPROG, OVRLRESP per
follow-up visit and BESTRESP per subject, so ``recist --sdtm`` on the exported folder finds
no disagreement. A case whose baseline has no measured focus gets TU and TR but no RS (a
response needs a baseline; the export says so in a note).

De-identified, USUBJID holds the pseudonym and every date (RFSTDTC, TUDTC, TRDTC, RSDTC)
moves by one shift per patient, as DICOM PS3.15 prescribes for kept dates ("retain
longitudinal temporal information, modified dates"): SDTM's ``--DTC`` variables are
calendar dates; the study days ``--DY`` (day 1 = the first TACE) carry the timing and the
shift leaves them unchanged, as it leaves intervals and responses.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from tace_planner.services.export.record import CaseRecord, Row

STUDYID = "TACEPLANNER"
DM = ("STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "SEX", "AGE", "AGEU")
TU = ("STUDYID", "DOMAIN", "USUBJID", "TUSEQ", "TULNKID", "TUTESTCD", "TUTEST", "TUORRES",
      "TUSTRESC", "TULOC", "TUMETHOD", "TUEVAL", "VISITNUM", "VISIT", "TUDTC", "TUDY")  # fmt: skip
TR = ("STUDYID", "DOMAIN", "USUBJID", "TRSEQ", "TRLNKID", "TRTESTCD", "TRTEST", "TRORRES",
      "TRORRESU", "TRSTRESC", "TRSTRESN", "TRSTRESU", "TRSTAT", "TRREASND", "TREVAL",
      "VISITNUM", "VISIT", "TRDTC", "TRDY")  # fmt: skip
_ROLES = {"T": "TARGET", "NT": "NON-TARGET", "NEW": "NEW"}


def _dy(on: dt.date | None, reference: dt.date | None) -> int | None:
    """SDTM study day: day 1 is the reference date, the day before it is -1 (no day 0)."""
    if on is None or reference is None:
        return None
    days = (on - reference).days
    return days + 1 if days >= 0 else days


DIAMETER_DECIMALS = 1
"""TRSTRESN of a diameter: to 0.1 mm, the precision the app measures and shows it to."""
VOLUME_DECIMALS = 2
"""TRSTRESN of a volume: to 0.01 cm3, as the app shows it."""


def _number(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals`` places (half to even on the binary value, as R
    does), without trailing zeros ("31", "27.5", "12.35")."""
    text = f"{float(value):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _visits(lesions: list[Row]) -> list[tuple[str, dt.date | None, list[Row]]]:
    """The measured visits, baseline first then by imaging date: (name, date, foci rows)."""
    found: dict[str, tuple[str, dt.date | None, list[Row]]] = {}
    for row in lesions:
        if row["lesion_kind"] == "focus":
            found.setdefault(row["visit"], (row["visit"], row["imaged_on"], []))[2].append(row)
    return sorted(
        found.values(),
        key=lambda v: (not v[0].startswith("baseline"), v[1] or dt.date.max, v[0]),
    )


def _links(visits: list[tuple[str, dt.date | None, list[Row]]]) -> dict[str, tuple[str, int]]:
    """Lesion name → (TULNKID, VISITNUM of its first visit)."""
    links: dict[str, tuple[str, int]] = {}
    counts = dict.fromkeys(_ROLES, 0)
    for number, (_, _, rows) in enumerate(visits, start=1):
        for row in sorted(rows, key=lambda r: (not r["is_target"], r["lesion"])):
            if row["lesion"] in links:
                continue
            prefix = "NEW" if number > 1 else ("T" if row["is_target"] else "NT")
            counts[prefix] += 1
            links[row["lesion"]] = (f"{prefix}{counts[prefix]:02d}", number)
    return links


def write_sdtm(
    records: list[CaseRecord],
    folder: Path,
    pseudonyms: Any = None,
    parameters: Any = None,
    notes: list[str] | None = None,
) -> list[Path]:
    """``dm.csv``, ``tu.csv``, ``tr.csv`` and ``rs.csv`` of :func:`sdtm_tables` in ``folder``."""
    tables = sdtm_tables(records, pseudonyms, parameters, notes)
    return [_write(folder / f"{name}.csv", header, rows) for name, (header, rows) in tables.items()]


def sdtm_tables(
    records: list[CaseRecord],
    pseudonyms: Any = None,
    parameters: Any = None,
    notes: list[str] | None = None,
) -> dict[str, tuple[tuple[str, ...], list[list[Any]]]]:
    """The DM, TU, TR and RS tables (name → header, rows), built in memory.

    ``pseudonyms.shift_days`` shifts dates when given; ``parameters``
    (ResponseParameters) are the response thresholds (the shipped ones when None);
    ``notes`` receives what the reader should know."""
    from tace_planner.services.sdtm import RS_COLUMNS, assess_rows, rows_of

    dm: list[list[Any]] = []
    tu: list[list[Any]] = []
    tr: list[list[Any]] = []
    without_baseline: set[str] = set()
    for number, record in enumerate(records, start=1):
        shift = dt.timedelta(days=pseudonyms.shift_days(record.record_id) if pseudonyms else 0)

        def date(on: dt.date | None, shift: dt.timedelta = shift) -> str:
            return "" if on is None else (on + shift).isoformat()

        subject = f"{record.record_id}-{number}"
        usubjid = f"{STUDYID}-{subject}"
        reference = record.case.get("first_tace_on")
        dm.append([STUDYID, "DM", usubjid, subject, date(reference), record.case["sex"] or "",
                   record.case["age_at_anchor_years"], "YEARS"])  # fmt: skip
        visits = _visits(record.lesions)
        links = _links(visits)
        if visits and not visits[0][0].startswith("baseline"):
            without_baseline.add(usubjid)
            if notes is not None:
                notes.append(f"SDTM: {usubjid} has no measured baseline focus: no RS for it")
        for link, first in sorted(links.values()):
            name, on, _ = visits[first - 1]
            role = _ROLES[link.rstrip("0123456789")]
            tu.append([STUDYID, "TU", usubjid, len(tu) + 1, link, "TUMIDENT",
                       "Tumor Identification", role, role, "LIVER", "CT", "INVESTIGATOR",
                       first, name.upper(), date(on), _dy(on, reference)])  # fmt: skip
        for visitnum, (name, on, rows) in enumerate(visits, start=1):
            measured = {row["lesion"]: row for row in rows}
            for lesion, (link, first) in sorted(links.items(), key=lambda kv: kv[1]):
                row = measured.get(lesion)
                if visitnum < first or (row is None and link.startswith("NEW")):
                    continue  # a new lesion counts where it is contoured
                tail = ["INVESTIGATOR", visitnum, name.upper(), date(on), _dy(on, reference)]
                head = [STUDYID, "TR", usubjid, 0, link]
                tests = [("LDIAM", "Longest Diameter", "longest_axial_diameter_mm", "mm",
                          DIAMETER_DECIMALS),
                         ("VOLUME", "Volume", "volume_cm3", "cm3", VOLUME_DECIMALS)]  # fmt: skip
                for code, test, key, unit, decimals in tests:
                    value = None if row is None else row[key]
                    if value is None:
                        tr.append([*head, code, test, "", "", "", "", "", "NOT DONE",
                                   "NOT MEASURED", *tail])  # fmt: skip
                    else:
                        text = _number(value, decimals)
                        tr.append([*head, code, test, text, unit, text, text, unit, "", "",
                                   *tail])  # fmt: skip
                if link.startswith("NT"):
                    volume = None if row is None else row["volume_cm3"]
                    if volume is None:
                        tr.append([*head, "TUMSTATE", "Tumor State", "", "", "", "", "",
                                   "NOT DONE", "NOT EVALUATED", *tail])  # fmt: skip
                    else:
                        state = "PRESENT" if volume > 0 else "ABSENT"
                        tr.append([*head, "TUMSTATE", "Tumor State", state, "", state, "", "",
                                   "", "", *tail])  # fmt: skip
    for seq, row in enumerate(tr, start=1):
        row[3] = seq
    computed = assess_rows(
        rows_of("tu.csv", TU, tu),
        rows_of("tr.csv", TR, tr),
        None,
        *(() if parameters is None else (parameters,)),
    )
    rs = [
        [row.get(c, "") for c in RS_COLUMNS]
        for row in computed.rs_rows
        if row["USUBJID"] not in without_baseline
    ]
    return {"dm": (DM, dm), "tu": (TU, tu), "tr": (TR, tr), "rs": (RS_COLUMNS, rs)}


def _write(path: Path, header: tuple[str, ...], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path
