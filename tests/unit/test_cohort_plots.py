"""The cohort plots' data come from the R-equal tables: KM steps, number at risk, regression."""

from __future__ import annotations

from pathlib import Path

import pytest

from tace_planner.services.cohort import cohort_tables
from tace_planner.services.cohort_csv import read_cohort_csv
from tace_planner.services.export.cohort_plots import cohort_plots

COHORT = Path(__file__).parents[1] / "data" / "r_reference" / "cohort.csv"


@pytest.fixture(scope="module")
def plots():
    data = read_cohort_csv(COHORT)
    tables = cohort_tables(data, "group")
    return data, tables, cohort_plots(data, tables)


def test_km_steps_follow_the_fit(plots):
    _, tables, drawn = plots
    for curve in drawn.curves:
        fit = tables.survival.groups[curve.group]
        assert (curve.step_x[0], curve.step_y[0]) == (0.0, 1.0)
        assert curve.step_y[-1] == pytest.approx(fit.survival[-1])
        assert curve.median == fit.median
        assert len(curve.censored) == sum(1 for c in fit.n_censor if c)


def test_number_at_risk_starts_with_every_patient_followed(plots):
    _, tables, drawn = plots
    assert drawn.risk_times[0] == 0.0
    for group, counts in drawn.at_risk:
        assert counts[0] == tables.survival.groups[group].n
        assert list(counts) == sorted(counts, reverse=True)


def test_regression_points_and_line(plots):
    _, tables, drawn = plots
    assert len(drawn.points) == tables.regression.n
    assert drawn.r2 == tables.regression.r2


def test_boxes_carry_the_table_quartiles(plots):
    _, tables, drawn = plots
    box = next(b for b in drawn.boxes if b.variable == "volume_before_cm3")
    row = next(v for v in tables.variables if v.name == "volume_before_cm3")
    for name, values, median, q1, q3 in box.groups:
        summary = row.summaries[name]
        assert (median, q1, q3) == (summary.median, summary.q1, summary.q3)
        assert len(values) == summary.n
