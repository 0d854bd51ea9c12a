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
from tace_planner.cli_common import case_id, iso_date, run_task
from tace_planner.cli_contours import add_contour_commands, run_contour, run_measurements, run_seg
from tace_planner.cli_export import add_export_parser, run_export
from tace_planner.cli_followup import COMMANDS as FOLLOWUP_COMMANDS
from tace_planner.cli_followup import add_followup_commands, run_followup_command
from tace_planner.cli_lesions import add_lesion_commands, run_lesion_command
from tace_planner.cli_planning import add_planning_commands, run_patient, run_plan
from tace_planner.cli_procedures import add_procedure_commands, run_procedure_command
from tace_planner.cli_response import add_response_commands, run_assess, run_recist
from tace_planner.cli_studies import add_study_commands, run_study_command
from tace_planner.domain.errors import TacePlannerError

GuiLauncher = Callable[[Any, "int | None"], int]
"""Opens the main window on services (or a function opening them: the window is painted
first) and an optional case; returns the exit code."""

PdfRenderer = Callable[[Any, Path, Any], None]
"""Writes a plan (PlanProposal or PlanItem) as a one-page PDF plan sheet, with an optional
key image; injected by the GUI composition root because it needs Qt."""


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
    target.add_argument("--case", type=case_id, help="check every baseline study of this case")
    protocol.add_argument("--tace-date", type=iso_date, help="planned TACE date, YYYY-MM-DD")
    protocol.add_argument("--json", action="store_true")

    classify = commands.add_parser("classify", help="correct a series' phase or sequence")
    classify.add_argument("series_uid")
    classify.add_argument("--phase", help="native, arterial, venous, delayed or unknown")
    classify.add_argument("--sequence", help="t1, t2, dwi, adc or other")
    classify.add_argument("--plane", help="axial, coronal or sagittal")
    classify.add_argument("--reason", default="", help="why (kept in the audit trail)")

    cases = commands.add_parser("cases", help="list treatment cases")
    cases.add_argument("--json", action="store_true")
    add_planning_commands(commands, case_id)
    add_contour_commands(commands)
    add_cohort_parser(commands)
    add_response_commands(commands, case_id)
    add_procedure_commands(commands)
    add_case_commands(commands, case_id)
    add_lesion_commands(commands)
    add_followup_commands(commands, case_id)
    add_export_parser(commands, case_id)
    add_study_commands(commands)
    return parser


def _phantom_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text}: the seed is a whole number, 0 or more")
    return value


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
    truth = run_task(generate_phantom(args.outdir, size=args.size, seed=args.seed), args.verbose)
    print(f"phantom written to {args.outdir} (tace date {truth.to_json()['tace_date']})")
    return 0


def _cmd_demo(args: argparse.Namespace, services: Any, launch_gui: GuiLauncher | None) -> int:
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo

    report = run_task(
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
    report = run_task(services.studies.import_paths(args.paths), args.verbose)
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
                    "errors": [
                        {"file": str(e.path), "reason": e.reason, "files": e.files}
                        for e in report.errors
                    ],
                    "failed_files": report.failed_files,  # a refused series counts each file
                    "skipped": [{"file": str(e.path), "reason": e.reason} for e in report.skipped],
                    # the CD indexes read (also among "skipped", as before: that key is kept)
                    "dicomdirs": [
                        {"file": str(d.path), "listed_files": d.listed_files}
                        for d in report.dicomdirs
                    ],
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
            f"{report.failed_files} failed"
        )
        for used in report.dicomdirs:
            print(
                f"  read from the CD's index (DICOMDIR): {used.path} "
                f"({used.listed_files} files listed)"
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
    from tace_planner.domain.protocol import STATUS_WORDS

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
        # the statuses in the window's words (the JSON keeps the codes)
        width = max(len(words) for words in STATUS_WORDS.values())
        for requirement in result.requirements:
            words = requirement.status_words
            print(f"  {words:<{width}}  {requirement.name}: {requirement.reason}")
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


_COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "import": _cmd_import,
    "series": _cmd_series,
    "remove-series": _cmd_remove_series,
    "cases": _cmd_cases,
    "check-protocol": _cmd_check_protocol,
    "classify": _cmd_classify,
    "patient": run_patient,
    "contour": run_contour,
    "measurements": run_measurements,
    "seg": run_seg,
    "lesion": run_lesion_command,
    "study": run_study_command,
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
            return run_plan(args, services, render_pdf)
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
