"""The one gate of a case change (and of closing the window): unsaved input is saved,
discarded or kept (Cancel).

Every way to another case or to a patient row (a click in the case list, a worklist row,
a new case, the demo, ``MainWindow.select_case``) selects a row of the case list, and only
the main window listens to the list: it asks :class:`CaseChangeGuard` first and then shows
the row on every part (docks, study tree, Follow-up page). On Cancel no part follows and
the list is put back on what the window shows, so that no part is left on the declined case.

Every panel is asked before any input is discarded: a *Discard* answered by one panel is
carried out (:meth:`DiscardsWhenLeaving.finish_unsaved`) only when no later panel answers
*Cancel*, and the caller carries out the change right after (New case… asks before its
dialog: a discarded record is then gone from its form even if the dialog is closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tace_planner.ui.panels.case_list import CaseListPanel


class HoldsUnsavedInput(Protocol):
    """A panel that asks about its unsaved input before the window leaves its case."""

    def resolve_unsaved(self) -> bool:
        """Save / Discard / Cancel when it holds unsaved input: True to go on, False to stay."""
        ...


@runtime_checkable
class DiscardsWhenLeaving(Protocol):
    """A panel whose *Discard* waits until every panel has answered (the procedure form,
    the follow-up proposals not confirmed)."""

    def finish_unsaved(self, leaving: bool) -> None:
        """``leaving``: every panel answered Save or Discard, the input discarded goes from
        the form; False: a *Cancel* keeps the case, the input stays (still unsaved)."""
        ...


class CaseChangeGuard:
    """Asks ``panels`` in turn (the plan's inputs and options, the procedure form, the
    follow-up proposals not confirmed) before a case change;
    a *Discard* is carried out once all of them answered (none *Cancel*).

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
        False on the first Cancel or refused save (the window is closing: it stays open).

        Every panel is asked before any discards: the panels that answered *Discard* are
        told at the end whether the window leaves (their input then goes) or stays (it is
        kept, and asked about again at the next change).
        """
        answered: list[HoldsUnsavedInput] = []
        leaving = True
        for panel in self._panels:
            if not panel.resolve_unsaved():
                leaving = False
                break
            answered.append(panel)
        for panel in answered:
            if isinstance(panel, DiscardsWhenLeaving):
                panel.finish_unsaved(leaving)
        return leaving
