"""The procedure record: what was done in one TACE, its vessels and adverse events, its JSON form.

:func:`record_from_json` builds a record from its stored form or from entered
values (strings coerced, each bad value naming its field for people).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from tace_planner.domain.anatomy import segment_of
from tace_planner.domain.procedure_fields import ProcedureFieldError


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
            "adverse_events",
            f"{text!r}: write the term and its CTCAE grade, then optionally the CIRSE grade "
            "and the day of onset, separated by ':' (e.g. Nausea:1 or Abdominal pain:2:1:0)",
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
    check_adverse_event(event)
    return event


def check_adverse_event(event: AdverseEvent) -> None:
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
AMOUNT_FIELDS = (
    "loaded_mg",
    "contrast_mixed_ml",
    "injected_ml",
    "contrast_ml",
    "fluoroscopy_min",
    "dap_gy_cm2",
    "air_kerma_mgy",
    "lidocaine_mg",
    "bilirubin_mg_dl",
)
"""Fields holding an amount (a dose, a volume, a time, a radiation dose, a level): never < 0."""
_NUMBERS = (*AMOUNT_FIELDS, "delivered_fraction")
_WHOLES = ("vials", "stay_days")
_NUMBER_LISTS = ("loaded_per_vial_mg", "delivered_per_vial_mg")
NUMBER_FIELDS: tuple[str, ...] = (*_NUMBERS, *_WHOLES)
"""Fields holding one number (the per-vial lists hold several)."""


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
