"""The procedure log of one TACE: the record, its validation, the delivered dose, plan differences.

Pure rules, no database and no Qt. A :class:`ProcedureRecord` is what the
radiosurgeon enters after the procedure (prefilled from the approved plan's
session, :func:`prefill_from_session`); :func:`check_record` refuses impossible
values (a fraction outside [0, 1], a date before the baseline imaging or in the
future, an expired lot, a negative dose …) and lists implausible ones to be
confirmed, each naming the field for people; :func:`delivered_dose_mg` is the
delivered dose, kept apart from the loaded dose and never shown as it::

    delivered = loaded × fraction of the prepared suspension injected
                (or the sum of the doses entered per vial)

No published rule covers the dose of beads left undelivered; the fraction rule
assumes a homogeneous suspension, and even at 100 % injection loaded ≠ delivered
in the strict sense (beads lose 4–6 % of irinotecan at once in contrast, Pereira,
Anti-Cancer Drugs 2016). :func:`plan_differences` lists what differs from the
plan's session; each difference needs a reason before sign-off. Risk factors and
adverse-event grading are in :mod:`tace_planner.domain.procedure_risk`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from tace_planner.domain.anatomy import segment_of
from tace_planner.domain.errors import InvalidInputError

DELIVERED_DOSE_RULE = (
    "delivered = loaded × fraction of the prepared suspension injected (homogeneous "
    "suspension, an assumption of this planner: no published rule covers beads left "
    "undelivered); beads lose 4–6 % of irinotecan at once in contrast (Pereira, "
    "Anti-Cancer Drugs 2016)"
)

ENDPOINTS = ("near-stasis", "stasis", "pruned-tree", "other")
"""Angiographic end points; complete stasis is an adverse-event risk factor (Martin 2010)."""
ENDPOINT_LABELS = {
    "near-stasis": "near-stasis",
    "stasis": "complete stasis",
    "pruned-tree": '"pruned tree"',
    "other": "other",
}
ACCESS_SITES = ("femoral", "radial")
SIDES = ("right", "left")
ARTERIES = (
    "coeliac trunk",
    "superior mesenteric artery",
    "common hepatic artery",
    "proper hepatic artery",
    "right hepatic artery",
    "left hepatic artery",
    "middle hepatic artery",
    "replaced right hepatic artery",
    "replaced left hepatic artery",
    "accessory right hepatic artery",
    "accessory left hepatic artery",
    "segmental branch",
    "parasitised extrahepatic feeder",
)
"""Feeding arteries an angiography may identify (free text is allowed beside them)."""

FIELD_LABELS: Mapping[str, str] = {
    "performed_on": "Date of the procedure",
    "start_time": "Start time",
    "end_time": "End time",
    "operator": "Radiosurgeon",
    "assistant": "Assistant",
    "access_site": "Access",
    "access_side": "Access side",
    "feeding_arteries": "Feeding arteries",
    "angiography_note": "Angiography findings",
    "vessels": "Vessels treated",
    "microcatheter": "Microcatheter",
    "product_code": "Product",
    "size_range": "Size range",
    "lot": "Lot",
    "expiry": "Expiry date",
    "vials": "Vials prepared",
    "loaded_per_vial_mg": "Irinotecan loaded per vial (mg)",
    "loaded_mg": "Irinotecan loaded (mg)",
    "contrast_mixed_ml": "Contrast mixed (mL)",
    "injected_ml": "Volume injected (mL)",
    "delivered_fraction": "Delivered fraction",
    "delivered_per_vial_mg": "Irinotecan delivered per vial (mg)",
    "endpoint": "End point",
    "endpoint_note": "End point note",
    "contrast_ml": "Contrast volume (mL)",
    "fluoroscopy_min": "Fluoroscopy time (min)",
    "dap_gy_cm2": "Dose–area product (Gy·cm²)",
    "air_kerma_mgy": "Air kerma (mGy)",
    "lidocaine_mg": "Intra-arterial lidocaine (mg)",
    "lidocaine_timing": "Lidocaine timing",
    "antiemetics": "Antiemetics",
    "analgesia": "Analgesia",
    "antibiotics": "Antibiotics",
    "bilirubin_mg_dl": "Bilirubin at the procedure (mg/dL)",
    "adverse_events": "Adverse events",
    "post_embolisation_syndrome": "Post-embolisation syndrome",
    "stay_days": "Length of stay (days)",
    "note": "Note",
    "difference_reasons": "Reasons for differences from the plan",
    "amendment_reason": "Amendment reason",
    "plan": "Plan",
}
"""How each field of the record is named for people (errors, the form, the note)."""


class ProcedureFieldError(InvalidInputError):
    """An impossible value in a procedure record; ``key`` is the record field, ``field``
    its name for people."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(FIELD_LABELS.get(key, key), message)
        self.key = key


