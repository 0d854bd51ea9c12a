"""Command-line entry points: the same services as the GUI, without Qt."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tace_planner import __version__
from tace_planner.cli_cases import add_case_commands, run_case_command
from tace_planner.cli_cohort import add_cohort_parser, run_cohort
from tace_planner.cli_export import add_export_parser, run_export
from tace_planner.cli_followup import COMMANDS as FOLLOWUP_COMMANDS
from tace_planner.cli_followup import add_followup_commands, run_followup_command
from tace_planner.cli_lesions import add_lesion_commands, run_lesion_command
from tace_planner.cli_procedures import add_procedure_commands, run_procedure_command
from tace_planner.cli_response import add_response_commands, run_assess, run_recist
from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.progress import Progress, Task, run_sync

GuiLauncher = Callable[[Any, "int | None"], int]
"""Opens the main window on services (or a function opening them: the window is painted
first) and an optional case; returns the exit code."""

PdfRenderer = Callable[[Any, Path, Any], None]
"""Writes a plan (PlanProposal or PlanItem) as a one-page PDF plan sheet, with an optional
key image; injected by the GUI composition root because it needs Qt."""

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tace-planner``."""
    parser = argparse.ArgumentParser(
        prog="tace-planner",
        description="Plan and follow transarterial chemoembolization of liver metastases.",
    )
    parser.add_argument("--version", action="version", version=f"tace-planner {__version__}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="database and image store folder "
        "(default: per-user data folder; env TACE_PLANNER_DATA)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL of another database, "
        "e.g. postgresql+psycopg://host/tace (env TACE_PLANNER_DB)",
    )
    parser.add_argument("--user", help="name written to the audit trail (default: OS login)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="import, contour, plan, print and exchange a small phantom in a temporary "
        "folder; exit 0 when every step works, 1 naming the step that failed",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="open the main window (the default)")
    gui.add_argument(
        "--check-window",
        action="store_true",
        help="start-up check: exit 0 as soon as the main window is shown",
    )

    demo = commands.add_parser("demo", help="import the demo patient and open it")
    demo.add_argument("--no-gui", action="store_true", help="stop after importing")
    demo.add_argument(
        "--phantom-size",
        choices=["small", "full"],
        default="full",
        help="size of the generated phantom (small is for tests)",
    )

    phantom = commands.add_parser("phantom", help="write the synthetic DICOM phantom")
    phantom.add_argument("outdir", type=Path)
    phantom.add_argument(
        "--size",
        choices=["small", "full", "realistic"],
        default="full",
        help="the demo course (small or full size), or one realistic whole-liver CT",
    )
    phantom.add_argument("--seed", type=_phantom_seed, default=0, help="0 or more")

    importer = commands.add_parser("import", help="import DICOM files, folders or CDs")
    importer.add_argument("paths", nargs="+", type=Path)
    importer.add_argument("--json", action="store_true", help="print one JSON object")

    series = commands.add_parser("series", help="list stored series")
    series.add_argument("--json", action="store_true")

    remove = commands.add_parser(
        "remove-series", help="delete a stored series and its files (audited)"
    )
    remove.add_argument("series_uid", help="Series Instance UID (see `series`)")
    remove.add_argument("--reason", default="", help="why (kept in the audit trail)")
    remove.add_argument(
        "--with-measurements",
        action="store_true",
        help="also delete the rulers, ellipses and angles drawn on it (each audited)",
    )

    protocol = commands.add_parser(
        "check-protocol", help="check a study (or a case's baseline) against the imaging protocol"
    )
    target = protocol.add_mutually_exclusive_group(required=True)
    target.add_argument("study_uid", nargs="?", help="Study Instance UID")
    target.add_argument("--case", type=_case_id, help="check every baseline study of this case")
    protocol.add_argument("--tace-date", type=_iso_date, help="planned TACE date, YYYY-MM-DD")
    protocol.add_argument("--json", action="store_true")

    classify = commands.add_parser("classify", help="correct a series' phase or sequence")
    classify.add_argument("series_uid")
    classify.add_argument("--phase", help="native, arterial, venous, delayed or unknown")
    classify.add_argument("--sequence", help="t1, t2, dwi, adc or other")
    classify.add_argument("--plane", help="axial, coronal or sagittal")
    classify.add_argument("--reason", default="", help="why (kept in the audit trail)")

    cases = commands.add_parser("cases", help="list treatment cases")
    cases.add_argument("--json", action="store_true")
    _add_planning_commands(commands)
    _add_contouring_commands(commands)
    add_cohort_parser(commands)
    add_response_commands(commands, _case_id)
    add_procedure_commands(commands)
    add_case_commands(commands, _case_id)
    add_lesion_commands(commands)
    add_followup_commands(commands, _case_id)
    add_export_parser(commands, _case_id)
    return parser


