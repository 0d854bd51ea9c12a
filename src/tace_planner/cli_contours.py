"""``tace-planner contour|measurements|seg``: contour foci and the liver, measure, exchange SEG.

Registered from :mod:`tace_planner.cli`; the handlers run on the services that
``cli.main`` opens. Refusals raise :class:`~tace_planner.domain.errors.TacePlannerError`
and ``cli.main`` prints them in one line (exit 1); a malformed command line exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tace_planner.cli_common import fmt, run_task


def _seed(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"{text!r}: give a point as X,Y,Z in LPS mm")
    return values  # type: ignore[return-value]


def add_contour_commands(commands: Any) -> None:
    """Add ``contour auto|liver|delete``, ``measurements`` and ``seg export|import``."""
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
        f"V_liv {fmt(result.liver_volume_cm3, 1, ' cm³')}, "
        f"V_mts {fmt(result.tumour_volume_cm3, 2, ' cm³')}, "
        f"F {fmt(result.burden_percent, 2, ' %')}"
    )
    for note in result.notes:
        print(f"  note: {note}")


def run_contour(args: argparse.Namespace, services: Any) -> int:
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
        result = run_task(
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


def run_measurements(args: argparse.Namespace, services: Any) -> int:
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


def run_seg(args: argparse.Namespace, services: Any) -> int:
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
