"""``tace-planner export``: case records out of the app, optionally de-identified.

The work is done by :func:`tace_planner.services.export.runner.export_cases`; this module
parses the command line and prints what was written. Refusals are one line (exit 1).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# The formats, named here so that building the parser imports no service (start-up
# stays light); services/export/runner.py checks that it offers the same list.
FORMATS = ("csv", "json", "pdf", "seg", "redcap", "sdtm")


def add_export_parser(commands: Any, case_id: Any) -> None:
    """Add ``export`` to the parser (``case_id`` types ``--case``)."""
    export = commands.add_parser(
        "export", help="export case records: csv, json, pdf, seg, redcap or sdtm"
    )
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--case", type=case_id, help="one case (see `cases`)")
    which.add_argument("--all", action="store_true", help="every case")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument(
        "--deidentify",
        action="store_true",
        help="pseudonyms, days from the first TACE instead of dates, DICOM Basic Profile",
    )
    export.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="with --deidentify: write pseudonym → patient to FILE (outside OUT)",
    )
    export.add_argument("out", type=Path, metavar="OUT", help="a new or empty folder")


def run_export(args: argparse.Namespace, services: Any, render_pdf: Any = None) -> int:
    """Run ``export``; ``render_pdf(report, path)`` writes a PDF case report (Qt)."""
    from tace_planner.services.export.runner import export_cases

    result = export_cases(
        services,
        args.out,
        args.format,
        case=args.case,
        deidentify=args.deidentify,
        mapping=args.mapping,
        render_pdf=render_pdf,
    )
    print(f"{len(result.files)} file(s) written to {result.folder}")
    for note in result.notes:
        print(f"  note: {note}")
    if result.mapping is not None:
        print(f"pseudonym mapping written to {result.mapping} (keep it apart from the export)")
    return 0
