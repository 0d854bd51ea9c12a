"""Time to progression (TTP) after systemic therapy and after TACE, and the case's groups (pure).

Rules (shown in every explanation):

* **Start**: the first day of a systemic therapy line, or the date of the first TACE of a
  course (a TACE within ``course_gap_days`` of the previous one, e.g. the second-lobe
  session of a sequential plan, continues its course).
* **Observation ends** at the earliest of: the next new treatment (for a therapy line:
  the next line or the next TACE course; for a TACE course: the next course or a therapy
  line started after it), the closing of the case's follow-up, or today.
* **Event**: the first progression dated after the start and on or before the end of
  observation — a follow-up assessment that recorded progression, a therapy line's
  progression date, or closing the case for progression. "Anywhere" counts every site;
  "liver" counts progression recorded in the liver. A progression whose site was not
  recorded counts anywhere, and ends liver observation without a liver event (censored).
* **Censored** (no event): at the last adequate assessment — the last follow-up with a
  response assessment stored for it — after the start and within observation (censoring
  at the last radiological evaluation: Llovet et al., J Natl Cancer Inst 2008). Imaging
  linked but never assessed cannot show the absence of progression and does not count
  (a progression recorded at it is still an event). Death without progression is
  censored too: this is time to progression, not progression-free survival.
* **Not evaluable**: no assessed follow-up after the start (and no event): no TTP — left
  out of Kaplan–Meier with the reason, exported as missing, never as 0 or censored.

Days are calendar days from the start to the event or the censoring date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation
from tace_planner.domain.schedule import CaseEnd, FollowupParameters, TaceDate, add_months

SITES = ("liver", "extrahepatic", "both", "unspecified")
"""Where progression was found ("" = no progression)."""
ESTABLISHED = ("imaging", "clinical")
"""How a therapy line's progression was established."""
THERAPY_CATALOGUE = (
    "somatostatin analogue",
    "everolimus",
    "sunitinib",
    "CAPTEM",
    "PRRT",
    "platinum–etoposide",
    "FOLFIRI",
    "FOLFOX",
)
"""Regimens offered in the therapy-line editor (free text is accepted too)."""
TIMINGS = ("synchronous", "metachronous")
SEQUENCES = ("immediate", "after_chemotherapy")

Scope = Literal["anywhere", "liver"]

CENSORING_SOURCE = "Llovet et al., J Natl Cancer Inst 2008"
CENSORING_RULE = (
    "event: first progression after the start, up to the end of observation (next "
    "treatment, closure of follow-up or today); otherwise censored at the last follow-up "
    "with a response assessment in that period (the last radiological evaluation, "
    f"{CENSORING_SOURCE}); imaging never assessed does not count; no assessed follow-up: "
    "not evaluable; death without progression is censored"
)
NOT_EVALUABLE = "not evaluable: no follow-up assessed"
"""Why a start has no TTP (shown in the case's TTP, the CLI and the cohort notes)."""


@dataclass(frozen=True)
class TherapyLine:
    """One line of systemic therapy with its dates (``progression_on`` None: none recorded)."""

    number: int
    drug: str
    start_on: dt.date
    stop_on: dt.date | None = None
    progression_on: dt.date | None = None
    progression_site: str = "unspecified"
    established: str = ""
    best_response: str = ""

    def __post_init__(self) -> None:
        validate_therapy_line(
            self.drug, self.start_on, self.stop_on, self.progression_on, self.progression_site
        )


def validate_therapy_line(
    drug: str,
    start_on: dt.date | None,
    stop_on: dt.date | None,
    progression_on: dt.date | None,
    progression_site: str = "unspecified",
    established: str = "",
) -> None:
    """Refuse an impossible therapy line; the field is named.

    Raises
    ------
    InvalidInputError
        Empty drug, no start, stop before start, progression before start, or an
        unknown site / way of establishing progression.
    """
    if not drug.strip():
        raise InvalidInputError("drug", "give the drug or regimen")
    if start_on is None:
        raise InvalidInputError("start", "the start date is needed")
    if stop_on is not None and stop_on < start_on:
        raise InvalidInputError(
            "stop", f"{stop_on.isoformat()} is before the start {start_on.isoformat()}"
        )
    if progression_on is not None and progression_on < start_on:
        raise InvalidInputError(
            "progression",
            f"{progression_on.isoformat()} is before the therapy start {start_on.isoformat()}",
        )
    if progression_site not in SITES:
        raise InvalidInputError("progression site", f"expected one of {SITES}")
    if established and established not in ESTABLISHED:
        raise InvalidInputError("established by", f"expected one of {ESTABLISHED}")


