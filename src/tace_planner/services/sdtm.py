"""RECIST 1.1 from CDISC SDTM tumour data sets (TU, TR, RS as CSV) and back.

Reads ``TU.csv`` and ``TR.csv`` (and ``RS.csv`` when present) with the standard
variable names of the SDTM RECIST 1.1 supplement, computes per visit, subject and
reader the target (TRGRESP), non-target (NTRGRESP), new-lesion (NEWLPROG) and
overall (OVRLRESP) responses with :mod:`tace_planner.domain.response` and the best
overall response (BESTRESP, one record per subject and reader without a visit), writes
``RS.csv`` and lists every given RS record that disagrees with the rules. File names
may be upper or lower case (``TU.csv`` or ``tu.csv``, as a data set export names them).

How the data are read (choices written down):

* Reader: ``TREVALID`` (else ``TREVAL``) on TR, ``RSEVALID`` (else ``RSEVAL``) on RS;
  TU rows without a reader serve every reader of the subject. TRACPTFL is kept
  in the output only: every reader is computed, accepted or not.
* Role: TUSTRESC TARGET / NON-TARGET / NEW; a link id absent from TU falls back
  on its prefix (T…, NT…, NEW…). A lesion is a node when TULOC names a lymph node
  or it is measured with LPERP (short axis) or LNSTATE.
* Baseline: the subject's and reader's smallest VISITNUM with target data; day 0
  of the best response is the baseline scan date (TRDTC).
* Measurements: TRSTRESN in mm; "TOO SMALL TO MEASURE" without a number is 5 mm;
  TRSTAT NOT DONE is missing (NE) unless TRREASND says the tumour merged. A split
  lesion "T04.1", "T04.2" adds up into T04; a merged "T02/T03" counts for T02 and
  T03 counts 0.
* New lesions: NEWLPROG is UNEQUIVOCAL or EQUIVOCAL (TUMSTATE EQUIVOCAL on every
  new lesion of the visit); no record is written when there is none.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.response.best import TimepointResponse, best_overall_response
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters
from tace_planner.domain.response.recist import (
    NewLesions,
    NonTargetAssessment,
    NonTargetState,
    TargetMeasurement,
    non_target_response,
    overall_response,
    target_response,
)

RS_TESTS = {
    "TRGRESP": "Target Response",
    "NTRGRESP": "Non-target Response",
    "NEWLPROG": "New Lesion Progression",
    "OVRLRESP": "Overall Response",
}
BEST = ("BESTRESP", "Best Overall Response")
"""The subject-level record of the best overall response (no VISITNUM)."""
RS_COLUMNS = (
    "STUDYID",
    "DOMAIN",
    "USUBJID",
    "RSSEQ",
    "RSTESTCD",
    "RSTEST",
    "RSCAT",
    "RSORRES",
    "RSSTRESC",
    "RSEVAL",
    "RSEVALID",
    "RSACPTFL",
    "VISITNUM",
    "VISIT",
    "RSDTC",
)
_NODE_TESTS = {"LPERP", "LPREP", "LNSTATE"}
_SIZE_TESTS = {"LDIAM", "LPERP", "LPREP"}
_STATE_TESTS = {"TUMSTATE", "LNSTATE"}
_STATES: dict[str, NonTargetState] = {
    "ABSENT": "absent",
    "NON-PATHOLOGICAL": "absent",
    "PRESENT": "present",
    "PATHOLOGICAL": "present",
    "UNEQUIVOCAL PROGRESSION": "unequivocal_progression",
    "NOT EVALUABLE": "not_evaluated",
    "NOT EVALUATED": "not_evaluated",
    "NE": "not_evaluated",
}
_NEW_GIVEN = {"UNEQUIVOCAL": "unequivocal", "Y": "unequivocal", "EQUIVOCAL": "equivocal"}
_NEW_GIVEN.update(dict.fromkeys(("N", "NO", "NONE", ""), "none"))


@dataclass(frozen=True)
class Row:
    """One CSV record and where it came from (for error messages)."""

    file: str
    line: int
    values: Mapping[str, str]

    def get(self, name: str) -> str:
        return (self.values.get(name) or "").strip()

    def where(self, name: str) -> str:
        return f"{self.file} line {self.line}: {name}"


def read_csv(path: Path) -> list[Row]:
    """The rows of an SDTM CSV, with upper-case column names."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = [
                Row(path.name, number, {(k or "").strip().upper(): v or "" for k, v in rec.items()})
                for number, rec in enumerate(reader, start=2)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidInputError(str(path), f"cannot be read: {error}") from None
    return rows


