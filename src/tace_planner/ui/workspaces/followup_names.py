"""The Follow-up workspace's Follow-up box: the case's follow-ups by the one name people
read.

The rule is :mod:`tace_planner.services.visit_names`: a visit placed in a schedule slot is
"TACE 1 follow-up 1" wherever it is shown, even when it was linked as "follow-up 2"; the
stored label stays in the box's item data, which is what the services are asked with.
:class:`BoxRows` finds a follow-up's row in the box; :func:`confirmed_message` is what the
page says after *Confirm*, naming the lesions still unmeasured at that follow-up.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from tace_planner.services.visit_names import names_by_label
from tace_planner.ui.wording import capitalised

CHOICE_ROLE = Qt.ItemDataRole.UserRole + 1
"""The Follow-up box's item data role of each follow-up's
:class:`~tace_planner.services.followup_dto.FollowupChoiceItem`, when known (its label is
under ``Qt.ItemDataRole.UserRole``)."""


def fill_choice_box(box: QComboBox, choices: list[Any]) -> dict[str, str]:
    """Offer ``choices`` (the case's follow-ups, :class:`FollowupChoiceItem`) in ``box``
    by their visit names, their labels as item data; those without imaging greyed and not
    choosable, saying why in their tooltip. The first ready one is chosen. Returns each
    label's visit name."""
    model = box.model()
    first_ready = -1
    for row, choice in enumerate(choices):
        box.addItem(choice.visit_name, choice.label)
        box.setItemData(row, choice, CHOICE_ROLE)
        if choice.ready:
            first_ready = row if first_ready < 0 else first_ready
            continue
        box.setItemData(row, capitalised(choice.note), Qt.ItemDataRole.ToolTipRole)
        item = model.item(row) if hasattr(model, "item") else None
        if item is not None:  # greyed and not choosable
            item.setEnabled(False)
    box.setCurrentIndex(max(first_ready, 0) if box.count() else -1)
    return names_by_label(choices)


class BoxRows:
    """The Follow-up box's rows by follow-up: a part of
    :class:`~tace_planner.ui.workspaces.followup_page.FollowupReviewPage` (its box is
    ``timepoints``, filled by :func:`fill_choice_box`)."""

    timepoints: QComboBox

    def _choice_index(self, timepoint_pk: int | None) -> int:
        """The box's row of the follow-up ``timepoint_pk`` (-1: none)."""
        for index in range(self.timepoints.count() if timepoint_pk is not None else 0):
            choice = self.timepoints.itemData(index, CHOICE_ROLE)
            if choice is not None and choice.pk == timepoint_pk:
                return index
        return -1

    def offers(self, timepoint_pk: int) -> bool:
        """True when the follow-up ``timepoint_pk`` is in the Follow-up box."""
        return self._choice_index(timepoint_pk) >= 0

    def _choosable(self, index: int) -> bool:
        choice = self.timepoints.itemData(index, CHOICE_ROLE)
        return choice is None or choice.ready


RECIST_SOURCE = "RECIST 1.1; Eisenhauer et al., Eur J Cancer 2009"


def _and(names: list[str]) -> str:
    """ "F5", "F5 and F8", "F2, F5 and F8"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def confirmed_message(result: Any, course: Any, visit: str) -> str:
    """The Follow-up page's message after *Confirm*: how many contours were stored at
    ``visit`` (the follow-up's visit name) and which proposed lesions are still not
    measured there, with what follows.

    ``result`` is the confirmed :class:`~tace_planner.services.propagation.PropagationItem`
    (a proposal without a stored contour is unmeasured); ``course`` the case's
    :class:`~tace_planner.services.propagation.CaseCourse` after it, which says the targets.
    An unmeasured target, or any unmeasured focus when the case has no target (non-target
    disease only), makes the response there not evaluable (NE); an unmeasured non-target
    beside measured targets is "not evaluated", which rules out a complete response
    (RECIST 1.1 Tables 1 and 2; Eisenhauer et al., Eur J Cancer 2009).
    """
    stored = len(result.confirmed)
    head = capitalised(visit)
    text = (
        f"{head}: {stored} contour(s) stored; the table below shows the values stored at "
        "this follow-up."
        if stored
        else f"{head}: nothing stored."
    )
    left = [p.name for p in result.proposals if p.stored is None]
    targets = {c.name for c in getattr(course, "lesions", ()) if c.is_target}
    non_targets = [n for n in left if targets and n not in targets]
    ne = [n for n in left if n not in non_targets]
    for names, what in (
        (ne, "the response there is not evaluable (NE)"),
        (non_targets, "not evaluated, so the response there cannot be complete (CR)"),
    ):
        if names:
            verb = "is" if len(names) == 1 else "are"
            kind = " (non-target)" if names is non_targets else ""
            text += (
                f" {_and(names)}{kind} not measured at {visit}: {what} until {_and(names)} "
                f"{verb} contoured or confirmed as disappeared ({RECIST_SOURCE})."
            )
    return text