@dataclass(frozen=True)
class Assessment:
    """An imaging timepoint with its date, and progression if recorded there.

    ``assessed``: a response assessment is stored for it (an adequate assessment, which
    may censor). False: imaging linked but never read — a progression recorded at it is
    an event, but it cannot show the absence of progression (Llovet et al., J Natl Cancer
    Inst 2008: censoring at the last radiological evaluation).
    """

    on: dt.date
    label: str
    progression_site: str = ""  # "" = no progression
    assessed: bool = True


@dataclass(frozen=True)
class Event:
    """A progression with its date, site and where it was recorded."""

    on: dt.date
    site: str
    origin: str

    def counts(self, scope: Scope) -> bool | None:
        """True: an event of the scope; None: site unknown for the liver (ends observation)."""
        if scope == "anywhere":
            return True
        if self.site in ("liver", "both"):
            return True
        if self.site == "unspecified":
            return None
        return False


@dataclass(frozen=True)
class TtpResult:
    """TTP of one start (a therapy line or a TACE course) in one scope."""

    label: str
    scope: Scope
    start_on: dt.date
    days: int | None
    event: bool
    end_on: dt.date | None
    explanation: Explanation

    def to_json(self) -> dict[str, Any]:
        """JSON form (``days`` None when not evaluable)."""
        return {
            "label": self.label,
            "scope": self.scope,
            "start_on": self.start_on.isoformat(),
            "days": self.days,
            "event": self.event,
            "censored": self.days is not None and not self.event,
            "end_on": self.end_on.isoformat() if self.end_on else None,
            "explanation": self.explanation.to_json(),
        }


def courses(taces: Sequence[TaceDate], gap_days: int) -> list[tuple[TaceDate, ...]]:
    """TACEs grouped into courses: one within ``gap_days`` of the previous continues it."""
    out: list[list[TaceDate]] = []
    for tace in sorted(taces, key=lambda t: (t.on, t.number)):
        if out and (tace.on - out[-1][-1].on).days <= gap_days:
            out[-1].append(tace)
        else:
            out.append([tace])
    return [tuple(c) for c in out]


def _visit(label: str) -> str:
    """The follow-up's name as people read it: its label when that names a follow-up
    ("follow-up 2", "TACE 1 follow-up 4"), else "follow-up" before it."""
    return label if "follow-up" in label.casefold() else f"follow-up {label}"


def _events(
    lines: Sequence[TherapyLine], assessments: Sequence[Assessment], end: CaseEnd | None
) -> list[Event]:
    events = [
        Event(a.on, a.progression_site, _visit(a.label)) for a in assessments if a.progression_site
    ]
    events += [
        Event(line.progression_on, line.progression_site, f"therapy line {line.number}")
        for line in lines
        if line.progression_on is not None
    ]
    if end is not None and end.reason == "progression":
        events.append(Event(end.on, "unspecified", "case closed for progression"))
    return sorted(events, key=lambda e: e.on)


