"""``tace-planner followups | followup match|propagate | therapy add | ttp | case close``.

Registered from :mod:`tace_planner.cli`; ``case close`` hangs under ``case``
(:mod:`tace_planner.cli_cases`). Exit codes as every command: 0 ok, 1 refused (one line
naming the field, from the error handling of ``cli.main``), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tace_planner.cli_common import iso_date
from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.schedule import CLOSURE_REASONS
from tace_planner.domain.ttp import ESTABLISHED, SEQUENCES, SITES, TIMINGS
from tace_planner.services.visit_names import typed_by_label, typed_of

COMMANDS = ("followups", "followup", "therapy", "ttp")
"""Top-level commands this module runs."""


def _id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a number)") from None
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text}: ids are 1 or more")
    return value


def add_followup_commands(commands: Any, case_id: Any) -> None:
    """Add ``followups``, ``followup match|progression|propagate|preset``, ``therapy``, ``ttp``."""
    worklist = commands.add_parser("followups", help="the follow-up worklist")
    which = worklist.add_mutually_exclusive_group()
    for name, text in (
        ("due", "due this week (the default)"),
        ("overdue", "window closed without a study"),
        ("upcoming", "due after this week"),
        ("done", "with their study"),
        ("all", "every scheduled and done timepoint"),
    ):
        which.add_argument(
            f"--{name}", dest="category", action="store_const", const=name, help=text
        )
    worklist.add_argument("--radiologist", help="only this radiologist's timepoints")
    worklist.add_argument("--modality", choices=("CT", "MR"))
    worklist.add_argument("--case", type=case_id, help="only this case")
    worklist.add_argument(
        "--link-new",
        action="store_true",
        help="first link each new study that fits exactly one follow-up window",
    )
    worklist.add_argument("--json", action="store_true", help="one JSON object")

    followup = commands.add_parser("followup", help="match a study to a follow-up, choose a preset")
    actions = followup.add_subparsers(dest="followup_command", metavar="ACTION", required=True)
    match = actions.add_parser("match", help="where an imported study belongs")
    match.add_argument("--study", required=True, metavar="UID", help="Study Instance UID")
    match.add_argument("--confirm", action="store_true", help="link it (best match)")
    match.add_argument("--timepoint", type=_id, metavar="ID", help="link to this timepoint")
    match.add_argument("--case", type=case_id, help="unscheduled timepoint of this case")
    match.add_argument("--json", action="store_true")
    progression = actions.add_parser("progression", help="record progression at a follow-up")
    progression.add_argument(
        "--timepoint",
        nargs="+",
        required=True,
        metavar="ID|LABEL",
        help="the timepoint's id, or with --case its label or name ('follow-up 2', "
        "'TACE 1 follow-up 1', 'unscheduled 2026-07-03')",
    )
    progression.add_argument("--case", type=case_id, help="the case (needed with a label)")
    progression.add_argument(
        "--site", required=True, choices=(*SITES, "none"), help="where ('none' clears it)"
    )
    propagate = actions.add_parser(
        "propagate", help="propose a follow-up's contours from the baseline (registration)"
    )
    propagate.add_argument("--case", type=case_id, required=True)
    propagate.add_argument(
        "--timepoint", required=True, metavar="LABEL", help="follow-up label (or its id)"
    )
    propagate.add_argument(
        "--lesion", action="append", metavar="NAME", help="only this lesion (repeatable)"
    )
    propagate.add_argument(
        "--confirm",
        action="store_true",
        help="store the proposals as the follow-up contours (a lesion already contoured "
        "there keeps its contour)",
    )
    propagate.add_argument(
        "--replace",
        action="store_true",
        help="with --confirm: also replace contours already stored at the follow-up",
    )
    propagate.add_argument("--json", action="store_true", help="one JSON object")
    preset = actions.add_parser("preset", help="choose a case's schedule preset")
    preset.add_argument("--case", type=case_id, required=True)
    preset.add_argument("--preset", required=True, help="protocol, society or months")

    therapy = commands.add_parser("therapy", help="systemic therapy lines of a case")
    lines = therapy.add_subparsers(dest="therapy_command", metavar="ACTION", required=True)
    add = lines.add_parser("add", help="add a therapy line")
    add.add_argument("--case", type=case_id, required=True)
    add.add_argument("--drug", required=True, metavar="TEXT", help="drug or regimen")
    add.add_argument("--start", type=iso_date, required=True, metavar="D")
    add.add_argument("--stop", type=iso_date, metavar="D")
    add.add_argument("--progression", type=iso_date, metavar="D", help="date of progression")
    add.add_argument("--site", choices=SITES, default="unspecified", help="where it progressed")
    add.add_argument("--established", choices=ESTABLISHED, default="", help="how")
    add.add_argument("--best-response", default="", metavar="TEXT")
    add.add_argument("--json", action="store_true")
    listing = lines.add_parser("list", help="a case's therapy lines")
    listing.add_argument("--case", type=case_id, required=True)
    listing.add_argument("--json", action="store_true")

    ttp = commands.add_parser("ttp", help="time to progression of a case, with its rules")
    ttp.add_argument("--case", type=case_id, required=True)
    ttp.add_argument("--json", action="store_true")


def add_case_close(actions: Any, case_id: Any) -> None:
    """Add ``case close`` and ``case groups`` to the ``case`` actions."""
    close = actions.add_parser("close", help="end a case's follow-up")
    close.add_argument("--case", type=case_id, required=True)
    close.add_argument("--reason", required=True, choices=CLOSURE_REASONS)
    close.add_argument("--date", type=iso_date, required=True, metavar="D")
    groups = actions.add_parser("groups", help="dates and groups for the cohort tables")
    groups.add_argument("--case", type=case_id, required=True)
    groups.add_argument("--diagnosed", type=iso_date, metavar="D", help="primary diagnosis")
    groups.add_argument("--liver-metastases", type=iso_date, metavar="D", help="detected on")
    groups.add_argument("--timing", choices=(*TIMINGS, "derive"), help="entered, or derive")
    groups.add_argument("--sequence", choices=(*SEQUENCES, "derive"), help="entered, or derive")
    groups.add_argument("--json", action="store_true")


_GROUP_OPTIONS = (
    ("diagnosed", "diagnosed_on"),
    ("liver_metastases", "liver_metastases_on"),
    ("timing", "metastases_timing"),
    ("sequence", "tace_sequence"),
)


def run_case_close(args: argparse.Namespace, services: Any) -> int:
    """``case close`` (end the follow-up, drop the timepoints due after it) and ``case groups``."""
    if args.case_command == "groups":
        values: dict[str, Any] = {}
        for option, name in _GROUP_OPTIONS:
            value = getattr(args, option)
            if value is not None:
                values[name] = "" if value == "derive" else value
        groups = services.therapy.set_case_attributes(args.case, **values)
        if args.json:
            print(json.dumps(groups, ensure_ascii=False))
        else:
            for name, group in groups.items():
                print(f"{_GROUP_NAMES.get(name, name)}: {_said(group)}")
        return 0
    items = services.followups.close_case(args.case, args.reason, args.date)
    ended = sum(1 for t in items if t.status == "ended")
    print(
        f"case {args.case}: follow-up ended on {args.date.isoformat()} ({args.reason}); "
        f"{ended} timepoint(s) after it dropped"
    )
    return 0


def _row(item: Any) -> str:
    study = item.study_uid or (
        f"proposed {item.proposed_study_uid}" if item.proposed_study_uid else ""
    )
    tace = f"TACE {item.tace_number} {item.tace_on.isoformat()}" if item.tace_on else ""
    return (
        f"{item.category:8} {item.due_on.isoformat() if item.due_on else '—':10}  "
        f"{item.patient_id:12} case {item.case_pk:<5} {tace:20} {typed_of(item):22} "
        f"{item.window_text:25} {item.modality:3} {item.radiologist:14} {study}"
    ).rstrip()


def run_followup_command(args: argparse.Namespace, services: Any) -> int:
    """Run one of :data:`COMMANDS`."""
    followups = services.followups
    if args.command == "followups":
        if not services.read_only:
            followups.sync_all()
            if args.link_new:
                for linked in followups.link_new_studies():
                    print(f"linked {linked.study_uid} to {typed_of(linked)} of case "
                          f"{linked.case_pk}", file=sys.stderr)  # fmt: skip
        category = args.category or "due"
        items = followups.worklist(
            category, radiologist=args.radiologist, modality=args.modality, case_pk=args.case
        )
        imaging_only = args.radiologist or args.modality or category == "done"
        sessions = [] if imaging_only else followups.due_sessions(category, case_pk=args.case)
        if args.json:
            payload = {
                "category": category,
                "today": followups.today().isoformat(),
                "timepoints": [t.to_json() for t in items],
                "tace_sessions": [s.to_json() for s in sessions],
            }
            print(json.dumps(payload, ensure_ascii=False))
        else:
            print(f"{len(items)} follow-up timepoint(s): {category}")
            for session in sessions:
                due = str(session.due_on or "—")
                print(f"{session.category:8} {due:10}  {session.patient_id:12} "
                      f"case {session.case_pk:<5} {session.label}")  # fmt: skip
            for item in items:
                print(_row(item))
        return 0
    if args.command == "followup":
        if args.followup_command == "progression":
            site = "" if args.site == "none" else args.site
            item = followups.record_progression(_progression_timepoint(args, followups), site)
            print(f"{typed_of(item)} of case {item.case_pk}: progression {site or 'cleared'}")
            return 0
        if args.followup_command == "propagate":
            return _propagate(args, services)
        if args.followup_command == "preset":
            items = followups.set_preset(args.case, args.preset)
            print(f"case {args.case}: preset {args.preset}; {len(items)} timepoint(s)")
            return 0
        return _match(args, followups)
    if args.command == "therapy":
        return _therapy(args, services.therapy)
    result = services.therapy.ttp(args.case)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"case {args.case}: time to progression — {result['rule']}")
    for result_row in [*result["after_therapy"], *result["after_tace"]]:
        days = result_row["days"]
        if days is None:
            state = result_row["explanation"]["result"]  # the domain's reason
        else:
            state = f"{days} days, " + ("progression" if result_row["event"] else "censored")
        scope = "in the liver" if result_row["scope"] == "liver" else "anywhere"
        print(f"  after {result_row['label']}, progression {scope}: {state}")
    for name, group in result["groups"].items():
        print(f"  {_GROUP_NAMES.get(name, name)}: {_said(group)}")
    return 0


def _progression_timepoint(args: argparse.Namespace, followups: Any) -> int:
    """The timepoint id of ``followup progression``: ``--timepoint`` as an id, or as what
    names a follow-up of ``--case`` (its label, "follow-up 2" or "unscheduled 2026-07-03",
    or its visit name, "TACE 1 follow-up 1"): the service decides
    (:meth:`~tace_planner.services.followups.FollowupService.follow_up_pk`) and its
    refusal lists the case's follow-ups.

    Refusals name ``--timepoint`` or ``--case`` (``cli.main`` prints them in one line).
    """
    text = " ".join(" ".join(args.timepoint).split())
    if text.isdecimal() and args.case is None:
        if not 1 <= int(text) < 2**63:
            raise InvalidInputError("--timepoint", f"{text}: ids are 1 or more")
        return int(text)
    if text.casefold() == "baseline":
        raise InvalidInputError(
            "--timepoint",
            "'baseline' is the imaging before treatment: progression is recorded at a "
            "follow-up ('follow-up N' with --case, or its id)",
        )
    if args.case is None:
        raise InvalidInputError(
            "--timepoint",
            f"{text!r} is not an id: a follow-up's label or name needs its case (--case ID)",
        )
    try:
        return int(followups.follow_up_pk(args.case, text))
    except NotFoundError as error:
        raise InvalidInputError("--case", str(error)) from None
    except InvalidInputError as error:
        raise InvalidInputError("--timepoint", error.reason) from None


_GROUP_NAMES = {
    "metastases_timing": "Liver metastases",
    "tace_sequence": "TACE",
    "detection_to_tace": "Detection of liver metastases to the first TACE",
}


def _said(group: dict[str, Any]) -> str:
    """A group as a clinician reads it: value, entered or derived, and the rule."""
    value = str(group["value"] or "unknown").replace("_", " ")
    if value == "immediate":
        value = "immediately"
    how = "" if group["how"] == "unknown" else f"{group['how']}; "
    return f"{value} ({how}{group['rule']})"


def _propagate(args: argparse.Namespace, services: Any) -> int:
    """``followup propagate``: register, propose, and with ``--confirm`` store."""
    from tace_planner.services.propagation import propagation_service

    if args.replace and not args.confirm:
        print(
            "--replace needs --confirm (it says which stored contours to replace)", file=sys.stderr
        )
        return 2
    propagation = propagation_service(services)
    item = propagation.propose(args.case, args.timepoint, lesions=args.lesion)
    if args.confirm and item.registration.ok:
        item = propagation.confirm(item, replace=args.replace)
    if args.json:
        print(json.dumps(item.to_json(), ensure_ascii=False))
        return 0 if item.registration.ok else 1
    name = typed_visit_names(services, args.case).get(item.follow_up.label, item.follow_up.label)
    print(f"case {args.case}, {name}: {item.registration.message}")
    for proposal in item.proposals:
        if proposal.found:
            size = (f"{proposal.volume_cm3:.2f} cm³, longest axial "
                    f"{proposal.longest_axial_diameter_mm:.1f} mm")  # fmt: skip
        else:
            size = "not found (0 mm)"
        baseline = proposal.baseline_volume_cm3
        was = "" if baseline is None else f" (baseline {baseline:.2f} cm³)"
        print(f"  {proposal.name}: {size}{was}")
        for message in proposal.messages:
            print(f"    {message}")
        if proposal.stored is not None:
            print(f"    {proposal.stored_text}")
    if not item.registration.ok:
        return 1
    if item.confirmed:
        print(f"stored {len(item.confirmed)} contour(s) at {name}")
    if item.kept:
        kept = ", ".join(item.kept)
        print(
            f"kept the contour(s) already stored at {name} for {kept}: "
            "add --replace to replace them",
            file=sys.stderr,
        )
    if not item.confirmed and not item.kept and item.proposals:
        print("  proposals only: add --confirm to store them", file=sys.stderr)
    return 0


def follow_up_choices(services: Any, case_pk: int) -> list[Any]:
    """The case's follow-ups (their labels and schedule slots), [] when unknown."""
    try:
        return list(services.followups.follow_up_choices(case_pk))
    except (InvalidInputError, NotFoundError):
        return []  # the labels are printed then


