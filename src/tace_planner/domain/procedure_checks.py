"""Checks of a procedure record: impossible values refused, implausible ones to confirm, signing."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tace_planner.domain.anatomy import segment_of
from tace_planner.domain.procedure_dose import delivered_dose_mg, loaded_dose_mg
from tace_planner.domain.procedure_fields import (
    ACCESS_SITES,
    ENDPOINTS,
    SIDES,
    ProcedureFieldError,
    field_label,
)
from tace_planner.domain.procedure_record import (
    AMOUNT_FIELDS,
    ProcedureRecord,
    check_adverse_event,
    record_from_json,
)


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem of an entered value: "impossible" (refused) or "implausible" (confirm)."""

    key: str
    message: str
    kind: Literal["impossible", "implausible"]

    @property
    def label(self) -> str:
        """The field's name for people."""
        return field_label(self.key)

    def to_error(self) -> ProcedureFieldError:
        """The typed error naming the field."""
        return ProcedureFieldError(self.key, self.message)


@dataclass(frozen=True, slots=True)
class PlausibilityLimits:
    """Above these values a number is possible but needs confirming (institutional)."""

    fluoroscopy_min: float = 90.0
    contrast_ml: float = 400.0
    lidocaine_mg: float = 200.0
    dap_gy_cm2: float = 1000.0
    air_kerma_mgy: float = 7000.0
    stay_days: float = 30.0
    duration_min: float = 300.0


@dataclass(frozen=True, slots=True)
class RecordContext:
    """What a record is checked against.

    ``baseline_on`` is the date of the case's baseline imaging, ``today`` the
    current date (no procedure in the future).
    """

    today: dt.date
    baseline_on: dt.date | None = None
    limits: PlausibilityLimits = PlausibilityLimits()


