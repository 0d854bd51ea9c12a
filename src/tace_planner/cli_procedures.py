"""``tace-planner procedure …``: log, sign, amend, list and show procedure records.

Registered from :mod:`tace_planner.cli`. Exit codes as every command: 0 ok, 1 refused
(one line naming the field, from the error handling of ``cli.main``), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tace_planner import cli_common
from tace_planner.cli_common import iso_date
from tace_planner.domain.person_name import readable_person_name
from tace_planner.domain.procedure import ENDPOINTS, field_label, parse_adverse_event
from tace_planner.domain.procedure_plan import END_POINT_NOTE, delivery_against_plan

ProcedureRenderer = Callable[[Any, Path, Any], None]
"""Writes a procedure item as a PDF procedure note (injected by the GUI root: needs Qt)."""


def _reason(text: str) -> tuple[str, str]:
    key, sep, reason = text.partition("=")
    if not sep or not key.strip() or not reason.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write FIELD=REASON, e.g. vials='one vial'")
    return key.strip(), reason.strip()


def _add_value_options(parser: argparse.ArgumentParser, *, log: bool) -> None:
    """The record's values; on ``log`` the date and the fraction are required."""
    parser.add_argument(
        "--date", type=iso_date, required=log, metavar="D", help="date of the procedure"
    )
    parser.add_argument(
        "--delivered-fraction",
        type=float,
        required=log,
        metavar="F",
        help="fraction of the prepared suspension injected, 0–1",
    )
    parser.add_argument("--product", metavar="P", help="bead product code, e.g. dc_bead")
    parser.add_argument("--lot", metavar="L")
    parser.add_argument("--expiry", type=iso_date, metavar="D", help="expiry of the lot")
    parser.add_argument("--vials", type=int, metavar="N", help="vials prepared")
    parser.add_argument("--loaded-mg", type=float, metavar="X", help="irinotecan loaded, mg")
    parser.add_argument("--endpoint", choices=ENDPOINTS, help="angiographic end point")
    parser.add_argument("--lidocaine-mg", type=float, metavar="N", help="intra-arterial, mg")
    parser.add_argument(
        "--ae",
        action="append",
        default=[],
        metavar="TERM:GRADE",
        help="adverse event, CTCAE v5 term and grade (optionally :CIRSE:ONSET_DAY); repeatable",
    )
    parser.add_argument("--operator", help="radiosurgeon")
    parser.add_argument("--assistant")
    parser.add_argument("--start", metavar="HH:MM")
    parser.add_argument("--end", metavar="HH:MM")
    parser.add_argument("--injected-ml", type=float, help="suspension injected, mL")
    parser.add_argument("--contrast-ml", type=float, help="contrast volume, mL")
    parser.add_argument("--fluoroscopy-min", type=float, help="fluoroscopy time, min")
    parser.add_argument("--dap-gy-cm2", type=float, help="dose–area product, Gy·cm²")
    parser.add_argument("--air-kerma-mgy", type=float, help="reference air kerma, mGy")
    parser.add_argument("--bilirubin-mg-dl", type=float, help="default: the case's value")
    parser.add_argument("--stay-days", type=int, help="length of stay, days")
    parser.add_argument("--note", help="free-text note")
    parser.add_argument(
        "--difference-reason",
        type=_reason,
        action="append",
        default=[],
        metavar="FIELD=REASON",
        help="why a value differs from the plan (vials, loaded_mg, product_code, vessels, "
        "plan for an unplanned procedure); repeatable",
    )
    parser.add_argument(
        "--confirm-implausible",
        action="store_true",
        help="store values outside the plausible range (never impossible ones)",
    )
    parser.add_argument("--json", action="store_true", help="print the record as JSON")