def time_to_progression(
    label: str,
    start_on: dt.date,
    observation_end: dt.date,
    end_reason: str,
    scope: Scope,
    events: Sequence[Event],
    assessments: Sequence[Assessment],
) -> TtpResult:
    """TTP from ``start_on`` with observation up to ``observation_end`` (see the module rules)."""
    inputs = {
        "start": start_on.isoformat(),
        "end of observation": f"{observation_end.isoformat()} ({end_reason})",
        "scope": "progression in the liver" if scope == "liver" else "progression anywhere",
    }
    stop_at = observation_end
    unknown_site: Event | None = None
    for event in events:
        if not start_on < event.on <= observation_end:
            continue
        counted = event.counts(scope)
        if counted:
            days = (event.on - start_on).days
            inputs["event"] = f"{event.on.isoformat()} ({event.origin}, site {event.site})"
            return TtpResult(
                label, scope, start_on, days, True, event.on,
                Explanation(
                    summary=f"Time to progression after {label}",
                    formula="TTP = date of first progression − start date; " + CENSORING_RULE,
                    inputs=inputs,
                    result=f"{days} days (progression)",
                    source="time to progression after TACE vs after chemotherapy, as in the "
                    "source study (Zvezdkina et al., Journal of Clinical Practice 2022)",
                ),
            )  # fmt: skip
        if counted is None and unknown_site is None:
            unknown_site = event
            stop_at = event.on
            break
    within = [a for a in assessments if start_on < a.on <= stop_at]
    seen = [a for a in within if a.assessed]
    if unknown_site is not None:
        inputs["progression of unrecorded site"] = (
            f"{unknown_site.on.isoformat()} ({unknown_site.origin}): liver observation ends"
        )
    last_on = max((a.on for a in seen), default=start_on)
    unread = [a for a in within if not a.assessed and a.on > last_on]
    if unread:
        inputs["imaging not assessed (does not censor)"] = ", ".join(
            f"{a.on.isoformat()} ({a.label})" for a in sorted(unread, key=lambda a: a.on)
        )
    if not seen:
        return TtpResult(
            label, scope, start_on, None, False, None,
            Explanation(
                summary=f"Time to progression after {label}",
                formula=CENSORING_RULE,
                inputs=inputs,
                result=NOT_EVALUABLE,
                source=CENSORING_SOURCE,
            ),
        )  # fmt: skip
    last = max(seen, key=lambda a: a.on)
    days = (last.on - start_on).days
    inputs["last adequate assessment"] = f"{last.on.isoformat()} ({last.label})"
    return TtpResult(
        label, scope, start_on, days, False, last.on,
        Explanation(
            summary=f"Time to progression after {label}",
            formula="censored: date of the last adequate assessment − start date; "
            + CENSORING_RULE,
            inputs=inputs,
            result=f"{days} days (censored, no progression seen)",
            source=CENSORING_SOURCE,
        ),
    )  # fmt: skip


def _observation_end(
    start_on: dt.date,
    next_treatments: Sequence[tuple[dt.date, str]],
    end: CaseEnd | None,
    today: dt.date,
) -> tuple[dt.date, str]:
    candidates = [(d, why) for d, why in next_treatments if d > start_on]
    if end is not None and end.on > start_on:
        candidates.append((end.on, f"follow-up closed: {end.reason}"))
    candidates.append((today, "today"))
    return min(candidates, key=lambda c: c[0])


@dataclass(frozen=True)
class GroupAttribute:
    """A case attribute for cohort tables: value, entered or derived, and the rule."""

    name: str
    value: str | None
    how: Literal["entered", "derived", "unknown"]
    rule: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "value": self.value, "how": self.how, "rule": self.rule}


def metastases_timing(
    entered: str,
    diagnosed_on: dt.date | None,
    liver_metastases_on: dt.date | None,
    parameters: FollowupParameters,
) -> GroupAttribute:
    """Synchronous (liver metastases at diagnosis) or metachronous: entered, else derived."""
    days = parameters.synchronous_within_days
    rule = (
        f"synchronous when liver metastases were found within {days} days of the primary "
        f"diagnosis, else metachronous ({parameters.sources.get('synchronous_within_days', '')})"
    )
    if entered:
        if entered not in TIMINGS:
            raise InvalidInputError("metastases timing", f"expected one of {TIMINGS}")
        return GroupAttribute("metastases_timing", entered, "entered", "entered by the user")
    if diagnosed_on is None or liver_metastases_on is None:
        return GroupAttribute("metastases_timing", None, "unknown", rule + "; a date is missing")
    gap = (liver_metastases_on - diagnosed_on).days
    value = "synchronous" if gap <= days else "metachronous"
    return GroupAttribute("metastases_timing", value, "derived", f"{rule}; here {gap} days")


