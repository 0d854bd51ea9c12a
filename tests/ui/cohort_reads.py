"""The cohort read a refused grouping carries (``EmptyColumnError.partial``), built as the
registry builds it (:class:`~tace_planner.services.export.cohort_plots.RegistryCohort`)
from the R reference cohort, so that the Cohort page groups it again as it does the
registry's."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from tace_planner.services.cohort_csv import CohortData, CohortRow, read_cohort_csv
from tace_planner.services.export.cohort_plots import RegistryCohort, WaterfallBar
from tace_planner.services.export.cohort_registry import GROUPS

COHORT = Path(__file__).parents[1] / "data" / "r_reference" / "cohort.csv"


def registry_read(*bars: WaterfallBar, groups: dict[str, str] | None = None) -> RegistryCohort:
    """The cohort read with the waterfall ``bars``. ``groups`` (case attribute → value):
    every reference case with these values and none for the registry's other groupings
    (``{}``: no grouping has a value, all cases still can be drawn); None: no case at all
    (every grouping refused, all cases included)."""
    if groups is None:
        return RegistryCohort(CohortData("registry", ("patient",), (), ()), bars)
    data = read_cohort_csv(COHORT)
    values = {**dict.fromkeys(GROUPS), **groups}
    rows = tuple(
        CohortRow(row.line, MappingProxyType({**row.values, **values})) for row in data.rows
    )
    columns = (*data.columns, *(name for name in GROUPS if name not in data.columns))
    return RegistryCohort(CohortData("registry", columns, rows, ()), bars)