def _seed(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"{text!r}: give a point as X,Y,Z in LPS mm")
    return values  # type: ignore[return-value]


def _add_contouring_commands(commands: Any) -> None:
    contour = commands.add_parser("contour", help="contour a focus or the liver from a click")
    actions = contour.add_subparsers(dest="contour_command", metavar="ACTION", required=True)
    auto = actions.add_parser("auto", help="auto contour a focus from a point inside it")
    liver = actions.add_parser("liver", help="contour the whole liver from a point inside it")
    for parser in (auto, liver):
        parser.add_argument("--series", required=True, help="Series Instance UID")
        parser.add_argument("--part", help="volume of a multi-volume series (see `series`)")
        parser.add_argument(
            "--seed",
            type=_seed,
            required=True,
            metavar="X,Y,Z",
            help="LPS mm; write --seed=-95,0,20 when X is negative",
        )
        parser.add_argument("--json", action="store_true")
    auto.add_argument("--lesion", help="lesion name (default: a new focus F<n>)")
    auto.add_argument(
        "--force",
        action="store_true",
        help="contour a click on fat, bone, plain liver parenchyma or outside the liver contour "
        "anyway",
    )
    auto.add_argument("--segment", help="Couinaud segment I-VIII of the focus")
    auto.add_argument(
        "--replace",
        action="store_true",
        help="replace the lesion's contour at this timepoint even when it was drawn or edited "
        "by hand (an automatic contour is always replaced)",
    )
    auto.add_argument(
        "--margin-mm",
        type=float,
        default=0.0,
        metavar="MM",
        help="move the whole contour out (positive) or in by MM, -5 to 5, after the clicks "
        "(for an edge the contour follows a little inside or outside all round)",
    )
    delete = actions.add_parser(
        "delete",
        help="remove a lesion's contour at the series' timepoint (audited; the lesion stays)",
    )
    delete.add_argument("--series", required=True, help="any series of the timepoint")
    delete.add_argument("--lesion", required=True, help="lesion name (F1, …, or Liver)")
    delete.add_argument("--json", action="store_true")
    for parser, what in ((auto, "focus"), (liver, "liver")):
        parser.add_argument(
            "--include",
            type=_seed,
            action="append",
            default=[],
            metavar="X,Y,Z",
            help=f"a corrective click inside the {what} (repeatable; a hard constraint)",
        )
        parser.add_argument(
            "--exclude",
            type=_seed,
            action="append",
            default=[],
            metavar="X,Y,Z",
            help="a corrective click that must stay outside (repeatable; a hard constraint)",
        )
    measurements = commands.add_parser(
        "measurements", help="lesion volumes, diameters, HU and tumour burden F"
    )
    measurements.add_argument("--series", required=True, help="any series of the timepoint")
    measurements.add_argument(
        "--remeasure", action="store_true", help="measure the stored contours again first"
    )
    measurements.add_argument("--json", action="store_true")
    seg = commands.add_parser("seg", help="exchange contours as DICOM SEG")
    seg_actions = seg.add_subparsers(dest="seg_command", metavar="ACTION", required=True)
    export = seg_actions.add_parser("export", help="write a series' contours as one SEG file")
    export.add_argument("--series", required=True, help="Series Instance UID")
    export.add_argument("--part", help="volume of a multi-volume series")
    export.add_argument("out", type=Path, metavar="OUT.dcm")
    importer = seg_actions.add_parser("import", help="read a SEG onto its stored series")
    importer.add_argument("file", type=Path)
    importer.add_argument(
        "--replace",
        action="store_true",
        help="replace the contours already stored at the series' timepoint (default: keep them "
        "and import only the lesions without one)",
    )
    importer.add_argument("--json", action="store_true")


