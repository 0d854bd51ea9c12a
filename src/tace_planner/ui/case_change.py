"""The one gate of a case change (and of closing the window): unsaved input is saved,
discarded or kept (Cancel).

Every way to another case or to a patient row (a click in the case list, a worklist row,
a new case, the demo, ``MainWindow.select_case``) selects a row of the case list, and only
the main window listens to the list: it asks :class:`CaseChangeGuard` first and then shows
the row on every part (docks, study tree, Follow-up page). On Cancel no part follows and
the list is put back on what the window shows, so that no part is left on the declined case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tace_planner.ui.panels.case_list import CaseListPanel


class HoldsUnsavedInput(Protocol):
    """A panel that asks about its unsaved input before the window leaves its case."""

    def resolve_unsaved(self) -> bool:
        """Save / Discard / Cancel when it holds unsaved input: True to go on, False to stay."""
        ...


class CaseChangeGuard:
    """Asks ``panels`` in turn (the plan's inputs, the procedure form) before a case change.

    Parameters
    ----------
    case_list
        The window's case list, put back on the row shown when the change is declined.
    panels
        The panels that may hold unsaved input, asked in this order.
    """

    def __init__(self, case_list: CaseListPanel, panels: Sequence[HoldsUnsavedInput]) -> None:
        self._case_list = case_list
        self._panels = tuple(panels)

    def allows(
        self, case_pk: int | None, shown_case_pk: int | None, shown_patient_pk: int | None
    ) -> bool:
        """True when the window may show ``case_pk`` (None: a patient row) instead of what
        it shows (``shown_case_pk``, or the row of ``shown_patient_pk`` when no case is open).

        The case shown again (a refresh) passes unasked. The first panel answering Cancel
        (or refusing to save) keeps the window where it is: the list is put back on the row
        shown without a signal, and False is returned.
        """
        if case_pk is not None and case_pk == shown_case_pk:
            return True
        if self.allows_leaving():
            return True
        self._case_list.reselect(shown_case_pk, shown_patient_pk)
        return False

    def allows_leaving(self) -> bool:
        """True when the panels' unsaved input is saved or discarded (or there is none);
        False on the first Cancel or refused save (the window is closing: it stays open)."""
        return all(panel.resolve_unsaved() for panel in self._panels)
