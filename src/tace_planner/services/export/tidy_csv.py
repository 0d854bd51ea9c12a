"""Tidy CSV for R: one file per level and a data dictionary (CSV and Markdown).

The files read in R with a plain ``read.csv(file)``: UTF-8 without a byte-order mark, a
header row of syntactic names, comma separators, ``.`` decimals, missing values as ``NA``,
text quoted only when it holds a comma, quote or line break, logical values as 0/1.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from tace_planner.services.export.columns import LEVELS, expanded
from tace_planner.services.export.record import CaseRecord
from tace_planner.services.export.tables import level_rows

DICTIONARY_HEADER = ("level", "name", "type", "unit", "meaning", "allowed_values")


def write_tidy_csv(records: list[CaseRecord], folder: Path) -> list[Path]:
    """Write ``<level>.csv`` for every level, ``data_dictionary.csv`` and ``.md``."""
    written = []
    for level in LEVELS:
        header, rows = level_rows(records, level)
        path = folder / f"{level}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([_text(row[name]) for name in header])
        written.append(path)
    with_dates = not any(r.deidentified for r in records)
    written.extend(write_dictionary(folder, with_dates=with_dates))
    return written


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "NA"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def dictionary_rows(*, with_dates: bool) -> list[tuple[str, ...]]:
    """One row per exported column of every level (:data:`DICTIONARY_HEADER`)."""
    rows = []
    for level, columns in LEVELS.items():
        for column in expanded(columns, with_dates=with_dates):
            rows.append(
                (
                    level,
                    column.name,
                    column.type,
                    column.unit,
                    column.meaning,
                    "|".join(column.allowed),
                )
            )
    return rows


def write_dictionary(folder: Path, *, with_dates: bool) -> list[Path]:
    """``data_dictionary.csv`` and ``data_dictionary.md`` of the columns written."""
    rows = dictionary_rows(with_dates=with_dates)
    table = folder / "data_dictionary.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(DICTIONARY_HEADER)
        writer.writerows(rows)
    lines = [
        "# Data dictionary",
        "",
        "One CSV file per level; `record_id` and `case_id` join them. Missing values are `NA`.",
        "Dates are given as days from the case's first TACE (`*_day`, day 0; negative before it)"
        + ("." if not with_dates else ", and as ISO dates (`*_on`)."),
        "",
    ]
    for level in LEVELS:
        lines += [f"## {level}.csv", "", "| name | type | unit | meaning | allowed values |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for row in rows:
            if row[0] == level:
                allowed = ", ".join(row[5].split("|")) if row[5] else ""
                lines.append(f"| `{row[1]}` | {row[2]} | {row[3]} | {row[4]} | {allowed} |")
        lines.append("")
    markdown = folder / "data_dictionary.md"
    markdown.write_text("\n".join(lines), encoding="utf-8")
    return [table, markdown]