def _yes_no(text: str) -> bool:
    if text.lower() in ("yes", "y", "true", "1"):
        return True
    if text.lower() in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: answer yes or no")


def _add_planning_commands(commands: Any) -> None:
    patient = commands.add_parser("patient", help="patient inputs used for planning")
    actions = patient.add_subparsers(dest="patient_command", metavar="ACTION", required=True)
    setter = actions.add_parser("set", help="record height, weight, labs and ECOG of a case")
    setter.add_argument("--case", type=_case_id, required=True, help="case id (see `cases`)")
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
    show.add_argument("--case", type=_case_id, required=True)
    show.add_argument("--json", action="store_true")

    plan = commands.add_parser(
        "plan", help="propose beads, vials and irinotecan dose for a case (not saved)"
    )
    plan.add_argument("--case", type=_case_id, required=True, help="case id (see `cases`)")
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


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


EARLIEST_MEASUREMENT = dt.date(1900, 1, 1)


def _measurement_date(text: str) -> dt.date:
    """A date on which something was measured: from 1900 on, and not in the future."""
    day = _iso_date(text)
    if day < EARLIEST_MEASUREMENT:
        raise argparse.ArgumentTypeError(f"{text}: a measurement date is 1900-01-01 or later")
    if day > dt.date.today() + dt.timedelta(days=1):
        raise argparse.ArgumentTypeError(f"{text}: a measurement date is not in the future")
    return day


MAX_ID = 2**63 - 1
"""The largest id a database row can have."""


def _case_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a case id (a number)") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{text}: no such case (case ids are 1 to {MAX_ID})")
    return value


def _phantom_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text}: the seed is a whole number, 0 or more")
    return value


def _progress_printer(verbose: bool) -> Callable[[Progress], None] | None:
    if not verbose:
        return None

    def show(step: Progress) -> None:
        print(f"\r{step.message} {step.done}/{step.total}", end="", file=sys.stderr, flush=True)

    return show


def _run(task: Task[Any], verbose: bool) -> Any:
    result = run_sync(task, _progress_printer(verbose))
    if verbose:
        print(file=sys.stderr)
    return result


def _open_services(args: argparse.Namespace) -> Any:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import resolve_settings

    settings = resolve_settings(data_dir=args.data_dir, db_url=args.db, user=args.user)
    services = open_services(settings)
    if services.read_only:
        print(
            f"note: the data folder {settings.data_dir} is read-only: the database was "
            "opened read-only, and changes will be refused",
            file=sys.stderr,
        )
    return services


def _cmd_phantom(args: argparse.Namespace) -> int:
    from tace_planner.imaging.phantom import generate_phantom

    if args.outdir.exists() and not args.outdir.is_dir():
        print(f"error: {args.outdir} is a file; give a folder for the phantom", file=sys.stderr)
        return 1
    try:
        args.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(
            f"error: {args.outdir}: cannot create the folder ({error.strerror or error})",
            file=sys.stderr,
        )
        return 1
    if args.size == "realistic":
        from tace_planner.imaging.phantom_realistic_dicom import write_realistic_phantom

        realistic = write_realistic_phantom(args.outdir, args.seed)
        print(
            f"realistic phantom written to {args.outdir} (patient {realistic['patient_id']}, "
            f"{len(realistic['tumours'])} tumours; truth in truth.json)"
        )
        return 0
    truth = _run(generate_phantom(args.outdir, size=args.size, seed=args.seed), args.verbose)
    print(f"phantom written to {args.outdir} (tace date {truth.to_json()['tace_date']})")
    return 0


