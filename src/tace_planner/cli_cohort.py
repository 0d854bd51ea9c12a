"""``tace-planner cohort tables``: the source study's cohort tables from a spreadsheet.

Registered by :mod:`tace_planner.cli`; kept apart so that the command can grow
(exports, plots) without touching the main command table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_cohort_parser(commands: Any) -> None:
    """Add ``cohort tables`` to the ``tace-planner`` sub-commands."""
    cohort = commands.add_parser("cohort", help="cohort statistics as in the source study (R 4.2)")
    actions = cohort.add_subparsers(dest="cohort_command", metavar="ACTION", required=True)
    tables = actions.add_parser(
        "tables", help="Me [Q1; Q3] per group with tests, Kaplan–Meier TTP, regression"
    )
    tables.add_argument(
        "--from-csv",
        type=Path,
        metavar="FILE",
        help="tidy per-patient CSV (columns: docs/cohort-data-dictionary.md)",
    )
    tables.add_argument(
        "--group",
        metavar="COL",
        help="column to group by (default: group; on the registry: metastases_timing, "
        "or tace_sequence, primary, grade), or all: every case in one group (no test "
        "between groups)",
    )
    tables.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="on the registry: primary, grade, metastases_timing, tace_sequence, "
        "min_tace, max_tace, first_tace_from, first_tace_to, therapy (drug text; repeatable)",
    )
    tables.add_argument("--json", action="store_true", help="print one JSON object")
    tables.add_argument(
        "--png",
        type=Path,
        metavar="FOLDER",
        help="also save the box, Kaplan–Meier, regression and waterfall plots as PNG into FOLDER",
    )
    tables.add_argument(
        "--pdf",
        type=Path,
        metavar="FILE",
        help="also save every plot into one PDF FILE (ending in .pdf), one plot per page",
    )


def run_cohort(args: argparse.Namespace, open_services: Any = None, render: Any = None) -> int:
    """Run ``cohort tables`` on a CSV, or on the registry (``open_services()`` opens it);
    bad input raises InvalidInputError (``main`` prints it). ``render(plots, path)``
    saves the PNG plots into a folder, or the PDF when ``path`` ends in ``.pdf`` (it needs
    Qt; injected by the GUI root)."""
    from tace_planner.domain.vocabulary import ALL_CASES
    from tace_planner.services.cohort import cohort_tables
    from tace_planner.services.cohort_csv import read_cohort_csv
    from tace_planner.services.export.cohort_plots import cohort_plots, registry_waterfall

    if args.png is not None and not args.png.is_dir():
        print(f"error: --png {args.png}: no such folder", file=sys.stderr)
        return 1
    if args.pdf is not None:
        problem = _pdf_problem(args.pdf)
        if problem:
            print(f"error: --pdf {args.pdf}: {problem}", file=sys.stderr)
            return 1
    if (args.png is not None or args.pdf is not None) and render is None:
        print("error: the plots need Qt (install tace-planner[gui])", file=sys.stderr)
        return 1
    waterfall: tuple[Any, ...] = ()
    if args.from_csv is not None:
        if args.filter:
            print("error: --filter works on the registry; filter the spreadsheet itself",
                  file=sys.stderr)  # fmt: skip
            return 2
        data = read_cohort_csv(args.from_csv)
        tables = cohort_tables(data, args.group or "group")
    else:
        from tace_planner.services.export.cohort_registry import parse_filters, registry_cohort

        filters = parse_filters(args.filter)
        services = open_services()
        try:
            data = registry_cohort(services, args.group or "metastases_timing", filters)
            if args.png is not None or args.pdf is not None:
                waterfall = registry_waterfall(services, data)
        finally:
            services.close()
        tables = cohort_tables(data, ALL_CASES if args.group == ALL_CASES else "group")
    for target in (args.png, args.pdf):
        if target is not None:
            render(cohort_plots(*_as_plotted(data, tables), waterfall), target)
            print(f"plots written to {target}", file=sys.stderr)
    if args.json:
        print(json.dumps(tables.to_json(), indent=2, ensure_ascii=False))
    else:
        print_tables(tables)
    return 0


def _as_plotted(data: Any, tables: Any) -> tuple[Any, Any]:
    """``data`` and ``tables`` as the plots take them: a cohort kept whole (``--group all``)
    is plotted from its rows regrouped into the one group "all" (as the Cohort page does)."""
    from dataclasses import replace

    from tace_planner.domain.vocabulary import ALL_CASES
    from tace_planner.services.cohort import regroup

    if tables.group_column != ALL_CASES:
        return data, tables
    return regroup(data, ALL_CASES), replace(tables, group_column="group")


def _pdf_problem(path: Path) -> str:
    """Why ``path`` cannot take the PDF ("" when it can)."""
    if path.suffix.lower() != ".pdf":
        return "give a file name ending in .pdf"
    if path.is_dir():
        return "is a folder; give a file name ending in .pdf"
    if not path.parent.is_dir():
        return f"{path.parent}: no such folder"
    if path.is_file():
        with path.open("rb") as handle:
            if handle.read(5) != b"%PDF-":
                return "exists and is not a PDF; it is not replaced"
    return ""


def _shown(group: str) -> str:
    """A group's name in the text tables: "all cases" for the cohort kept whole."""
    from tace_planner.domain.vocabulary import ALL_CASES, group_value_label

    return group_value_label(group) if group == ALL_CASES else group


