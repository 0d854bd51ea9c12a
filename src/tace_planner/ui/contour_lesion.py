"""The contour controller's in-memory state of one lesion at one timepoint, with mask helpers.

:class:`_Lesion` holds a lesion's mask at a timepoint with its flags and the auto
contour's clicks, margin and hand edits (:data:`ClickState`), which a correction
replays; :func:`_hand_masks` and :func:`_union_box` turn mask patches into what
the auto contour keeps and what the viewer redraws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tace_planner.imaging.segmentation.paint import MaskPatch
from tace_planner.services.contouring_dto import LesionItem

StateKey = tuple[int, int]
"""(lesion pk, timepoint pk): one lesion's mask at one timepoint."""


@dataclass
class _Lesion:
    item: LesionItem
    series_uid: str
    part: str
    timepoint_pk: int
    mask: npt.NDArray[np.bool_]
    visible: bool = True
    locked: bool = False
    include: list[tuple[float, float, float]] = field(default_factory=list)
    exclude: list[tuple[float, float, float]] = field(default_factory=list)
    margin_mm: float = 0.0
    hand: tuple[MaskPatch, ...] = ()
    """Brush, eraser and other hand edits made since the auto contour's clicks: a later
    correction replays the clicks and keeps these as painted."""
    warned: tuple[str, ...] = ()
    """What the auto contour's clicks were said to warn of: a correction replays them
    and is not told again."""
    version: int | None = None
    """The stored contour's version this mask was read or last saved as (NEW: none stored;
    None: unknown, not checked): a save expects it, so that an edit made here never
    overwrites a contour someone else saved since."""

    @property
    def key(self) -> StateKey:
        """(lesion pk, timepoint pk)."""
        return self.item.pk, self.timepoint_pk

    @property
    def clicks(self) -> ClickState:
        """The auto contour's clicks, margin and hand edits, which a correction replays."""
        return list(self.include), list(self.exclude), self.margin_mm, self.hand

    @clicks.setter
    def clicks(self, state: ClickState) -> None:
        include, exclude, self.margin_mm, self.hand = state
        self.include, self.exclude = list(include), list(exclude)


def _hand_masks(
    hand: Sequence[MaskPatch], shape: tuple[int, ...]
) -> tuple[npt.NDArray[np.bool_] | None, npt.NDArray[np.bool_] | None]:
    """(painted in, erased) by hand edits, in order, over the whole volume; None without any."""
    if not hand:
        return None, None
    keep_in = np.zeros(shape, dtype=bool)
    keep_out = np.zeros(shape, dtype=bool)
    for patch in hand:
        changed = patch.before != patch.after
        keep_in[patch.box][changed] = patch.after[changed]
        keep_out[patch.box][changed] = ~patch.after[changed]
    return keep_in, keep_out


ClickState = tuple[
    list[tuple[float, float, float]], list[tuple[float, float, float]], float, tuple[MaskPatch, ...]
]
"""(include clicks, exclude clicks, margin mm, hand edits) of an auto contour."""


def _union_box(boxes: Sequence[tuple[slice, slice, slice]]) -> tuple[slice, slice, slice] | None:
    boxes = [b for b in boxes if all(s.stop > s.start for s in b)]
    if not boxes:
        return None
    return tuple(  # type: ignore[return-value]
        slice(min(b[axis].start for b in boxes), max(b[axis].stop for b in boxes))
        for axis in range(3)
    )
