"""Contour proposals not confirmed are not lost without a question (case change, closing).

:class:`UnconfirmedProposals` is a part of
:class:`~tace_planner.ui.workspaces.followup_page.FollowupReviewPage`: the main window's
case-change guard (:class:`~tace_planner.ui.case_change.CaseChangeGuard`) asks it, as it
asks the plan and the procedure panels, before another case is shown or the window closes.
With checked proposals not stored it asks Confirm / Discard / Cancel (the buttons of the
panels' Save / Discard / Cancel question, *Save* named for what it does here). The page asks
the same before another follow-up of the case is chosen (:meth:`leave_proposals`): while the
question is open its Follow-up box shows the follow-up the question is about, and after
*Confirm* the next follow-up's message begins with what was stored ("7 proposals of TACE 1
follow-up 1 stored."), which the next message used to replace at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtWidgets import QComboBox, QMessageBox, QWidget

from tace_planner.services.stored_review import StoredReview
from tace_planner.ui.followup_review import FollowupReview

ProposalChoice = Literal["confirm", "discard", "cancel"]


def ask_confirm_discard_cancel(parent: QWidget, question: str) -> ProposalChoice:
    """Ask Confirm / Discard / Cancel about ``question`` (Confirm is the default)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Proposals not confirmed",
        question,
        QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
        parent,
    )
    box.setDefaultButton(QMessageBox.Save)
    box.button(QMessageBox.Save).setText("Confirm checked proposals")
    box.exec()
    answer = box.standardButton(box.clickedButton()) if box.clickedButton() else None
    if answer == QMessageBox.Save:
        return "confirm"
    return "discard" if answer == QMessageBox.Discard else "cancel"


def _disappeared(names: list[str]) -> str:
    """ "F5 proposed as disappeared (0 mm)"; "F5, F6 proposed as disappeared (0 mm)"."""
    return f"{', '.join(names)} proposed as disappeared (0 mm)"


class UnconfirmedProposals:
    """``resolve_unsaved`` / ``finish_unsaved`` of the Follow-up page (see the module).

    ``ask_unconfirmed`` asks the question (tests replace it); the page provides
    ``review`` (its :class:`FollowupReview`), ``timepoints`` (its Follow-up box),
    ``visit``, ``chosen_label``, ``_set_enabled`` and ``_on_choice_changed``.
    """

    review: FollowupReview
    timepoints: QComboBox
    visit: Callable[[str], str]
    chosen_label: Callable[[], str]
    _set_enabled: Callable[[], None]
    _on_choice_changed: Callable[..., None]
    _discard_proposals = False
    stored_note = ""
    """What *Confirm* stored as another follow-up was chosen ("7 proposals of TACE 1
    follow-up 1 stored."; "" otherwise): the next follow-up's messages begin with it until
    another follow-up or case is chosen."""

    def ask_unconfirmed(self, question: str) -> ProposalChoice:
        """Confirm / Discard / Cancel (a modal message box; tests replace it)."""
        return ask_confirm_discard_cancel(self.review, question)

    def unconfirmed_question(self) -> str:
        """ "7 contour proposals at follow-up 1 are not confirmed." ("" when none is).

        It counts the checked proposals only (what *Confirm* stores) and names those
        proposed as disappeared: checked, *Confirm* stores them as 0 mm, which counts towards
        a complete response; unchecked (as they start, until the reader has looked), it
        leaves them out. It listed "(F1, …, F7)" and *Confirm* stored F5, not found,
        unseen."""
        names = self.review.unconfirmed()
        if not names:
            return ""
        visit = self.visit(self.review.item.follow_up.label)
        one = len(names) == 1
        question = (
            f"{len(names)} contour proposal{'' if one else 's'} at {visit} "
            f"{'is' if one else 'are'} not confirmed ({', '.join(names)})."
        )
        gone = self.review.proposed_disappeared(checked=True)
        if gone:
            question += (
                f" Checked: {_disappeared(gone)}; Confirm stores "
                f"{'it' if len(gone) == 1 else 'them'} as disappeared, which counts towards a "
                "complete response (RECIST 1.1; Eisenhauer et al., Eur J Cancer 2009)."
            )
        left = self.review.proposed_disappeared(checked=False)
        if left:
            question += f" Not checked, so not stored: {_disappeared(left)}."
        return f"{question} Confirm the checked proposals?"

    def resolve_unsaved(self) -> bool:
        """Before the window leaves this case: True to go on, False to stay on it.

        With checked proposals not stored it asks Confirm / Discard / Cancel. *Confirm*
        stores them as *Confirm checked proposals* does (a refusal is said under the table
        and the user stays); *Discard* goes on (they go once every panel answered,
        :meth:`finish_unsaved`); *Cancel* stays.
        """
        self._discard_proposals = False
        choice = self._answer_unconfirmed()
        self._discard_proposals = choice == "discard"
        return choice != "cancel"

    def _answer_unconfirmed(self) -> ProposalChoice | None:
        """Ask about the checked proposals not stored (None: there are none); *Confirm*
        stores them, and a refusal (said under the table) counts as *Cancel*."""
        question = self.unconfirmed_question()
        if not question:
            return None
        choice = self.ask_unconfirmed(question)
        if choice == "confirm" and not self.review.confirm_checked():
            return "cancel"
        return choice

    def leave_proposals(self) -> bool:
        """Before another follow-up of the case is chosen (the Follow-up box, a worklist
        row, a study linked): True to go on — nothing unconfirmed, or confirmed (said in
        :attr:`stored_note`), or discarded (they go as the review shows the other
        follow-up) — False to stay on the follow-up whose proposals are shown (*Cancel*,
        or a refused confirmation)."""
        visit = self.visit(self.review.item.follow_up.label) if self.review.item else ""
        choice = self._answer_unconfirmed()
        if choice == "confirm" and self.review.item is not None:
            stored = len(getattr(self.review.item, "confirmed", ()))
            self.stored_note = f"{stored} proposal{'' if stored == 1 else 's'} of {visit} stored."
        return choice != "cancel"

    def _leaves_proposals(self) -> bool:
        """True when the follow-up chosen in the box may be shown: it is the one proposed,
        or the proposals shown are not checked, confirmed or discarded (``leave_proposals``).

        While the question is open the box shows the follow-up proposed (the one asked
        about), without a signal; it shows the one chosen again once the answer lets it go,
        and stays on the one proposed on *Cancel* (False)."""
        self.stored_note = ""
        item = self.review.item
        if item is None or isinstance(item, StoredReview):
            return True
        if item.follow_up.label == self.chosen_label():
            return True
        chosen = self.chosen_label()
        proposed = self.timepoints.findData(item.follow_up.label)
        if proposed >= 0:  # else it left the box (a study unlinked): its proposals stay shown
            self._put_box(proposed)
        if self.leave_proposals():
            self._put_box(self.timepoints.findData(chosen))
            return True
        self.timepoints.setToolTip("")
        self._set_enabled()
        return False

    def _put_box(self, index: int) -> None:
        """Show the box's follow-up ``index`` without a signal (no choice made)."""
        blocked = self.timepoints.blockSignals(True)
        self.timepoints.setCurrentIndex(index)
        self.timepoints.blockSignals(blocked)

    def finish_unsaved(self, leaving: bool) -> None:
        """After every panel answered: when ``leaving``, discarded proposals go (the contours
        stored at the follow-up show again, even if the change then stops); else (a
        *Cancel*) they stay, still unconfirmed, and are asked about again."""
        discard, self._discard_proposals = self._discard_proposals, False
        if discard and leaving and self.review.unconfirmed():
            self.review.clear()
            self._on_choice_changed()
