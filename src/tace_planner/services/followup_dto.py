"""Read models of the follow-up (worklist rows, matches, therapy lines, timeline); no SQL here."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from tace_planner.services.visit_names import name_of

Category = Literal["due", "overdue", "upcoming", "done", "ended"]
CATEGORIES: tuple[str, ...] = ("due", "overdue", "upcoming", "done")
"""Worklist filters: due this week, overdue, upcoming, done."""


def _json(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def week_end(today: dt.date) -> dt.date:
    """The Sunday of ``today``'s week (weeks run Monday to Sunday, ISO 8601)."""
    return today + dt.timedelta(days=6 - today.weekday())


def categorise(
    status: str,
    due_on: dt.date | None,
    window_end_on: dt.date | None,
    today: dt.date,
    sunday: dt.date | None = None,
) -> Category:
    """The worklist category of a timepoint.

    done: a study is linked (or an unscheduled study made it); overdue: the window
    closed before today with no study; due: the window is still open and the due date
    is this week (Monday–Sunday) or earlier; upcoming: due after this week. ``sunday``
    (the end of today's week) may be passed in when many rows are categorised.
    """
    if status in ("done", "unscheduled"):
        return "done"
    if status != "scheduled" or due_on is None or window_end_on is None:
        return "ended"
    if window_end_on < today:
        return "overdue"
    if due_on <= (sunday or week_end(today)):
        return "due"
    return "upcoming"


def study_words(description: str, modality: str, on: dt.date | None) -> str:
    """A study as the worklist names it: description, modality and date, those known
    ("study" when none is)."""
    parts = [description.strip(), modality, on.isoformat() if on else ""]
    return " · ".join(part for part in parts if part) or "study"


@dataclass(frozen=True)
class TimepointItem:
    """One follow-up timepoint as the worklist shows it."""

    pk: int
    case_pk: int
    patient_id: str
    patient_name: str
    case_title: str
    tace_number: int | None
    tace_on: dt.date | None
    label: str
    followup_number: int | None
    due_on: dt.date | None
    window_start_on: dt.date | None
    window_end_on: dt.date | None
    status: str
    category: str
    modality: str = ""
    radiologist: str = ""
    study_uid: str = ""
    study_on: dt.date | None = None
    proposed_study_uid: str = ""
    proposed_study_on: dt.date | None = None
    progression_site: str = ""
    study_description: str = ""
    study_modality: str = ""
    proposed_study_description: str = ""
    proposed_study_modality: str = ""
    slot_relaid: bool = False
    """Placed in a slot that a later layout of its schedule gave to another timepoint (it
    is then named by its label, :func:`~tace_planner.services.visit_names.visit_name`)."""

    @property
    def visit_name(self) -> str:
        """The visit as people read it: its schedule slot ("TACE 1 follow-up 1") when it
        was placed in one, else its label (:mod:`tace_planner.services.visit_names`)."""
        return name_of(self)

    @property
    def study_text(self) -> str:
        """The linked study as people know it: "CT abdomen · CT · 2026-05-11" ("" without
        one); the Study Instance UID is left out (no reader knows a study by it)."""
        if not self.study_uid:
            return ""
        return study_words(self.study_description, self.study_modality, self.study_on)

    @property
    def proposed_study_text(self) -> str:
        """The study proposed for this timepoint, in the words of :attr:`study_text`."""
        if not self.proposed_study_uid:
            return ""
        return study_words(
            self.proposed_study_description, self.proposed_study_modality, self.proposed_study_on
        )

    @property
    def window_text(self) -> str:
        """ "2026-04-27 – 2026-05-25" (empty without a window)."""
        if self.window_start_on is None or self.window_end_on is None:
            return ""
        return f"{self.window_start_on.isoformat()} – {self.window_end_on.isoformat()}"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict of every field, with ``visit_name``."""
        data: dict[str, Any] = _json(asdict(self))
        data["visit_name"] = self.visit_name
        return data


Readiness = Literal["ready", "not_yet_due", "due", "overdue", "ended", "superseded", "no_imaging"]


@dataclass(frozen=True)
class FollowupChoiceItem:
    """A follow-up of a case as the Follow-up box offers it, and whether it can be used now.

    ``readiness`` is ``ready`` when it holds imaging (an imaging date, a linked study or
    contours): its contours can be proposed from the baseline and its response assessed.
    Otherwise it says why not: ``not_yet_due`` (scheduled, due after this week),
    ``due`` (scheduled, due this week or earlier, its window open: its study is awaited),
    ``overdue`` (its window closed without a study), ``ended`` (the case's follow-up ended
    before it), ``superseded`` (a later TACE restarted the schedule), ``no_imaging``
    (linked by hand, its study since moved away).
    """

    pk: int
    label: str
    status: str
    readiness: Readiness
    imaged_on: dt.date | None = None
    due_on: dt.date | None = None
    window_start_on: dt.date | None = None
    window_end_on: dt.date | None = None
    tace_number: int | None = None
    followup_number: int | None = None
    slot_relaid: bool = False
    """As :attr:`TimepointItem.slot_relaid`."""

    @property
    def visit_name(self) -> str:
        """The follow-up as people read it (see :attr:`TimepointItem.visit_name`)."""
        return name_of(self)

    @property
    def ready(self) -> bool:
        """True when it holds imaging: proposing contours and assessing can start."""
        return self.readiness == "ready"

    @property
    def not_yet_due(self) -> bool:
        """True for a scheduled follow-up without imaging due after this week."""
        return self.readiness == "not_yet_due"

    @property
    def note(self) -> str:
        """Why it cannot be used yet, in plain words ("" when ready), e.g. "not yet due:
        due 2027-02-11, window opens 2027-01-28"."""
        due = self.due_on.isoformat() if self.due_on else "no date"
        opens = self.window_start_on.isoformat() if self.window_start_on else "—"
        closed = self.window_end_on.isoformat() if self.window_end_on else "—"
        return {
            "ready": "",
            "not_yet_due": f"not yet due: due {due}, window opens {opens}",
            "due": f"due {due}: no study linked yet",
            "overdue": f"overdue: its window closed on {closed} without a study",
            "ended": "the case's follow-up ended before it; never imaged",
            "superseded": "a later TACE restarted the schedule; never imaged",
            "no_imaging": "no study linked",
        }[self.readiness]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict of every field, with ``ready``, ``note`` and ``visit_name``."""
        data: dict[str, Any] = _json(asdict(self))
        data["ready"], data["note"] = self.ready, self.note
        data["visit_name"] = self.visit_name
        return data


@dataclass(frozen=True)
class DueSession:
    """A planned TACE session not performed yet (e.g. the second lobe of a sequential plan)."""

    case_pk: int
    patient_id: str
    patient_name: str
    case_title: str
    session_number: int
    territory: str
    due_on: dt.date | None
    category: str
    after_tace: int | None = None

    @property
    def label(self) -> str:
        """ "TACE session 2: left lobe"."""
        return f"TACE session {self.session_number}" + (
            f": {self.territory}" if self.territory else ""
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data: dict[str, Any] = _json(asdict(self))
        data["label"] = self.label
        return data


def session_category(due_on: dt.date | None, today: dt.date) -> str:
    """due (by Sunday), overdue (before today) or upcoming; a session without a date is due."""
    if due_on is None:
        return "due"
    if due_on < today:
        return "overdue"
    return "due" if due_on <= week_end(today) else "upcoming"


@dataclass(frozen=True)
class MatchCandidate:
    """A timepoint whose window holds a study's date."""

    timepoint: TimepointItem
    days_from_due: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"timepoint": self.timepoint.to_json(), "days_from_due": self.days_from_due}


