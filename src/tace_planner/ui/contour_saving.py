"""Saving edited masks and running the contour controller's tasks off the GUI thread.

:class:`ContourSavingMixin` is mixed into
:class:`~tace_planner.ui.contour_tools.ContourController`: one save at a time per
lesion mask; an edit made during a save is saved right after it, and a correction
asked for meanwhile runs once the save is done. Each save hands the service the
volume the edit was drawn on (the active view's, else another view's showing the
lesion's series part), so that an edit drawn on images whose series was removed or
imported again since is refused with a line saying to open the series again
(:mod:`tace_planner.services.volume_currency`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume
from tace_planner.services.contouring_dto import NEW
from tace_planner.ui.contour_lesion import StateKey, _Lesion

if TYPE_CHECKING:
    from tace_planner.services.contouring import ContouringService


def _call(function: Any, *args: Any, **kwargs: Any) -> Task[Any]:
    """Run a service call as a task (one progress step, then the result)."""
    yield Progress(0, 1, "Working")
    return function(*args, **kwargs)


class ContourSavingMixin:
    """Saves, busy count and task errors of the contour controller."""

    # Provided by ContourController.
    _lesions: dict[StateKey, _Lesion]
    _saving: set[StateKey]
    _dirty: set[StateKey]
    _after_save: dict[StateKey, list[Any]]
    _running: int
    _active_timepoint_pk: int | None
    _contouring: ContouringService
    _tasks: Any
    _workspace: Any
    busy_changed: Any
    lesions_changed: Any
    error: Any
    _confirm_click: Callable[[BaseException], bool]

    def _save(self, lesion_pk: StateKey) -> None:
        if lesion_pk in self._saving:
            self._dirty.add(lesion_pk)
            return
        lesion = self._lesions[lesion_pk]
        self._saving.add(lesion_pk)
        self._active_timepoint_pk = lesion.timepoint_pk
        task = _save_task(
            self._contouring,
            lesion.item.pk,
            lesion.timepoint_pk,
            lesion.series_uid,
            lesion.part or None,
            lesion.mask.copy(),
            lesion.version,
            self._drawn_on(lesion),
        )
        self._start(
            task, f"Saving {lesion.item.name}", functools.partial(self._on_saved, lesion_pk)
        )

    def _drawn_on(self, lesion: _Lesion) -> ImageVolume | None:
        """The volume a view shows for the lesion's series part on the mask's grid (the
        active view first: edits are drawn there); None when no view shows it."""
        workspace = self._workspace
        for view in [workspace.active_view, *workspace.all_views]:
            key, volume = view.series_key, view.volume
            if (
                key is not None
                and volume is not None
                and (key[0], key[1] or "") == (lesion.series_uid, lesion.part)
                and volume.shape == lesion.mask.shape
            ):
                return volume
        return None

    def _on_saved(self, lesion_pk: StateKey, saved: tuple[int, str]) -> None:
        version, message = saved
        self._finish()
        self._saving.discard(lesion_pk)
        if lesion_pk in self._lesions:
            self._lesions[lesion_pk].version = version
        if lesion_pk in self._dirty and lesion_pk in self._lesions:
            self._dirty.discard(lesion_pk)
            self._save(lesion_pk)  # the last save's message is the one that stands
            return
        self.lesions_changed.emit()
        if message:  # e.g. the stroke made two foci share voxels
            self.error.emit(message)
        for follow in self._after_save.pop(lesion_pk, []):
            follow()

    def _defer_while_saving(self, lesion: _Lesion, follow: Any) -> bool:
        """Keep a correction of a lesion whose save still runs for when it is done.

        A Shift-click right after Ctrl+Z otherwise raced the undo's save and was
        refused as an edit by someone else. True when deferred.
        """
        if lesion.key not in self._saving and lesion.key not in self._dirty:
            return False
        self._after_save.setdefault(lesion.key, []).append(follow)
        return True

    def _start(self, task: Task[Any], title: str, on_result: Any, on_progress: Any = None) -> None:
        self._running += 1
        self.busy_changed.emit(True)
        self._tasks.submit(
            task,
            title=title,
            on_result=on_result,
            on_progress=on_progress,
            on_error=self._on_task_error,
        )

    def _finish(self) -> None:
        self._running = max(self._running - 1, 0)
        if self._running == 0:
            self.busy_changed.emit(False)

    def _on_task_error(self, error: BaseException) -> None:
        self._finish()
        if self._confirm_click(error):
            return
        self._saving.clear()
        self._after_save.clear()  # corrections waiting for a save that failed
        self.error.emit(str(error))


def _save_task(
    contouring: ContouringService,
    lesion_pk: int,
    timepoint_pk: int,
    series_uid: str,
    part: str | None,
    mask: npt.NDArray[np.bool_],
    expected_version: int | None = None,
    volume: ImageVolume | None = None,
) -> Task[Any]:
    """Measure a mask and save it with its measurement in one transaction (an empty mask
    removes the contour); the result is the version the next save expects and what the
    save has to say ("" or, e.g., the foci the stroke made share voxels). A contour
    saved by someone else since ``expected_version`` is not overwritten
    (ConcurrentEditError), nor is a mask drawn on a ``volume`` whose series was removed or
    imported again since (StaleVolumeError)."""
    yield Progress(0, 1, "Measuring and saving the contour")
    saved = contouring.save_and_measure(
        lesion_pk, timepoint_pk, series_uid, part, mask, "manual",
        expected_version=expected_version, volume=volume,
    )  # fmt: skip
    yield Progress(1, 1, "Saved")
    if not mask.any():
        return NEW, ""
    return saved.segmentation.version, saved.message or ""
