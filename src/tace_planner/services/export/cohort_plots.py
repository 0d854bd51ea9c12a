"""What the cohort plots draw, computed without Qt: box and strip per group, Kaplan–Meier
steps with censoring marks and the number at risk, the regression scatter with its line,
and the waterfall of each case's best change from baseline coloured by group.

Every number comes from the cohort tables (:mod:`tace_planner.services.cohort`, equal to
R 4.2) or, for the waterfall, from the follow-up measurements
(:meth:`tace_planner.services.propagation.PropagationService.best_changes`, the values of the
Follow-up page's waterfall); the UI only draws them (:mod:`tace_planner.ui.cohort_page`).
The registry is read once per refresh (:class:`RegistryCohort`): grouping it another way,
or keeping it whole ("all cases"), reads nothing again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from tace_planner.domain.errors import EmptyColumnError, InvalidInputError
from tace_planner.services.cohort import (
    NOT_IN_SPREADSHEET,
    REGRESSION,
    SURVIVAL,
    VARIABLES,
    WATERFALL_MEASURES,
    CohortTables,
    cohort_tables,
    regroup,
    waterfall_left_out,
)
from tace_planner.services.cohort_csv import WATERFALL_COLUMNS, CohortData

PLOT_LABELS = {
    "doubling_time_days": "Doubling time, days (negative: halving time)",
}
"""Axis labels that say more than the table's: a doubling time is negative when the tumour
shrank, |DT| then being its halving time (DT = ΔT·ln 2 / ln(V1/V0): Schwartz, Cancer 1961)."""


@dataclass(frozen=True)
class BoxPlot:
    """One variable: per group its values and median, Q1, Q3 (type 7), and the test's p."""

    variable: str
    label: str
    groups: tuple[tuple[str, tuple[float, ...], float | None, float | None, float | None], ...]
    p: float | None
    test: str


@dataclass(frozen=True)
class SurvivalCurve:
    """A group's Kaplan–Meier steps from (0, 1), censoring marks, and its median."""

    group: str
    step_x: tuple[float, ...]
    step_y: tuple[float, ...]
    censored: tuple[tuple[float, float], ...]
    median: float | None


@dataclass(frozen=True)
class WaterfallBar:
    """One case of the waterfall: best change of the sum of diameters and of the volume (%).

    ``label`` names the case in saved plots: its pseudonym (the ``patient`` column, unique).
    ``name`` names it where the user may see who it is (the Cohort page on screen): Patient
    ID · case title; empty when only the pseudonym is known (a spreadsheet). ``left_out``:
    per measure without a value, why (:func:`~tace_planner.services.cohort.waterfall_left_out`;
    absent when unknown).
    """

    label: str
    group: str
    diameter_sum_percent: float | None
    volume_percent: float | None
    name: str = ""
    left_out: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class CohortPlots:
    """Everything the Cohort page draws and ``cohort tables --png/--pdf`` saves."""

    boxes: tuple[BoxPlot, ...]
    curves: tuple[SurvivalCurve, ...]
    risk_times: tuple[float, ...]
    at_risk: tuple[tuple[str, tuple[int, ...]], ...]
    logrank_p: float | None
    points: tuple[tuple[float, float], ...]
    slope: float | None
    intercept: float | None
    r2: float | None
    x_label: str
    y_label: str
    waterfall: tuple[WaterfallBar, ...] = ()


def _steps(
    fit: Any,
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[tuple[float, float], ...]]:
    xs, ys, marks = [0.0], [1.0], []
    level = 1.0
    for time, survival, events, censored in zip(
        fit.time, fit.survival, fit.n_event, fit.n_censor, strict=True
    ):
        if events:
            xs += [time, time]
            ys += [level, survival]
            level = survival
        if censored:
            marks.append((time, level))
    last = fit.time[-1] if fit.time else 0.0
    xs.append(last)
    ys.append(level)
    return tuple(xs), tuple(ys), tuple(marks)