@dataclass(frozen=True)
class StudyMatch:
    """Where a newly imported study belongs: candidates in order, or an unscheduled timepoint."""

    study_uid: str
    study_on: dt.date | None
    patient_id: str
    candidates: tuple[MatchCandidate, ...]
    unscheduled_case_pks: tuple[int, ...] = ()
    linked_to: str = ""
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "study_uid": self.study_uid,
            "study_on": _json(self.study_on),
            "patient_id": self.patient_id,
            "candidates": [c.to_json() for c in self.candidates],
            "unscheduled_case_pks": list(self.unscheduled_case_pks),
            "linked_to": self.linked_to,
            "message": self.message,
        }


@dataclass(frozen=True)
class ImportedStudies:
    """What happened to newly imported studies of patients in follow-up.

    ``linked``: linked at once (the "link at once" setting, one fitting window);
    ``to_confirm``: proposed for a timepoint, or outside every window (an unscheduled
    timepoint), waiting for the user.
    """

    linked: tuple[TimepointItem, ...] = ()
    to_confirm: tuple[StudyMatch, ...] = ()

    def message(self) -> str:
        """One line for the status bar ("" when no study concerns a follow-up)."""
        parts = []
        if self.linked:
            parts.append(
                f"{len(self.linked)} new study(ies) linked to their follow-up: "
                + ", ".join(
                    f"{t.visit_name} ({', '.join(p for p in (t.patient_id, t.case_title) if p)})"
                    for t in self.linked
                )
            )
        proposed = sum(1 for m in self.to_confirm if m.candidates)
        if proposed:
            parts.append(f"{proposed} new study(ies) proposed on the worklist: confirm each")
        outside = len(self.to_confirm) - proposed
        if outside:
            parts.append(f"{outside} outside every follow-up window (unscheduled timepoint)")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "linked": [t.to_json() for t in self.linked],
            "to_confirm": [m.to_json() for m in self.to_confirm],
        }


@dataclass(frozen=True)
class TherapyLineItem:
    """One systemic therapy line of a case."""

    pk: int
    case_pk: int
    line_number: int
    drug: str
    start_on: dt.date
    stop_on: dt.date | None
    best_response: str
    progression_on: dt.date | None
    progression_site: str
    progression_established: str
    note: str
    version: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data: dict[str, Any] = _json(asdict(self))
        return data


@dataclass(frozen=True)
class TimelineTace:
    """A TACE on the timeline: number, date and delivered irinotecan."""

    number: int
    on: dt.date
    delivered_mg: float | None


@dataclass(frozen=True)
class TimelinePoint:
    """An imaging timepoint on the timeline, with the tumour measures found there.

    ``label`` is the stored label (what commands accept); ``name`` the visit as people
    read it (its schedule slot, "TACE 1 follow-up 1", when placed in one, else its label;
    :mod:`tace_planner.services.visit_names`), filled by the service: views show
    ``name or label``."""

    label: str
    on: dt.date
    status: str
    total_volume_cm3: float | None = None
    sum_of_diameters_mm: float | None = None
    response: str = ""
    progression_site: str = ""
    name: str = ""


@dataclass(frozen=True)
class TimelineData:
    """Everything the case timeline draws."""

    case_pk: int
    title: str
    lines: tuple[TherapyLineItem, ...] = ()
    taces: tuple[TimelineTace, ...] = ()
    points: tuple[TimelinePoint, ...] = ()
    due: tuple[TimepointItem, ...] = ()
    closed_on: dt.date | None = None
    closure_reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data: dict[str, Any] = _json(asdict(self))
        return data