def _num(value: float | None, digits: int = 1) -> str:
    return "NA" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def print_tables(tables: Any) -> None:
    """The tables as text, in the source's layout (Me [Q1; Q3], p with a test note); with
    one group (``--group all``) each test says it is not applicable, as the Cohort page's
    plots do ("one group: no test")."""
    from tace_planner.domain.vocabulary import ALL_CASES
    from tace_planner.services.cohort import NOT_APPLICABLE

    groups = list(tables.group_sizes)
    one = len(groups) == 1
    if tables.group_column == ALL_CASES:
        print(f"Cohort {tables.source}, all cases in one group:")
    else:
        print(f"Cohort {tables.source}, grouped by {tables.group_column!r}:")
    print("  " + ", ".join(f"{_shown(g)} (n = {n})" for g, n in tables.group_sizes.items()))
    width = max(len(label) for label in (r.label for r in tables.variables))
    header = f"{'Variable':{width}}  " + "  ".join(f"{_shown(g)[:24]:24}" for g in groups) + "  p"
    print()
    print(header)
    print("-" * len(header))
    notes: dict[str, int] = {}
    for row in tables.variables:
        cells = "  ".join(f"{row.summaries[g].text():24}" for g in groups)
        test = row.comparison
        mark = ""
        if test is not None:
            note = test.explanation.summary.split(";")[0]
            mark = "¹²³⁴⁵⁶⁷⁸⁹"[notes.setdefault(note, len(notes)) % 9]
        p = "not applicable" if one else _p(None if test is None else test.p)
        print(f"{row.label:{width}}  {cells}  {p}{mark}")
    for note, index in notes.items():
        print(f"  {'¹²³⁴⁵⁶⁷⁸⁹'[index % 9]} {note}")
    if one:
        print("  p: not applicable to one group (a test compares groups).")
    print("  Values are Me [Q1; Q3] (R quantile type 7); n per group in --json.")
    survival = tables.survival
    print()
    print("Kaplan–Meier, TTP after TACE (days), median [95 % CI, log]:")
    for name, fit in survival.groups.items():
        print(
            f"  {_shown(name)}: {_num(fit.median, 0)} [{_num(fit.median_lower, 0)}; "
            f"{_num(fit.median_upper, 0)}]  ({fit.events} events / {fit.n})"
        )
    if survival.logrank is not None:
        lr = survival.logrank
        print(f"  log-rank χ² = {lr.chisq:.3f}, df = {lr.df}, p = {_p(lr.p)}")
    elif one:
        print(f"  log-rank: {NOT_APPLICABLE}")
    fit = tables.regression
    print()
    if fit is not None:
        print(
            f"Linear regression, doubling time (days) on volume change (%): "
            f"R² = {fit.r2:.3f}, slope = {fit.slope:.3g}, p = {_p(fit.p)} (n = {fit.n})"
        )
    for column, entry in tables.counts.items():
        cells = "; ".join(
            f"{_shown(group)}: "
            + ", ".join(
                f"{level} {count} ({_num(entry['percent'][group][level], 0)} %)"
                for level, count in counts.items()
            )
            for group, counts in entry["table"].items()
        )
        test = f"test {NOT_APPLICABLE}" if one else f"{entry['test']} p = {_p(entry['p'])}"
        print(f"Counts of {column}: {cells}; {test}")
    for note in (*tables.notes, *survival.notes):
        print(f"note: {note}")