def domain_file(folder: Path, domain: str) -> Path:
    """``folder/TU.csv``, or ``folder/tu.csv`` when only the lower-case name exists."""
    upper = Path(folder) / f"{domain.upper()}.csv"
    lower = Path(folder) / f"{domain.lower()}.csv"
    return lower if not upper.is_file() and lower.is_file() else upper


def _require(rows: list[Row], path: Path, names: Iterable[str]) -> None:
    if rows:
        missing = [n for n in names if n not in rows[0].values]
        if missing:
            raise InvalidInputError(str(path), f"missing column(s) {', '.join(missing)}")


def _visitnum(row: Row) -> float:
    text = row.get("VISITNUM")
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(row.where("VISITNUM"), f"must be a number, got {text!r}") from None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _visit_key(value: float) -> str:
    return f"{value:g}"


@dataclass
class Visit:
    """What one reader recorded for one subject at one visit."""

    visitnum: float
    name: str = ""
    date: dt.date | None = None
    rows: list[Row] = field(default_factory=list)


@dataclass
class Assessment:
    """Computed responses of one subject and reader."""

    usubjid: str
    reader: str
    studyid: str
    evaluator: str
    accepted: str
    visits: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "USUBJID": self.usubjid,
            "RSEVALID": self.reader,
            "visits": self.visits,
            "best_overall_response": self.best,
        }


@dataclass
class SdtmResult:
    """Everything ``recist --sdtm`` reports."""

    subjects: list[Assessment]
    disagreements: list[dict[str, str]]
    rs_rows: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "subjects": [s.to_json() for s in self.subjects],
            "disagreements": self.disagreements,
        }


def _reader(row: Row, prefix: str) -> str:
    return row.get(f"{prefix}EVALID") or row.get(f"{prefix}EVAL")


def _role(link: str, roles: Mapping[str, str]) -> str:
    base = link.split("/")[0].split(".")[0]
    if base in roles:
        return roles[base]
    upper = base.upper()
    if upper.startswith("NEW"):
        return "NEW"
    if upper.startswith("NT"):
        return "NON-TARGET"
    return "TARGET"


def _size(row: Row, parameters: ResponseParameters) -> float | None:
    if row.get("TRSTAT").upper() == "NOT DONE":
        return None
    text = row.get("TRSTRESN") or row.get("TRSTRESC")
    if text.upper() == "TOO SMALL TO MEASURE":
        return float(parameters.too_small_to_measure_mm)
    try:
        value = float(text)
    except ValueError:
        if not text:
            return None
        raise InvalidInputError(row.where("TRSTRESN"), f"must be a number, got {text!r}") from None
    if value < 0:
        raise InvalidInputError(row.where("TRSTRESN"), f"must be ≥ 0 mm, got {value:g}")
    return value


def _target_values(
    visit: Visit, targets: list[str], roles: Mapping[str, str], parameters: ResponseParameters
) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    merged_away: set[str] = set()
    seen: set[str] = set()
    for row in visit.rows:
        if row.get("TRTESTCD").upper() not in _SIZE_TESTS:
            continue
        link = row.get("TRLNKID")
        if _role(link, roles) != "TARGET":
            continue
        if row.get("TRSTAT").upper() == "NOT DONE" and "MERGE" in row.get("TRREASND").upper():
            continue
        parts = [p.split(".")[0] for p in link.split("/")]
        size = _size(row, parameters)
        head = parts[0]
        seen.add(head)
        merged_away.update(parts[1:])
        if size is None or (head in values and values[head] is None):
            values[head] = None
        else:
            values[head] = (values.get(head) or 0.0) + size
    for lesion in merged_away:
        if lesion not in seen:
            values[lesion] = 0.0
    return {t: values.get(t) for t in targets if t in values}


def _non_targets(
    visit: Visit, roles: Mapping[str, str], nodes: set[str]
) -> list[NonTargetAssessment]:
    out = []
    for row in visit.rows:
        link = row.get("TRLNKID")
        if _role(link, roles) != "NON-TARGET" or row.get("TRTESTCD").upper() not in _STATE_TESTS:
            continue
        if row.get("TRSTAT").upper() == "NOT DONE":
            state: NonTargetState = "not_evaluated"
        else:
            text = row.get("TRSTRESC").upper()
            if text not in _STATES:
                raise InvalidInputError(
                    row.where("TRSTRESC"),
                    f"unknown non-target state {text!r}; expected one of {sorted(_STATES)}",
                )
            state = _STATES[text]
        out.append(NonTargetAssessment(link, state, is_node=link in nodes))
    return out