def field_label(key: str) -> str:
    """The name of a record field for people."""
    return FIELD_LABELS.get(key, key)


@dataclass(frozen=True, slots=True)
class TreatedVessel:
    """An artery embolised and the Couinaud segments it feeds."""

    artery: str
    segments: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"artery": self.artery, "segments": list(self.segments)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TreatedVessel:
        """Inverse of :meth:`to_json`."""
        return cls(str(data.get("artery", "")), tuple(data.get("segments", ())))


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    """An adverse event: CTCAE v5.0 term and grade (1–5), CIRSE grade (1–6), onset day.

    ``onset_day`` counts days after the procedure (0 = during or on the day).
    """

    term: str
    ctcae_grade: int
    cirse_grade: int | None = None
    onset_day: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "term": self.term,
            "ctcae_grade": self.ctcae_grade,
            "cirse_grade": self.cirse_grade,
            "onset_day": self.onset_day,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AdverseEvent:
        """Inverse of :meth:`to_json`."""
        cirse = data.get("cirse_grade")
        onset = data.get("onset_day")
        return cls(
            str(data["term"]),
            int(data["ctcae_grade"]),
            None if cirse is None else int(cirse),
            None if onset is None else int(onset),
        )


def parse_adverse_event(text: str) -> AdverseEvent:
    """``"TERM:GRADE[:CIRSE[:ONSET_DAY]]"`` → an adverse event (CTCAE grade, CIRSE grade).

    Raises
    ------
    ProcedureFieldError
        Field ``adverse_events``: not in that form or a grade out of range.
    """
    parts = [p.strip() for p in text.split(":")]
    if len(parts) < 2 or not parts[0] or len(parts) > 4:
        raise ProcedureFieldError(
            "adverse_events", f"{text!r}: write TERM:CTCAE_GRADE[:CIRSE_GRADE[:ONSET_DAY]]"
        )
    try:
        numbers = [int(p) for p in parts[1:]]
    except ValueError:
        raise ProcedureFieldError(
            "adverse_events", f"{text!r}: the grades and the onset day are whole numbers"
        ) from None
    event = AdverseEvent(
        parts[0],
        numbers[0],
        numbers[1] if len(numbers) > 1 else None,
        numbers[2] if len(numbers) > 2 else None,
    )
    _check_event(event)
    return event