def _cmd_demo(args: argparse.Namespace, services: Any, launch_gui: GuiLauncher | None) -> int:
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo

    report = _run(
        prepare_demo(
            services.studies,
            services.cases,
            services.settings.demo_dir,
            size=args.phantom_size,
            contouring=contouring_service(services),
        ),
        args.verbose,
    )
    case = report.case
    print(
        f"demo case {case.pk}: {case.title} — patient {case.patient_id}, "
        f"{case.study_count} studies, TACE {case.planned_tace_on}"
    )
    print(
        f"{report.imported.new_instances} new file(s) imported, "
        f"{report.imported.known_instances} already stored"
    )
    if report.contoured:
        print(f"{report.contoured} lesion(s) contoured at baseline (liver and foci)")
    if report.note:  # a re-run over a case the user changed: what it left as it was
        print(report.note)
    for item in sorted(
        report.imported.series, key=lambda s: (str(s.series_on), s.series_number or 0)
    ):
        print(
            f"  {item.series_on}  {item.modality:2}  {item.classification:16} "
            f"{item.image_count:4} images  {item.description}"
        )
    if args.no_gui:
        return 0
    return _open_gui(launch_gui, services, case.pk)


def _cmd_self_test(render_pdf: PdfRenderer | None) -> int:
    from tace_planner.services.self_test import header, run_self_test

    print(header(), flush=True)
    report = run_self_test(render_pdf, echo=lambda line: print(line, flush=True))
    print(report.lines()[-1])
    failed = report.failed
    if failed is not None:
        print(f"error: self-test failed at step '{failed.name}': {failed.detail}", file=sys.stderr)
        return 1
    return 0


def _open_gui(launch_gui: GuiLauncher | None, services: Any, case_pk: int | None) -> int:
    if launch_gui is None:
        print("error: the GUI is not available (install tace-planner[gui])", file=sys.stderr)
        return 1
    return launch_gui(services, case_pk)


def _cmd_import(args: argparse.Namespace, services: Any) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = _run(services.studies.import_paths(args.paths), args.verbose)
    volumes = [s for s in report.series if s.is_volume]
    # follow-up: new studies linked at once (the saved setting) or proposed for confirmation
    followup = services.followups.studies_imported(
        list(dict.fromkeys(s.study_uid for s in report.series)),
        link_at_once=services.settings.link_new_studies,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "volumes": [entry for s in volumes for entry in s.volume_entries()],
                    "errors": [{"file": str(e.path), "reason": e.reason} for e in report.errors],
                    "skipped": [{"file": str(e.path), "reason": e.reason} for e in report.skipped],
                    "other_series": [s.to_json() for s in report.series if not s.is_volume],
                    "remapped": [
                        {"file": str(e.path), "reason": e.reason} for e in report.remapped
                    ],
                    "warnings": [
                        {"file": str(e.path), "reason": e.reason} for e in report.warnings
                    ],
                    **({"followup": followup.to_json()} if followup.message() else {}),
                },
                indent=2,
            )
        )
    else:
        print(
            f"{report.new_instances} new file(s), {report.known_instances} already stored, "
            f"{len(report.errors)} failed"
        )
        for item in report.series:
            print(
                f"  {item.modality:2} {item.classification:16} {item.image_count:4} images  "
                f"{item.label}"
            )
        for warning in report.warnings:
            print(f"  warning: {warning.path}: {warning.reason}")
        for error in report.errors:
            print(f"  failed: {error.path}: {error.reason}")
        if followup.message():
            print(f"follow-up: {followup.message()}")
            for match in followup.to_confirm:
                print(f"  {match.study_uid}: {match.message} (followup match --confirm)")
        for label, entries in (("remapped", report.remapped), ("skipped", report.skipped)):
            for entry in entries[:_LISTED_AT_MOST]:
                print(f"  {label}: {entry.path}: {entry.reason}")
            if len(entries) > _LISTED_AT_MOST:
                print(f"  … and {len(entries) - _LISTED_AT_MOST} more {label} (see --json)")
    return 0 if volumes else 1


