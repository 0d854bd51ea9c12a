"""Cohort tables in the source study's layout: Me [Q1; Q3] per group with the test named,
Kaplan–Meier of time to progression with log-rank, regression of doubling time on volume
change, and counts with Fisher / χ². :func:`regroup` groups a cohort read once by another
column (or keeps it whole: "all cases"); :func:`waterfall_left_out` says why a case has no
bar in the waterfall of the best change, :func:`left_out_summary` counts those reasons.

The numbers come from :mod:`tace_planner.domain.statistics` and
:mod:`tace_planner.domain.survival`, which reproduce R 4.2; the tables are plain frozen
values with ``to_json`` (keys documented in docs/cohort-data-dictionary.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tace_planner.domain import statistics as st
from tace_planner.domain.errors import EmptyColumnError, InvalidInputError
from tace_planner.domain.survival import kaplan_meier, log_rank
from tace_planner.domain.vocabulary import ALL_CASES, group_value_label
from tace_planner.services.cohort_csv import (
    TTP_MISSING_REASON,
    CohortData,
    CohortRow,
    read_cohort_csv,
)

VARIABLES: tuple[tuple[str, str], ...] = (
    ("volume_before_cm3", "Tumour volume before TACE, cm³"),
    ("volume_after_cm3", "Tumour volume after TACE, cm³"),
    ("volume_change_percent", "Volume change after TACE, %"),
    ("ttp_before_cht_days", "TTP on chemotherapy before TACE, days"),
    ("ttp_after_tace_days", "TTP after TACE, days"),
    ("interval_days", "Interval between volume measurements, days"),
    ("doubling_time_days", "Doubling time, days"),
    ("sgr_percent_per_day", "Specific growth rate, %/day"),
    ("burden_percent", "Tumour burden F before TACE, %"),
    ("diameter_sum_before_mm", "Sum of target diameters before TACE, mm"),
    ("diameter_sum_change_percent", "Change of the sum of diameters after TACE, %"),
    ("delivered_irinotecan_mg", "Delivered irinotecan, mg"),
    ("n_procedures", "Number of TACE procedures"),
)
OPTIONAL_VARIABLES = frozenset(name for name, _ in VARIABLES[8:])
"""Shown only when the cohort has the column (a spreadsheet may leave them out)."""
COUNTED = ("tace_immediately", "primary", "best_response", "worst_ae_grade")
COUNT_LEVELS: Mapping[str, tuple[str, ...]] = {
    "best_response": ("CR", "PR", "SD", "PD", "NE"),
    "worst_ae_grade": ("none", "1", "2", "3", "4", "5"),
}
"""Levels in clinical order (others follow sorted); absent levels are not tabulated."""
REGRESSION = ("volume_change_percent", "doubling_time_days")  # x, y
SURVIVAL = ("ttp_after_tace_days", "progression_event")
WATERFALL_MEASURES = ("diameter_sum_percent", "volume_percent")
"""The waterfall's two measures: the RECIST 1.1 sum of the target diameters, the total
volume of the baseline foci (the fields of the propagation service's best change)."""
NO_BASELINE = "without foci measured at baseline"
NO_FOLLOW_UP = "without a follow-up measurement"
NO_TARGETS = "without target lesions"
TARGET_NOT_AT_BASELINE = "without every target measured at baseline"
TARGETS_NOT_AT_FOLLOW_UP = "without a follow-up where every target is measured"
FOCI_NOT_AT_FOLLOW_UP = "without a follow-up where every baseline focus is measured"
NOT_IN_SPREADSHEET = "without a best change in the spreadsheet"
"""Why a case has no bar in the waterfall (:func:`waterfall_left_out`), as the page counts
them ("3 cases without a follow-up measurement, 1 without target lesions"). The sum of the
diameters needs target lesions chosen at baseline and every one measured at a follow-up
(RECIST 1.1, Eisenhauer et al., European Journal of Cancer 2009); the total volume needs
every baseline focus measured at a follow-up."""


@dataclass(frozen=True)
class VariableRow:
    """One variable of the table: a summary per group and the comparison across groups."""

    name: str
    label: str
    summaries: Mapping[str, st.Summary]
    normality_p: Mapping[str, float | None]
    comparison: st.TestResult | None

    def to_json(self) -> dict[str, Any]:
        """``groups`` → {median, q1, q3, n, shapiro_p}; ``p``, ``test``, ``statistic``.

        Without a test the ``explanation`` says why: one group (:data:`NOT_APPLICABLE`, as
        the table's note :data:`ONE_GROUP`), or fewer than two groups with values."""
        test = self.comparison
        one_group = len(self.summaries) == 1
        untested = NOT_APPLICABLE if one_group else "fewer than two groups with values"
        return {
            "label": self.label,
            "groups": {
                name: {
                    "median": s.median,
                    "q1": s.q1,
                    "q3": s.q3,
                    "n": s.n,
                    "shapiro_p": self.normality_p.get(name),
                }
                for name, s in self.summaries.items()
            },
            "p": None if test is None else test.p,
            "test": "none" if test is None else test.test,
            "statistic": None if test is None else test.statistic,
            "statistic_name": None if test is None else test.statistic_name,
            "method": None if test is None else test.method,
            "explanation": untested if test is None else test.explanation.summary,
        }


@dataclass(frozen=True)
class SurvivalTable:
    """Kaplan–Meier median TTP with its 95 % CI per group, and the log-rank test."""

    groups: Mapping[str, Any]
    logrank: Any
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Per group median, lower, upper, n, events; ``logrank_p`` (χ², df alongside)."""
        return {
            "time": SURVIVAL[0],
            "event": SURVIVAL[1],
            "groups": {
                name: {
                    "median": fit.median,
                    "lower": fit.median_lower,
                    "upper": fit.median_upper,
                    "n": fit.n,
                    "events": fit.events,
                }
                for name, fit in self.groups.items()
            },
            "logrank_p": None if self.logrank is None else self.logrank.p,
            "logrank_chisq": None if self.logrank is None else self.logrank.chisq,
            "logrank_df": None if self.logrank is None else self.logrank.df,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class CohortTables:
    """Everything ``tace-planner cohort tables`` prints for one cohort and grouping."""

    source: str
    group_column: str
    group_sizes: Mapping[str, int]
    variables: tuple[VariableRow, ...]
    survival: SurvivalTable
    regression: st.Regression | None
    counts: Mapping[str, Mapping[str, Any]]
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``cohort tables --json``."""
        fit = self.regression
        return {
            "source": self.source,
            "group_column": self.group_column,
            "groups": dict(self.group_sizes),
            "statistics_as": st.R_VERSION_MATCHED,
            "variables": {row.name: row.to_json() for row in self.variables},
            "kaplan_meier": self.survival.to_json(),
            "regression": {
                "x": REGRESSION[0],
                "y": REGRESSION[1],
                "n": None if fit is None else fit.n,
                "r2": None if fit is None else fit.r2,
                "slope": None if fit is None else fit.slope,
                "intercept": None if fit is None else fit.intercept,
                "p": None if fit is None else fit.p,
            },
            "counts": {name: dict(entry) for name, entry in self.counts.items()},
            "notes": list(self.notes),
        }


def cohort_tables_from_csv(path: Path, group_column: str = "group") -> CohortTables:
    """Read a cohort CSV (see :func:`read_cohort_csv`) and compute its tables."""
    return cohort_tables(read_cohort_csv(path), group_column)


ONE_GROUP = (
    "one group ({}): the tests between groups (Mann–Whitney U, Kruskal–Wallis, log-rank, "
    "Fisher's exact, Pearson's χ²) are not applicable"
)
"""The note of a table with one group (all cases, or every patient in one group); the
Cohort page's plots say "one group: no test"."""
NOT_APPLICABLE = "not applicable: one group"
"""The explanation of a count table's test with one group."""


def cohort_tables(data: CohortData, group_column: str = "group") -> CohortTables:
    """The source's tables for ``data`` grouped by ``group_column``.

    Groups are sorted by name; for two groups W is U of the first (as ``wilcox.test``
    with R's factor order). Missing values leave a patient out of that variable only.
    :data:`~tace_planner.domain.vocabulary.ALL_CASES` ("all") keeps the cohort whole: one
    group "all" of every row, none left out for an empty group cell (:func:`regroup`; plot
    the regrouped rows, grouped by ``group``). With one group the tests between groups are
    not applicable, and a note (:data:`ONE_GROUP`) says so.
    """
    by = group_column
    if group_column == ALL_CASES:
        data, by = regroup(data, ALL_CASES), "group"
    if by not in data.columns:
        raise InvalidInputError(
            f"{data.source}: row 1, column {group_column}",
            f"no such column to group by; columns: {', '.join(data.columns)} "
            f"(or {ALL_CASES}: every patient in one group)",
        )
    notes = list(data.notes)
    grouped = [row for row in data.rows if row.text(by) is not None]
    left_out = len(data.rows) - len(grouped)
    if left_out:
        notes.append(f"{left_out} patient(s) without a value in {group_column!r} left out")
    names = sorted({str(row.text(by)) for row in grouped})
    if not names:
        raise EmptyColumnError(f"{data.source}: column {group_column}", "every cell is empty")
    members = {name: [row for row in grouped if row.text(by) == name] for name in names}
    variables = tuple(
        _variable(name, label, members)
        for name, label in VARIABLES
        if name not in OPTIONAL_VARIABLES or name in data.columns
    )
    counts = {
        column: _counts(column, members)
        for column in COUNTED
        if column != group_column and column in data.columns
    }
    if len(names) == 1:
        only = names[0]
        notes.append(ONE_GROUP.format(group_value_label(only) if only == ALL_CASES else only))
        for entry in counts.values():
            entry["explanation"] = NOT_APPLICABLE
    return CohortTables(
        source=data.source,
        group_column=group_column,
        group_sizes={name: len(rows) for name, rows in members.items()},
        variables=variables,
        survival=_survival(members),
        regression=_regression(list(data.rows), notes),  # the whole cohort, as in R
        counts=counts,
        notes=tuple(notes),
    )


def _variable(name: str, label: str, members: Mapping[str, list[Any]]) -> VariableRow:
    values = {
        group: [v for v in (row.number(name) for row in rows) if v is not None]
        for group, rows in members.items()
    }
    summaries = {group: st.describe(v, f"{name} in {group}") for group, v in values.items()}
    normality: dict[str, float | None] = {}
    for group, v in values.items():
        try:
            normality[group] = st.shapiro_wilk(v, f"{name} in {group}").p
        except InvalidInputError:
            normality[group] = None
    present = {group: v for group, v in values.items() if v}
    comparison = st.compare_groups(present) if len(present) >= 2 else None
    return VariableRow(name, label, summaries, normality, comparison)


def _left_out(row: Any) -> str:
    """Why a patient has no (TTP, event) pair for the Kaplan–Meier.

    The row's own reason when it has one (:data:`.cohort_csv.TTP_MISSING_REASON`: the
    registry's rows say e.g. that no follow-up was assessed after TACE); otherwise only
    that the cells are empty."""
    time_column, event_column = SURVIVAL
    if row.number(time_column) is not None:
        return f"no {event_column}"
    return row.text(TTP_MISSING_REASON) or f"no {time_column} or {event_column} in the spreadsheet"


def _survival(members: Mapping[str, list[Any]]) -> SurvivalTable:
    time_column, event_column = SURVIVAL
    fits, times, events, labels, notes = {}, [], [], [], []
    for group, rows in members.items():
        usable = [
            (row.number(time_column), row.number(event_column))
            for row in rows
            if row.number(time_column) is not None and row.number(event_column) is not None
        ]
        reasons: dict[str, int] = {}
        for row in rows:
            if row.number(time_column) is None or row.number(event_column) is None:
                reason = _left_out(row)
                reasons[reason] = reasons.get(reason, 0) + 1
        notes += [
            f"{group}: {count} patient(s) left out of the Kaplan–Meier: {reason}"
            for reason, count in reasons.items()
        ]
        if not usable:
            continue
        fits[group] = kaplan_meier([t for t, _ in usable], [int(e) for _, e in usable])
        times += [t for t, _ in usable]
        events += [int(e) for _, e in usable]
        labels += [group] * len(usable)
    test = log_rank(times, events, labels) if len(fits) >= 2 else None
    return SurvivalTable(fits, test, tuple(notes))


def _regression(rows: list[Any], notes: list[str]) -> st.Regression | None:
    x_name, y_name = REGRESSION
    pairs = [
        (row.number(x_name), row.number(y_name))
        for row in rows
        if row.number(x_name) is not None and row.number(y_name) is not None
    ]
    try:
        return st.linear_regression([x for x, _ in pairs], [y for _, y in pairs])
    except InvalidInputError as error:
        notes.append(f"regression of {y_name} on {x_name} not computed: {error}")
        return None


def _counts(column: str, members: Mapping[str, list[Any]]) -> dict[str, Any]:
    """Counts per group and level, % of the group's patients with a value, and the test:
    Fisher exact on 2 × k tables (as R's ``fisher.test``), else Pearson χ²."""
    found = {str(row.text(column)) for rows in members.values() for row in rows if row.text(column)}
    order = COUNT_LEVELS.get(column, ())
    levels = [level for level in order if level in found] + sorted(found - set(order))
    table = {
        group: {level: sum(1 for row in rows if row.text(column) == level) for level in levels}
        for group, rows in members.items()
    }
    known = {group: sum(cells.values()) for group, cells in table.items()}
    percent = {
        group: {
            level: (100.0 * count / known[group] if known[group] else None)
            for level, count in cells.items()
        }
        for group, cells in table.items()
    }
    missing = {group: len(rows) - known[group] for group, rows in members.items()}
    matrix = [[table[group][level] for level in levels] for group in members]
    entry: dict[str, Any] = {
        "levels": levels,
        "table": table,
        "percent": percent,
        "n": known,
        "missing": missing,
        "p": None,
        "test": "none",
    }
    rows_used = [r for r in matrix if sum(r) > 0]
    columns_used = [c for c in zip(*rows_used, strict=True) if sum(c) > 0] if rows_used else []
    if len(rows_used) < 2 or len(columns_used) < 2:
        return entry
    usable = [list(r) for r in zip(*columns_used, strict=True)]
    result = None
    if len(usable) == 2:
        try:
            result = st.fisher_exact(usable)
        except InvalidInputError:  # too many tables to enumerate
            result = None
    if result is None:
        result = st.chi_squared(usable)
    entry.update(p=result.p, test=result.test, statistic=result.statistic)
    entry["explanation"] = result.explanation.summary
    return entry


def regroup(data: CohortData, column: str) -> CohortData:
    """``data`` grouped by ``column``: each row's ``group`` set to its value there (empty
    text counts as no value), or, for :data:`~tace_planner.domain.vocabulary.ALL_CASES`, one
    group of every row. A cohort read once (the registry: seconds for thousands of cases)
    is grouped again without being read again."""
    rows = tuple(
        CohortRow(
            row.line,
            MappingProxyType(
                {
                    **row.values,
                    "group": ALL_CASES if column == ALL_CASES else row.text(column) or None,
                }
            ),
        )
        for row in data.rows
    )
    columns = data.columns if "group" in data.columns else (*data.columns, "group")
    return replace(data, columns=columns, rows=rows)


def waterfall_left_out(course: Any) -> dict[str, str]:
    """Why a case has no bar in each waterfall (measure → reason; "" where it has one).

    ``course`` is the case's course over its timepoints, baseline first (the propagation
    service's ``CaseCourse``: ``timepoints``, ``lesions`` with ``diameters_mm``,
    ``volumes_cm3`` and ``is_target``, ``sums_of_diameters_mm``); the reasons follow the
    rules of its best change: a follow-up counts for a measure only when every target
    (every baseline focus) has a value there. A case without any follow-up measured is said
    to be so first (whatever else it lacks, that comes first)."""
    lesions = list(course.lesions)
    n_points = len(course.timepoints)

    def at(lesion: Any, n: int) -> bool:
        return lesion.diameters_mm[n] is not None or lesion.volumes_cm3[n] is not None

    baseline = n_points > 0 and any(at(lesion, 0) for lesion in lesions)
    followed = any(at(lesion, n) for lesion in lesions for n in range(1, n_points))
    sums = list(course.sums_of_diameters_mm)
    measured = [
        volumes for volumes in (lesion.volumes_cm3 for lesion in lesions) if volumes and volumes[0]
    ]
    complete_volume = any(
        all(volumes[n] is not None for volumes in measured) for n in range(1, n_points)
    )
    out = dict.fromkeys(WATERFALL_MEASURES, "")
    common = NO_BASELINE if not baseline else NO_FOLLOW_UP if not followed else ""
    if common:
        return dict.fromkeys(WATERFALL_MEASURES, common)
    if not any(lesion.is_target for lesion in lesions):
        out["diameter_sum_percent"] = NO_TARGETS
    elif not sums or not sums[0]:
        out["diameter_sum_percent"] = TARGET_NOT_AT_BASELINE
    elif all(value is None for value in sums[1:]):
        out["diameter_sum_percent"] = TARGETS_NOT_AT_FOLLOW_UP
    if not measured:
        out["volume_percent"] = NO_BASELINE
    elif not complete_volume:
        out["volume_percent"] = FOCI_NOT_AT_FOLLOW_UP
    return out


def left_out_summary(reasons: Sequence[str]) -> str:
    """How many cases each reason leaves out of a waterfall, the most frequent first: "3
    cases without a follow-up measurement, 1 without target lesions" ("" when none)."""
    counts = Counter(reason for reason in reasons if reason)
    parts = []
    for n, (reason, count) in enumerate(counts.most_common()):
        noun = ("case " if count == 1 else "cases ") if n == 0 else ""
        parts.append(f"{count} {noun}{reason}")
    return ", ".join(parts)