_VALUE_FIELDS = {
    "date": "performed_on",
    "delivered_fraction": "delivered_fraction",
    "product": "product_code",
    "lot": "lot",
    "expiry": "expiry",
    "vials": "vials",
    "loaded_mg": "loaded_mg",
    "endpoint": "endpoint",
    "lidocaine_mg": "lidocaine_mg",
    "operator": "operator",
    "assistant": "assistant",
    "start": "start_time",
    "end": "end_time",
    "injected_ml": "injected_ml",
    "contrast_ml": "contrast_ml",
    "fluoroscopy_min": "fluoroscopy_min",
    "dap_gy_cm2": "dap_gy_cm2",
    "air_kerma_mgy": "air_kerma_mgy",
    "bilirubin_mg_dl": "bilirubin_mg_dl",
    "stay_days": "stay_days",
    "note": "note",
}


def add_procedure_commands(commands: Any, case_id: Any = cli_common.case_id) -> None:
    """Add ``procedure log|sign|amend|list|show`` (``case_id`` types ``--case``, as in
    every command)."""
    procedure = commands.add_parser("procedure", help="log, sign and amend TACE procedures")
    actions = procedure.add_subparsers(dest="procedure_command", metavar="ACTION", required=True)
    log = actions.add_parser("log", help="log a procedure (a draft) of a case")
    log.add_argument("--case", type=case_id, required=True, help="case id (see `cases`)")
    log.add_argument("--from-plan", type=int, metavar="PLAN_ID", help="an approved plan")
    log.add_argument("--session", type=int, metavar="N", help="its session (default 1)")
    _add_value_options(log, log=True)
    sign = actions.add_parser("sign", help="sign a draft: it is locked afterwards")
    sign.add_argument("procedure_id", type=int, metavar="ID")
    sign.add_argument("--json", action="store_true")
    amend = actions.add_parser("amend", help="amend a signed record (reason required)")
    amend.add_argument("procedure_id", type=int, metavar="ID")
    amend.add_argument("--reason", required=True, metavar="TEXT")
    _add_value_options(amend, log=False)
    listing = actions.add_parser("list", help="the procedures of a case")
    listing.add_argument("--case", type=case_id, required=True)
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="one procedure (optionally as a PDF note)")
    show.add_argument("procedure_id", type=int, metavar="ID")
    show.add_argument("--revision", type=int, metavar="N", help="an earlier version")
    show.add_argument("--pdf", type=Path, metavar="FILE", help="write the procedure note")
    show.add_argument("--json", action="store_true")


def _values(args: argparse.Namespace) -> dict[str, Any]:
    values = {
        name: getattr(args, option)
        for option, name in _VALUE_FIELDS.items()
        if getattr(args, option, None) is not None
    }
    if args.ae:
        values["adverse_events"] = [parse_adverse_event(text).to_json() for text in args.ae]
    if args.difference_reason:
        values["difference_reasons"] = dict(args.difference_reason)
    return values


def _service(services: Any) -> Any:
    procedures = getattr(services, "procedures", None)
    if procedures is None:
        from tace_planner.services.procedures import ProcedureService

        planning = getattr(services, "planning", None)
        procedures = ProcedureService(
            services.session_factory,
            services.settings.user,
            catalogue=(lambda: planning.catalogue) if planning is not None else None,
        )
    return procedures


def _key_image(services: Any, case_pk: int) -> Any:
    """The baseline slice through the largest focus, contoured (None when there is none)."""
    from tace_planner.domain.errors import TacePlannerError

    planning = getattr(services, "planning", None)
    studies = getattr(services, "studies", None)
    if planning is None or studies is None:
        return None
    try:
        return planning.key_image(case_pk, studies.load_series)
    except (TacePlannerError, OSError) as error:
        print(f"note: no key image for the procedure note: {error}", file=sys.stderr)
        return None


def _mg(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} mg"


def _missing_reason(item: Any) -> str:
    """What a difference without a reason says (signing refuses one, so: a draft's)."""
    if item.status == "draft":
        return "no reason recorded yet: needed before signing"
    return "no reason recorded"


def _case_name(item: Any) -> str:
    """The case as the plan sheet names it: patient name [patient ID], case title."""
    patient = readable_person_name(item.patient_name)
    who = f"{patient} [{item.patient_id}]" if patient else f"[{item.patient_id}]"
    return f"{who}, {item.case_title}" if item.case_title else who