@dataclass(frozen=True)
class ProcedureRecord:
    """What was done in one TACE (the content of a record version).

    Doses are mg of irinotecan, volumes mL, times minutes; None = not recorded.
    ``loaded_mg`` is what was loaded into the prepared vials, ``delivered_fraction``
    the fraction of the prepared suspension injected; the delivered dose is
    derived (:func:`delivered_dose_mg`), never typed over the loaded dose.
    ``difference_reasons`` maps a field that differs from the plan to the reason.
    """

    performed_on: dt.date | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    operator: str = ""
    assistant: str = ""
    access_site: str = ""
    access_side: str = ""
    feeding_arteries: tuple[str, ...] = ()
    angiography_note: str = ""
    vessels: tuple[TreatedVessel, ...] = ()
    microcatheter: str = ""
    product_code: str = ""
    product_name: str = ""
    size_range: str = ""
    lot: str = ""
    expiry: dt.date | None = None
    vials: int | None = None
    loaded_per_vial_mg: tuple[float, ...] = ()
    loaded_mg: float | None = None
    contrast_mixed_ml: float | None = None
    injected_ml: float | None = None
    delivered_fraction: float | None = None
    delivered_per_vial_mg: tuple[float, ...] = ()
    endpoint: str = ""
    endpoint_note: str = ""
    contrast_ml: float | None = None
    fluoroscopy_min: float | None = None
    dap_gy_cm2: float | None = None
    air_kerma_mgy: float | None = None
    lidocaine_mg: float | None = None
    lidocaine_timing: str = ""
    antiemetics: str = ""
    analgesia: str = ""
    antibiotics: str = ""
    bilirubin_mg_dl: float | None = None
    adverse_events: tuple[AdverseEvent, ...] = ()
    post_embolisation_syndrome: bool | None = None
    stay_days: int | None = None
    note: str = ""
    difference_reasons: Mapping[str, str] = field(default_factory=dict)

    @property
    def segments(self) -> tuple[str, ...]:
        """Every Couinaud segment of the vessels treated, in order I…VIII."""
        found = {s for v in self.vessels for s in (segment_of(x) for x in v.segments) if s}
        order = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
        return tuple(s for s in order if s in found)

    @property
    def duration_min(self) -> float | None:
        """Minutes from start to end, when both are given."""
        if self.start_time is None or self.end_time is None:
            return None
        start = dt.datetime.combine(dt.date(2000, 1, 1), self.start_time)
        end = dt.datetime.combine(dt.date(2000, 1, 1), self.end_time)
        return (end - start).total_seconds() / 60

    def changed(self, **values: Any) -> ProcedureRecord:
        """A copy with some fields changed (values coerced like :func:`record_from_json`)."""
        unknown = sorted(set(values) - set(RECORD_FIELDS))
        if unknown:
            raise ProcedureFieldError(unknown[0], "is not a field of a procedure record")
        data = self.to_json()
        data.update(_json_value(k, v) for k, v in values.items())
        return record_from_json(data)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the stored form)."""
        return {f.name: _json_value(f.name, getattr(self, f.name))[1] for f in fields(self)}


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ProcedureRecord))


def _json_value(name: str, value: Any) -> tuple[str, Any]:
    if isinstance(value, dt.date | dt.time):
        return name, value.isoformat(timespec="minutes") if isinstance(
            value, dt.time
        ) else value.isoformat()
    if name == "vessels":
        return name, [v.to_json() if isinstance(v, TreatedVessel) else dict(v) for v in value]
    if name == "adverse_events":
        return name, [e.to_json() if isinstance(e, AdverseEvent) else dict(e) for e in value]
    if isinstance(value, tuple):
        return name, list(value)
    if isinstance(value, Mapping):
        return name, dict(value)
    return name, value


def _date(key: str, value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ProcedureFieldError(key, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _time(key: str, value: Any) -> dt.time | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    try:
        return dt.time.fromisoformat(str(value)).replace(second=0, microsecond=0)
    except ValueError:
        raise ProcedureFieldError(key, f"{value!r} is not a time (HH:MM)") from None


def _number(key: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ProcedureFieldError(key, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ProcedureFieldError(key, f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ProcedureFieldError(key, f"must be a finite number, got {value!r}")
    return number


def _whole(key: str, value: Any) -> int | None:
    number = _number(key, value)
    if number is None:
        return None
    if not number.is_integer():
        raise ProcedureFieldError(key, f"must be a whole number, got {value!r}")
    return int(number)


_DATES = ("performed_on", "expiry")
_TIMES = ("start_time", "end_time")
_NUMBERS = (
    "loaded_mg",
    "contrast_mixed_ml",
    "injected_ml",
    "delivered_fraction",
    "contrast_ml",
    "fluoroscopy_min",
    "dap_gy_cm2",
    "air_kerma_mgy",
    "lidocaine_mg",
    "bilirubin_mg_dl",
)
_WHOLES = ("vials", "stay_days")
_NUMBER_LISTS = ("loaded_per_vial_mg", "delivered_per_vial_mg")


def record_from_json(data: Mapping[str, Any]) -> ProcedureRecord:
    """A record from its stored form or from entered values (strings are coerced).

    Raises
    ------
    ProcedureFieldError
        An unknown field, or a value that is not a date, time or number.
    """
    unknown = sorted(set(data) - set(RECORD_FIELDS))
    if unknown:
        raise ProcedureFieldError(unknown[0], "is not a field of a procedure record")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name in _DATES:
            values[name] = _date(name, value)
        elif name in _TIMES:
            values[name] = _time(name, value)
        elif name in _NUMBERS:
            values[name] = _number(name, value)
        elif name in _WHOLES:
            values[name] = _whole(name, value)
        elif name in _NUMBER_LISTS:
            values[name] = tuple(_number(name, v) or 0.0 for v in (value or ()))
        elif name == "vessels":
            values[name] = tuple(
                v if isinstance(v, TreatedVessel) else TreatedVessel.from_json(v)
                for v in (value or ())
            )
        elif name == "adverse_events":
            values[name] = tuple(
                e if isinstance(e, AdverseEvent) else AdverseEvent.from_json(e)
                for e in (value or ())
            )
        elif name == "feeding_arteries":
            values[name] = tuple(str(v) for v in (value or ()))
        elif name == "difference_reasons":
            values[name] = {str(k): str(v) for k, v in (value or {}).items()}
        elif name == "post_embolisation_syndrome":
            values[name] = None if value is None else bool(value)
        else:
            values[name] = "" if value is None else str(value)
    return ProcedureRecord(**values)


# ---------------------------------------------------------------------------
# The delivered dose
# ---------------------------------------------------------------------------


def loaded_dose_mg(record: ProcedureRecord) -> float | None:
    """The loaded dose: as entered, else the sum of the per-vial loads, else None."""
    if record.loaded_mg is not None:
        return record.loaded_mg
    if record.loaded_per_vial_mg:
        return math.fsum(record.loaded_per_vial_mg)
    return None


def delivered_dose_mg(record: ProcedureRecord) -> float | None:
    """The delivered dose: Σ per-vial delivered doses when entered, else loaded × fraction.

    None when neither is known (then nothing is counted as delivered).
    """
    if record.delivered_per_vial_mg:
        return math.fsum(record.delivered_per_vial_mg)
    loaded = loaded_dose_mg(record)
    if loaded is None or record.delivered_fraction is None:
        return None
    return loaded * record.delivered_fraction


def delivered_explanation(record: ProcedureRecord) -> dict[str, str]:
    """How the delivered dose was obtained (formula, inputs, result, source)."""
    delivered = delivered_dose_mg(record)
    loaded = loaded_dose_mg(record)
    if record.delivered_per_vial_mg:
        formula = "delivered = Σ dose delivered from each vial (entered per vial)"
        inputs = " + ".join(f"{v:g}" for v in record.delivered_per_vial_mg) + " mg"
    else:
        formula = "delivered = loaded × delivered fraction"
        inputs = (
            f"loaded {loaded:g} mg × fraction {record.delivered_fraction:g}"
            if loaded is not None and record.delivered_fraction is not None
            else "loaded dose or delivered fraction missing"
        )
    return {
        "summary": "Irinotecan delivered (what reached the patient, not what was loaded)",
        "formula": formula,
        "inputs": inputs,
        "result": "—" if delivered is None else f"{delivered:.1f} mg",
        "source": DELIVERED_DOSE_RULE,
    }


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


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


def _check_event(event: AdverseEvent) -> None:
    if not event.term.strip():
        raise ProcedureFieldError("adverse_events", "every adverse event needs its CTCAE term")
    if not 1 <= event.ctcae_grade <= 5:
        raise ProcedureFieldError(
            "adverse_events",
            f"{event.term}: CTCAE v5.0 grade must be 1–5, got {event.ctcae_grade}",
        )
    if event.cirse_grade is not None and not 1 <= event.cirse_grade <= 6:
        raise ProcedureFieldError(
            "adverse_events",
            f"{event.term}: CIRSE grade must be 1–6, got {event.cirse_grade}",
        )
    if event.onset_day is not None and event.onset_day < 0:
        raise ProcedureFieldError(
            "adverse_events", f"{event.term}: the onset day counts from the procedure (≥ 0)"
        )


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
    for key in (
        "loaded_mg",
        "contrast_mixed_ml",
        "injected_ml",
        "contrast_ml",
        "fluoroscopy_min",
        "dap_gy_cm2",
        "air_kerma_mgy",
        "lidocaine_mg",
        "bilirubin_mg_dl",
        "stay_days",
    ):
        value = getattr(record, key)
        if value is not None and value < 0:
            bad(key, f"cannot be negative, got {value:g}")
    for key in ("loaded_per_vial_mg", "delivered_per_vial_mg"):
        values = getattr(record, key)
        if any(v < 0 for v in values):
            bad(key, "a dose cannot be negative")
        if values and record.vials is not None and len(values) != record.vials:
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
            _check_event(event)
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


# ---------------------------------------------------------------------------
# The plan and its differences
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """The session of an approved plan a procedure records (its effective values)."""

    plan_pk: int
    plan_version: int
    number: int
    territory_label: str
    segments: tuple[str, ...]
    product_code: str
    product_name: str
    vials: int
    vial_loads_mg: tuple[float, ...]
    loaded_mg: float
    expected_delivered_mg: float
    planned_on: dt.date | None = None
    interval_days: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "plan_pk": self.plan_pk,
            "plan_version": self.plan_version,
            "number": self.number,
            "territory_label": self.territory_label,
            "segments": list(self.segments),
            "product_code": self.product_code,
            "product_name": self.product_name,
            "vials": self.vials,
            "vial_loads_mg": list(self.vial_loads_mg),
            "loaded_mg": self.loaded_mg,
            "expected_delivered_mg": self.expected_delivered_mg,
            "planned_on": self.planned_on.isoformat() if self.planned_on else None,
            "interval_days": self.interval_days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedSession:
        """Inverse of :meth:`to_json`."""
        on = data.get("planned_on")
        return cls(
            plan_pk=int(data["plan_pk"]),
            plan_version=int(data["plan_version"]),
            number=int(data["number"]),
            territory_label=str(data["territory_label"]),
            segments=tuple(data.get("segments", ())),
            product_code=str(data["product_code"]),
            product_name=str(data.get("product_name", "")),
            vials=int(data["vials"]),
            vial_loads_mg=tuple(float(v) for v in data.get("vial_loads_mg", ())),
            loaded_mg=float(data["loaded_mg"]),
            expected_delivered_mg=float(data["expected_delivered_mg"]),
            planned_on=dt.date.fromisoformat(on) if on else None,
            interval_days=data.get("interval_days"),
        )


def prefill_from_session(session: PlannedSession, **values: Any) -> ProcedureRecord:
    """A record prefilled from an approved plan's session: territory, product, vials, loads.

    ``values`` (e.g. the date, the delivered fraction) are laid over the prefill.
    """
    artery = "right hepatic artery" if set(session.segments) <= {"V", "VI", "VII", "VIII"} else ""
    if set(session.segments) <= {"II", "III", "IV"}:
        artery = "left hepatic artery"
    data: dict[str, Any] = {
        "product_code": session.product_code,
        "product_name": session.product_name,
        "vials": session.vials,
        "loaded_per_vial_mg": list(session.vial_loads_mg),
        "loaded_mg": session.loaded_mg,
        "vessels": [{"artery": artery or "hepatic artery", "segments": list(session.segments)}],
    }
    record = record_from_json(data)
    if values:
        record = record.changed(**values)
    return record


@dataclass(frozen=True, slots=True)
class Difference:
    """A value of the record that differs from the plan's session, with its reason."""

    key: str
    planned: str
    actual: str
    reason: str = ""

    @property
    def label(self) -> str:
        """The field's name for people."""
        return field_label(self.key)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the CLI's ``differences`` entries)."""
        return {
            "field": self.key,
            "label": self.label,
            "planned": self.planned,
            "actual": self.actual,
            "reason": self.reason,
        }


