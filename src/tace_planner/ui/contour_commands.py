"""Undoable edits of the contour controller: a mask edit, a lesion added or removed.

Both are commands for :class:`~tace_planner.services.commands.CommandStack`; they
call back into :class:`~tace_planner.ui.contour_tools.ContourController`, which
redraws and saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tace_planner.imaging.segmentation.paint import MaskPatch
from tace_planner.ui.contour_lesion import ClickState, StateKey

if TYPE_CHECKING:
    from tace_planner.ui.contour_tools import ContourController


class MaskEdit:
    """An undoable change of one lesion's mask: patches applied in order.

    ``clicks`` (before, after): the auto contour's clicks, margin and hand edits,
    restored with the mask, so that the correction after an undo does not replay the
    click (or margin, or brush stroke) it took back.
    """

    def __init__(
        self,
        controller: ContourController,
        lesion_pk: StateKey,
        text: str,
        patches: Sequence[MaskPatch],
        clicks: tuple[ClickState, ClickState] | None = None,
    ) -> None:
        self.text = text
        self._controller = controller
        self._lesion_pk = lesion_pk
        self._patches = list(patches)
        self._clicks = clicks

    def do(self) -> None:
        """Apply the patches and save."""
        lesion = self._controller.lesion_state(self._lesion_pk)
        if lesion is None:
            return
        for patch in self._patches:
            patch.apply(lesion.mask)
        if self._clicks is not None:
            lesion.clicks = self._clicks[1]
        self._controller.mask_edited(self._lesion_pk, self._patches)

    def undo(self) -> None:
        """Revert the patches (last first) and save."""
        lesion = self._controller.lesion_state(self._lesion_pk)
        if lesion is None:
            return
        for patch in reversed(self._patches):
            patch.revert(lesion.mask)
        if self._clicks is not None:
            lesion.clicks = self._clicks[0]
        self._controller.mask_edited(self._lesion_pk, self._patches)


class LesionPresence:
    """An undoable change that adds or removes a stored lesion with its masks and measurements.

    ``present_after`` True: a contour that added its lesion (undo deletes the
    lesion, redo restores it); False: a delete (undo restores). Deleting and
    restoring go through the lesion service, so that the database, the
    Lesions dock, the plan and ``tace-planner measurements`` all see the
    same state, and the audit trail keeps both events.
    """

    def __init__(
        self, controller: ContourController, lesion_pk: int, text: str, *, present_after: bool
    ) -> None:
        self.text = text
        self.lesion_pk = lesion_pk
        self._controller = controller
        self._present_after = present_after

    def do(self) -> None:
        """Add (restore) or delete the lesion."""
        if self._present_after:
            self._controller.restore_stored_lesion(self.lesion_pk)
        else:
            self._controller.forget_stored_lesion(self.lesion_pk)

    def undo(self) -> None:
        """The opposite of :meth:`do`."""
        if self._present_after:
            self._controller.forget_stored_lesion(self.lesion_pk)
        else:
            self._controller.restore_stored_lesion(self.lesion_pk)