_LISTED_AT_MOST = 20


def _cmd_remove_series(args: argparse.Namespace, services: Any) -> int:
    from tace_planner.services.studies import SeriesHasMeasurements

    try:
        item = services.studies.remove_series(
            args.series_uid, reason=args.reason, with_measurements=args.with_measurements
        )
    except SeriesHasMeasurements as error:
        print(
            f"error: {error.series_name or 'series ' + error.series_uid} "
            f"(UID {error.series_uid}) has {len(error.measurements)} measurement(s) drawn on "
            "it; it is kept, since a measurement may be a documented RECIST diameter:",
            file=sys.stderr,
        )
        for line in error.measurements:
            print(f"  {line}", file=sys.stderr)
        print(
            "delete them in the viewer's measurement list first, or add --with-measurements "
            "to remove them with the series (each is kept in the audit trail)",
            file=sys.stderr,
        )
        return 1
    print(
        f"removed series {item.series_uid} ({item.description or 'no description'}, "
        f"{item.image_count} file(s))"
    )
    if item.removed_measurements:
        print(
            f"removed with it {len(item.removed_measurements)} measurement(s) "
            "(each kept in the audit trail):"
        )
        for line in item.removed_measurements:
            print(f"  {line}")
    return 0


def _cmd_series(args: argparse.Namespace, services: Any) -> int:
    items = services.studies.list_series()
    if args.json:
        entries = []
        for item in items:
            volumes = item.volume_entries() if item.is_volume else []
            entries.extend(volumes or [{**item.to_json(), "part": None}])
        print(json.dumps(entries, indent=2))
    else:
        for item in items:
            print(
                f"{item.series_on}  {item.modality:2} {item.classification:16} "
                f"{item.image_count:4} images  {item.description}  {item.series_uid}"
            )
    return 0


def _cmd_check_protocol(args: argparse.Namespace, services: Any) -> int:
    if args.case is not None:
        if args.tace_date is not None:
            print("error: --tace-date comes from the case with --case", file=sys.stderr)
            return 2
        result = services.protocol.check_baseline(args.case)
    else:
        result = services.protocol.check_study(args.study_uid, args.tace_date)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.summary())
        marks = {"pass": "ok  ", "fail": "FAIL", "not_evaluated": "n/a "}
        for requirement in result.requirements:
            print(
                f"  {marks.get(requirement.status, requirement.status)}  "
                f"{requirement.name}: {requirement.reason}"
            )
    return 0 if result.status != "fail" else 1


def _cmd_classify(args: argparse.Namespace, services: Any) -> int:
    if not (args.phase or args.sequence or args.plane):
        print("error: give --phase, --sequence or --plane", file=sys.stderr)
        return 2
    item = services.protocol.correct_classification(
        args.series_uid,
        phase=args.phase,
        sequence=args.sequence,
        plane=args.plane,
        reason=args.reason,
    )
    print(
        f"{item.description}: {item.modality} {item.classification} (set by {args.user or 'you'})"
    )
    return 0


def _cmd_cases(args: argparse.Namespace, services: Any) -> int:
    items = services.cases.list_cases()
    if args.json:
        print(json.dumps([item.to_json() for item in items], indent=2))
    else:
        for item in items:
            print(
                f"{item.pk:4}  {item.patient_id}  {item.patient_name}  {item.title}  "
                f"TACE {item.planned_tace_on}  {item.study_count} studies"
            )
    return 0


def _planning(services: Any) -> Any:
    return services.planning