def tace_sequence(
    entered: str, first_tace_on: dt.date | None, lines: Sequence[TherapyLine]
) -> GroupAttribute:
    """TACE immediately vs after chemotherapy: entered, else derived from the therapy lines."""
    rule = "after chemotherapy when a systemic therapy line started before the first TACE"
    if entered:
        if entered not in SEQUENCES:
            raise InvalidInputError("TACE sequence", f"expected one of {SEQUENCES}")
        return GroupAttribute("tace_sequence", entered, "entered", "entered by the user")
    if first_tace_on is None:
        return GroupAttribute("tace_sequence", None, "unknown", rule + "; no TACE yet")
    before = [line for line in lines if line.start_on < first_tace_on]
    if before:
        first = min(before, key=lambda line: line.start_on)
        why = f"; line {first.number} ({first.drug}) started {first.start_on.isoformat()}"
        return GroupAttribute("tace_sequence", "after_chemotherapy", "derived", rule + why)
    return GroupAttribute(
        "tace_sequence", "immediate", "derived", rule + "; none started before the first TACE"
    )


def detection_interval(
    liver_metastases_on: dt.date | None,
    first_tace_on: dt.date | None,
    parameters: FollowupParameters,
) -> tuple[int | None, GroupAttribute]:
    """Days from liver-metastasis detection to the first TACE, and its group.

    Groups as in the source study's Table 1: ``< 2 weeks`` (fewer than
    ``immediate_tace_within_days`` days), ``> 3 months`` (TACE after the date
    ``delayed_tace_after_months`` calendar months after detection), else ``2 weeks – 3 months``.
    """
    within = parameters.immediate_tace_within_days
    months = parameters.delayed_tace_after_months
    rule = (
        f"< {within} days: '< 2 weeks'; TACE after detection + {months} calendar months: "
        f"'> 3 months'; else '2 weeks – 3 months' "
        f"({parameters.sources.get('immediate_tace_within_days', '')})"
    )
    if liver_metastases_on is None or first_tace_on is None:
        return None, GroupAttribute(
            "detection_to_tace", None, "unknown", rule + "; a date is missing"
        )
    days = (first_tace_on - liver_metastases_on).days
    if days < within:
        group = "< 2 weeks"
    elif first_tace_on > add_months(liver_metastases_on, months):
        group = "> 3 months"
    else:
        group = "2 weeks – 3 months"
    return days, GroupAttribute("detection_to_tace", group, "derived", f"{rule}; here {days} days")


@dataclass(frozen=True)
class TtpReport:
    """Every TTP of a case (per therapy line and per TACE course, liver and anywhere)."""

    after_therapy: tuple[TtpResult, ...]
    after_tace: tuple[TtpResult, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "rule": CENSORING_RULE,
            "after_therapy": [r.to_json() for r in self.after_therapy],
            "after_tace": [r.to_json() for r in self.after_tace],
        }


def case_ttp(
    *,
    taces: Sequence[TaceDate],
    lines: Sequence[TherapyLine],
    assessments: Sequence[Assessment],
    end: CaseEnd | None,
    today: dt.date,
    course_gap_days: int,
) -> TtpReport:
    """TTP after each therapy line and after each TACE course, in the liver and anywhere."""
    events = _events(lines, assessments, end)
    grouped = courses(taces, course_gap_days)
    course_starts = [
        (c[0].on, f"TACE {c[0].number}" if len(c) == 1 else f"TACE {c[0].number}–{c[-1].number}")
        for c in grouped
    ]
    after_therapy: list[TtpResult] = []
    for line in sorted(lines, key=lambda item: (item.start_on, item.number)):
        others = [(o.start_on, f"therapy line {o.number} started") for o in lines if o != line]
        nexts = others + [(d, f"{label} performed") for d, label in course_starts]
        stop, why = _observation_end(line.start_on, nexts, end, today)
        for scope in ("anywhere", "liver"):
            after_therapy.append(
                time_to_progression(
                    f"therapy line {line.number} ({line.drug})",
                    line.start_on,
                    stop,
                    why,
                    scope,
                    events,
                    assessments,
                )
            )
    after_tace: list[TtpResult] = []
    for start_on, label in course_starts:
        nexts = [(d, f"{other} performed") for d, other in course_starts if d != start_on]
        nexts += [(line.start_on, f"therapy line {line.number} started") for line in lines]
        stop, why = _observation_end(start_on, nexts, end, today)
        for scope in ("anywhere", "liver"):
            after_tace.append(
                time_to_progression(label, start_on, stop, why, scope, events, assessments)
            )
    return TtpReport(tuple(after_therapy), tuple(after_tace))