def _risk_times(longest: float) -> tuple[float, ...]:
    step = next((s for s in (30, 60, 90, 180, 365, 730) if longest / s <= 6), 1460)
    return tuple(float(step * k) for k in range(int(longest // step) + 1))


def cohort_plots(
    data: CohortData, tables: CohortTables, waterfall: tuple[WaterfallBar, ...] = ()
) -> CohortPlots:
    """The plots of ``tables`` (grouped as computed) over the rows of ``data``; the
    ``waterfall`` bars when the cases' follow-up measurements are known (the registry), else
    from the spreadsheet's optional best-change columns (:data:`WATERFALL_COLUMNS`)."""
    labels = {**dict(VARIABLES), **PLOT_LABELS}
    group_column = tables.group_column
    boxes = []
    for row in tables.variables:
        groups = []
        for name, summary in row.summaries.items():
            values = tuple(
                float(v)
                for r in data.rows
                if r.text(group_column) == name and (v := r.number(row.name)) is not None
            )
            groups.append((name, values, summary.median, summary.q1, summary.q3))
        test = row.comparison
        boxes.append(
            BoxPlot(
                row.name,
                labels.get(row.name, row.name),
                tuple(groups),
                None if test is None else test.p,
                "" if test is None else test.test,
            )
        )
    time_column, event_column = SURVIVAL
    curves = []
    times_by_group: dict[str, list[float]] = {}
    for name, fit in tables.survival.groups.items():
        xs, ys, marks = _steps(fit)
        curves.append(SurvivalCurve(name, xs, ys, marks, fit.median))
        times_by_group[name] = [
            float(t)
            for r in data.rows
            if r.text(group_column) == name
            and (t := r.number(time_column)) is not None
            and r.number(event_column) is not None
        ]
    longest = max((max(v) for v in times_by_group.values() if v), default=0.0)
    risk_times = _risk_times(longest)
    at_risk = tuple(
        (name, tuple(sum(1 for t in values if t >= when) for when in risk_times))
        for name, values in times_by_group.items()
    )
    x_name, y_name = REGRESSION
    points = tuple(
        (float(x), float(y))
        for r in data.rows
        if (x := r.number(x_name)) is not None and (y := r.number(y_name)) is not None
    )
    fit = tables.regression
    logrank = tables.survival.logrank
    if not waterfall and any(c in data.columns for c in WATERFALL_COLUMNS):
        waterfall = tuple(
            WaterfallBar(r.text("patient") or "", r.text(group_column) or "",
                         r.number(WATERFALL_COLUMNS[0]), r.number(WATERFALL_COLUMNS[1]),
                         left_out=MappingProxyType({
                             measure: NOT_IN_SPREADSHEET
                             for measure, column in zip(WATERFALL_MEASURES, WATERFALL_COLUMNS,
                                                        strict=True)
                             if r.number(column) is None}))
            for r in data.rows
        )  # fmt: skip
    return CohortPlots(
        boxes=tuple(boxes),
        curves=tuple(curves),
        risk_times=risk_times,
        at_risk=at_risk,
        logrank_p=None if logrank is None else logrank.p,
        points=points,
        slope=None if fit is None else fit.slope,
        intercept=None if fit is None else fit.intercept,
        r2=None if fit is None else fit.r2,
        x_label=labels[x_name],
        y_label=labels[y_name],
        waterfall=waterfall,
    )


def registry_plots(
    services: Any, group: str = "metastases_timing", filters: dict[str, str] | None = None
) -> tuple[CohortTables, CohortPlots]:
    """The registry's tables and plots (see :func:`.cohort_registry.registry_cohort`) grouped
    by ``group`` (one of :data:`.cohort_registry.GROUPS`, or ``"all"``: the whole cohort).

    Raises EmptyColumnError when no case has a value for ``group``; its ``partial`` is the
    :class:`RegistryCohort` read, whose waterfall needs no grouping and whose
    :meth:`~RegistryCohort.plots` groups it another way without reading the registry again.
    """
    _check_grouping(group)  # before the registry is read
    return RegistryCohort.read(services, filters).plots(group)


def _check_grouping(group: str) -> None:
    from tace_planner.services.export.cohort_registry import GROUPINGS

    if group not in GROUPINGS:
        raise InvalidInputError("--group", f"{group!r}: on the registry, one of {GROUPINGS}")


@dataclass(frozen=True)
class RegistryCohort:
    """The registry's cases read once (every case's records and follow-up measurements:
    the slow part), grouped on demand (:meth:`plots`). ``waterfall``: the bars, ungrouped."""

    data: CohortData
    waterfall: tuple[WaterfallBar, ...]

    @classmethod
    def read(cls, services: Any, filters: dict[str, str] | None = None) -> RegistryCohort:
        """Read the registry's cases (``filters`` as :func:`.cohort_registry.registry_cohort`)."""
        from tace_planner.services.export.cohort_registry import GROUPS, registry_cohort

        data = registry_cohort(services, GROUPS[0], filters)
        bars = registry_waterfall(services, data)
        return cls(data, tuple(replace(bar, group="") for bar in bars))

    def plots(self, group: str) -> tuple[CohortTables, CohortPlots]:
        """The tables and plots grouped by ``group``; EmptyColumnError (its ``partial``
        this cohort) when no case has a value for it."""
        _check_grouping(group)
        data = regroup(self.data, group)
        try:
            tables = cohort_tables(data, "group")
        except EmptyColumnError as error:  # no group plots; the waterfall needs no grouping
            raise EmptyColumnError(error.field, error.reason, partial=self) from error
        groups = {row.text("patient"): row.text("group") or "" for row in data.rows}
        bars = tuple(replace(bar, group=groups.get(bar.label, "")) for bar in self.waterfall)
        return tables, cohort_plots(data, tables, bars)


def registry_waterfall(services: Any, data: CohortData) -> tuple[WaterfallBar, ...]:
    """The best change of each case of ``data`` (rows named by their pseudonym, as
    :func:`.cohort_registry.registry_cohort` names them; :func:`.cohort_registry.case_labels`),
    each bar with the case's pseudonym, its Patient ID · case title, and why it has no value
    of a measure (from the same course as the change)."""
    from tace_planner.services.export.cohort_registry import case_labels
    from tace_planner.services.propagation import best_change

    labels = case_labels(services.cases.list_cases())
    cases = {label.pseudonym: (pk, label.name) for pk, label in labels.items()}
    rows = [(r.text("patient") or "", r.text("group") or "") for r in data.rows]
    out = []
    for label, group in rows:
        if label not in cases:
            continue
        pk, name = cases[label]
        course = services.propagation.course(pk)
        change = best_change(course, str(pk))
        why = waterfall_left_out(course)
        left_out = {m: why[m] for m in WATERFALL_MEASURES if getattr(change, m) is None}
        out.append(WaterfallBar(label, group, change.diameter_sum_percent, change.volume_percent,
                                name=name, left_out=MappingProxyType(left_out)))  # fmt: skip
    return tuple(out)
