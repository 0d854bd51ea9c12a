"""Find a case's visit from what a user typed (``--timepoint``): one order, kept here once.

A visit answers to its stored label ("follow-up 2": what it was linked or imported under),
to its visit name ("TACE 1 follow-up 1": what the worklist, the Follow-up box and the case
report show, :mod:`tace_planner.services.visit_names`) and to its id. The first of these
tiers that names any visit decides, in this order:

1. the stored label: every ``--timepoint`` that worked keeps working, and a label is never
   shadowed by a name or a shorthand (a CT linked as "follow-up 2" and placed in the slot
   "TACE 1 follow-up 1" is "follow-up 2", not the schedule's "TACE 1 follow-up 2");
2. the visit name;
3. the id;
4. where the caller allows it, "follow-up N": the N-th follow-up of a schedule
   ("TACE k follow-up N"), when no label or name reads so.

Case and spacing do not matter. Refusals list the visits by
:func:`~tace_planner.services.visit_names.typed_of` (the name, the label in brackets when
it differs), so that both spellings a user may know are shown. :func:`case_visits` gives a
case's timepoints (baseline included) in the shape the lookup reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tace_planner.services.followup_records import follow_up_choices
from tace_planner.services.visit_names import name_of, typed_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Visit:
    """What a lookup needs of a timepoint without a schedule slot (a baseline), in the
    shape :func:`~tace_planner.services.visit_names.name_of` reads."""

    pk: int
    label: str
    tace_number: int | None = None
    followup_number: int | None = None
    slot_relaid: bool = False


def case_visits(
    sessions: sessionmaker[Session] | None, case_pk: int, timepoints: Sequence[Any]
) -> list[Any]:
    """The case's ``timepoints`` (each with ``pk`` and ``label``, the baseline included, in
    their order) as :func:`visit_matches` reads them: a follow-up as the Follow-up box lists
    it (:func:`~tace_planner.services.followup_records.follow_up_choices`, its schedule slot
    and so its visit name), any other timepoint as a :class:`Visit` (label and id).

    Without ``sessions`` (a service built without a database) every timepoint is a
    :class:`Visit`: it answers to its label and its id only.
    """
    placed: dict[int, Any] = {}
    if sessions is not None:
        with sessions() as session:
            placed = {c.pk: c for c in follow_up_choices(session, case_pk, dt.date.today())}
    return [placed.get(t.pk) or Visit(t.pk, t.label) for t in timepoints]


def _plain(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def visit_matches(text: str, items: Sequence[T], *, shorthand: bool = False) -> list[T]:
    """The ``items`` (each with ``pk``, ``label``, ``tace_number``, ``followup_number``
    and optionally ``slot_relaid``) that ``text`` names, by the first tier that names any
    (see the module); [] when none does. More than one: ``text`` is ambiguous."""
    wanted = _plain(text)
    tiers: list[Callable[[Any], bool]] = [
        lambda item: _plain(item.label) == wanted,
        lambda item: _plain(name_of(item)) == wanted,
        lambda item: str(item.pk) == wanted,
    ]
    number = wanted.removeprefix("follow-up ")
    if shorthand and number != wanted and number.isdecimal():
        tiers.append(lambda item: item.followup_number == int(number))
    for tier in tiers:
        found = [item for item in items if tier(item)]
        if found:
            return found
    return []


def listed(items: Sequence[Any], *, with_ids: bool = False) -> str:
    """The visits as a refusal lists them: "'TACE 1 follow-up 1 (follow-up 2)', …"
    (with ``with_ids``: each followed by "(id N)"), or "none"."""
    return (
        ", ".join(repr(typed_of(item)) + (f" (id {item.pk})" if with_ids else "") for item in items)
        or "none"
    )
