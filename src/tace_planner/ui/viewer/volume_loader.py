"""Loads series parts for the views off the GUI thread: one load per part, a preview first.

However many views ask for the same (series UID, part), one task reads it and
every view gets the same :class:`ImageVolume` object (one copy in memory). With
the services' :class:`~tace_planner.services.volume_cache.VolumeLoader` a part
already in memory comes back at once, and a few middle slices are shown while
the rest is read; with a plain ``StudyService`` (``load_series``) the whole
part is read in one task.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from tace_planner.domain.progress import Progress, Task
from tace_planner.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from tace_planner.services.bootstrap import Services

VolumeKey = tuple[str, str]


Outcome = tuple[VolumeKey, Any, Exception | None]


def _keyed(key: VolumeKey, task: Task[Any]) -> Generator[Progress, None, Outcome]:
    """Run ``task``; return (key, result, None) or (key, None, error), so slots know the key."""
    try:
        result = yield from task
    except Exception as error:  # noqa: BLE001 - handed to the GUI with its key, never swallowed
        return key, None, error
    return key, result, None


class VolumeProvider(QObject):
    """Hands out volumes by (series UID, part); see the module docstring.

    Signals carry the key, so the workspace decides which views receive what.
    ``busy_changed`` is True while any load runs; ``progressed`` reports the
    most recent load's progress.
    """

    preview_ready = Signal(object, object, object)  # key, middle slices, whole shape (z, y, x)
    volume_ready = Signal(object, object)  # key, ImageVolume
    load_failed = Signal(object, object)  # key, exception
    progressed = Signal(object)  # Progress
    busy_changed = Signal(bool)

    def __init__(
        self, services: Services, tasks: TaskRunner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._tasks = tasks
        self._handles: dict[VolumeKey, TaskHandle] = {}
        self._titles: dict[VolumeKey, str] = {}
        self._busy = False

    @property
    def busy(self) -> bool:
        """True while a load runs."""
        return bool(self._handles)

    def title(self, key: VolumeKey) -> str:
        """The title a load was started with."""
        return self._titles.get(key, key[0])

    def loading(self, key: VolumeKey) -> bool:
        """True while ``key`` is being read."""
        return key in self._handles

    def request(self, series_uid: str, part: str, title: str = "") -> VolumeKey:
        """Ask for a part; the answer comes as ``volume_ready`` (maybe before this returns).

        Raises
        ------
        Exception
            Whatever the service raises at once (e.g. ``NotFoundError``).
        """
        key: VolumeKey = (series_uid, part or "")
        self._titles[key] = title or series_uid
        loader = getattr(self._services, "volumes", None)
        if loader is not None:
            cached = loader.cached(series_uid, part or None)
            if cached is not None:
                self.volume_ready.emit(key, cached)
                return key
        if key in self._handles:
            return key
        if loader is not None:
            self._submit(key, loader.plan(series_uid, part or None), self._on_plan_done)
        else:
            task = self._services.studies.load_series(series_uid, part or None)
            self._submit(key, task, self._on_volume_done)
        return key

    def cancel(self, key: VolumeKey) -> None:
        """Stop reading ``key`` (no signal follows for it)."""
        handle = self._handles.pop(key, None)
        if handle is not None:
            handle.cancel()
            self._emit_busy()

    def cancel_all(self) -> None:
        """Stop every load."""
        for key in list(self._handles):
            self.cancel(key)

    def _submit(self, key: VolumeKey, task: Task[Any], on_result: Any) -> None:
        handle = self._tasks.submit(
            _keyed(key, task),
            title=f"Loading {self._titles.get(key, key[0])}",
            on_result=on_result,
            on_progress=self._on_progress,
        )
        handle.finished.connect(self._on_handle_finished)
        self._handles[key] = handle
        self._emit_busy()

    def _failed(self, outcome: Outcome) -> bool:
        key, _, error = outcome
        if error is None:
            return False
        self._handles.pop(key, None)
        self.load_failed.emit(key, error)
        self._emit_busy()
        return True

    def _on_plan_done(self, outcome: Outcome) -> None:
        if self._failed(outcome):
            return
        key, planned, _ = outcome
        if planned.preview is not None:
            shape = tuple(int(n) for n in planned.plan.report.shape_zyx)
            self.preview_ready.emit(key, planned.preview, shape)
        # The same key gets a new handle: drop the finished one first.
        self._handles.pop(key, None)
        self._submit(key, self._services.volumes.load(planned), self._on_volume_done)

    def _on_volume_done(self, outcome: Outcome) -> None:
        if self._failed(outcome):
            return
        key, volume, _ = outcome
        self._handles.pop(key, None)
        self.volume_ready.emit(key, volume)
        self._emit_busy()

    def _on_progress(self, step: Progress) -> None:
        self.progressed.emit(step)

    @Slot()
    def _on_handle_finished(self) -> None:
        handle = self.sender()
        for key, known in list(self._handles.items()):
            if known is handle:
                del self._handles[key]
        self._emit_busy()

    def _emit_busy(self) -> None:
        busy = bool(self._handles)
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
