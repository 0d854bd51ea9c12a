"""``tace-planner recist --sdtm DIR`` and ``tace-planner assess``: response assessment.

Registered from :mod:`tace_planner.cli`. ``recist`` needs no database (it reads
CSV files); ``assess`` reads a case's lesions from the registry. Exit codes as
every command: 0 ok, 1 refused (one line naming the file or field), 2 usage.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

COMMANDS = ("recist",)
"""Top-level commands of this module that need no services."""


def add_response_commands(commands: Any, case_id: Any) -> None:
    """Add ``recist --sdtm DIR [--json] [--out DIR]`` and ``assess``."""
    assess = commands.add_parser(
        "assess", help="response of a follow-up by RECIST 1.1, mRECIST, EASL, Choi and volume"
    )
    assess.add_argument("--case", type=case_id, required=True, help="case id (see `cases`)")
    assess.add_argument(
        "--timepoint",
        required=True,
        metavar="LABEL|NAME|ID",
        help='the follow-up: its label, its name as the worklist shows it (e.g. "TACE 1 '
        'follow-up 1") or its id',
    )
    assess.add_argument(
        "--criteria",
        type=_criteria,
        default=None,
        metavar="LIST",
        help="comma-separated: recist,mrecist,easl,choi,volume (default: all)",
    )
    assess.add_argument(
        "--record-progression",
        action="store_true",
        help="record progression on the follow-up when the RECIST 1.1 overall response is PD",
    )
    assess.add_argument(
        "--no-store",
        action="store_true",
        help="compute only; by default the assessment is stored and supersedes an earlier one",
    )
    assess.add_argument("--json", action="store_true", help="print one JSON object")
    recist = commands.add_parser(
        "recist", help="RECIST 1.1 responses of CDISC SDTM tumour data (TU/TR/RS CSV)"
    )
    recist.add_argument(
        "--sdtm", type=Path, required=True, metavar="DIR", help="folder with TU.csv, TR.csv, RS.csv"
    )
    recist.add_argument("--json", action="store_true", help="print one JSON object")
    recist.add_argument("--out", type=Path, metavar="DIR", help="write the computed RS.csv here")


def _criteria(text: str) -> tuple[str, ...]:
    from tace_planner.services.assessment import CRITERIA

    chosen = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = [c for c in chosen if c not in CRITERIA]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown criteria {unknown or text!r}; choose from {','.join(CRITERIA)}"
        )
    return chosen


def run_assess(args: argparse.Namespace, services: Any) -> int:
    """Run ``assess``; bad input raises InvalidInputError (``main`` prints it)."""
    from tace_planner.services.assessment import CRITERIA
    from tace_planner.services.visit_names import with_label

    result = services.assessments.assess(
        args.case,
        args.timepoint,
        args.criteria or CRITERIA,
        record_progression=args.record_progression,
        store=not args.no_store and not getattr(services, "read_only", False),
    )
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    days = result["days_from_baseline"]
    name = with_label(result["visit_name"], result["timepoint"])  # as the worklist names it
    print(
        f"case {result['case']}, {name}"
        + (f" ({days} days after baseline)" if days is not None else "")
    )
    for response in result["criteria"].values():
        print(
            f"  {response['criterion']}: {response['category']} — {response['rule']} "
            f"[validated for: {response['validated_for']}]"
        )
    for key, name in (("recist", "RECIST 1.1"), ("mrecist", "mRECIST")):
        best = (result.get(key) or {}).get("best_overall")
        if best:
            print(f"  {name} best overall response so far: {best['category']} — {best['rule']}")
    if result["progression_recorded"]:
        print("  progression recorded on this follow-up (the schedule after it ends)")
    print(f"  ({result['note']})")
    return 0


def run_recist(args: argparse.Namespace) -> int:
    """Run ``recist --sdtm``; bad input raises InvalidInputError (``main`` prints it)."""
    from tace_planner.services.response_parameters import load_response_parameters
    from tace_planner.services.sdtm import assess_sdtm, write_rs

    result = assess_sdtm(args.sdtm, load_response_parameters())
    written = write_rs(result.rs_rows, args.out) if args.out is not None else None
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return 0
    for subject in result.subjects:
        reader = f", reader {subject.reader}" if subject.reader else ""
        print(f"{subject.usubjid}{reader}")
        for visit in subject.visits:
            parts = [
                f"{code} {visit[code]}"
                for code in ("TRGRESP", "NTRGRESP", "NEWLPROG")
                if visit[code]
            ]
            late = " — after the first PD, not counted for the best response"
            print(
                f"  visit {visit['VISITNUM']} {visit['VISIT']}: {visit['OVRLRESP']} "
                f"({', '.join(parts)}){late if visit['after_first_pd'] else ''}"
            )
        best = subject.best or {}
        if best.get("category"):
            print(f"  best overall response: {best['category']} — {best['rule']}")
        else:
            print(f"  best overall response {best.get('rule', 'not computed')}")
    if result.disagreements:
        print(f"{len(result.disagreements)} given response(s) disagree with the rules:")
        for item in result.disagreements:
            where = f"visit {item['VISITNUM']}" if item["VISITNUM"] else "best response"
            print(
                f"  {item['USUBJID']} {item['RSEVALID']} {where} "
                f"{item['RSTESTCD']}: given {item['given'] or '—'}, expected "
                f"{item['expected'] or '—'} ({item['reason']})"
            )
    else:
        print("no given response disagrees with the rules")
    if written is not None:
        print(f"wrote {written}")
    return 0
