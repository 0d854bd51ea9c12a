"""REDCap: data dictionary (the 18-column header), events, instrument–event mapping, records.

A REDCap record is one case (``record_id`` = patient and case number). The ``case`` and
``therapy_line`` forms are in the baseline event, ``lesion`` (one instance per lesion) in
the event of its timepoint, ``procedure`` (one instance per TACE) in the treatment event.
Allowed values become dropdowns coded 1, 2 …; dates are ``date_ymd`` (only when not
de-identified), days and counts ``integer``, measurements ``number``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from tace_planner.services.export.columns import LEVELS, Column, expanded
from tace_planner.services.export.record import CaseRecord
from tace_planner.services.export.tables import level_rows

HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
FORMS = {"case": "case", "lesion_timepoint": "lesion", "procedure": "procedure",
         "therapy_line": "therapy_line"}  # fmt: skip
REPEATING = ("lesion", "procedure", "therapy_line")
BASELINE, TREATMENT = "baseline_arm_1", "treatment_arm_1"


def _fields(with_dates: bool) -> list[tuple[str, Column]]:
    """(form, column) of every field after ``record_id``; the timepoint is the event."""
    out = []
    for level, form in FORMS.items():
        for column in expanded(LEVELS[level], with_dates=with_dates)[2:]:
            if level == "lesion_timepoint" and column.name in (
                "timepoint",
                "visit",
                "timepoint_kind",
            ):
                continue
            out.append((form, column))
    return out


def _choices(column: Column) -> str:
    return " | ".join(f"{code}, {label}" for code, label in _codes(column).items())


def _codes(column: Column) -> dict[str, str]:
    if all(v.isdigit() for v in column.allowed):
        return {v: v for v in column.allowed}
    return {str(i): v for i, v in enumerate(column.allowed, start=1)}


def dictionary_rows(with_dates: bool) -> list[list[str]]:
    """The data dictionary's rows (:data:`HEADER` order), ``record_id`` first."""
    rows = [_row("record_id", "case", "text", "Record ID (patient and case)")]
    for form, column in _fields(with_dates):
        label = column.meaning + (f" ({column.unit})" if column.unit else "")
        if column.type == "yes_no":
            rows.append(_row(column.name, form, "yesno", label))
        elif column.allowed:
            rows.append(_row(column.name, form, "dropdown", label, choices=_choices(column)))
        elif column.type == "date":
            rows.append(_row(column.name, form, "text", label, "date_ymd", identifier="y"))
        elif column.type in ("integer", "number"):
            rows.append(_row(column.name, form, "text", label, column.type))
        else:
            rows.append(_row(column.name, form, "text", label))
    return rows


def _row(
    name: str, form: str, kind: str, label: str, validation: str = "", *,
    choices: str = "", identifier: str = "",
) -> list[str]:  # fmt: skip
    row = [""] * len(HEADER)
    row[0], row[1], row[3], row[4] = name, form, kind, label
    row[5], row[7], row[10] = choices, validation, identifier
    return row


def _event(label: str) -> tuple[str, str]:
    """(event name, unique event name) of a timepoint label."""
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:26] or "timepoint"
    return label[:1].upper() + label[1:], f"{slug}_arm_1"


def write_redcap(records: list[CaseRecord], folder: Path) -> list[Path]:
    """``redcap_data_dictionary.csv``, ``redcap_events.csv``,
    ``redcap_instrument_event_mapping.csv``, ``redcap_records.csv``."""
    with_dates = not any(r.deidentified for r in records)
    fields = _fields(with_dates)
    dictionary = dictionary_rows(with_dates)
    events: dict[str, str] = {BASELINE: "Baseline", TREATMENT: "Treatment"}
    mapping = {(BASELINE, "case"), (BASELINE, "therapy_line"), (TREATMENT, "procedure")}
    by_name = {c.name: c for _, c in fields}
    out_rows: list[dict[str, Any]] = []
    tables = {level: level_rows(records, level)[1] for level in FORMS}
    for number, record in enumerate(records, start=1):
        record_id = f"{record.record_id}-{number}"

        def mine(level: str, number: int = number) -> list[dict[str, Any]]:
            return [r for r in tables[level] if r["case_id"] == number]

        case_row = {"record_id": record_id, "redcap_event_name": BASELINE}
        case_row.update(_values(mine("case")[0], "case", fields, by_name))
        case_row["case_complete"] = 2
        out_rows.append(case_row)
        for i, row in enumerate(mine("therapy_line"), start=1):
            out_rows.append(_repeat(record_id, BASELINE, "therapy_line", i, row, fields, by_name))
        for i, row in enumerate(mine("procedure"), start=1):
            out_rows.append(_repeat(record_id, TREATMENT, "procedure", i, row, fields, by_name))
        instances: dict[str, int] = {}
        for row in mine("lesion_timepoint"):
            name, unique = _event(row["visit"])
            events.setdefault(unique, name)
            mapping.add((unique, "lesion"))
            instances[unique] = instances.get(unique, 0) + 1
            out_rows.append(
                _repeat(record_id, unique, "lesion", instances[unique], row, fields, by_name)
            )
    written = []
    path = folder / "redcap_data_dictionary.csv"
    _write_csv(path, list(HEADER), dictionary)
    written.append(path)
    path = folder / "redcap_events.csv"
    _write_csv(path, ["event_name", "arm_num", "unique_event_name", "custom_event_label"],
               [[name, "1", unique, ""] for unique, name in events.items()])  # fmt: skip
    written.append(path)
    path = folder / "redcap_instrument_event_mapping.csv"
    _write_csv(path, ["arm_num", "unique_event_name", "form"],
               [["1", e, f] for e, f in sorted(mapping)])  # fmt: skip
    written.append(path)
    path = folder / "redcap_repeating_instruments.csv"
    _write_csv(path, ["event_name", "form_name", "custom_form_label"],
               [[e, f, ""] for e, f in sorted(mapping) if f in REPEATING])  # fmt: skip
    written.append(path)
    header = ["record_id", "redcap_event_name", "redcap_repeat_instrument",
              "redcap_repeat_instance"] + [c.name for _, c in fields]  # fmt: skip
    header += [f"{form}_complete" for form in FORMS.values()]
    path = folder / "redcap_records.csv"
    _write_csv(path, header, [[_text(r.get(h)) for h in header] for r in out_rows])
    written.append(path)
    return written


def _values(
    row: dict[str, Any], form: str, fields: list[tuple[str, Column]], by_name: dict[str, Column]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field_form, column in fields:
        if field_form != form:
            continue
        value = row.get(column.name)
        if value is not None and column.allowed and column.type != "yes_no":
            codes = {label: code for code, label in _codes(column).items()}
            value = codes.get(str(value))  # a value outside the list stays empty
        out[column.name] = value
    return out


def _repeat(
    record_id: str, event: str, form: str, instance: int, row: dict[str, Any],
    fields: list[tuple[str, Column]], by_name: dict[str, Column],
) -> dict[str, Any]:  # fmt: skip
    out = {"record_id": record_id, "redcap_event_name": event,
           "redcap_repeat_instrument": form, "redcap_repeat_instance": instance}  # fmt: skip
    out.update(_values(row, form, fields, by_name))
    out[f"{form}_complete"] = 2
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
