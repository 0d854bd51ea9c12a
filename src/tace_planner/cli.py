"""Command-line entry points: the same services as the GUI, without Qt."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tace_planner import __version__
from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.progress import Progress, Task, run_sync

GuiLauncher = Callable[[Any, "int | None"], int]
"""Opens the main window on services and an optional case; returns the exit code."""

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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("gui", help="open the main window (the default)")

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
    phantom.add_argument("--size", choices=["small", "full"], default="full")
    phantom.add_argument("--seed", type=int, default=0)

    importer = commands.add_parser("import", help="import DICOM files, folders or CDs")
    importer.add_argument("paths", nargs="+", type=Path)
    importer.add_argument("--json", action="store_true", help="print one JSON object")

    series = commands.add_parser("series", help="list stored series")
    series.add_argument("--json", action="store_true")

    protocol = commands.add_parser(
        "check-protocol", help="check a study (or a case's baseline) against the imaging protocol"
    )
    target = protocol.add_mutually_exclusive_group(required=True)
    target.add_argument("study_uid", nargs="?", help="Study Instance UID")
    target.add_argument("--case", type=int, help="check every baseline study of this case")
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
    return parser


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


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
    return open_services(settings)


def _cmd_phantom(args: argparse.Namespace) -> int:
    from tace_planner.imaging.phantom import generate_phantom

    args.outdir.mkdir(parents=True, exist_ok=True)
    truth = _run(generate_phantom(args.outdir, size=args.size, seed=args.seed), args.verbose)
    print(f"phantom written to {args.outdir} (tace date {truth.to_json()['tace_date']})")
    return 0


def _cmd_demo(args: argparse.Namespace, services: Any, launch_gui: GuiLauncher | None) -> int:
    from tace_planner.services.demo import prepare_demo

    report = _run(
        prepare_demo(
            services.studies, services.cases, services.settings.demo_dir, size=args.phantom_size
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
    for item in sorted(
        report.imported.series, key=lambda s: (str(s.series_on), s.series_number or 0)
    ):
        print(
            f"  {item.series_on}  {item.modality:2}  {item.classification:16} "
            f"{item.image_count:4} images  {item.description}"
        )
    if args.no_gui:
        return 0
    if launch_gui is None:
        print("error: the GUI is not available (install tace-planner[gui])", file=sys.stderr)
        return 1
    return launch_gui(services, case.pk)


def _cmd_import(args: argparse.Namespace, services: Any) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    report = _run(services.studies.import_paths(args.paths), args.verbose)
    volumes = [s for s in report.series if s.is_volume]
    if args.json:
        print(
            json.dumps(
                {
                    "volumes": [entry for s in volumes for entry in s.volume_entries()],
                    "errors": [{"file": str(e.path), "reason": e.reason} for e in report.errors],
                    "skipped": [{"file": str(e.path), "reason": e.reason} for e in report.skipped],
                    "other_series": [s.to_json() for s in report.series if not s.is_volume],
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
                f"{item.description}"
            )
        for error in report.errors:
            print(f"  failed: {error.path}: {error.reason}")
    return 0 if volumes else 1


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


def main(argv: Sequence[str] | None = None, launch_gui: GuiLauncher | None = None) -> int:
    """Run ``tace-planner``; ``launch_gui`` is injected by the GUI composition root.

    Returns
    -------
    int
        0 on success, 1 on a failure the user can fix, 2 on a usage error.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        if args.command == "phantom":
            return _cmd_phantom(args)
        services = _open_services(args)
        try:
            if args.command in (None, "gui"):
                if launch_gui is None:
                    print(
                        "error: the GUI is not available (install tace-planner[gui])",
                        file=sys.stderr,
                    )
                    return 1
                return launch_gui(services, None)
            if args.command == "demo":
                return _cmd_demo(args, services, launch_gui)
            if args.command == "import":
                return _cmd_import(args, services)
            if args.command == "series":
                return _cmd_series(args, services)
            if args.command == "cases":
                return _cmd_cases(args, services)
            if args.command == "check-protocol":
                return _cmd_check_protocol(args, services)
            if args.command == "classify":
                return _cmd_classify(args, services)
        finally:
            services.close()
    except TacePlannerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 2
