"""Read and check a tidy per-patient cohort CSV (docs/cohort-data-dictionary.md).

Every problem is one :class:`~tace_planner.domain.errors.InvalidInputError` whose
message names the file, the row (as a spreadsheet numbers it: the header is row 1)
and the column, so the researcher can fix the cell and run again.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.growth import volume_growth

REQUIRED_COLUMNS = (
    "patient",
    "group",
    "tace_immediately",
    "volume_before_cm3",
    "volume_after_cm3",
    "ttp_before_cht_days",
    "ttp_after_tace_days",
    "progression_event",
    "interval_days",
    "doubling_time_days",
    "primary",
)
NUMBER_COLUMNS = (
    "volume_before_cm3",
    "volume_after_cm3",
    "ttp_before_cht_days",
    "ttp_after_tace_days",
    "interval_days",
    "doubling_time_days",
    "best_diameter_sum_change_percent",
    "best_volume_change_percent",
    *(
        OPTIONAL_NUMBER_COLUMNS := (
            "burden_percent",
            "diameter_sum_before_mm",
            "diameter_sum_after_mm",
            "diameter_sum_change_percent",
            "delivered_irinotecan_mg",
            "n_procedures",
        )
    ),
)
CATEGORY_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "best_response": ("CR", "PR", "SD", "PD", "NE"),
        "worst_ae_grade": ("none", "1", "2", "3", "4", "5"),
    }
)
"""Optional: best overall response (RECIST 1.1) and worst CTCAE grade of a patient."""
WATERFALL_COLUMNS = ("best_diameter_sum_change_percent", "best_volume_change_percent")
"""Optional: each patient's best change from baseline, drawn as the waterfall plots."""
NON_NEGATIVE = ("volume_before_cm3", "volume_after_cm3", "ttp_before_cht_days",
                "ttp_after_tace_days", "interval_days", "burden_percent",
                "diameter_sum_before_mm", "diameter_sum_after_mm", "delivered_irinotecan_mg",
                "n_procedures")  # fmt: skip
WHOLE_NUMBERS = ("n_procedures",)
DERIVED_COLUMNS = ("volume_change_percent", "sgr_percent_per_day")
TTP_MISSING_REASON = "ttp_missing_reason"
"""Why a row has no ``ttp_after_tace_days`` (e.g. not evaluable: no follow-up assessed),
said in the Kaplan–Meier notes. Carried on the in-memory rows only (the registry's
:func:`~tace_planner.services.export.cohort_registry.cohort_row` fills it), never one of
the columns of the data dictionary; a spreadsheet row has none unless the sheet adds it."""
MISSING = ("", "na", "n/a", "nan", "-", "—")
YES = ("yes", "y", "true", "1")
NO = ("no", "n", "false", "0")

Value = float | str | None


@dataclass(frozen=True)
class CohortRow:
    """One patient: every column as read (numbers as float, None where missing)."""

    line: int
    values: Mapping[str, Value]

    def number(self, column: str) -> float | None:
        """A numeric column's value, None when missing."""
        value = self.values.get(column)
        return value if isinstance(value, float) else None

    def text(self, column: str) -> str | None:
        """Any column as text (numbers in their shortest form), None when missing."""
        value = self.values.get(column)
        if value is None:
            return None
        if isinstance(value, float):
            return f"{value:g}"
        return value


@dataclass(frozen=True)
class CohortData:
    """The checked rows of one cohort CSV and the notes written while reading it."""

    source: str
    columns: tuple[str, ...]
    rows: tuple[CohortRow, ...]
    notes: tuple[str, ...]


def _where(path: Path, line: int, column: str) -> str:
    return f"{path}: row {line}, column {column}"


