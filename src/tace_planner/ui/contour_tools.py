"""Contour tools on the viewer: auto contour click, brush, eraser, threshold paint; undo/redo.

:class:`ContourController` listens to ``workspace.pointer_event`` (the viewer's
"custom" tool), edits the lesion masks in memory, shows them with
``workspace.set_mask`` / ``mask_changed``, keeps every edit on a
:class:`~tace_planner.services.commands.CommandStack` and saves the edited mask
after each edit in a task (one save at a time per lesion; an edit made during
a save is saved right after it).

A lesion has one mask per timepoint, so the masks in memory are keyed by
(lesion, timepoint): with a lesion selected, contouring on a series of another
timepoint (a follow-up) contours *that lesion* there — a click contours it when
it has no contour at that timepoint yet, and the brush paints into it.

Parts of the controller live next to it: the per-lesion state (``contour_lesion``),
the undo commands (``contour_commands``), paint strokes (``contour_strokes``),
saving and tasks (``contour_saving``) and the other tools (``contour_actions``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Qt, Signal

from tace_planner.domain.errors import TacePlannerError
from tace_planner.imaging.segmentation.interactive import MARGIN_LIMIT_MM
from tace_planner.imaging.segmentation.paint import MaskPatch
from tace_planner.services.commands import CommandStack
from tace_planner.services.contouring_dto import ContourResult, LesionItem
from tace_planner.ui.contour_actions import (
    BRUSH_TOOLS,
    DEFAULT_THRESHOLD_HU,
    ContourActionsMixin,
    ToolOverlay,
)
from tace_planner.ui.contour_commands import LesionPresence, MaskEdit
from tace_planner.ui.contour_lesion import (
    ClickState,
    StateKey,
    _hand_masks,
    _Lesion,
    _union_box,
)
from tace_planner.ui.contour_saving import ContourSavingMixin, _call
from tace_planner.ui.contour_strokes import ContourStrokesMixin

if TYPE_CHECKING:
    from tace_planner.domain.volume import ImageVolume
    from tace_planner.services.contouring import ContouringService

log = logging.getLogger(__name__)

TOOLS = ("auto", "brush", "erase", "threshold", "liver", "auto2d", "polygon")
"""Left-button tools: auto contour click (Shift: exclude), brush, eraser, threshold paint,
liver from a click, 2D auto contour on the clicked slice, polygon/freehand fill."""

BRUSH_SHAPES = ("disc", "sphere")

UNDO_LIMIT = 50

MARGIN_STEP_MM = 0.5
"""One press of the grow or shrink key moves the whole auto contour this far."""


class ContourController(ContourActionsMixin, ContourStrokesMixin, ContourSavingMixin, QObject):
    """Edits lesion masks with the mouse; saves each edit; undo/redo ≥ 20 steps.

    Parameters
    ----------
    workspace : ViewerWorkspace
        The viewer (``pointer_event``, ``set_mask``, ``mask_changed``, ``set_tool``).
    contouring : ContouringService
        Stores and measures.
    tasks : TaskRunner
        Runs auto contours and saves off the GUI thread.
    """

    lesions_changed = Signal()  # lesions added/renamed or measurements saved
    busy_changed = Signal(bool)
    stack_changed = Signal()
    error = Signal(str)
    threshold_changed = Signal(float, float)  # HU range taken from a click
    progressed = Signal(object)  # Progress of the liver contour

    def __init__(
        self,
        workspace: Any,
        contouring: ContouringService,
        tasks: Any,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._contouring = contouring
        self._tasks = tasks
        self._case_pk: int | None = None
        self._lesions: dict[StateKey, _Lesion] = {}
        self._timepoints: dict[str, tuple[int, int] | None] = {}  # series -> (case, timepoint)
        self._active_pk: int | None = None
        self._active_timepoint_pk: int | None = None
        self._tool: str | None = None
        self.overlay = ToolOverlay(workspace, self)
        self.brush_radius_mm = 5.0
        self.brush_shape = "disc"
        self.threshold_hu: tuple[float, float] = DEFAULT_THRESHOLD_HU
        self.threshold_from_click = True
        self._polygon: list[Any] = []
        self.stack = CommandStack(UNDO_LIMIT, on_change=self.stack_changed.emit)
        self._stroke: list[MaskPatch] = []
        self._stroke_pk: StateKey | None = None
        self._last_point: npt.NDArray[np.float64] | None = None
        self._saving: set[StateKey] = set()
        self._dirty: set[StateKey] = set()
        self._running = 0
        self._aliases: dict[int, int] = {}  # lesion id before a delete -> id after its restore
        self._parked: dict[int, list[_Lesion]] = {}  # deleted lesions' flags, for their restore
        # Corrections asked for while the lesion's last edit (an undo) is being saved:
        # run when that save is done, so that they build on it instead of colliding.
        self._after_save: dict[StateKey, list[Any]] = {}
        workspace.pointer_event.connect(self._on_workspace_pointer_event)

    # ------------------------------------------------------------------ state
    @property
    def brush_radius_mm(self) -> float:
        """Radius of brush, eraser and threshold paint (mm)."""
        return self.overlay.radius_mm

    @brush_radius_mm.setter
    def brush_radius_mm(self, radius_mm: float) -> None:
        self.overlay.radius_mm = float(radius_mm)

    def set_brush_radius(self, radius_mm: float) -> None:
        """Choose the brush radius in mm."""
        self.brush_radius_mm = radius_mm

    def set_brush_shape(self, shape: str) -> None:
        """Choose "disc" (2D, on the slice) or "sphere" (3D) for brush, eraser, threshold."""
        if shape not in BRUSH_SHAPES:
            raise ValueError(f"unknown brush shape {shape!r}")
        self.brush_shape = shape

    def set_threshold(self, low_hu: float, high_hu: float) -> None:
        """Choose the HU range of threshold paint (kept when the limits are swapped)."""
        self.threshold_hu = (min(low_hu, high_hu), max(low_hu, high_hu))

    @property
    def tool(self) -> str | None:
        """The active contour tool, or None (the viewer's own tools)."""
        return self._tool

    @property
    def active_lesion_pk(self) -> int | None:
        """The lesion that brush, eraser and Shift-click edit."""
        return self._active_pk

    @property
    def active_timepoint_pk(self) -> int | None:
        """The timepoint of the last contour made or edited (None: none yet)."""
        return self._active_timepoint_pk

    @property
    def is_busy(self) -> bool:
        """True while an auto contour or a save runs."""
        return self._running > 0

    def lesion_state(
        self, lesion_pk: int | StateKey, timepoint_pk: int | None = None
    ) -> _Lesion | None:
        """The in-memory mask and flags of a lesion at a timepoint (None when not loaded).

        Without a timepoint: the lesion at the active view's timepoint, else the
        first of its timepoints that was loaded.
        """
        if isinstance(lesion_pk, tuple):
            return self._lesions.get(self._resolve_key(lesion_pk))
        lesion_pk = self._resolve(lesion_pk)
        if timepoint_pk is not None:
            return self._lesions.get((lesion_pk, timepoint_pk))
        states = [state for key, state in self._lesions.items() if key[0] == lesion_pk]
        series_key = getattr(self._workspace.active_view, "series_key", None)
        here = self._timepoint_of(series_key[0]) if series_key else None
        return next((state for state in states if state.timepoint_pk == here), None) or (
            states[0] if states else None
        )

    def _resolve(self, lesion_pk: int) -> int:
        """The current id of a lesion that may have been deleted and restored meanwhile."""
        while lesion_pk in self._aliases:
            lesion_pk = self._aliases[lesion_pk]
        return lesion_pk

    def _resolve_key(self, key: StateKey) -> StateKey:
        """A state key with its lesion id made current (see :meth:`_resolve`)."""
        return self._resolve(key[0]), key[1]

    def _keys_of(self, lesion_pk: int) -> list[StateKey]:
        """The keys of a lesion's loaded masks (one per timepoint)."""
        return [key for key in self._lesions if key[0] == lesion_pk]

    def _is_saving(self, lesion_pk: int) -> bool:
        """True while a mask of the lesion (at any timepoint) is being saved."""
        return any(key[0] == lesion_pk for key in self._saving | self._dirty)

    def place_of(self, series_uid: str) -> tuple[int, int] | None:
        """(case, timepoint) of a series' study (None: not linked to a case), cached."""
        if series_uid not in self._timepoints:
            try:
                case_pk, timepoint_pk, _ = self._contouring.series_context(series_uid)
            except Exception:  # noqa: BLE001 - not linked: the service says so when used
                self._timepoints[series_uid] = None
            else:
                self._timepoints[series_uid] = (case_pk, timepoint_pk)
        return self._timepoints[series_uid]

    def _timepoint_of(self, series_uid: str) -> int | None:
        """The timepoint of a series' study (None: not linked to a case), cached."""
        place = self.place_of(series_uid)
        return None if place is None else place[1]

    def _selected_state(self) -> _Lesion | None:
        """The selected lesion at the active view's timepoint (else its only timepoint)."""
        if self._active_pk is None:
            return None
        return self.lesion_state(self._active_pk)

    def _selected_item(self) -> LesionItem | None:
        if self._active_pk is None:
            return None
        state = next((s for k, s in self._lesions.items() if k[0] == self._active_pk), None)
        if state is not None:
            return state.item
        try:
            return self._contouring.lesion(self._active_pk)
        except Exception:  # noqa: BLE001 - deleted meanwhile: nothing selected
            return None

    def set_tool(self, tool: str | None) -> None:
        """Choose a contour tool ("auto", "brush", "erase", "threshold") or None."""
        if tool is not None and tool not in TOOLS:
            raise ValueError(f"unknown contour tool {tool!r}")
        self._tool = tool
        self._polygon = []
        self.overlay.draw_outline(self._workspace.active_view, [])
        self.overlay.enabled = tool in BRUSH_TOOLS
        if not self.overlay.enabled:
            self.overlay.hide()
        self._workspace.set_tool("custom" if tool is not None else "window")

    def set_active_lesion(self, lesion_pk: int | None) -> None:
        """Choose the lesion edited by brush and eraser."""
        self._active_pk = lesion_pk

    def set_case(self, case_pk: int | None) -> None:
        """Show the stored masks of a case; forget the undo history."""
        for lesion in self._lesions.values():
            self._workspace.remove_mask(lesion.series_uid, lesion.part, lesion.item.name)
        self._lesions.clear()
        self._timepoints.clear()
        self._active_pk = None
        self._active_timepoint_pk = None
        self._case_pk = case_pk
        self._aliases.clear()
        self._parked.clear()
        self.stack.clear()
        if case_pk is None:
            return
        for stored in self._contouring.masks_of_case(case_pk):
            self._adopt(stored.lesion, stored.segmentation, np.array(stored.mask, dtype=bool))

    def refresh_lesions(self) -> None:
        """Reread names, colours and flags of the loaded lesions (after a rename)."""
        if self._case_pk is None:
            return
        items = {item.pk: item for item in self._contouring.list_lesions(self._case_pk)}
        for key in list(self._lesions):
            lesion = self._lesions[key]
            pk = key[0]
            if pk not in items:
                self._workspace.remove_mask(lesion.series_uid, lesion.part, lesion.item.name)
                del self._lesions[key]
                continue
            if items[pk].name != lesion.item.name:
                self._workspace.remove_mask(lesion.series_uid, lesion.part, lesion.item.name)
            lesion.item = items[pk]
            self._show(lesion)

    def set_visible(self, lesion_pk: int, visible: bool) -> None:
        """Show or hide a lesion's masks (every timepoint)."""
        for key, lesion in self._lesions.items():
            if key[0] == lesion_pk:
                lesion.visible = visible
                self._show(lesion)

    def set_locked(self, lesion_pk: int, locked: bool) -> None:
        """Lock a lesion against edits (brush, eraser, auto contour), at every timepoint."""
        for key, lesion in self._lesions.items():
            if key[0] == lesion_pk:
                lesion.locked = locked

    def _adopt(self, item: LesionItem, segmentation: Any, mask: npt.NDArray[np.bool_]) -> _Lesion:
        key = (item.pk, segmentation.timepoint_pk)
        old = self._lesions.get(key)
        if old is not None:
            self._workspace.remove_mask(old.series_uid, old.part, old.item.name)
        else:  # the lesion's flags at its other timepoints
            old = next((s for k, s in self._lesions.items() if k[0] == item.pk), None)
        lesion = _Lesion(
            item, segmentation.series_uid, segmentation.part or "", segmentation.timepoint_pk, mask
        )
        lesion.version = getattr(segmentation, "version", None)
        if old is not None:
            lesion.visible, lesion.locked = old.visible, old.locked
        self._lesions[key] = lesion
        self._show(lesion)
        return lesion

    def _show(self, lesion: _Lesion) -> None:
        if not lesion.visible:
            self._workspace.remove_mask(lesion.series_uid, lesion.part, lesion.item.name)
            return
        try:
            self._workspace.set_mask(
                lesion.series_uid,
                lesion.part,
                lesion.item.name,
                lesion.mask,
                colour=lesion.item.colour or None,
                opacity=0.25 if lesion.item.is_liver else 0.45,
                outline=lesion.item.is_liver,
            )
        except ValueError as error:
            log.warning("mask of %s not shown: %s", lesion.item.name, error)

    # ------------------------------------------------------------------ undo
    def undo(self) -> None:
        """Revert the last edit (the database, the dock and the plan follow)."""
        if self._waits_for_save(self.stack.next_undo):
            return
        try:
            self.stack.undo()
        except TacePlannerError as error:
            self.error.emit(f"Cannot undo: {error}")

    def redo(self) -> None:
        """Apply the last undone edit again."""
        if self._waits_for_save(self.stack.next_redo):
            return
        try:
            self.stack.redo()
        except TacePlannerError as error:
            self.error.emit(f"Cannot redo: {error}")

    def _waits_for_save(self, command: object) -> bool:
        """True (and says so) when a lesion is added or removed while its save still runs."""
        if isinstance(command, LesionPresence) and self._is_saving(
            self._resolve(command.lesion_pk)
        ):
            self.error.emit("The contour is still being saved: try again in a moment.")
            return True
        return False

    def delete_lesion(self, lesion_pk: int) -> bool:
        """Delete a lesion with its masks and measurements as one undoable edit.

        The caller asks the user first (the Lesions dock names the focus and its
        volume). Returns False when it was refused (shown on ``error``).
        """
        lesion_pk = self._resolve(lesion_pk)
        if self._is_saving(lesion_pk):
            self.error.emit("The contour is still being saved: try again in a moment.")
            return False
        try:
            name = self._contouring.lesion(lesion_pk).name
            self.stack.push(LesionPresence(self, lesion_pk, f"delete {name}", present_after=False))
        except TacePlannerError as error:
            self.error.emit(f"Cannot delete: {error}")
            return False
        return True

    def forget_stored_lesion(self, lesion_pk: int) -> None:
        """Delete a stored lesion (audited with its masks at every timepoint) and stop
        showing it."""
        pk = self._resolve(lesion_pk)
        self._contouring.delete_lesion(pk)
        parked = [self._lesions.pop(key) for key in self._keys_of(pk)]
        for lesion in parked:
            self._workspace.remove_mask(lesion.series_uid, lesion.part, lesion.item.name)
        if parked:
            self._parked[pk] = parked
        if self._active_pk == pk:
            self._active_pk = None
        self.lesions_changed.emit()

    def restore_stored_lesion(self, lesion_pk: int) -> None:
        """Bring a deleted lesion back from the audit trail and show its masks again
        (at every timepoint it was contoured)."""
        pk = self._resolve(lesion_pk)
        item = self._contouring.restore_lesion(pk)
        if item.pk != pk:
            self._aliases[pk] = item.pk
        parked = self._parked.pop(pk, [])
        if self._case_pk is not None:
            for stored in self._contouring.masks_of_case(self._case_pk):
                if stored.lesion.pk == item.pk:
                    self._adopt(stored.lesion, stored.segmentation, np.array(stored.mask, bool))
        for old in parked:
            state = self._lesions.get((item.pk, old.timepoint_pk))
            if state is not None:
                state.visible, state.locked = old.visible, old.locked
                state.clicks = old.clicks
                self._show(state)
        self._active_pk = item.pk
        self.lesions_changed.emit()

    def mask_edited(self, lesion_pk: StateKey, patches: Sequence[MaskPatch]) -> None:
        """Redraw an edited mask and save it (called by :class:`MaskEdit`)."""
        lesion_pk = self._resolve_key(lesion_pk)
        lesion = self._lesions[lesion_pk]
        box = _union_box([p.box for p in patches])
        self._workspace.mask_changed(lesion.series_uid, lesion.part, lesion.item.name, box)
        self._save(lesion_pk)

    # ------------------------------------------------------------------ pointer
    def _on_workspace_pointer_event(self, view: Any, event: Any) -> None:
        if self._tool is None or self._case_pk is None or view.volume is None:
            return
        if self._tool == "auto":
            if event.kind == "click" and event.voxel_zyx is not None:
                shift = bool(event.modifiers & Qt.KeyboardModifier.ShiftModifier)
                ctrl = bool(event.modifiers & Qt.KeyboardModifier.ControlModifier)
                self.auto_contour_at(
                    view, event.point_lps, exclude=shift, refine=ctrl and not shift
                )
            return
        if self._tool in ("liver", "auto2d"):
            if event.kind == "click" and event.voxel_zyx is not None:
                shift = bool(event.modifiers & Qt.KeyboardModifier.ShiftModifier)
                ctrl = bool(event.modifiers & Qt.KeyboardModifier.ControlModifier)
                if self._tool == "liver" and (shift or ctrl):
                    self.refine_liver_at(view, event.voxel_zyx, include=not shift)
                elif self._tool == "liver":
                    self.liver_at(view, event.point_lps)
                else:
                    self.auto_contour_2d_at(view, event.point_lps)
            return
        if self._tool == "polygon":
            self._polygon_event(view, event)
            return
        self.overlay.show_at(view, event.point_lps)
        if event.kind == "press":
            self._begin_stroke(view, event.point_lps)
        elif event.kind == "move":
            self._continue_stroke(view, event.point_lps)
        elif event.kind in ("release", "click"):
            if event.kind == "click":
                self._begin_stroke(view, event.point_lps)
            self._end_stroke()

    def auto_contour_at(
        self,
        view: Any,
        point_lps: Any,
        *,
        exclude: bool = False,
        refine: bool = False,
        confirmed: bool = False,
    ) -> None:
        """Auto contour from a click: a new focus, or a correction of the selected one.

        Shift-click (``exclude``) takes the clicked tissue out of the selected focus,
        Ctrl-click (``refine``) adds it: both are hard constraints that the contour
        always respects, and each changes the contour only near the click
        (:mod:`tace_planner.imaging.segmentation.interactive`).

        With a focus selected that has no contour at the clicked series' timepoint
        (a follow-up), the click contours that focus there instead of a new one;
        a click at a follow-up that would add a new focus asks first (a new lesion
        is progression by RECIST 1.1).
        A click on fat, bone or outside the liver is contoured once the user
        confirms it (``confirmed``); refining a focus does not ask again.
        """
        series_uid, part = view.series_key
        self._pending_click = None if exclude or refine else (view, point_lps)
        point = tuple(float(v) for v in np.asarray(point_lps)[:3])
        timepoint_pk = self._timepoint_of(series_uid)
        active = (
            self._lesions.get((self._active_pk, timepoint_pk))
            if self._active_pk is not None and timepoint_pk is not None
            else None
        )
        if exclude or refine:
            gesture = "Shift-click excludes from" if exclude else "Ctrl-click adds to"
            if active is None or active.item.is_liver or active.series_uid != series_uid:
                self.error.emit(f"{gesture} the selected focus: select one first.")
                return
            if active.locked:
                self.error.emit(f"{active.item.name} is locked.")
                return
            if not active.include:
                self.error.emit(
                    f"{active.item.name} was not drawn by an auto-contour click: "
                    "correct it with the brush or the eraser."
                )
                return
            if self._defer_while_saving(
                active,
                functools.partial(
                    self.auto_contour_at, view, point_lps, exclude=exclude, refine=refine
                ),
            ):
                return
            # New lists: the lesion's clicks change only when the contour is stored
            # (and an undo then restores them).
            clicks = active.clicks
            (clicks[1] if exclude else clicks[0]).append(point)  # type: ignore[arg-type]
            name = active.item.name
        else:
            clicks, name = ([point], [], 0.0, ()), None  # type: ignore[assignment]
            selected = self._selected_item()
            if (
                selected is not None
                and not selected.is_liver
                and (active is None or not active.mask.any())
            ):
                name = selected.name  # the selected focus, at this timepoint
            if name is None and not confirmed and not self._new_lesion_confirmed(timepoint_pk):
                self._pending_click = None
                return
        if not clicks[0]:
            self.error.emit("The selected focus has no auto-contour click to refine.")
            return
        self._contouring.remember_volume(series_uid, part or None, view.volume)
        self._send_clicks(
            series_uid,
            part,
            name,
            clicks,
            view.volume.shape,
            confirmed=confirmed or exclude or refine,
            title="Auto contour",
            volume=view.volume,
        )

    def _send_clicks(
        self,
        series_uid: str,
        part: str,
        name: str | None,
        clicks: ClickState,
        shape: tuple[int, ...],
        *,
        confirmed: bool,
        title: str,
        volume: ImageVolume | None,
    ) -> None:
        """Contour a focus from its clicks, margin and hand edits off the GUI thread.

        ``volume``, the one the clicks were placed on, is checked against the series'
        files by the service: clicks on images removed or imported again are refused.
        """
        include, exclude, margin, hand = clicks
        keep_in, keep_out = _hand_masks(hand, shape)
        timepoint_pk = self._timepoint_of(series_uid)
        known = next(
            (
                state
                for state in self._lesions.values()
                if name is not None
                and state.item.name == name
                and state.timepoint_pk == timepoint_pk
            ),
            None,
        )
        task = _call(
            self._contouring.auto_contour,
            self._case_pk,
            series_uid,
            include[0],
            name,
            include[1:],
            list(exclude),
            part=part or None,
            volume=volume,
            confirmed=confirmed,
            margin_mm=margin,
            keep_in=keep_in,
            keep_out=keep_out,
            # the contour as this window knows it: a colleague's save since is not replaced
            expected_version=None if known is None else known.version,
        )
        self._start(
            task,
            title,
            functools.partial(
                self._on_auto_contour_done,
                list(include),
                list(exclude),
                margin_mm=margin,
                hand=hand,
            ),
        )

    def move_margin(self, step_mm: float) -> bool:
        """Move the selected focus's whole auto contour out (positive) or in, undoable.

        The margin adds to what the clicks drew and stays through later corrections
        (:meth:`~tace_planner.imaging.segmentation.interactive.InteractiveContour.set_margin`);
        False with the reason said when there is nothing to move.
        """
        lesion = self._selected_state()
        if lesion is None or lesion.item.is_liver:
            self.error.emit("Select a focus drawn by an auto-contour click first.")
            return False
        if lesion.locked:
            self.error.emit(f"{lesion.item.name} is locked.")
            return False
        if not lesion.include:
            self.error.emit(
                f"{lesion.item.name} was not drawn by an auto-contour click: "
                "correct it with the brush or the eraser."
            )
            return False
        if self._defer_while_saving(lesion, functools.partial(self.move_margin, step_mm)):
            return True
        margin = round(lesion.margin_mm + step_mm, 3)
        if abs(margin) > MARGIN_LIMIT_MM + 1e-9:
            self.error.emit(
                f"{lesion.item.name}: the margin stops at {MARGIN_LIMIT_MM:g} mm in or out; "
                "correct the contour with include or exclude clicks."
            )
            return False
        include, exclude, _, hand = lesion.clicks
        self._send_clicks(
            lesion.series_uid,
            lesion.part,
            lesion.item.name,
            (include, exclude, margin, hand),
            lesion.mask.shape,
            confirmed=True,
            title="Contour margin",
            volume=self._drawn_on(lesion),
        )
        return True

    def _on_auto_contour_done(
        self,
        include: list[Any],
        exclude: list[Any],
        result: ContourResult,
        margin_mm: float = 0.0,
        hand: tuple[MaskPatch, ...] = (),
    ) -> None:
        self._finish()
        self._pending_click = None
        # A leak (with the exclude gesture that fixes it) and the service's warnings: a
        # click on plain parenchyma, a liver of implausible size; and what the liver tool
        # left out (the IVC). The command line prints them; the window must not contour
        # in silence.
        said = [
            text
            for text in dict.fromkeys((result.message, *result.warnings, *result.notes))
            if text
        ]
        lesion = self._lesions.get((result.lesion.pk, result.segmentation.timepoint_pk))
        clicks_before: ClickState = lesion.clicks if lesion is not None else ([], [], 0.0, ())
        # A correction replays the first click, whose warnings (a faint edge) were said
        # with it: only what is new is said again, and always where the contour leaks.
        warned = lesion.warned if lesion is not None and clicks_before[0] else ()
        said = [text for text in said if text not in warned or text == result.message]
        if margin_mm != clicks_before[2] and not result.lesion.is_liver:
            # First: the status bar cuts a long line at its end.
            said.insert(
                0,
                f"{result.lesion.name}: contour moved {margin_mm:+.1f} mm from the clicks' "
                "edge (] grows it, [ shrinks it by 0.5 mm).",
            )
        if said:
            self.error.emit(" ".join(said))
        stored = self._contouring.load_mask(result.lesion.pk, result.segmentation.timepoint_pk)
        if stored is None:
            return
        after = np.array(stored.mask, dtype=bool)
        before = (
            lesion.mask.copy()
            if lesion is not None and lesion.mask.shape == after.shape
            else np.zeros_like(after)
        )
        state = self._adopt(result.lesion, result.segmentation, before)
        state.clicks = (include, exclude, margin_mm, hand)
        state.warned = tuple(dict.fromkeys((*warned, *result.warnings)))
        patch = MaskPatch.between(before, after)
        patch.apply(state.mask)
        self._workspace.mask_changed(state.series_uid, state.part, state.item.name, None)
        text = "liver contour" if result.lesion.is_liver else f"auto contour {state.item.name}"
        if result.lesion_created:
            # Undo deletes the lesion it added: its row, plan input and measurements go too.
            self.stack.record(LesionPresence(self, result.lesion.pk, text, present_after=True))
        else:
            self.stack.record(
                MaskEdit(self, state.key, text, [patch], (clicks_before, state.clicks))
            )
        self._active_pk = result.lesion.pk
        self._active_timepoint_pk = state.timepoint_pk
        self.lesions_changed.emit()

    def refine_liver_at(self, view: Any, voxel_zyx: Any, *, include: bool) -> bool:
        """Correct the liver contour by one click (Ctrl adds, Shift takes out), undoable.

        The correction is local to the click and honours it as a hard constraint
        (:func:`~tace_planner.imaging.segmentation.organ_refine.refine_organ`).
        """
        from tace_planner.imaging.segmentation.organ_refine import refine_organ

        series_uid, part = view.series_key
        timepoint_pk = self._timepoint_of(series_uid)
        liver = next(
            (
                state
                for key, state in self._lesions.items()
                if state.item.is_liver and key[1] == timepoint_pk
            ),
            None,
        )
        if liver is None or (liver.series_uid, liver.part) != (series_uid, part or ""):
            self.error.emit(
                "Ctrl-click and Shift-click correct the liver contour of this series: "
                "contour the liver first (a plain click with the liver tool)."
            )
            return False
        if liver.locked:
            self.error.emit(f"{liver.item.name} is locked.")
            return False
        try:
            new = refine_organ(
                view.volume.voxels, view.volume.spacing_mm, liver.mask, voxel_zyx, include
            )
        except ValueError as error:
            self.error.emit(str(error))
            return False
        text = "liver: add at the click" if include else "liver: take out at the click"
        return self._push_edit(liver, new, text)