def _print(item: Any) -> None:
    record = item.record
    planned = item.planned
    origin = (
        f"approved plan version {planned.plan_version}, session {planned.number}"
        if planned
        else "unplanned"
    )
    print(
        f"TACE {item.number} — {_case_name(item)} ({item.status}, revision {item.revision}, "
        f"{origin}): {record.performed_on or 'no date'}"
    )
    print(f"  record ID {item.pk} (for procedure sign, amend and show)")
    fraction = record.delivered_fraction
    print(
        f"  loaded {_mg(item.loaded_mg)}; delivered {_mg(item.delivered_mg)}"
        + (f" ({fraction:.0%} of the suspension)" if fraction is not None else "")
        + f"; end point {record.endpoint or '—'}"
    )
    against = delivery_against_plan(item.delivered_mg, planned, fraction)
    if against is not None and against.material:
        print(f"  {against.text}, as information: {END_POINT_NOTE}")
    for difference in item.differences:
        why = difference.reason.strip() or _missing_reason(item)
        print(
            f"  differs from the plan: {difference.label}: {difference.planned} → "
            f"{difference.actual} ({why})"
        )
    for risk in item.risk_factors:
        print(f"  risk factor: {risk.message} ({risk.source})")
    for event in record.adverse_events:
        print(f"  adverse event: {event.term}, CTCAE {event.ctcae_grade}")
    if item.missing_to_sign and not item.locked:
        print("  to sign, fill in: " + ", ".join(field_label(k) for k in item.missing_to_sign))
    if item.signed_by:
        print(f"  signed by {item.signed_by} at {item.signed_at:%Y-%m-%d %H:%M} UTC")
    if item.amendment_reason:
        print(f"  amendment: {item.amendment_reason}")


def _emit(item: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(item.to_json(), indent=2, ensure_ascii=False))
    else:
        _print(item)


def run_procedure_command(
    args: argparse.Namespace, services: Any, render_pdf: ProcedureRenderer | None = None
) -> int:
    """Run one ``procedure`` action; refusals raise (``cli.main`` prints them, exit 1)."""
    procedures = _service(services)
    action = args.procedure_command
    if action == "log":
        if args.session is not None and args.from_plan is None:
            print("error: --session needs --from-plan PLAN_ID", file=sys.stderr)
            return 2
        item = procedures.log(
            args.case,
            _values(args),
            plan_pk=args.from_plan,
            session_number=args.session,
            confirm_implausible=args.confirm_implausible,
        )
    elif action == "sign":
        item = procedures.sign(args.procedure_id)
    elif action == "amend":
        values = _values(args)
        if "difference_reasons" in values:
            old = procedures.get(args.procedure_id).record.difference_reasons
            values["difference_reasons"] = {**old, **values["difference_reasons"]}
        item = procedures.amend(
            args.procedure_id,
            args.reason,
            values,
            confirm_implausible=args.confirm_implausible,
        )
    elif action == "list":
        items = procedures.list_procedures(args.case)
        if args.json:
            print(json.dumps([i.to_json() for i in items], indent=2, ensure_ascii=False))
        else:
            for entry in items:
                print(
                    f"{entry.pk:4}  TACE {entry.number}  {entry.record.performed_on or '—'}  "
                    f"{entry.status:7}  loaded {_mg(entry.loaded_mg)}  "
                    f"delivered {_mg(entry.delivered_mg)}"
                )
        return 0
    else:
        if args.pdf is not None and render_pdf is None:
            print(
                "error: the PDF procedure note needs Qt (install tace-planner[gui])",
                file=sys.stderr,
            )
            return 1
        item = procedures.get(args.procedure_id, revision=args.revision)
        if args.pdf is not None and render_pdf is not None:
            render_pdf(item, args.pdf, _key_image(services, item.case_pk))
            print(f"procedure note written to {args.pdf}", file=sys.stderr)
    _emit(item, args.json)
    return 0