def _cmd_patient(args: argparse.Namespace, services: Any) -> int:
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


def _fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


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
        f"  V_liv {_fmt(figures.get('liver_volume_cm3'), 0, ' cm³')}, "
        f"V_mts {_fmt(figures.get('tumour_volume_cm3'), 1, ' cm³')} ({lobes}), "
        f"F {_fmt(figures.get('burden_percent'), 1, ' %')}, "
        f"BSA {_fmt(figures.get('bsa_m2'), 3, ' m²')}, "
        f"SLV {_fmt(figures.get('standard_liver_volume_cm3'), 0, ' cm³')}"
    )
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


def _cmd_plan(args: argparse.Namespace, services: Any, render_pdf: PdfRenderer | None) -> int:
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
    if args.save:
        plan = planning.save_plan(plan)
    if args.approve:
        refused = _approve_plan(args, planning, plan)
        if isinstance(refused, str):
            print(f"error: {refused}", file=sys.stderr)
            return 1
        plan = refused
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


def _print_lesion(item: Any) -> None:
    def num(value: float | None, digits: int, unit: str) -> str:
        return "—" if value is None else f"{value:.{digits}f}{unit}"

    fraction = item.enhancing_fraction
    enhancing = None if fraction is None else 100 * fraction
    print(
        f"  {item.name:8} {item.couinaud_segment or '—':5} "
        f"{num(item.volume_cm3, 2, ' cm³'):>12} "
        f"long {num(item.longest_axial_diameter_mm, 1, ' mm'):>9} "
        f"short {num(item.short_axis_mm, 1, ' mm'):>9} "
        f"HU {num(item.mean_hu, 0, ''):>5} "
        f"enh {num(enhancing, 0, ' %'):>6}"
        + ("" if item.trust in ("ok", "") else f"  [{item.trust}]")
    )


def _print_measurements(result: Any) -> None:
    print(f"case {result.case_pk}, {result.timepoint_label}:")
    for item in result.lesions:
        _print_lesion(item)
    print(
        f"V_liv {_fmt(result.liver_volume_cm3, 1, ' cm³')}, "
        f"V_mts {_fmt(result.tumour_volume_cm3, 2, ' cm³')}, "
        f"F {_fmt(result.burden_percent, 2, ' %')}"
    )
    for note in result.notes:
        print(f"  note: {note}")


def _cmd_contour(args: argparse.Namespace, services: Any) -> int:
    from tace_planner.services.contouring import contouring_service

    contouring = contouring_service(services)
    if args.contour_command == "delete":
        name, label = contouring.delete_contour(args.series, args.lesion)
        if args.json:
            print(json.dumps({"lesion": name, "timepoint": label, "removed": True}, indent=2))
        else:
            print(f"contour of {name} at {label} removed (audited)")
        return 0
    case_pk, _, _ = contouring.series_context(args.series)
    if args.contour_command == "liver":
        result = _run(
            contouring.contour_liver_task(
                case_pk,
                args.series,
                args.seed,
                part=args.part,
                include=args.include,
                exclude=args.exclude,
            ),
            args.verbose,
        )
    else:
        from tace_planner.domain.plausibility import ImplausibleClickError
        from tace_planner.services.seg_exchange import HandContourKept

        try:
            result = contouring.auto_contour(
                case_pk,
                args.series,
                args.seed,
                lesion=args.lesion,
                include=args.include,
                exclude=args.exclude,
                part=args.part,
                couinaud_segment=args.segment,
                confirmed=args.force,
                margin_mm=args.margin_mm,
                replace_hand_drawn=args.replace,
            )
        except HandContourKept as error:
            kept = error.kept
            print(
                f"error: {kept.name} already has a contour at {kept.timepoint} "
                f"{kept.describe()}: add --replace to replace it",
                file=sys.stderr,
            )
            return 1
        except ImplausibleClickError as error:
            advice = (
                "add --force to contour it anyway"
                if error.needs_confirmation
                else "give a point inside the focus"
            )
            print(f"error: seed: {error.verdict.reason}; {advice}", file=sys.stderr)
            return 1
    measurement = result.measurement
    if args.json:
        data = measurement.to_json() if measurement is not None else {"name": result.lesion.name}
        data["warnings"] = list(result.warnings)
        data["message"] = getattr(result, "message", "")
        data["notes"] = list(result.notes)
        print(json.dumps(data, indent=2))
    else:
        print(f"{result.lesion.name} contoured on series {args.series}:")
        if measurement is not None:
            _print_lesion(measurement)
        for warning in result.warnings:
            print(f"  warning: {warning}")
        for note in result.notes:
            print(f"  note: {note}")
    return 0


