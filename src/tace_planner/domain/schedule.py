"""Follow-up imaging schedule after TACE: due dates, windows, restarts and endings (pure).

The schedule comes from a versioned parameter file (``resources/parameters/followup.json``)
holding presets, each with its source:

* the study protocol (default): first follow-up 8 weeks after the procedure, then every
  3 months (Zvezdkina et al., Journal of Clinical Practice 2022);
* society guidance: first imaging 4 weeks after treatment, window 4–6 weeks
  (Gaba et al., SIR quality improvement guidelines, J Vasc Interv Radiol 2017);
* 1, 3, 6, 9, 12 months, then every 6 months (Maas et al., ECIO-ESOI, Insights Imaging 2020).

Date rules (calendar-correct, written down once here and in the README):

* **Weeks** are exact: 8 weeks after 16 March 2026 is 11 May 2026 (56 days).
* **Months** are calendar months: the same day number in the target month, or that
  month's last day when the month is shorter. 3 months after 30 November is 28 February
  (29 February in a leap year); 1 month after 31 January is 28/29 February; 12 months
  after 29 February 2028 is 28 February 2029.
* Every due date is computed **from its anchor directly** (anchor + k × interval), never
  from the previous due date, so a clamped month end does not drift: 31 January + 3, 6,
  9 months = 30 April, 31 July, 31 October.
* The anchor of the 3-monthly repeats is the first follow-up's due date (protocol and
  society presets: 8 or 4 weeks after the TACE); for a month list (1-3-6-9-12) it is the
  TACE date itself.
* The window is [due − before, due + after] days, both ends included.
* Imaging dated after the TACE within a window stands for that follow-up
  (:func:`match_imaging`): a schedule laid out on a case that already holds its
  follow-up CTs counts them as done instead of asking for them again. The imaged
  timepoint keeps its own radiologist and modality and takes the scheduled follow-up's
  where it has none; a value of the scheduled follow-up it differs from is dropped and
  named (:func:`merge_slot`).
* A repeat TACE restarts the schedule: timepoints of the earlier TACE due on or after
  the repeat TACE's date are superseded. Progression, death, withdrawal or loss to
  follow-up end it: timepoints due after the closing date are dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.parameters_file import read_parameter_file

CLOSURE_REASONS = ("death", "progression", "withdrawal", "lost")
"""Why a case's follow-up ends (``case close --reason``)."""

PRESET_PREFIX = "preset_"
MAX_WINDOW_DAYS = 90
"""The widest window a preset may give on either side of a due date, in days."""
MONTH_RULE = (
    "months are calendar months: the same day number in the target month, or that month's "
    "last day when it is shorter (3 months after 30 November = 28 February, 29 in a leap "
    "year); each due date is counted from its anchor, not from the previous due date"
)

