"""``tace-planner lesion set-segment|propose-segment|set-target``: a focus's segment and target.

The same :class:`~tace_planner.services.lesions.LesionService` calls the Lesions dock
makes, audited under ``--user``. The case is the one of ``--series``' study; the
lesion is named as in the Lesions list (``F1``). Refusals raise
:class:`~tace_planner.domain.errors.TacePlannerError` and ``cli.main`` prints them in
one line (exit 1); a malformed command line exits 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tace_planner.domain.errors import InvalidInputError, NotFoundError


def add_lesion_commands(commands: Any) -> None:
    """Add ``lesion set-segment|propose-segment|set-target`` to the command parser."""
    lesion = commands.add_parser("lesion", help="a focus's Couinaud segment and RECIST target")
    actions = lesion.add_subparsers(dest="lesion_command", metavar="ACTION", required=True)
    segment = actions.add_parser("set-segment", help="set (or clear) a focus's Couinaud segment")
    propose = actions.add_parser(
        "propose-segment", help="the segment proposed from the liver contour (nothing is stored)"
    )
    target = actions.add_parser("set-target", help="make a focus a RECIST 1.1 target or not")
    for parser in (segment, propose, target):
        parser.add_argument("--series", required=True, help="a Series Instance UID of the case")
        parser.add_argument("--lesion", required=True, help="lesion name, e.g. F1")
        parser.add_argument("--json", action="store_true")
    segment.add_argument(
        "--segment", required=True, help="I–VIII, IVa or IVb ('' or 'none' clears it)"
    )
    segment.add_argument("--reason", default="", help="why (kept in the audit trail)")
    target.add_argument("--target", required=True, choices=("yes", "no"))
    target.add_argument(
        "--reason", default="", help="overrides a RECIST 1.1 rule the selection breaks"
    )


def run_lesion_command(args: argparse.Namespace, services: Any) -> int:
    """Run one ``lesion`` action."""
    contouring = services.contouring
    case_pk, _, _ = contouring.series_context(args.series)
    item = contouring.lesions.find(case_pk, args.lesion)
    if item is None:
        raise NotFoundError(f"lesion {args.lesion!r}: no such lesion in this case")
    if item.is_liver:
        raise InvalidInputError(
            "--lesion", f"{item.name!r} is the whole-liver contour, not a focus"
        )
    if args.lesion_command == "propose-segment":
        proposal = contouring.propose_segment(item.pk)
        data = {
            "lesion": item.name,
            "proposed_segment": proposal.code or None,
            "confidence": proposal.confidence,
            "confidence_label": proposal.confidence_label,
            "timepoint": proposal.timepoint_label,
            "explanation": proposal.explanation,
        }
        if args.json:
            print(json.dumps(data, ensure_ascii=False))
        else:
            head = (
                f"{item.name}: proposed segment {proposal.code} ({proposal.confidence_label} "
                f"confidence {proposal.confidence:.2f}) — confirm with 'lesion set-segment'"
                if proposal.code
                else f"{item.name}: no proposal"
            )
            print(head)
            print(proposal.explanation)
        return 0
    if args.lesion_command == "set-segment":
        code = "" if args.segment.strip().casefold() in ("", "none", "-") else args.segment
        changed = contouring.lesions.set_segment(item.pk, code, reason=args.reason)
        if args.json:
            print(
                json.dumps({"lesion": changed.name, "couinaud_segment": changed.couinaud_segment})
            )
        else:
            shown = changed.couinaud_segment or "none"
            print(f"{changed.name}: Couinaud segment {item.couinaud_segment or 'none'} → {shown}")
        return 0
    wanted = args.target == "yes"
    change = contouring.update_lesion(
        item.pk, is_target=wanted, override_reason=args.reason or None
    )
    if args.json:
        print(
            json.dumps(
                {
                    "lesion": change.lesion.name,
                    "is_target": change.lesion.is_target,
                    "applied": change.applied,
                    "advisories": [a.to_json() for a in change.advisories],
                },
                ensure_ascii=False,
            )
        )
    if not change.applied:
        rules = " ".join(a.message for a in change.advisories)
        raise InvalidInputError(
            "--target", f"{item.name} is not made a target: {rules} Give --reason to override."
        )
    if not args.json:
        state = "a target" if change.lesion.is_target else "non-target"
        print(f"{change.lesion.name} is {state}")
    return 0
