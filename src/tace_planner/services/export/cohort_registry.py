"""The cohort tables on the registry: one tidy row per case, as the cohort CSV has them.

Columns (docs/cohort-data-dictionary.md): ``patient`` (a case number, never an ID),
``group`` and the case attributes ``metastases_timing``, ``tace_sequence``, ``primary``;
``tace_immediately`` from the TACE sequence; ``volume_before_cm3`` = sum of the foci at the
last imaging on or before the first TACE, ``volume_after_cm3`` = at the first imaging
after it, ``interval_days`` between the two; doubling time and SGR from them
(:func:`tace_planner.domain.growth.volume_growth`); ``ttp_before_cht_days`` = TTP of the
last therapy line started before the first TACE; ``ttp_after_tace_days`` and
``progression_event`` of the first TACE course (progression anywhere).
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.growth import volume_growth
from tace_planner.services.cohort_csv import (
    DERIVED_COLUMNS,
    REQUIRED_COLUMNS,
    CohortData,
    CohortRow,
)
from tace_planner.services.export.record import CaseRecord
from tace_planner.services.export.records import gather_case

GROUPS = ("metastases_timing", "tace_sequence", "primary")
FILTERS = ("primary", "grade", "metastases_timing", "tace_sequence", "min_tace", "max_tace",
           "first_tace_from", "first_tace_to")  # fmt: skip


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


def cohort_row(record: CaseRecord, number: int, group: str) -> dict[str, Any]:
    """The tidy cohort row of one case (numbers as float, None where unknown)."""
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
        "patient": f"case {number}",
        "metastases_timing": case["metastases_timing"],
        "tace_sequence": case["tace_sequence"],
        "primary": case["primary_site"],
        "tace_immediately": {"immediate": "yes", "after_chemotherapy": "no"}.get(
            case["tace_sequence"] or ""
        ),
        "volume_before_cm3": v0[1] if v0 else None,
        "volume_after_cm3": v1[1] if v1 else None,
        "interval_days": float((v1[0] - v0[0]).days) if v0 and v1 else None,
        "ttp_before_cht_days": None if ttp_before is None else float(ttp_before),
        "ttp_after_tace_days": _float(case["ttp_after_tace_days"]),
        "progression_event": _float(case["progression_event"]),
        "doubling_time_days": None,
        "volume_change_percent": None,
        "sgr_percent_per_day": None,
    }
    values["group"] = values[group]
    before_v, after_v, interval = (
        values["volume_before_cm3"], values["volume_after_cm3"], values["interval_days"],
    )  # fmt: skip
    if before_v and after_v is not None:
        values["volume_change_percent"] = (after_v - before_v) / before_v * 100
        if interval:
            growth = volume_growth(before_v, after_v, interval)
            values["sgr_percent_per_day"] = growth.sgr_percent_per_day
            values["doubling_time_days"] = growth.doubling_time_days
    return values


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def registry_cohort(
    services: Any, group: str = "metastases_timing", filters: dict[str, str] | None = None
) -> CohortData:
    """The registry's cases (filtered) as cohort data grouped by ``group``."""
    if group not in GROUPS:
        raise InvalidInputError("--group", f"{group!r}: on the registry, one of {GROUPS}")
    rows = []
    for number, item in enumerate(services.cases.list_cases(), start=1):
        record = gather_case(services, item.pk)
        if _keep(record, filters or {}):
            values = cohort_row(record, number, group)
            rows.append(CohortRow(number + 1, MappingProxyType(values)))
    if not rows:
        raise InvalidInputError("--filter", "no case of the registry matches")
    columns = (*REQUIRED_COLUMNS, "metastases_timing", "tace_sequence", *DERIVED_COLUMNS)
    return CohortData("registry", columns, tuple(rows), ())