def _new_lesions(visit: Visit, roles: Mapping[str, str], tu_new: Iterable[str]) -> NewLesions:
    states: dict[str, str] = {link: "" for link in tu_new}
    for row in visit.rows:
        link = row.get("TRLNKID")
        if _role(link, roles) == "NEW":
            if row.get("TRTESTCD").upper() in _STATE_TESTS:
                states[link] = row.get("TRSTRESC").upper()
            else:
                states.setdefault(link, "")
    present = {k: v for k, v in states.items() if v not in ("ABSENT",)}
    if not present:
        return "none"
    if all(v == "EQUIVOCAL" for v in present.values()):
        return "equivocal"
    return "unequivocal"


def _newlprog(value: NewLesions) -> str:
    return {"none": "", "equivocal": "EQUIVOCAL", "unequivocal": "UNEQUIVOCAL"}[value]


def assess_sdtm(
    folder: Path, parameters: ResponseParameters = DEFAULT_RESPONSE, *, compare: bool = True
) -> SdtmResult:
    """Compute the RS of ``folder``'s TU/TR and compare with its RS (module notes).

    ``compare=False`` ignores a present RS.csv (when the RS is to be written).

    Raises
    ------
    InvalidInputError
        A file is missing, unreadable or holds a value that cannot be read (the
        message names the file, line and variable).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError(str(folder), "is not a folder")
    paths = {name: domain_file(folder, name) for name in ("TU", "TR", "RS")}
    has_tr = paths["TR"].is_file()
    if not has_tr and not (compare and paths["RS"].is_file()):
        raise InvalidInputError(str(folder), "holds neither TR.csv nor RS.csv")
    tu = read_csv(paths["TU"]) if paths["TU"].is_file() else []
    tr = read_csv(paths["TR"]) if has_tr else []
    rs = read_csv(paths["RS"]) if compare and paths["RS"].is_file() else []
    _require(tu, paths["TU"], ("USUBJID", "TULNKID", "TUSTRESC"))
    _require(tr, paths["TR"], ("USUBJID", "TRLNKID", "TRTESTCD", "VISITNUM"))
    _require(rs, paths["RS"], ("USUBJID", "RSTESTCD", "RSSTRESC", "VISITNUM"))
    return assess_rows(tu, tr, rs, parameters)


def rows_of(file: str, header: Sequence[str], records: Iterable[Sequence[Any]]) -> list[Row]:
    """In-memory records (in ``header``'s order) as the rows :func:`read_csv` would give
    for a CSV of them (``None`` → empty), without writing one."""
    names = [name.upper() for name in header]
    return [
        Row(file, number, {n: "" if v is None else str(v) for n, v in zip(names, rec, strict=True)})
        for number, rec in enumerate(records, start=2)
    ]


def assess_rows(
    tu: list[Row],
    tr: list[Row],
    rs: list[Row] | None = None,
    parameters: ResponseParameters = DEFAULT_RESPONSE,
) -> SdtmResult:
    """The RS of TU/TR rows (read from files or built in memory), compared with ``rs``
    when given (see :func:`assess_sdtm`)."""
    rs = rs or []
    roles: dict[str, dict[str, str]] = defaultdict(dict)
    nodes: dict[str, set[str]] = defaultdict(set)
    tu_new: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in tu:
        subject, link, role = row.get("USUBJID"), row.get("TULNKID"), row.get("TUSTRESC").upper()
        if role not in ("TARGET", "NON-TARGET", "NEW"):
            raise InvalidInputError(
                row.where("TUSTRESC"), f"must be TARGET, NON-TARGET or NEW, got {role!r}"
            )
        roles[subject][link] = role
        if "NODE" in row.get("TULOC").upper():
            nodes[subject].add(link)
        if role == "NEW" and row.get("VISITNUM"):
            tu_new[(subject, _visit_key(_visitnum(row)))].append(link)

    groups: dict[tuple[str, str], dict[float, Visit]] = defaultdict(dict)
    meta: dict[tuple[str, str], dict[str, str]] = {}
    for row in tr:
        subject = row.get("USUBJID")
        if not subject:
            raise InvalidInputError(row.where("USUBJID"), "is empty")
        key = (subject, _reader(row, "TR"))
        number = _visitnum(row)
        visit = groups[key].setdefault(number, Visit(number))
        visit.rows.append(row)
        visit.name = visit.name or row.get("VISIT")
        day = _date(row.get("TRDTC"))
        if day is not None and (visit.date is None or day < visit.date):
            visit.date = day
        if row.get("TRTESTCD").upper() in _NODE_TESTS:
            nodes[subject].add(row.get("TRLNKID").split(".")[0])
        meta.setdefault(
            key,
            {
                "STUDYID": row.get("STUDYID"),
                "RSEVAL": row.get("TREVAL"),
                "RSACPTFL": row.get("TRACPTFL"),
            },
        )

    subjects = [
        _assess_subject(
            key, groups[key], roles[key[0]], nodes[key[0]], tu_new, meta[key], parameters
        )
        for key in sorted(groups)
    ]
    rs_rows = _rs_rows(subjects)
    disagreements = _compare(rs, subjects)
    return SdtmResult(subjects, disagreements, rs_rows)


def _assess_subject(
    key: tuple[str, str],
    visits: Mapping[float, Visit],
    roles: Mapping[str, str],
    nodes: set[str],
    tu_new: Mapping[tuple[str, str], list[str]],
    meta: Mapping[str, str],
    parameters: ResponseParameters,
) -> Assessment:
    subject, reader = key
    result = Assessment(subject, reader, meta["STUDYID"], meta["RSEVAL"], meta["RSACPTFL"])
    targets = sorted(
        {
            p.split(".")[0]
            for v in visits.values()
            for row in v.rows
            if _role(row.get("TRLNKID"), roles) == "TARGET"
            and row.get("TRTESTCD").upper() in _SIZE_TESTS
            for p in row.get("TRLNKID").split("/")
        }
        | {link for link, role in roles.items() if role == "TARGET"}
    )
    ordered = sorted(visits.values(), key=lambda v: v.visitnum)
    if not ordered:
        return result
    baseline, follow_ups = ordered[0], ordered[1:]

    def measured(visit: Visit) -> list[TargetMeasurement]:
        values = _target_values(visit, targets, roles, parameters)
        return [TargetMeasurement(t, values[t], is_node=t in nodes) for t in values]

    base = measured(baseline)
    base_ids = {m.lesion_id for m in base}
    base += [TargetMeasurement(t, None, t in nodes) for t in targets if t not in base_ids]
    previous: list[list[TargetMeasurement]] = []
    timeline: list[TimepointResponse] = []
    for visit in follow_ups:
        now = measured(visit)
        confirmed = bool(timeline) and best_overall_response(
            timeline, parameters=parameters
        ).category in ("PR", "CR")
        target = (
            target_response(base, now, previous, confirmed_pr=confirmed, parameters=parameters)
            if targets
            else None
        )
        non_target = non_target_response(_non_targets(visit, roles, nodes), parameters)
        new = _new_lesions(visit, roles, tu_new.get((subject, _visit_key(visit.visitnum)), []))
        overall = overall_response(
            None if target is None else target.category,
            None if non_target is None else non_target.category,
            new,
        )
        previous.append(now)
        entry = {
            "VISITNUM": _visit_key(visit.visitnum),
            "VISIT": visit.name,
            "date": visit.date.isoformat() if visit.date else None,
            "TRGRESP": None if target is None else target.category,
            "NTRGRESP": None if non_target is None else non_target.category,
            "NEWLPROG": _newlprog(new) or None,
            "OVRLRESP": overall.category,
            "reasons": {
                "TRGRESP": None if target is None else target.rule,
                "NTRGRESP": None if non_target is None else non_target.rule,
                "OVRLRESP": overall.rule,
            },
        }
        if target is not None:
            entry["target_sum_mm"] = target.explanation.inputs["current sum"]
        entry["after_first_pd"] = any(v["OVRLRESP"] == "PD" for v in result.visits)
        result.visits.append(entry)
        if visit.date is not None and baseline.date is not None:
            timeline.append(TimepointResponse((visit.date - baseline.date).days, overall.category))
    if baseline.date is None or len(timeline) < len(follow_ups):
        result.best = {
            "category": None,
            "rule": "not computed: a scan date (TRDTC) is missing, so confirmation cannot be timed",
        }
    else:
        best = best_overall_response(timeline, parameters=parameters)
        result.best = {"category": best.category, "rule": best.rule}
    return result


def _rs_rows(subjects: list[Assessment]) -> list[dict[str, str]]:
    rows = []
    for subject in subjects:
        seq = 0
        for visit in subject.visits:
            for code, test in RS_TESTS.items():
                value = visit[code]
                if not value:
                    continue
                seq += 1
                rows.append(
                    {
                        "STUDYID": subject.studyid,
                        "DOMAIN": "RS",
                        "USUBJID": subject.usubjid,
                        "RSSEQ": str(seq),
                        "RSTESTCD": code,
                        "RSTEST": test,
                        "RSCAT": "RECIST 1.1",
                        "RSORRES": value,
                        "RSSTRESC": value,
                        "RSEVAL": subject.evaluator,
                        "RSEVALID": subject.reader,
                        "RSACPTFL": subject.accepted,
                        "VISITNUM": visit["VISITNUM"],
                        "VISIT": visit["VISIT"],
                        "RSDTC": visit["date"] or "",
                    }
                )
        best = (subject.best or {}).get("category")
        if best:
            seq += 1
            rows.append(
                {
                    "STUDYID": subject.studyid,
                    "DOMAIN": "RS",
                    "USUBJID": subject.usubjid,
                    "RSSEQ": str(seq),
                    "RSTESTCD": BEST[0],
                    "RSTEST": BEST[1],
                    "RSCAT": "RECIST 1.1",
                    "RSORRES": best,
                    "RSSTRESC": best,
                    "RSEVAL": subject.evaluator,
                    "RSEVALID": subject.reader,
                    "RSACPTFL": subject.accepted,
                    "VISITNUM": "",
                    "VISIT": "",
                    "RSDTC": "",
                }
            )
    return rows


def write_rs(rows: list[dict[str, str]], folder: Path) -> Path:
    """Write ``folder/RS.csv`` (created if needed) and return its path."""
    return write_domain(rows, folder, "RS", RS_COLUMNS)


def write_domain(
    rows: list[dict[str, str]], folder: Path, domain: str, columns: Iterable[str]
) -> Path:
    """Write ``folder/<domain>.csv`` with ``columns`` (created if needed); return its path."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{domain}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    except OSError as error:
        raise InvalidInputError(str(folder), f"cannot write {domain}.csv: {error}") from None
    return path


def _given_new(value: str) -> NewLesions:
    return _NEW_GIVEN.get(value.upper(), "unequivocal")  # type: ignore[return-value]


def _compare(rs: list[Row], subjects: list[Assessment]) -> list[dict[str, str]]:
    computed = {(s.usubjid, s.reader): s for s in subjects}
    given: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    best_given: dict[tuple[str, str], str] = {}
    for row in rs:
        code = row.get("RSTESTCD").upper()
        if code == BEST[0]:
            best_given[(row.get("USUBJID"), _reader(row, "RS"))] = row.get("RSSTRESC").upper()
            continue
        if code not in RS_TESTS:
            continue
        key = (row.get("USUBJID"), _reader(row, "RS"), _visit_key(_visitnum(row)))
        given[key][code] = row.get("RSSTRESC").upper()
    out: list[dict[str, str]] = []

    def disagree(key: tuple[str, str, str], code: str, said: str, expected: str, why: str) -> None:
        out.append(
            {
                "USUBJID": key[0],
                "RSEVALID": key[1],
                "VISITNUM": key[2],
                "RSTESTCD": code,
                "given": said,
                "expected": expected,
                "reason": why,
            }
        )

    for (subject_id, reader), said in sorted(best_given.items()):
        subject = computed.get((subject_id, reader))
        best = (subject.best or {}) if subject is not None else {}
        if best.get("category") and best["category"] != said:
            disagree((subject_id, reader, ""), BEST[0], said, best["category"], best["rule"])
    for key in sorted(given):
        record = given[key]
        subject = computed.get(key[:2])
        if subject is not None:
            visit = next((v for v in subject.visits if v["VISITNUM"] == key[2]), None)
            if visit is None:
                continue  # a baseline or a visit without TR data: nothing to compare
            for code in RS_TESTS:
                if code not in record and code != "NEWLPROG":
                    continue
                said = record.get(code, "")
                expected = visit[code] or ""
                if code == "NEWLPROG":
                    if _given_new(said) == _given_new(expected):
                        continue
                elif said == expected:
                    continue
                why = visit["reasons"].get(code) or (
                    "new lesions in TU/TR: " + (expected.lower() or "none")
                )
                disagree(key, code, said, expected, why)
            continue
        if "OVRLRESP" in record:
            target = record.get("TRGRESP") or None
            non_target = record.get("NTRGRESP") or None
            expected = overall_response(target, non_target, _given_new(record.get("NEWLPROG", "")))
            if expected.category != record["OVRLRESP"]:
                disagree(
                    key,
                    "OVRLRESP",
                    record["OVRLRESP"],
                    expected.category,
                    f"does not follow from this visit's TRGRESP, NTRGRESP and NEWLPROG: "
                    f"{expected.rule}",
                )
    return out