_NAMES = (
    "default_preset",
    "preset_protocol",
    "preset_society",
    "preset_months",
    "horizon_months",
    "course_gap_days",
    "synchronous_within_days",
    "immediate_tace_within_days",
    "delayed_tace_after_months",
)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day number ``months`` calendar months later, clamped to the month's end.

    >>> add_months(dt.date(2026, 11, 30), 3)
    datetime.date(2027, 2, 28)
    >>> add_months(dt.date(2027, 11, 30), 3)
    datetime.date(2028, 2, 29)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (first_of_next - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


@dataclass(frozen=True)
class SchedulePreset:
    """One follow-up schedule: first imaging, the repeats, the window.

    Parameters
    ----------
    key : str
        ``protocol``, ``society`` or ``months``.
    label : str
        Shown in the case's preset choice.
    first_weeks : int or None
        First follow-up this many weeks after the TACE (None with a month list).
    months : tuple of int
        Follow-ups this many calendar months after the TACE (e.g. 1, 3, 6, 9, 12).
    repeat_months : int
        Then every this many months (counted from the last listed step).
    window_before_days, window_after_days : int
        The window around each due date.
    modality : str
        Expected modality (``CT`` or ``MR``).
    source : str
        The publication or "institutional default".
    """

    key: str
    label: str
    first_weeks: int | None
    months: tuple[int, ...]
    repeat_months: int
    window_before_days: int
    window_after_days: int
    modality: str
    source: str

    def to_json(self) -> dict[str, Any]:
        """The snapshot stored with a schedule."""
        return {
            "key": self.key,
            "label": self.label,
            "first_weeks": self.first_weeks,
            "months": list(self.months),
            "repeat_months": self.repeat_months,
            "window_before_days": self.window_before_days,
            "window_after_days": self.window_after_days,
            "modality": self.modality,
            "source": self.source,
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, key: str = "", origin: str = "preset"
    ) -> SchedulePreset:
        """A preset from its JSON (a file value or a stored snapshot); fields are checked.

        Raises
        ------
        InvalidInputError
            A field is missing or out of range (named ``<origin>.<field>``).
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(origin, "must be an object")

        def whole(
            name: str, minimum: int, maximum: int = 120, *, optional: bool = False
        ) -> int | None:
            value = data.get(name)
            if value is None and optional:
                return None
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not minimum <= value <= maximum
            ):
                raise InvalidInputError(
                    f"{origin}.{name}", f"must be a whole number, {minimum}–{maximum}"
                )
            return value

        first = whole("first_weeks", 1, optional=True)
        months_raw = data.get("months", [])
        if not isinstance(months_raw, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) and m >= 1 for m in months_raw
        ):
            raise InvalidInputError(f"{origin}.months", "must be a list of whole months ≥ 1")
        months = tuple(months_raw)
        if list(months) != sorted(set(months)):
            raise InvalidInputError(f"{origin}.months", "must increase")
        if (first is None) == (not months):
            raise InvalidInputError(origin, "give either first_weeks or a list of months")
        modality = data.get("modality", "CT")
        if modality not in ("CT", "MR"):
            raise InvalidInputError(f"{origin}.modality", "must be CT or MR")
        return cls(
            key=str(data.get("key", key)),
            label=str(data.get("label", key)),
            first_weeks=first,
            months=months,
            repeat_months=int(whole("repeat_months", 1) or 1),
            window_before_days=int(whole("window_before_days", 0, MAX_WINDOW_DAYS) or 0),
            window_after_days=int(whole("window_after_days", 0, MAX_WINDOW_DAYS) or 0),
            modality=str(modality),
            source=str(data.get("source", "")),
        )

    def describe(self) -> str:
        """The rule in one line, e.g. "8 weeks, then every 3 months; window −14/+14 days"."""
        if self.first_weeks is not None:
            steps = f"{self.first_weeks} weeks"
        else:
            steps = ", ".join(str(m) for m in self.months) + " months"
        return (
            f"{steps} after the TACE, then every {self.repeat_months} months; window "
            f"−{self.window_before_days}/+{self.window_after_days} days"
        )


@dataclass(frozen=True)
class FollowupParameters:
    """The follow-up parameter file: presets and the rules of TTP and case groups."""

    version: str
    presets: Mapping[str, SchedulePreset]
    default_preset: str
    horizon_months: int
    course_gap_days: int
    synchronous_within_days: int
    immediate_tace_within_days: int
    delayed_tace_after_months: int
    sources: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "followup") -> FollowupParameters:
        """Parse and check ``followup.json``.

        Raises
        ------
        InvalidInputError
            The file breaks a rule; the message names the file and the field.
        """
        file = read_parameter_file(data, origin=origin, expected=_NAMES)
        presets = {
            name.removeprefix(PRESET_PREFIX): SchedulePreset.from_json(
                {**file.raw(name), "source": file.sourced(name).cite()},
                key=name.removeprefix(PRESET_PREFIX),
                origin=file.where(name),
            )
            for name in _NAMES
            if name.startswith(PRESET_PREFIX)
        }
        default = file.choice("default_preset", sorted(presets))
        return cls(
            version=file.version,
            presets=presets,
            default_preset=default,
            horizon_months=file.integer("horizon_months", minimum=1, maximum=240),
            course_gap_days=file.integer("course_gap_days", minimum=0, maximum=365),
            synchronous_within_days=file.integer("synchronous_within_days", maximum=3650),
            immediate_tace_within_days=file.integer("immediate_tace_within_days", maximum=3650),
            delayed_tace_after_months=file.integer("delayed_tace_after_months", maximum=120),
            sources={name: file.sourced(name).cite() for name in _NAMES},
        )

    def preset(self, key: str | None) -> SchedulePreset:
        """The preset ``key`` (the default one for None or "").

        Raises
        ------
        InvalidInputError
            No such preset (field ``preset``).
        """
        chosen = key or self.default_preset
        if chosen not in self.presets:
            raise InvalidInputError("preset", f"{chosen!r}: expected one of {sorted(self.presets)}")
        return self.presets[chosen]


@dataclass(frozen=True)
class DueTimepoint:
    """The n-th follow-up after one TACE: due date and window (both ends included)."""

    number: int
    due_on: dt.date
    window_start_on: dt.date
    window_end_on: dt.date

    def contains(self, day: dt.date) -> bool:
        """True when ``day`` lies in the window."""
        return self.window_start_on <= day <= self.window_end_on


def schedule_after(
    procedure_on: dt.date, preset: SchedulePreset, horizon_months: int
) -> tuple[DueTimepoint, ...]:
    """The follow-up timepoints after a TACE on ``procedure_on``, up to the horizon.

    Examples
    --------
    Study protocol, TACE on 16 March 2026: 11 May 2026 (8 weeks), then 11 August and
    11 November 2026 (every 3 months from the first follow-up).
    """
    horizon = add_months(procedure_on, horizon_months)
    dues: list[dt.date] = []
    if preset.first_weeks is not None:
        anchor = procedure_on + dt.timedelta(weeks=preset.first_weeks)
        dues.append(anchor)
        offset = 0
    else:
        anchor = procedure_on
        dues.extend(add_months(anchor, m) for m in preset.months)
        offset = preset.months[-1]
    k = 1
    while True:
        due = add_months(anchor, offset + k * preset.repeat_months)
        if due > horizon:
            break
        dues.append(due)
        k += 1
    before = dt.timedelta(days=preset.window_before_days)
    after = dt.timedelta(days=preset.window_after_days)
    return tuple(
        DueTimepoint(number, due, due - before, due + after)
        for number, due in enumerate((d for d in dues if d <= horizon), start=1)
    )


def match_imaging(
    due: Sequence[DueTimepoint], imaged_on: Sequence[dt.date | None], tace_on: dt.date
) -> dict[int, int]:
    """Which imaging stands for which due follow-up: due number → index in ``imaged_on``.

    An imaging date (None: unknown, matches nothing) matches a due timepoint when it lies
    after the TACE and in the timepoint's window (both ends included), the rule the
    worklist proposes studies by.
    The match is one to one: the pairs closest to their due date are taken first (then the
    earlier due date, then the earlier imaging), so that two CTs in one window give it the
    one nearer its due date, and one CT never stands for two follow-ups.

    Examples
    --------
    TACE on 16 March 2026, study protocol (due 11 May, window 27 April – 25 May; due
    11 August, window 28 July – 25 August): a CT of 11 May stands for follow-up 1, a CT
    of 16 August for follow-up 2, a CT of 1 July for none.
    """
    pairs = sorted(
        (abs((on - point.due_on).days), point.due_on, on, point.number, index)
        for point in due
        for index, on in enumerate(imaged_on)
        if on is not None and on > tace_on and point.contains(on)
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, _, _, number, index in pairs:
        if number not in matched and index not in used:
            matched[number] = index
            used.add(index)
    return matched


SLOT_FIELDS: tuple[str, ...] = ("radiologist", "modality")
"""What a scheduled follow-up carries that a user may set (the radiologist who reads it,
the modality expected)."""


@dataclass(frozen=True)
class SlotMerge:
    """What a timepoint holding imaging keeps when it takes a scheduled follow-up's place.

    Attributes
    ----------
    values : mapping
        Its values afterwards, field by field ("" when neither had one).
    taken : tuple of (field, value)
        What it lacked and took from the scheduled follow-up.
    dropped : tuple of (field, the scheduled follow-up's value, the value kept)
        Where both had a value and they differ: the scheduled follow-up's is dropped.
    """

    values: Mapping[str, str]
    taken: tuple[tuple[str, str], ...] = ()
    dropped: tuple[tuple[str, str, str], ...] = ()

    def describe(self, keeper: str) -> str:
        """In plain words, ``keeper`` being the timepoint that stays ("" when nothing was
        taken or dropped), e.g. "follow-up 2 took its modality MR; its radiologist Dr R
        was dropped (follow-up 2 keeps its own, Dr S)".
        """
        parts = []
        if self.taken:
            took = " and ".join(f"{name} {value}" for name, value in self.taken)
            parts.append(f"{keeper} took its {took}")
        parts.extend(
            f"its {name} {value} was dropped ({keeper} keeps its own, {kept})"
            for name, value, kept in self.dropped
        )
        return "; ".join(parts)


def merge_slot(own: Mapping[str, str], slot: Mapping[str, str]) -> SlotMerge:
    """The values of a timepoint holding imaging that takes the place of a scheduled
    follow-up (``slot``): it keeps its own values and takes the slot's for the fields it
    lacks (empty or blank); where both have one and they differ, the slot's is listed as
    dropped, so that it can be said where it went. Fields are taken in the order of
    ``own``, then of ``slot``.

    Examples
    --------
    A CT linked by hand with its radiologist (Dr S) takes the place of a scheduled
    follow-up assigned to Dr R with modality MR: it keeps Dr S, takes MR, and Dr R is
    dropped.
    """
    values: dict[str, str] = {}
    taken: list[tuple[str, str]] = []
    dropped: list[tuple[str, str, str]] = []
    for name in dict.fromkeys([*own, *slot]):
        mine, theirs = own.get(name) or "", slot.get(name) or ""
        if not mine.strip():
            values[name] = theirs
            if theirs.strip():
                taken.append((name, theirs))
            continue
        values[name] = mine
        if theirs.strip() and theirs.strip() != mine.strip():
            dropped.append((name, theirs, mine))
    return SlotMerge(values, tuple(taken), tuple(dropped))


@dataclass(frozen=True)
class TaceDate:
    """A performed TACE: its number in the case and its date."""

    number: int
    on: dt.date


@dataclass(frozen=True)
class CaseEnd:
    """Follow-up ended: the date and why (one of :data:`CLOSURE_REASONS`)."""

    on: dt.date
    reason: str

    def __post_init__(self) -> None:
        if self.reason not in CLOSURE_REASONS:
            raise InvalidInputError("reason", f"{self.reason!r}: expected one of {CLOSURE_REASONS}")


TimepointState = Literal["open", "superseded", "ended"]


@dataclass(frozen=True)
class PlannedTimepoint:
    """A follow-up timepoint of a case's schedule, with the TACE it follows."""

    tace_number: int
    tace_on: dt.date
    due: DueTimepoint
    state: TimepointState
    reason: str = ""


def superseded_by(due_on: dt.date, repeat_tace_on: dt.date) -> bool:
    """True when a timepoint due on ``due_on`` gives way to a repeat TACE on ``repeat_tace_on``
    (due on or after it: the repeat TACE restarts the schedule)."""
    return due_on >= repeat_tace_on


def ended_by(due_on: dt.date, closed_on: dt.date) -> bool:
    """True when a timepoint due on ``due_on`` is dropped by closing the follow-up on
    ``closed_on`` (due after it)."""
    return due_on > closed_on


def case_schedule(
    taces: Sequence[TaceDate],
    preset: SchedulePreset,
    horizon_months: int,
    end: CaseEnd | None = None,
) -> list[PlannedTimepoint]:
    """Every follow-up timepoint of a case: open, superseded by a repeat TACE, or ended.

    Each TACE restarts the schedule; a timepoint of an earlier TACE due on or after the
    next TACE's date is ``superseded``. After ``end`` (closure date) the remaining
    timepoints are ``ended``.
    """
    ordered = sorted(taces, key=lambda t: (t.on, t.number))
    out: list[PlannedTimepoint] = []
    for index, tace in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        for due in schedule_after(tace.on, preset, horizon_months):
            if following is not None and superseded_by(due.due_on, following.on):
                state: TimepointState = "superseded"
                reason = f"TACE {following.number} on {following.on.isoformat()} restarted it"
            elif end is not None and ended_by(due.due_on, end.on):
                state, reason = "ended", f"follow-up ended on {end.on.isoformat()} ({end.reason})"
            else:
                state, reason = "open", ""
            out.append(PlannedTimepoint(tace.number, tace.on, due, state, reason))
    return out


def schedule_explanation(preset: SchedulePreset, procedure_on: dt.date) -> Explanation:
    """How a schedule's due dates were obtained."""
    first = schedule_after(procedure_on, preset, 12)[:3]
    return Explanation(
        summary=f"Follow-up schedule: {preset.label}",
        formula=preset.describe() + "; " + MONTH_RULE,
        inputs={"TACE": procedure_on.isoformat()},
        result=", ".join(t.due_on.isoformat() for t in first) + " …",
        source=preset.source,
    )