def plan_differences(
    record: ProcedureRecord, session: PlannedSession | None
) -> tuple[Difference, ...]:
    """What the record does differently from the plan's session (with the reasons given).

    Compared: product, treated segments, vials and the loaded dose. The delivered
    dose is not a difference: the end point decides how much is injected.
    An unplanned procedure (no session) has one difference, ``plan``.
    """
    reasons = record.difference_reasons
    if session is None:
        return (
            Difference("plan", "no approved plan", "unplanned procedure", reasons.get("plan", "")),
        )
    out = []
    if record.product_code and record.product_code != session.product_code:
        out.append(
            Difference("product_code", session.product_code, record.product_code,
                       reasons.get("product_code", ""))
        )  # fmt: skip
    if record.vessels and record.segments != tuple(session.segments):
        out.append(
            Difference("vessels", ", ".join(session.segments) or "—",
                       ", ".join(record.segments) or "—", reasons.get("vessels", ""))
        )  # fmt: skip
    if record.vials is not None and record.vials != session.vials:
        out.append(
            Difference("vials", str(session.vials), str(record.vials), reasons.get("vials", ""))
        )
    loaded = loaded_dose_mg(record)
    if loaded is not None and not math.isclose(loaded, session.loaded_mg, abs_tol=0.05):
        out.append(
            Difference("loaded_mg", f"{session.loaded_mg:g} mg", f"{loaded:g} mg",
                       reasons.get("loaded_mg", ""))
        )  # fmt: skip
    return tuple(out)


def unexplained(differences: Sequence[Difference]) -> list[Difference]:
    """The differences still without a reason."""
    return [d for d in differences if not d.reason.strip()]


def with_reasons(record: ProcedureRecord, reasons: Mapping[str, str]) -> ProcedureRecord:
    """The record with more difference reasons (blank ones are dropped)."""
    merged = {**record.difference_reasons, **{k: v.strip() for k, v in reasons.items()}}
    return replace(record, difference_reasons={k: v for k, v in merged.items() if v})


class SignedRecordError(InvalidInputError):
    """A signed procedure record was to be changed in place: only an amendment may change it."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            "procedure",
            message or "a signed record cannot be edited; amend it (with a reason) instead",
        )
