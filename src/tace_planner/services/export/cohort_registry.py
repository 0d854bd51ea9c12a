"""The cohort tables on the registry: one tidy row per case, as the cohort CSV has them.

Columns (docs/cohort-data-dictionary.md): ``patient`` (the case's pseudonym, never an ID:
:func:`case_labels`),
``group`` (the chosen grouping's value, or "all" in every row when the cohort is kept whole:
:data:`GROUPINGS`) and the case attributes ``metastases_timing``, ``tace_sequence``, ``primary``;
``tace_immediately`` from the TACE sequence; ``volume_before_cm3`` = sum of the foci at the
last imaging on or before the first TACE, ``volume_after_cm3`` = at the first imaging
after it, ``interval_days`` between the two; doubling time and SGR from them
(:func:`tace_planner.domain.growth.volume_growth`); ``ttp_before_cht_days`` = TTP of the
last therapy line started before the first TACE; ``ttp_after_tace_days`` and
``progression_event`` of the first TACE course (progression anywhere).

The treatment and response columns: ``burden_percent`` = F from the baseline measurements
the plan uses (:meth:`PlanningService.burden_inputs`, :func:`tace_planner.domain.burden.
burden_percent`); ``diameter_sum_before_mm`` / ``diameter_sum_after_mm`` = the RECIST 1.1
sum of the target diameters (:func:`tace_planner.domain.response.recist.target_sum`) at the
same two imagings as the volumes, and their change; ``delivered_irinotecan_mg`` and
``n_procedures`` from the signed procedure records; ``worst_ae_grade`` = the highest CTCAE
grade of their adverse events ("none" when none was recorded); ``best_response`` = the best
overall response (RECIST 1.1, Eisenhauer et al., European Journal of Cancer 2009) that the
SDTM export writes to RS (BESTRESP). What the registry does not hold stays empty, with a
note naming the case by its pseudonym.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.growth import volume_growth
from tace_planner.domain.response.base import change_percent
from tace_planner.domain.response.recist import TargetMeasurement, target_sum
from tace_planner.domain.ttp import NOT_EVALUABLE
from tace_planner.domain.vocabulary import ALL_CASES
from tace_planner.services.cohort_csv import (
    DERIVED_COLUMNS,
    OPTIONAL_NUMBER_COLUMNS,
    REQUIRED_COLUMNS,
    TTP_MISSING_REASON,
    CohortData,
    CohortRow,
)
from tace_planner.services.export.record import CaseRecord
from tace_planner.services.export.records import gather_case
from tace_planner.services.export.runner import Pseudonyms

GROUPS = ("metastases_timing", "tace_sequence", "primary", "grade")
"""The case attributes the registry's cohort can be grouped by."""
GROUPINGS = (*GROUPS, ALL_CASES)
"""What ``--group`` takes on the registry: :data:`GROUPS`, or "all" (every case in one group,
as the Cohort page's "All cases")."""
FILTERS = ("primary", "grade", "metastases_timing", "tace_sequence", "min_tace", "max_tace",
           "first_tace_from", "first_tace_to", "therapy")  # fmt: skip
"""``therapy``: cases with a systemic therapy line whose drug or regimen contains the text."""


@dataclass(frozen=True)
class CaseLabel:
    """How the cohort outputs name one case (never by its place in the case list).

    ``pseudonym`` names it in what the cohort writes or saves (the ``patient`` column, the
    notes, saved plots): the patient's pseudonym as a de-identified export of every case
    gives it (TP001, TP002 … in case-list order, :class:`.runner.Pseudonyms`), followed by
    "(course k)" when the patient has more than one case. ``name`` names it where the user
    may see who it is (the Cohort page): Patient ID (else the patient's name) · case title.
    """

    pseudonym: str
    name: str