def _cmd_measurements(args: argparse.Namespace, services: Any) -> int:
    from tace_planner.services.contouring import contouring_service

    contouring = contouring_service(services)
    if args.remeasure:
        case_pk, timepoint_pk, _ = contouring.series_context(args.series)
        contouring.measure(case_pk, timepoint_pk)
    result = contouring.measurements(args.series)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        _print_measurements(result)
    return 0


def _cmd_seg(args: argparse.Namespace, services: Any) -> int:
    from tace_planner.imaging.dicom.seg import check_seg_file, check_seg_target
    from tace_planner.services.contouring import contouring_service

    contouring = contouring_service(services)
    if args.seg_command == "export":
        check_seg_target(args.out)
        path = contouring.export_seg(args.series, args.out, part=args.part)
        print(f"DICOM SEG written to {path}")
        return 0
    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    check_seg_file(args.file)
    result = contouring.import_seg(args.file, replace=args.replace)
    if result.kept:
        kept = ", ".join(f"{k.name} ({k.describe()})" if k.by_hand else k.name for k in result.kept)
        print(
            f"kept the stored contour of {kept} at {result.kept[0].timepoint}, not imported "
            f"from {args.file.name}: add --replace to replace them",
            file=sys.stderr,
        )
    if args.json:
        print(
            json.dumps(
                {
                    "series_uid": result.series_uid,
                    "lesions": [item.name for item in result.lesions],
                    "warnings": list(result.warnings),
                    "kept": [k.name for k in result.kept],
                },
                indent=2,
            )
        )
    else:
        names = ", ".join(item.name for item in result.lesions)
        if names:
            count = len(result.lesions)
            print(f"{count} contour(s) imported onto series {result.series_uid}: {names}")
        else:
            print(f"no contour imported onto series {result.series_uid}")
        for warning in result.warnings:
            print(f"  warning: {warning}")
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "import": _cmd_import,
    "series": _cmd_series,
    "remove-series": _cmd_remove_series,
    "cases": _cmd_cases,
    "check-protocol": _cmd_check_protocol,
    "classify": _cmd_classify,
    "patient": _cmd_patient,
    "contour": _cmd_contour,
    "measurements": _cmd_measurements,
    "seg": _cmd_seg,
    "lesion": run_lesion_command,
}
"""Commands that need only the arguments and the services."""


