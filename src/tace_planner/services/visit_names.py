"""One name for one follow-up visit, wherever a person reads it.

A follow-up visit can carry two names: the label it was linked or imported under
("follow-up 2", "unscheduled 2026-06-03") and the schedule slot it was placed in
("TACE 1 follow-up 1", :func:`schedule_name`). The rule, kept here once:

- a visit placed in a schedule slot (it has a TACE number and a follow-up number) is
  named by its slot, "TACE 1 follow-up 1", in the worklist, the Follow-up box, the
  timeline, the Lesions dock and the messages about it;
- any other visit (the baseline, one linked by hand, an unscheduled one) by its label,
  and so is a placed visit whose slot a new preset for the same TACE laid out again for
  another timepoint (``slot_relaid``): no two visits of a case share a name.

Where a user may have typed the stored label (the command line's lists of timepoints, its
refusals) :func:`typed_name` adds it in brackets when it differs: "TACE 1 follow-up 1
(follow-up 2)". The stored label stays what commands accept (every ``--timepoint`` that
worked keeps working; the services are asked by label or id). The de-identified export's
"visit" column is another, deliberate name ("follow-up k" by imaging order, the same across
patients) and does not use this rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def schedule_name(tace_number: int, followup_number: int) -> str:
    """The name of a schedule's follow-up slot, e.g. "TACE 1 follow-up 2"."""
    return f"TACE {tace_number} follow-up {followup_number}"


def visit_name(
    label: str,
    tace_number: int | None,
    followup_number: int | None,
    *,
    slot_relaid: bool = False,
) -> str:
    """The one name people read for a visit: its schedule slot's name when it has one
    (TACE and follow-up numbers), else its stored ``label``.

    ``slot_relaid``: another timepoint of the case carries the slot's name (a new preset
    for the same TACE laid the slot out again and this visit's imaging fell outside its
    window): the visit keeps its label, so that no two visits share a name.
    """
    if tace_number is None or followup_number is None or slot_relaid:
        return label
    return schedule_name(tace_number, followup_number)


def typed_name(
    label: str,
    tace_number: int | None,
    followup_number: int | None,
    *,
    slot_relaid: bool = False,
) -> str:
    """The visit's name with its stored label in brackets when they differ ("TACE 1
    follow-up 1 (follow-up 2)"), for the places where a user may type the label."""
    return with_label(
        visit_name(label, tace_number, followup_number, slot_relaid=slot_relaid), label
    )


def with_label(name: str, label: str) -> str:
    """``name`` with the stored ``label`` in brackets when they differ (:func:`typed_name`
    of a visit whose name is already known, e.g. a JSON result's ``visit_name`` and
    ``timepoint``)."""
    return name if name.casefold() == label.casefold() else f"{name} ({label})"


def _parts(item: Any) -> tuple[tuple[str, int | None, int | None], dict[str, bool]]:
    return (item.label, item.tace_number, item.followup_number), {
        "slot_relaid": bool(getattr(item, "slot_relaid", False))
    }


def name_of(item: Any) -> str:
    """:func:`visit_name` of anything with ``label``, ``tace_number``,
    ``followup_number`` (and ``slot_relaid``, default False): a read model."""
    args, options = _parts(item)
    return visit_name(*args, **options)


def typed_of(item: Any) -> str:
    """:func:`typed_name` of the items :func:`name_of` takes."""
    args, options = _parts(item)
    return typed_name(*args, **options)


def names_by_label(items: Iterable[Any]) -> dict[str, str]:
    """Each item's label → its visit name (:func:`name_of`), e.g. from the case's
    :class:`~tace_planner.services.followup_dto.FollowupChoiceItem` list, for the views
    that hold only labels (a timepoint chooser; timeline points carry their ``name``)."""
    return {item.label: name_of(item) for item in items}


def names_by_pk(items: Iterable[Any]) -> dict[int, str]:
    """Each item's id (``pk``) → its visit name (:func:`name_of`), e.g. from the case's
    follow-up choices, for the read models that carry their ``name`` (a timepoint choice,
    a stored assessment's ``visit_name``); a timepoint missing from it (the baseline) keeps
    its label."""
    return {item.pk: name_of(item) for item in items}


def typed_by_label(items: Iterable[Any]) -> dict[str, str]:
    """Each item's label → :func:`typed_of` (the name, the label in brackets when it
    differs), for the command line, where a user types labels."""
    return {item.label: typed_of(item) for item in items}