def _number(text: str, path: Path, line: int, column: str, decimal_comma: bool) -> float | None:
    if text.strip().lower() in MISSING:
        return None
    try:
        value = float(text.strip().replace(",", ".") if decimal_comma else text)
    except ValueError:
        raise InvalidInputError(_where(path, line, column), f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInputError(_where(path, line, column), f"{text!r} is not a finite number")
    if column in NON_NEGATIVE and value < 0:
        raise InvalidInputError(_where(path, line, column), f"{text} must not be negative")
    if column in WHOLE_NUMBERS and not value.is_integer():
        raise InvalidInputError(_where(path, line, column), f"{text} is not a whole number")
    return value


def _category(text: str, path: Path, line: int, column: str) -> Value:
    allowed = CATEGORY_COLUMNS[column]
    stripped = text.strip()
    if stripped.lower() in MISSING:
        return None
    if column == "worst_ae_grade" and stripped == "0":
        stripped = "none"
    for level in allowed:
        if stripped.lower() == level.lower():
            return level
    raise InvalidInputError(
        _where(path, line, column), f"{text!r}: write one of {', '.join(allowed)} (or leave empty)"
    )


def _flag(text: str, path: Path, line: int, column: str, words: tuple[str, str]) -> Value:
    lowered = text.strip().lower()
    if lowered in MISSING:
        return None
    if lowered in YES:
        return words[0]
    if lowered in NO:
        return words[1]
    raise InvalidInputError(
        _where(path, line, column), f"{text!r}: write {words[0]} or {words[1]} (or leave empty)"
    )


def _event(text: str, path: Path, line: int) -> Value:
    flag = _flag(text, path, line, "progression_event", ("1", "0"))
    return None if flag is None else float(flag)  # type: ignore[arg-type]


def _read_lines(path: Path) -> list[str]:
    if path.is_dir():
        raise InvalidInputError(str(path), "is a folder; give the CSV file")
    if not path.is_file():
        raise InvalidInputError(str(path), "no such file")
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise InvalidInputError(
            str(path), f"not UTF-8 text (byte {error.start}); save the sheet as CSV UTF-8"
        ) from None


def read_cohort_csv(path: Path) -> CohortData:
    """Read a cohort CSV, check every cell and add the derived columns.

    Derived: ``volume_change_percent`` = (V1 − V0)/V0 × 100; ``doubling_time_days``
    when empty = interval·ln 2 / ln(V1/V0) (left empty when undefined, V1 = V0);
    ``sgr_percent_per_day`` = 100·ln(V1/V0)/interval.

    Raises
    ------
    InvalidInputError
        Naming the file, row and column of the first bad cell.
    """
    lines = _read_lines(path)
    if not lines or not lines[0].strip():
        raise InvalidInputError(str(path), "empty file: the first row must name the columns")
    # A sheet saved with a semicolon delimiter (European Excel) writes decimal commas.
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
        records = [(reader.line_num, record) for record in reader]
    except csv.Error as error:
        raise InvalidInputError(f"{path}: row {reader.line_num}", str(error)) from None
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise InvalidInputError(
                f"{path}: row 1, column {column}",
                "missing from the header (see docs/cohort-data-dictionary.md)",
            )
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InvalidInputError(f"{path}: row 1", f"column {duplicates[0]} appears twice")
    rows: list[CohortRow] = []
    seen: dict[str, int] = {}
    notes: list[str] = []
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            raise InvalidInputError(
                f"{path}: row {line}", f"{len(record)} cells but the header names {len(header)}"
            )
        cells = dict(zip(header, record + [""] * (len(header) - len(record)), strict=True))
        values = _parse_row(cells, path, line, decimal_comma=delimiter == ";")
        patient = values["patient"]
        if patient is None:
            raise InvalidInputError(_where(path, line, "patient"), "empty: every row needs an ID")
        if patient in seen:
            raise InvalidInputError(
                _where(path, line, "patient"), f"{patient!r} already on row {seen[patient]}"
            )
        seen[str(patient)] = line
        _derive(values, notes, str(patient))
        rows.append(CohortRow(line, MappingProxyType(values)))
    if not rows:
        raise InvalidInputError(str(path), "no patient rows below the header")
    derived = [*DERIVED_COLUMNS]
    if "diameter_sum_change_percent" not in header and {
        "diameter_sum_before_mm",
        "diameter_sum_after_mm",
    } <= set(header):
        derived.append("diameter_sum_change_percent")
    columns = (*header, *derived)
    return CohortData(str(path), tuple(columns), tuple(rows), tuple(notes))


def _parse_row(
    cells: Mapping[str, str], path: Path, line: int, *, decimal_comma: bool
) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for column, text in cells.items():
        if column in NUMBER_COLUMNS:
            values[column] = _number(text, path, line, column, decimal_comma)
        elif column == "progression_event":
            values[column] = _event(text, path, line)
        elif column == "tace_immediately":
            values[column] = _flag(text, path, line, column, ("yes", "no"))
        elif column in CATEGORY_COLUMNS:
            values[column] = _category(text, path, line, column)
        else:
            stripped = text.strip()
            values[column] = None if stripped.lower() in MISSING else stripped
    return values


def _derive(values: dict[str, Value], notes: list[str], patient: str) -> None:
    first, later = values.get("diameter_sum_before_mm"), values.get("diameter_sum_after_mm")
    if values.get("diameter_sum_change_percent") is None:
        values["diameter_sum_change_percent"] = (
            (later - first) / first * 100
            if isinstance(first, float) and isinstance(later, float) and first > 0
            else None
        )
    before, after = values["volume_before_cm3"], values["volume_after_cm3"]
    interval = values["interval_days"]
    values["volume_change_percent"] = None
    values["sgr_percent_per_day"] = None
    if not isinstance(before, float) or not isinstance(after, float):
        return
    if before > 0:
        values["volume_change_percent"] = (after - before) / before * 100
    if not isinstance(interval, float):
        return
    growth = volume_growth(before, after, interval)
    values["sgr_percent_per_day"] = growth.sgr_percent_per_day
    if values["doubling_time_days"] is None:
        values["doubling_time_days"] = growth.doubling_time_days
        if growth.doubling_time_days is None:
            notes.append(f"{patient}: {growth.explanation.summary}")