def main(
    argv: Sequence[str] | None = None,
    launch_gui: GuiLauncher | None = None,
    render_pdf: PdfRenderer | None = None,
) -> int:
    """Run ``tace-planner``; ``launch_gui`` and ``render_pdf`` are injected by the GUI root.

    Returns
    -------
    int
        0 on success, 1 on a failure the user can fix (and for a plan that is
        blocked, e.g. a product without irinotecan capacity), 2 on a usage error.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        return _dispatch(args, launch_gui, render_pdf)
    except TacePlannerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the one place that turns any failure into a line
        known = failure_message(error)
        if known is not None:
            print(f"error: {known}", file=sys.stderr)
            return 1
        where = _write_error_log(args, error)
        print(
            f"error: unexpected {type(error).__name__}: {_first_line(error)} ({where})",
            file=sys.stderr,
        )
        return 1


def _dispatch(
    args: argparse.Namespace, launch_gui: GuiLauncher | None, render_pdf: PdfRenderer | None
) -> int:
    if args.self_test:
        return _cmd_self_test(render_pdf)
    if args.command == "phantom":
        return _cmd_phantom(args)
    if args.command == "cohort":
        return run_cohort(args, lambda: _open_services(args), render_pdf)
    if args.command == "recist":
        return run_recist(args)
    window = args.command in (None, "gui") or (args.command == "demo" and not args.no_gui)
    if window and launch_gui is not None:
        # The window is painted first; it opens the services on a worker thread (issue 17).
        opener = functools.partial(_open_services, args)
        if args.command == "demo":
            return launch_gui(opener, None, demo_size=args.phantom_size)  # type: ignore[call-arg]
        if getattr(args, "check_window", False):
            return launch_gui(opener, None, check_window=True)  # type: ignore[call-arg]
        return launch_gui(opener, None)
    services = _open_services(args)
    try:
        if args.command in (None, "gui"):
            return _open_gui(None, services, None)
        if args.command == "demo":
            return _cmd_demo(args, services, launch_gui)
        if args.command == "plan":
            return _cmd_plan(args, services, render_pdf)
        if args.command == "procedure":
            return run_procedure_command(args, services, render_pdf)
        if args.command == "case":
            return run_case_command(args, services)
        if args.command == "export":
            return run_export(args, services, render_pdf)
        if args.command in FOLLOWUP_COMMANDS:
            return run_followup_command(args, services)
        if args.command == "assess":
            return run_assess(args, services)
        command = _COMMANDS.get(args.command)
        if command is not None:
            return command(args, services)
    finally:
        services.close()
    return 2


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else "(no message)"


def failure_message(error: BaseException) -> str | None:
    """One line for a failure that is not the app's own error but has a plain cause.

    Returns None for anything else (a defect: logged with its traceback).
    """
    import errno

    from sqlalchemy.exc import OperationalError

    from tace_planner.store.db import describe_database_error

    if isinstance(error, OperationalError):
        return describe_database_error(error)
    if isinstance(error, OSError):
        name = f"{error.filename}: " if error.filename else ""
        if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return f"{name}the disk is full; free some space and try again"
        if error.errno == errno.ENAMETOOLONG:
            return f"{name}the file name is too long"
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"{name}permission denied (the file or folder cannot be written)"
        if isinstance(error, NotADirectoryError):
            return f"{name}a file is in the way where a folder is needed"
        if isinstance(error, IsADirectoryError):
            return f"{name}is a folder; give a file name"
        if isinstance(error, FileNotFoundError):
            return f"{name}no such file or folder"
        return f"{name}{error.strerror or error}"
    if isinstance(error, ValueError) and "null byte" in str(error):
        return "a path or value contains a NUL character"
    if isinstance(error, OverflowError):
        return f"a number is too large ({_first_line(error)})"
    try:
        from pydicom.errors import InvalidDicomError
    except ImportError:  # pragma: no cover - pydicom is a dependency
        return None
    if isinstance(error, InvalidDicomError):
        return f"not a DICOM file ({_first_line(error)})"
    return None


def _write_error_log(args: argparse.Namespace, error: BaseException) -> str:
    """Append the traceback to the data folder's error log; say where it is (or why not)."""
    import traceback

    try:
        from tace_planner.services.settings import resolve_settings

        data_dir = resolve_settings(data_dir=args.data_dir, db_url=args.db).data_dir
    except Exception as settings_error:  # noqa: BLE001 - the log is best effort
        return f"no error log: {_first_line(settings_error)}"
    path = data_dir / "logs" / "errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as log_file:
            log_file.write(f"--- {stamp} tace-planner {__version__} {args.command or 'gui'}\n")
            log_file.write("".join(traceback.format_exception(error)))
    except OSError as log_error:
        return f"no error log could be written in {path.parent}: {log_error.strerror}"
    return f"details in {path}"
