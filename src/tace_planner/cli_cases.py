"""``tace-planner case new|link|show``: open a case, link a study to a timepoint, show a case.

``case close`` and ``case groups`` (follow-up) are defined in :mod:`tace_planner.cli_followup`.

Headless case work for scripts and checks: the same :class:`CaseService` calls the
*Case → New case* dialog and the study tree make. Refusals raise
:class:`~tace_planner.domain.errors.TacePlannerError` and ``cli.main`` prints them in
one line (exit 1); a malformed command line exits 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tace_planner.cli_common import iso_date
from tace_planner.cli_followup import (
    add_case_close,
    follow_up_choices,
    run_case_close,
)
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.visit_names import names_by_label, typed_by_label


def add_case_commands(commands: Any, case_id: Any) -> None:
    """Add ``case new|link|show|close|groups`` to the parser (``case_id`` types ``--case``)."""
    case = commands.add_parser("case", help="open, link, show or close a case")
    actions = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="open a treatment case for an imported patient")
    new.add_argument("--patient-id", required=True, help="the patient's DICOM Patient ID")
    new.add_argument("--title", required=True, help="e.g. 'DEBIRI course 2026'")
    new.add_argument("--tace-date", type=iso_date, help="planned TACE date, YYYY-MM-DD")
    new.add_argument("--json", action="store_true")
    link = actions.add_parser("link", help="link a study to a timepoint of a case")
    link.add_argument("--case", type=case_id, required=True)
    link.add_argument("--study", required=True, help="Study Instance UID")
    link.add_argument(
        "--timepoint",
        nargs="+",
        required=True,
        metavar="KIND",
        help="'baseline' or 'follow-up N' (N = 1, 2, …)",
    )
    show = actions.add_parser("show", help="a case with its timepoints and studies")
    show.add_argument("--case", type=case_id, required=True)
    show.add_argument("--json", action="store_true")
    add_case_close(actions, case_id)


def _timepoint(words: list[str]) -> tuple[str, str]:
    """(label, kind) of ``baseline`` or ``follow-up N`` (quoted as one word or not)."""
    words = " ".join(words).split()
    if words == ["baseline"]:
        return "baseline", "baseline"
    if len(words) == 2 and words[0] == "follow-up" and words[1].isdecimal() and int(words[1]):
        return f"follow-up {int(words[1])}", "follow_up"
    raise InvalidInputError("--timepoint", f"{' '.join(words)!r}: give 'baseline' or 'follow-up N'")


def run_case_command(args: argparse.Namespace, services: Any) -> int:
    """Run one ``case`` action."""
    cases = services.cases
    if args.case_command in ("close", "groups"):
        return run_case_close(args, services)
    if args.case_command == "new":
        item = cases.create_case(args.patient_id, args.title, planned_tace_on=args.tace_date)
        if args.json:
            print(json.dumps(item.to_json(), ensure_ascii=False))
        else:
            print(f"case {item.pk} opened: {item.title} for {item.patient_id}")
        return 0
    if args.case_command == "link":
        label, kind = _timepoint(args.timepoint)
        cases.link_study(args.case, args.study, timepoint_label=label, timepoint_kind=kind)
        print(f"study {args.study} linked to case {args.case}, {label}")
        return 0
    detail = cases.case_detail(args.case)
    choices = follow_up_choices(services, args.case)
    typed = typed_by_label(choices)
    if args.json:
        names = names_by_label(choices)
        for timepoint in detail["timepoints"]:  # added: the name the worklist and window give
            timepoint["visit_name"] = names.get(timepoint["label"], timepoint["label"])
        print(json.dumps(detail, ensure_ascii=False))
    else:
        print(f"case {detail['case_pk']}: {detail['title']} — {detail['patient_id']}")
        for timepoint in detail["timepoints"]:
            studies = ", ".join(s["description"] or s["study_uid"] for s in timepoint["studies"])
            name = typed.get(timepoint["label"], timepoint["label"])
            print(f"  {name:12} {timepoint['imaged_on'] or '—':10}  {studies}")
    return 0
