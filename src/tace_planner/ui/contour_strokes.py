"""Brush, eraser and threshold paint strokes of the contour controller, and hand edits.

:class:`ContourStrokesMixin` is mixed into
:class:`~tace_planner.ui.contour_tools.ContourController`: a stroke (press, moves,
release) paints into the selected lesion at the view's timepoint and becomes one
undoable :class:`~tace_planner.ui.contour_commands.MaskEdit`, saved when it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from tace_planner.imaging.segmentation.paint import MaskPatch, paint
from tace_planner.services.commands import CommandStack
from tace_planner.services.contouring_dto import LesionItem
from tace_planner.ui.contour_actions import neighbourhood_hu
from tace_planner.ui.contour_commands import MaskEdit
from tace_planner.ui.contour_lesion import ClickState, StateKey, _Lesion


class ContourStrokesMixin:
    """Paint strokes and hand edits (one undoable, saved edit each)."""

    # Provided by ContourController.
    _lesions: dict[StateKey, _Lesion]
    _tool: str | None
    _stroke: list[MaskPatch]
    _stroke_pk: StateKey | None
    _last_point: npt.NDArray[np.float64] | None
    _workspace: Any
    stack: CommandStack
    brush_radius_mm: float
    brush_shape: str
    threshold_hu: tuple[float, float]
    threshold_from_click: bool
    error: Any
    threshold_changed: Any
    _selected_item: Callable[[], LesionItem | None]
    _timepoint_of: Callable[[str], int | None]
    _adopt: Callable[[LesionItem, Any, npt.NDArray[np.bool_]], _Lesion]
    _save: Callable[[StateKey], None]
    set_threshold: Callable[[float, float], None]

    def _editable(self, view: Any) -> _Lesion | None:
        """The selected lesion at the view's timepoint (a new, empty mask on the view's grid
        when it has none there yet), or None with the reason emitted."""
        item = self._selected_item()
        if item is None:
            self.error.emit("Select or create a lesion to paint into first.")
            return None
        series_uid, part = view.series_key
        timepoint_pk = self._timepoint_of(series_uid)
        lesion = self._lesions.get((item.pk, timepoint_pk)) if timepoint_pk is not None else None
        if lesion is None:
            if timepoint_pk is None or view.volume is None:
                self.error.emit(
                    "This series is not part of the case: create a case first "
                    "(Case → New case…) and link its study."
                )
                return None
            segmentation = SimpleNamespace(
                series_uid=series_uid, part=part or "", timepoint_pk=timepoint_pk
            )
            lesion = self._adopt(item, segmentation, np.zeros(view.volume.shape, dtype=bool))
        if lesion.locked:
            self.error.emit(f"{lesion.item.name} is locked.")
            return None
        if (lesion.series_uid, lesion.part) != (series_uid, part or ""):
            self.error.emit(f"{lesion.item.name} is contoured on another series.")
            return None
        return lesion

    def _begin_stroke(self, view: Any, point: Any) -> None:
        lesion = self._editable(view)
        self._stroke = []
        self._stroke_pk = None if lesion is None else lesion.key
        self._last_point = None
        if lesion is not None and self._tool == "threshold" and self.threshold_from_click:
            self.set_threshold(*neighbourhood_hu(view.volume, point, self.brush_radius_mm))
            self.threshold_changed.emit(*self.threshold_hu)
        if lesion is not None:
            self._paint(view, lesion, point)

    def _continue_stroke(self, view: Any, point: Any) -> None:
        lesion = self._lesions.get(self._stroke_pk) if self._stroke_pk is not None else None
        if lesion is not None:
            self._paint(view, lesion, point)

    def _paint(self, view: Any, lesion: _Lesion, point: Any) -> None:
        here = np.asarray(point, dtype=float)[:3]
        points = [here] if self._last_point is None else [self._last_point, here]
        try:
            patch = paint(
                lesion.mask,
                view.volume,
                points,
                self.brush_radius_mm,
                shape=self.brush_shape,  # type: ignore[arg-type]
                hu_range=self.threshold_hu if self._tool == "threshold" else None,
                erase=self._tool == "erase",
            )
        except ValueError as error:
            self.error.emit(str(error))
            return
        self._last_point = here
        if patch.is_empty:
            return
        patch.apply(lesion.mask)
        self._stroke.append(patch)
        self._workspace.mask_changed(lesion.series_uid, lesion.part, lesion.item.name, patch.box)

    def _end_stroke(self) -> None:
        pk, patches = self._stroke_pk, self._stroke
        self._stroke, self._stroke_pk, self._last_point = [], None, None
        if pk is None or not patches:
            return
        text = {"erase": "erase", "threshold": "threshold paint"}.get(self._tool or "", "brush")
        lesion = self._lesions[pk]
        clicks = self._hand_edit(lesion, patches)
        if clicks is not None:
            lesion.clicks = clicks[1]  # recorded, not done: the stroke is on the mask already
        self.stack.record(MaskEdit(self, pk, f"{text} {lesion.item.name}", patches, clicks))
        self._save(pk)

    def _push_edit(self, lesion: _Lesion, new: npt.NDArray[np.bool_], text: str) -> bool:
        """Turn a lesion's mask into ``new`` as one undoable, saved edit; False if unchanged."""
        patch = MaskPatch.between(lesion.mask, new)
        if patch.is_empty:
            self.error.emit(f"{text}: nothing changed.")
            return False
        self.stack.push(MaskEdit(self, lesion.key, text, [patch], self._hand_edit(lesion, [patch])))
        return True

    @staticmethod
    def _hand_edit(
        lesion: _Lesion, patches: Sequence[MaskPatch]
    ) -> tuple[ClickState, ClickState] | None:
        """The clicks' state before and after a hand edit of an auto contour (None for a
        contour not drawn by clicks): the edit joins what later corrections keep."""
        if not lesion.include:
            return None
        include, exclude, margin, hand = lesion.clicks
        return (include, exclude, margin, hand), (include, exclude, margin, (*hand, *patches))
