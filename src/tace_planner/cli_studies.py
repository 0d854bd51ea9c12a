"""``tace-planner study reassign``: hand a study imported without a Patient ID to its patient.

The same :class:`~tace_planner.services.study_reassign.StudyReassignService` call the
study tree's *Assign to patient…* makes. Refusals raise
:class:`~tace_planner.domain.errors.TacePlannerError` and ``cli.main`` prints them in one
line (exit 1); a malformed command line exits 2.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.dto import PatientNameMismatchError


def add_study_commands(commands: Any) -> None:
    """Add ``study reassign`` to the parser."""
    study = commands.add_parser("study", help="hand a study to its patient")
    actions = study.add_subparsers(dest="study_command", metavar="ACTION", required=True)
    reassign = actions.add_parser(
        "reassign",
        help="hand a study filed under the placeholder patient (files without a Patient ID) "
        "to a stored patient, or to a new one given --patient-name (audited)",
    )
    reassign.add_argument("--study", required=True, help="Study Instance UID")
    reassign.add_argument("--patient-id", required=True, help="the patient's Patient ID")
    reassign.add_argument(
        "--patient-name",
        default="",
        help="needed for a new patient; for a stored one, it must be that patient's name",
    )
    reassign.add_argument("--json", action="store_true", help="print one JSON object")


def run_study_command(args: argparse.Namespace, services: Any) -> int:
    """Run one ``study`` action (``reassign``)."""
    try:
        result = services.study_reassign.reassign(
            args.study, patient_id=args.patient_id, patient_name=args.patient_name
        )
    except PatientNameMismatchError as error:
        raise InvalidInputError(
            "--patient-name",
            f"Patient ID {error.patient_id} is stored for {error.stored_label}, not "
            f"{error.typed_name!r}; check --patient-id, or leave out --patient-name to hand "
            "the study to that patient",
        ) from error
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return 0
    created = " (new patient)" if result.created_patient else ""
    print(
        f"study {result.study_uid} ({result.series_count} series, {result.image_count} "
        f"images) handed to {result.patient_label}{created}; the image files stay where they are"
    )
    return 0