def typed_visit_names(services: Any, case_pk: int) -> dict[str, str]:
    """The case's follow-up labels → their names as the worklist gives them, the label in
    brackets when it differs (:func:`~tace_planner.services.visit_names.typed_name`)."""
    return typed_by_label(follow_up_choices(services, case_pk))


def _match(args: argparse.Namespace, followups: Any) -> int:
    if args.confirm or args.timepoint or args.case:
        item = followups.confirm_match(args.study, timepoint_pk=args.timepoint, case_pk=args.case)
        if args.json:
            print(json.dumps(item.to_json(), ensure_ascii=False))
        else:
            print(f"study {args.study} linked to {typed_of(item)} of case {item.case_pk}")
        return 0
    match = followups.match_study(args.study)
    if args.json:
        print(json.dumps(match.to_json(), ensure_ascii=False))
        return 0
    print(f"study {args.study} ({match.study_on or 'no date'}): {match.message}")
    for candidate in match.candidates:
        item = candidate.timepoint
        print(f"  timepoint {item.pk}: {typed_of(item)} of case {item.case_pk}, due "
              f"{item.due_on}, {candidate.days_from_due} day(s) from due")  # fmt: skip
    if match.candidates or match.unscheduled_case_pks:
        print("  add --confirm to link it", file=sys.stderr)
    return 0


def _therapy(args: argparse.Namespace, therapy: Any) -> int:
    if args.therapy_command == "list":
        lines = therapy.list_lines(args.case)
        if args.json:
            print(json.dumps([line.to_json() for line in lines], ensure_ascii=False))
        for line in [] if args.json else lines:
            stop = line.stop_on or "ongoing"
            progression = line.progression_on or "—"
            print(f"line {line.line_number}: {line.drug} {line.start_on} – {stop}; "
                  f"progression {progression}")  # fmt: skip
        return 0
    line = therapy.add_line(
        args.case,
        args.drug,
        args.start,
        stop_on=args.stop,
        progression_on=args.progression,
        progression_site=args.site,
        progression_established=args.established,
        best_response=args.best_response,
    )
    if args.json:
        print(json.dumps(line.to_json(), ensure_ascii=False))
    else:
        print(f"case {args.case}: therapy line {line.line_number} ({line.drug}) added")
    return 0
