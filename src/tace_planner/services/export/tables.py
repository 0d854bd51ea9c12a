"""Rows of every level as exported: ids first, dates turned into days from the first TACE."""

from __future__ import annotations

from typing import Any

from tace_planner.services.export.columns import LEVELS, cell, expanded
from tace_planner.services.export.record import CaseRecord, day_of


def level_rows(
    records: list[CaseRecord], level: str, *, first_case_id: int = 1
) -> tuple[list[str], list[dict[str, Any]]]:
    """(header, rows) of one level over all records, values as :func:`cell` gives them."""
    with_dates = not any(r.deidentified for r in records)
    columns = expanded(LEVELS[level], with_dates=with_dates)
    rows = []
    for number, record in enumerate(records, start=first_case_id):
        source = {
            "case": [record.case],
            "lesion_timepoint": record.lesions,
            "procedure": record.procedures,
            "therapy_line": record.therapy_lines,
        }[level]
        for values in source:
            row: dict[str, Any] = {"record_id": record.record_id, "case_id": number}
            for column in columns[2:]:
                if column.name.endswith("_day") and column.name not in values:
                    row[column.name] = day_of(record, values.get(column.name[:-4] + "_on"))
                else:
                    row[column.name] = cell(values.get(column.name))
            rows.append(row)
    return [c.name for c in columns], rows
