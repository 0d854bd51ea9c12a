"""``tace-planner patient set|show`` and ``plan``: a case's patient inputs and its plan.

Registered from :mod:`tace_planner.cli`; the handlers run on the services that
``cli.main`` opens. Refusals raise :class:`~tace_planner.domain.errors.TacePlannerError`
and ``cli.main`` prints them in one line (exit 1); a malformed command line exits 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tace_planner.cli_common import fmt, iso_date, log
from tace_planner.domain.errors import TacePlannerError

PlanRenderer = Callable[[Any, Path, Any], None]
"""Writes a plan as a one-page PDF plan sheet with an optional key image (``cli.PdfRenderer``)."""


def _yes_no(text: str) -> bool:
    if text.lower() in ("yes", "y", "true", "1"):
        return True
    if text.lower() in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: answer yes or no")


def add_planning_commands(commands: Any, case_id: Any) -> None:
    """Add ``patient set|show`` and ``plan`` (``case_id`` types ``--case``)."""
    patient = commands.add_parser("patient", help="patient inputs used for planning")
    actions = patient.add_subparsers(dest="patient_command", metavar="ACTION", required=True)
    setter = actions.add_parser("set", help="record height, weight, labs and ECOG of a case")
    setter.add_argument("--case", type=case_id, required=True, help="case id (see `cases`)")
    setter.add_argument("--height-cm", type=float, help="height, cm")
    setter.add_argument("--weight-kg", type=float, help="weight, kg")
    setter.add_argument("--bilirubin-mg-dl", type=float, help="total bilirubin, mg/dL")
    setter.add_argument("--ecog", type=int, help="ECOG performance status 0-4")
    setter.add_argument("--ugt1a1", choices=["normal", "reduced", "unknown"])
    setter.add_argument("--extrahepatic", type=_yes_no, metavar="yes|no")
    setter.add_argument("--ia-lidocaine", type=_yes_no, metavar="yes|no")
    setter.add_argument("--measured-on", type=_measurement_date, help="YYYY-MM-DD")
    setter.add_argument(
        "--confirm-implausible",
        action="store_true",
        help="store values outside the plausible adult range (never impossible ones)",
    )
    setter.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="show a case's patient inputs")
    show.add_argument("--case", type=case_id, required=True)
    show.add_argument("--json", action="store_true")

    plan = commands.add_parser(
        "plan", help="propose beads, vials and irinotecan dose for a case (not saved)"
    )
    plan.add_argument("--case", type=case_id, required=True, help="case id (see `cases`)")
    plan.add_argument("--model", choices=["burden", "fixed"], help="default: parameter file")
    plan.add_argument("--product", help="bead product code, e.g. dc_bead, hepasphere")
    plan.add_argument("--schedule", choices=["sequential", "single"], default="sequential")
    plan.add_argument("--delivery", choices=["lobar", "segmental"], default="lobar")
    plan.add_argument("--segments", help="segmental delivery: segments, e.g. VI,VIII")
    plan.add_argument("--interval-days", type=int, help="days between lobar sessions")
    plan.add_argument(
        "--capacity-mg-per-ml", type=float, help="irinotecan capacity when the catalogue has none"
    )
    plan.add_argument(
        "--vial-ml", type=float, help="bead volume per vial when the catalogue has none"
    )
    plan.add_argument("--bsa-formula", choices=["mosteller", "dubois"])
    plan.add_argument("--slv-formula", choices=["urata", "vauthey"])
    plan.add_argument("--save", action="store_true", help="save the proposal as a draft version")
    plan.add_argument(
        "--approve", action="store_true", help="approve the saved draft (needs --save)"
    )
    plan.add_argument(
        "--acknowledge-all",
        action="store_true",
        help="with --approve: acknowledge every warning shown, recorded under --user",
    )
    plan.add_argument(
        "--contraindication-reason",
        metavar="TEXT",
        help="with --approve: the physician's reason, applied to every contraindication shown",
    )
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    plan.add_argument("--pdf", type=Path, metavar="FILE", help="write the one-page plan sheet")


EARLIEST_MEASUREMENT = dt.date(1900, 1, 1)


def _measurement_date(text: str) -> dt.date:
    """A date on which something was measured: from 1900 on, and not in the future."""
    day = iso_date(text)
    if day < EARLIEST_MEASUREMENT:
        raise argparse.ArgumentTypeError(f"{text}: a measurement date is 1900-01-01 or later")
    if day > dt.date.today() + dt.timedelta(days=1):
        raise argparse.ArgumentTypeError(f"{text}: a measurement date is not in the future")
    return day


def _planning(services: Any) -> Any:
    return services.planning


def run_patient(args: argparse.Namespace, services: Any) -> int:
    planning = _planning(services)
    if args.patient_command == "set":
        given = {
            "height_cm": args.height_cm,
            "weight_kg": args.weight_kg,
            "bilirubin_mg_dl": args.bilirubin_mg_dl,
            "ecog": args.ecog,
            "ugt1a1_status": args.ugt1a1,
            "extrahepatic_disease": args.extrahepatic,
            "ia_lidocaine_planned": args.ia_lidocaine,
            "measured_on": args.measured_on,
        }
        fields = {name: value for name, value in given.items() if value is not None}
        if "ugt1a1_status" in fields and fields["ugt1a1_status"] == "unknown":
            fields["ugt1a1_status"] = ""
        if not fields:
            print("error: give at least one value, e.g. --height-cm 175", file=sys.stderr)
            return 2
        item = planning.set_clinical_inputs(
            args.case, confirm_implausible=args.confirm_implausible, **fields
        )
    else:
        item = planning.clinical_inputs(args.case)
    if args.json:
        print(json.dumps(item.to_json(), indent=2))
    else:
        inputs = item.inputs
        print(
            f"case {item.case_pk}: height {inputs.height_cm} cm, weight {inputs.weight_kg} kg, "
            f"bilirubin {inputs.bilirubin_mg_dl} mg/dL, ECOG {inputs.ecog}, "
            f"UGT1A1 {inputs.ugt1a1_status or 'unknown'}, "
            f"extrahepatic {inputs.extrahepatic_disease}, "
            f"IA lidocaine {inputs.ia_lidocaine_planned}"
        )
    return 0


def _print_plan(plan: Any) -> None:
    figures = plan.figures
    case = plan.case
    print(
        f"Plan for case {case.case_pk}: {case.case_title} — {case.patient_name} "
        f"[{case.patient_id}]  (model {plan.model}, {plan.product_name})"
    )
    lobes = ", ".join(
        f"{key.split('.', 1)[1]} {value:.1f}"
        for key, value in figures.items()
        if key.startswith("tumour_volume_cm3.") and value
    )
    print(
        f"  V_liv {fmt(figures.get('liver_volume_cm3'), 0, ' cm³')}, "
        f"V_mts {fmt(figures.get('tumour_volume_cm3'), 1, ' cm³')} ({lobes}), "
        f"F {fmt(figures.get('burden_percent'), 1, ' %')}, "
        f"BSA {fmt(figures.get('bsa_m2'), 3, ' m²')}, "
        f"SLV {fmt(figures.get('standard_liver_volume_cm3'), 0, ' cm³')}"
    )
    progress = getattr(getattr(plan, "proposal", plan), "progress", None)
    if progress is not None:
        print(f"  {progress.summary()}")
        if getattr(plan, "plan_version", None) != progress.plan_version:
            note = progress.new_plan_note(plan, subject="This plan")
            if note:
                print(f"  {note}")
    for session in plan.sessions:
        when = f", {session.on.isoformat()}" if session.on else ""
        print(
            f"  Session {session.number} (day {session.day}{when}): {session.territory_label}: "
            f"tumour {session.tumour_volume_cm3:.1f} cm³ → beads {session.beads_ml:.2f} mL, "
            f"{session.vials} vial(s), irinotecan loaded {session.irinotecan_loaded_mg:.0f} mg, "
            f"expected delivered {session.irinotecan_expected_delivered_mg:.0f} mg"
        )
    for advisory in plan.advisories:
        print(f"  [{advisory.severity.upper()}] {advisory.message}")
        if advisory.code == "burden.unassigned_segment":  # its text names the window's gesture
            print(
                "    from the command line: tace-planner lesion propose-segment --series UID "
                "--lesion NAME, then tace-planner lesion set-segment --series UID --lesion NAME "
                "--segment S"
            )
    print(
        "Planning aid for research and clinical decision support — not a prescription. "
        "The physician decides."
    )


def run_plan(args: argparse.Namespace, services: Any, render_pdf: PlanRenderer | None) -> int:
    if args.pdf is not None and render_pdf is None:
        print(
            "error: the PDF plan sheet needs Qt (install tace-planner[gui] and run `tace-planner`)",
            file=sys.stderr,
        )
        return 1
    if args.pdf is not None:
        problem = _output_problem(args.pdf, b"%PDF-", "a PDF")
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
    planning = _planning(services)
    options: dict[str, Any] = {
        "product_code": args.product,
        "schedule": args.schedule,
        "delivery": args.delivery,
        "segments": [s.strip() for s in args.segments.split(",")] if args.segments else [],
        "interval_days": args.interval_days,
        "capacity_mg_per_ml": args.capacity_mg_per_ml,
        "vial_bead_volume_ml": args.vial_ml,
        "bsa_formula": args.bsa_formula,
        "slv_formula": args.slv_formula,
    }
    if (args.approve or args.acknowledge_all or args.contraindication_reason) and not (
        args.save and args.approve
    ):
        print("error: approving needs --save --approve", file=sys.stderr)
        return 2
    plan = planning.propose(args.case, model=args.model, options=options)
    repeated = False
    if args.save:
        plan, saved = planning.save_plan_if_changed(plan)
        repeated = not saved
    if args.approve:
        refused = _approve_plan(args, planning, plan)
        if isinstance(refused, str):
            print(f"error: {refused}", file=sys.stderr)
            return 1
        plan = refused
    if repeated:
        print(
            f"note: nothing changed since plan version {plan.plan_version} was saved — "
            "not saved again",
            file=sys.stderr if args.json else sys.stdout,
        )
    if getattr(plan, "proposal", None) is not None and plan.proposal.progress is None:
        # a saved plan read back carries no progress: the approved plan under way is
        # named beside it as beside the live proposal
        progress = planning.plan_progress(args.case)
        plan = dataclasses.replace(
            plan, proposal=dataclasses.replace(plan.proposal, progress=progress)
        )
    if args.json:
        print(json.dumps(plan.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_plan(plan)
    if args.pdf is not None and render_pdf is not None:
        key = None
        try:
            key = planning.key_image(args.case, services.studies.load_series)
        except TacePlannerError as error:
            log.warning("no key image for the plan sheet: %s", error)
        render_pdf(plan, args.pdf, key)
        print(f"plan sheet written to {args.pdf}", file=sys.stderr if args.json else sys.stdout)
    return 1 if plan.blocked else 0


def _approve_plan(args: argparse.Namespace, planning: Any, plan: Any) -> Any:
    """Approve a saved draft through ``PlanningService.approve``; the refusal as text."""
    if plan.blocked:
        return "plan: blocked, nothing to approve"
    _, shown = planning.preview_overrides(plan.pk, {})
    warnings = [a for a in shown if a.severity in ("warning", "strong_warning")]
    contraindications = [a for a in shown if a.severity == "contraindication"]
    if warnings and not args.acknowledge_all:
        listed = "; ".join(f"[{a.severity}] {a.code}: {a.message}" for a in warnings)
        return (
            f"acknowledged_warnings: plan {plan.pk} saved as a draft, not approved — "
            f"acknowledge with --acknowledge-all: {listed}"
        )
    reason = (args.contraindication_reason or "").strip()
    if contraindications and not reason:
        listed = "; ".join(f"{a.code}: {a.message}" for a in contraindications)
        return (
            f"contraindication_reasons: plan {plan.pk} saved as a draft, not approved — "
            f"give --contraindication-reason TEXT for: {listed}"
        )
    return planning.approve(
        plan.pk,
        [a.code for a in warnings],
        contraindication_reasons={a.code: reason for a in contraindications},
        expected_version=plan.version,
    )


def _output_problem(path: Path, magic: bytes, kind: str) -> str:
    """Why ``path`` cannot take an exported file ("" when it can): checked before any work."""
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if not path.parent.is_dir():
        return f"{path.parent}: no such folder"
    if path.exists():
        try:
            with open(path, "rb") as handle:
                head = handle.read(len(magic))
        except OSError as error:
            return f"{path}: cannot be replaced ({error.strerror or error})"
        if head != magic:
            return f"{path} exists and is not {kind}; it is not replaced"
    return ""