def case_labels(items: Sequence[Any]) -> dict[int, CaseLabel]:
    """Case pk → :class:`CaseLabel` of every case of ``items`` (the case list, in its order:
    the pseudonyms then match an export of every case)."""
    pseudonyms = Pseudonyms()
    courses: dict[str, int] = {}
    for item in items:
        courses[item.patient_id] = courses.get(item.patient_id, 0) + 1
    seen: dict[str, int] = {}
    out = {}
    for item in items:
        pseudonym = pseudonyms.of(item.patient_id)
        seen[item.patient_id] = seen.get(item.patient_id, 0) + 1
        if courses[item.patient_id] > 1:
            pseudonym += f" (course {seen[item.patient_id]})"
        who = item.patient_id or item.patient_name.replace("^", " ").strip()
        out[item.pk] = CaseLabel(pseudonym, f"{who} · {item.title}" if item.title else who)
    return out


def parse_filters(items: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs (:data:`FILTERS`); InvalidInputError names a bad one."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in FILTERS or not value.strip():
            raise InvalidInputError("--filter", f"{item!r}: give KEY=VALUE, KEY one of {FILTERS}")
        if key in ("min_tace", "max_tace") and not value.strip().isdigit():
            raise InvalidInputError("--filter", f"{item!r}: a whole number")
        if key.startswith("first_tace_"):
            try:
                dt.date.fromisoformat(value.strip())
            except ValueError:
                raise InvalidInputError("--filter", f"{item!r}: a date YYYY-MM-DD") from None
        out[key] = value.strip()
    return out


def _keep(record: CaseRecord, filters: dict[str, str]) -> bool:
    case = record.case
    for key, value in filters.items():
        if key == "primary" and (case["primary_site"] or "") != value:
            return False
        if key in ("grade", "metastases_timing", "tace_sequence") and (case[key] or "") != value:
            return False
        if key == "min_tace" and case["n_tace"] < int(value):
            return False
        if key == "max_tace" and case["n_tace"] > int(value):
            return False
        if key == "therapy" and not any(
            value.casefold() in (line["drug"] or "").casefold() for line in record.therapy_lines
        ):
            return False
        first = case["first_tace_on"]
        if key == "first_tace_from" and (first is None or first < dt.date.fromisoformat(value)):
            return False
        if key == "first_tace_to" and (first is None or first > dt.date.fromisoformat(value)):
            return False
    return True


def _burden(record: CaseRecord) -> dict[str, tuple[dt.date, float]]:
    """Timepoint → (imaging date, sum of the foci volumes)."""
    out: dict[str, tuple[dt.date, float]] = {}
    for row in record.lesions:
        if row["lesion_kind"] != "focus" or row["imaged_on"] is None or row["volume_cm3"] is None:
            continue
        on, total = out.get(row["timepoint"], (row["imaged_on"], 0.0))
        out[row["timepoint"]] = (on, total + float(row["volume_cm3"]))
    return out


TREATMENT_COLUMNS = (*OPTIONAL_NUMBER_COLUMNS, "best_response", "worst_ae_grade")


def cohort_row(
    record: CaseRecord, label: str, group: str, notes: list[str] | None = None
) -> dict[str, Any]:
    """The tidy cohort row of one case named ``label`` (its pseudonym, :class:`CaseLabel`;
    numbers as float, None where unknown).

    The treatment columns (:data:`TREATMENT_COLUMNS`) that come from the procedure
    records are filled here; ``burden_percent`` and ``best_response`` need the services
    (:func:`registry_cohort`). ``notes`` receives why a value is missing; the row's
    :data:`~tace_planner.services.cohort_csv.TTP_MISSING_REASON` says why it has no TTP
    after TACE (not a column: the cohort tables name it when leaving the case out)."""
    said = notes if notes is not None else []
    case = record.case
    first = case["first_tace_on"]
    burden = sorted(_burden(record).values())
    before = [b for b in burden if first is not None and b[0] <= first]
    after = [b for b in burden if first is not None and b[0] > first]
    v0 = before[-1] if before else None
    v1 = after[0] if after else None
    lines = [r for r in record.ttp if r["scope"] == "anywhere" and r["after"] == "therapy_line"]
    lines = [r for r in lines if first is not None and r["start_on"] and r["start_on"] < first]
    ttp_before = lines[-1]["days"] if lines else None
    values: dict[str, Any] = {
        "patient": label,
        "metastases_timing": case["metastases_timing"],
        "tace_sequence": case["tace_sequence"],
        "primary": case["primary_site"],
        "grade": case["grade"] or None,
        "tace_immediately": {"immediate": "yes", "after_chemotherapy": "no"}.get(
            case["tace_sequence"] or ""
        ),
        "volume_before_cm3": v0[1] if v0 else None,
        "volume_after_cm3": v1[1] if v1 else None,
        "interval_days": float((v1[0] - v0[0]).days) if v0 and v1 else None,
        "ttp_before_cht_days": None if ttp_before is None else float(ttp_before),
        "ttp_after_tace_days": _float(case["ttp_after_tace_days"]),
        "progression_event": _float(case["progression_event"]),
        TTP_MISSING_REASON: _ttp_missing_reason(record),
        "doubling_time_days": None,
        "volume_change_percent": None,
        "sgr_percent_per_day": None,
    }
    values["group"] = ALL_CASES if group == ALL_CASES else values[group]
    before_v, after_v, interval = (
        values["volume_before_cm3"], values["volume_after_cm3"], values["interval_days"],
    )  # fmt: skip
    if before_v and after_v is not None:
        values["volume_change_percent"] = (after_v - before_v) / before_v * 100
        if interval:
            growth = volume_growth(before_v, after_v, interval)
            values["sgr_percent_per_day"] = growth.sgr_percent_per_day
            values["doubling_time_days"] = growth.doubling_time_days
    values.update(_diameter_sums(record, label, said))
    values.update(_procedures(record, label, said))
    return values


def _ttp_missing_reason(record: CaseRecord) -> str | None:
    """Why the first TACE course has no TTP (the reason :mod:`tace_planner.domain.ttp`
    gives, e.g. no follow-up assessed), or None when it has one."""
    if record.case["ttp_after_tace_days"] is not None:
        return None
    courses = [r for r in record.ttp if r["after"] == "tace" and r["scope"] == "anywhere"]
    if not courses:
        return "no signed TACE procedure"
    return f"time to progression after TACE {courses[0].get('note') or NOT_EVALUABLE}"


def _diameter_sums(record: CaseRecord, label: str, notes: list[str]) -> dict[str, Any]:
    """RECIST sums of the target diameters before TACE 1 and at the first imaging after."""
    out: dict[str, Any] = dict.fromkeys(
        ("diameter_sum_before_mm", "diameter_sum_after_mm", "diameter_sum_change_percent")
    )
    first = record.case["first_tace_on"]
    visits: dict[Any, list[dict[str, Any]]] = {}
    for row in record.lesions:
        if row["lesion_kind"] == "focus" and row["imaged_on"] is not None:
            visits.setdefault((row["imaged_on"], row["_timepoint_pk"]), []).append(row)
    keys = sorted(visits)
    before = [k for k in keys if first is not None and k[0] <= first]
    after = [k for k in keys if first is not None and k[0] > first]
    if not before:
        return out
    targets = [r for r in visits[before[-1]] if r["is_target"]]
    if not targets:
        notes.append(f"{label}: no target lesion before TACE 1: no sum of diameters")
        return out
    ids = [r["lesion"] for r in targets]

    def measured(rows: list[dict[str, Any]]) -> list[TargetMeasurement]:
        return [
            TargetMeasurement(r["lesion"], r["longest_axial_diameter_mm"])
            for r in rows
            if r["lesion"] in ids
        ]

    base = target_sum(measured(targets), ids)
    if base.missing:
        notes.append(
            f"{label}: target diameter not measured before TACE 1 "
            f"({', '.join(base.missing)}): no sum of diameters"
        )
        return out
    out["diameter_sum_before_mm"] = float(base.total_mm)
    if not after:
        return out
    now = target_sum(measured(visits[after[0]]), ids)
    if now.missing:
        notes.append(
            f"{label}: target diameter not measured after TACE 1 "
            f"({', '.join(now.missing)}): no change of the sum"
        )
        return out
    out["diameter_sum_after_mm"] = float(now.total_mm)
    change = change_percent(now.total_mm, base.total_mm)
    out["diameter_sum_change_percent"] = None if change is None else float(change)
    return out


def _procedures(record: CaseRecord, label: str, notes: list[str]) -> dict[str, Any]:
    """Delivered irinotecan, number of procedures and worst AE grade of the signed records."""
    procedures = record.procedures
    if not procedures:
        notes.append(f"{label}: no signed TACE procedure: no dose, count or AE grade")
        return dict.fromkeys(("delivered_irinotecan_mg", "n_procedures", "worst_ae_grade"))
    doses = [p["delivered_mg"] for p in procedures]
    if any(d is None for d in doses):
        notes.append(f"{label}: a signed procedure has no delivered dose: no total dose")
    grades = [p["ae_max_ctcae_grade"] for p in procedures if p["ae_max_ctcae_grade"] is not None]
    return {
        "delivered_irinotecan_mg": None if None in doses else float(sum(doses)),
        "n_procedures": float(len(procedures)),
        "worst_ae_grade": str(max(grades)) if grades else "none",
    }


def _burden_percent(
    services: Any, record: CaseRecord, label: str, notes: list[str]
) -> float | None:
    """F from the baseline measurements as the plan reads them; None (with a note) when
    the liver or a focus is not measured."""
    item = services.planning.burden_inputs(record.case_pk)
    if not item.available:
        notes.append(f"{label}: no measured baseline focus: no tumour burden F")
        return None
    if item.unmeasured:
        notes.append(f"{label}: a baseline focus has no volume: no tumour burden F")
        return None
    value = item.to_domain().burden_percent
    if value is None:
        notes.append(f"{label}: the liver is not contoured at baseline: no tumour burden F")
    return value


def _best_responses(services: Any, records: list[CaseRecord]) -> dict[int, str | None]:
    """Record index → BESTRESP of the RS that the SDTM export writes for these records
    (a case without a measured baseline gets none there, so none here)."""
    from tace_planner.services.export.sdtm import STUDYID, sdtm_tables
    from tace_planner.services.response_parameters import load_response_parameters
    from tace_planner.services.sdtm import BEST

    parameters = load_response_parameters(Path(services.settings.data_dir) / "parameters")
    header, table = sdtm_tables(records, None, parameters, [])["rs"]
    subject, test, result = (header.index(name) for name in ("USUBJID", "RSTESTCD", "RSSTRESC"))
    rs = {row[subject]: row[result] for row in table if row[test] == BEST[0]}
    return {
        index: rs.get(f"{STUDYID}-{record.record_id}-{index}") or None
        for index, record in enumerate(records, start=1)
    }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def registry_cohort(
    services: Any, group: str = "metastases_timing", filters: dict[str, str] | None = None
) -> CohortData:
    """The registry's cases (filtered) as cohort data grouped by ``group``, one of
    :data:`GROUPINGS` ("all": every case in one group)."""
    if group not in GROUPINGS:
        raise InvalidInputError("--group", f"{group!r}: on the registry, one of {GROUPINGS}")
    items = services.cases.list_cases()
    labels = case_labels(items)
    kept: list[tuple[int, str, CaseRecord]] = []
    for number, item in enumerate(items, start=1):
        record = gather_case(services, item.pk)
        if _keep(record, filters or {}):
            kept.append((number, labels[item.pk].pseudonym, record))
    if not kept:
        raise InvalidInputError("--filter", "no case of the registry matches")
    notes: list[str] = []
    best = _best_responses(services, [record for _, _, record in kept])
    rows = []
    for index, (number, label, record) in enumerate(kept, start=1):
        values = cohort_row(record, label, group, notes)
        values["burden_percent"] = _burden_percent(services, record, label, notes)
        values["best_response"] = best[index]
        if best[index] is None:
            notes.append(f"{label}: no best overall response (no measured baseline "
                         "and follow-up with dates)")  # fmt: skip
        rows.append(CohortRow(number + 1, MappingProxyType(values)))
    columns = (*REQUIRED_COLUMNS, "metastases_timing", "tace_sequence", *DERIVED_COLUMNS,
               *TREATMENT_COLUMNS)  # fmt: skip
    return CohortData("registry", columns, tuple(rows), tuple(notes))