def read_entries(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Split entered values into those that can be read and the problems of the others.

    Each field is read on its own, so that a date or a number that cannot be read
    ("2026-13-45", "abc") does not hide the other fields' problems: it is reported
    (impossible, naming the field) and left empty, and the rest can be checked with
    :func:`check_record`.

    Returns
    -------
    (dict, list of FieldProblem)
        The values to build the record from (the unreadable ones empty) and one
        problem per unreadable field.
    """
    empty = ProcedureRecord().to_json()
    readable: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for key, value in values.items():
        try:
            record_from_json({key: value})
        except ProcedureFieldError as error:
            problems.append(FieldProblem(error.key, error.reason, "impossible"))
            if key in empty:
                readable[key] = empty[key]
            continue
        readable[key] = value
    return readable, problems


def check_record(record: ProcedureRecord, context: RecordContext) -> list[FieldProblem]:
    """Every problem of a record, impossible ones first; an empty list when it is fine.

    Impossible (refused): a date before the baseline imaging or in the future, a
    lot past its expiry on the day of the procedure, a negative or non-finite dose,
    volume, time or count, a fraction outside [0, 1], an end before the start, a
    per-vial list that does not match the vials, a delivered dose above the loaded
    one, an unknown end point or access, an adverse-event grade out of range.
    Implausible (confirm): values above :class:`PlausibilityLimits`.
    """
    impossible: list[FieldProblem] = []
    implausible: list[FieldProblem] = []

    def bad(key: str, message: str) -> None:
        impossible.append(FieldProblem(key, message, "impossible"))

    def odd(key: str, message: str) -> None:
        implausible.append(FieldProblem(key, message, "implausible"))

    on = record.performed_on
    if on is not None:
        if on > context.today:
            bad("performed_on", f"{on.isoformat()} is in the future")
        if context.baseline_on is not None and on < context.baseline_on:
            bad(
                "performed_on",
                f"{on.isoformat()} is before the case's baseline imaging "
                f"({context.baseline_on.isoformat()})",
            )
    if record.expiry is not None and on is not None and record.expiry < on:
        bad(
            "expiry",
            f"the lot {record.lot or ''} expired on {record.expiry.isoformat()}, before the "
            f"procedure ({on.isoformat()}): an expired product is refused".replace("  ", " "),
        )
    for key in (*AMOUNT_FIELDS, "stay_days"):
        value = getattr(record, key)
        if value is not None and value < 0:
            bad(key, f"cannot be negative, got {value:g}")
    for key in ("loaded_per_vial_mg", "delivered_per_vial_mg"):
        values = getattr(record, key)
        if any(v < 0 for v in values):
            bad(key, "a dose cannot be negative")
        # with an impossible vial count the count is the error, not the list
        if (
            values
            and record.vials is not None
            and record.vials >= 1
            and len(values) != record.vials
        ):
            bad(key, f"{len(values)} value(s) for {record.vials} vial(s)")
    if record.vials is not None and record.vials < 1:
        bad("vials", f"at least one vial is prepared, got {record.vials}")
    fraction = record.delivered_fraction
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        bad("delivered_fraction", f"must be between 0 and 1 (0–100 %), got {fraction:g}")
    loaded = loaded_dose_mg(record)
    if (
        record.loaded_mg is not None
        and record.loaded_per_vial_mg
        and not math.isclose(record.loaded_mg, math.fsum(record.loaded_per_vial_mg), abs_tol=0.05)
    ):
        bad("loaded_mg", "differs from the sum of the per-vial loads")
    delivered = delivered_dose_mg(record)
    fraction_ok = fraction is None or 0.0 <= fraction <= 1.0
    if delivered is not None and loaded is not None and fraction_ok and delivered > loaded + 1e-6:
        bad(
            "delivered_per_vial_mg" if record.delivered_per_vial_mg else "delivered_fraction",
            f"the delivered dose ({delivered:g} mg) cannot exceed the loaded dose ({loaded:g} mg)",
        )
    if record.start_time and record.end_time and record.end_time < record.start_time:
        bad("end_time", "the procedure cannot end before it starts")
    if record.endpoint and record.endpoint not in ENDPOINTS:
        bad("endpoint", f"{record.endpoint!r} is not one of {', '.join(ENDPOINTS)}")
    if record.access_site and record.access_site not in ACCESS_SITES:
        bad("access_site", f"{record.access_site!r} is not femoral or radial")
    if record.access_side and record.access_side not in SIDES:
        bad("access_side", f"{record.access_side!r} is not right or left")
    for vessel in record.vessels:
        unknown = [s for s in vessel.segments if segment_of(s) is None]
        if unknown:
            bad("vessels", f"{vessel.artery}: {unknown[0]!r} is not a Couinaud segment I–VIII")
    for event in record.adverse_events:
        try:
            check_adverse_event(event)
        except ProcedureFieldError as error:
            bad("adverse_events", error.reason)
    limits = context.limits
    for key, limit, unit in (
        ("fluoroscopy_min", limits.fluoroscopy_min, "min"),
        ("contrast_ml", limits.contrast_ml, "mL"),
        ("lidocaine_mg", limits.lidocaine_mg, "mg"),
        ("dap_gy_cm2", limits.dap_gy_cm2, "Gy·cm²"),
        ("air_kerma_mgy", limits.air_kerma_mgy, "mGy"),
        ("stay_days", limits.stay_days, "days"),
    ):
        value = getattr(record, key)
        if value is not None and value > limit:
            odd(key, f"{value:g} {unit} is unusually high (above {limit:g} {unit}): confirm it")
    duration = record.duration_min
    if duration is not None and duration > limits.duration_min:
        odd("end_time", f"the procedure lasted {duration:.0f} min: confirm the times")
    return impossible + implausible


def validate_record(
    record: ProcedureRecord, context: RecordContext, *, confirm_implausible: bool = False
) -> list[FieldProblem]:
    """Raise on the first impossible (or unconfirmed implausible) value; return the
    implausible values that were confirmed.

    Raises
    ------
    ProcedureFieldError
        The field is named for people (``error.field``) and by key (``error.key``).
    """
    problems = check_record(record, context)
    for problem in problems:
        if problem.kind == "impossible" or not confirm_implausible:
            raise problem.to_error()
    return problems


REQUIRED_TO_SIGN = ("performed_on", "operator", "product_code", "lot", "expiry", "endpoint")
"""Fields a record must hold before it is signed (beside the loaded and delivered dose)."""


def missing_to_sign(record: ProcedureRecord) -> list[str]:
    """The fields still empty that a signed record needs (keys)."""
    missing = [k for k in REQUIRED_TO_SIGN if getattr(record, k) in (None, "")]
    if loaded_dose_mg(record) is None:
        missing.append("loaded_mg")
    if record.delivered_fraction is None and not record.delivered_per_vial_mg:
        missing.append("delivered_fraction")
    if record.vials is None:
        missing.append("vials")
    return missing
