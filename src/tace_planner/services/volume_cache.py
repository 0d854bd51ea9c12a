"""Volumes in memory: one copy per series part, recently opened ones kept within a byte budget.

:class:`VolumeCache` is a thread-safe LRU of :class:`ImageVolume` objects keyed
by (series UID, part), bounded by the bytes of their voxels. A volume evicted
from the LRU while a view still shows it stays reachable through a weak
reference, so opening it again never makes a second copy.

:class:`VolumeLoader` opens stored series through the cache in two tasks, so
that a view can show something before the whole series is read:
:meth:`VolumeLoader.plan` reads the headers and a few middle slices (a
*preview*, on the same grid), :meth:`VolumeLoader.load` reads every slice.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.series import choose_plan, plan_series
from tace_planner.imaging.dicom.volume_loading import load_plan
from tace_planner.imaging.dicom.volume_plan import VolumePlan, middle_slab

VolumeKey = tuple[str, str]
"""(series UID, part); the part is "" for a series that is one volume."""

GIB = 1024**3
DEFAULT_BUDGET_BYTES = 2 * GIB
ENV_BUDGET_MB = "TACE_PLANNER_VOLUME_CACHE_MB"
PREVIEW_SLICES = 3


def budget_from_env(default: int = DEFAULT_BUDGET_BYTES) -> int:
    """The cache budget in bytes from ``TACE_PLANNER_VOLUME_CACHE_MB``, else ``default``.

    Raises
    ------
    ValueError
        The variable is set but is not a non-negative number of MiB.
    """
    text = os.environ.get(ENV_BUDGET_MB, "").strip()
    if not text:
        return default
    try:
        megabytes = float(text)
    except ValueError:
        raise ValueError(f"{ENV_BUDGET_MB}={text!r} is not a number of MiB") from None
    if megabytes < 0:
        raise ValueError(f"{ENV_BUDGET_MB} must not be negative, got {text}")
    return int(megabytes * 1024**2)


def volume_key(series_uid: str, part: str | None) -> VolumeKey:
    """The cache key of one volume of a series."""
    return series_uid, part or ""


class VolumeCache:
    """Recently opened volumes within a memory budget (least recently used go first).

    Parameters
    ----------
    budget_bytes : int
        Most bytes of voxels kept by the cache itself. The volume put last is
        always kept, even when it alone exceeds the budget (it is on screen).
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if budget_bytes < 0:
            raise ValueError(f"cache budget must not be negative, got {budget_bytes}")
        self._budget = int(budget_bytes)
        self._lru: OrderedDict[VolumeKey, ImageVolume] = OrderedDict()
        self._alive: weakref.WeakValueDictionary[VolumeKey, ImageVolume] = (
            weakref.WeakValueDictionary()
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def budget_bytes(self) -> int:
        """The byte budget; setting it evicts what no longer fits."""
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"cache budget must not be negative, got {value}")
        with self._lock:
            self._budget = int(value)
            self._evict()

    @property
    def total_bytes(self) -> int:
        """Bytes of voxels held by the LRU."""
        with self._lock:
            return sum(v.voxels.nbytes for v in self._lru.values())

    def keys(self) -> list[VolumeKey]:
        """Keys in the LRU, least recently used first."""
        with self._lock:
            return list(self._lru)

    def __contains__(self, key: object) -> bool:
        """True when the LRU itself holds ``key``."""
        with self._lock:
            return key in self._lru

    def get(self, key: VolumeKey) -> ImageVolume | None:
        """The volume for ``key`` if it is in memory (cached or still shown), else None."""
        with self._lock:
            volume = self._lru.get(key)
            if volume is None:
                volume = self._alive.get(key)
                if volume is not None:
                    self._lru[key] = volume
                    self._evict(keep=key)
            if volume is None:
                self.misses += 1
                return None
            self._lru.move_to_end(key)
            self.hits += 1
            return volume

    def put(self, key: VolumeKey, volume: ImageVolume) -> ImageVolume:
        """Keep ``volume`` under ``key``; returns the copy in memory (an earlier one wins)."""
        with self._lock:
            existing = self._lru.get(key) or self._alive.get(key)
            if existing is not None:
                volume = existing
            self._lru[key] = volume
            self._lru.move_to_end(key)
            self._alive[key] = volume
            self._evict(keep=key)
            return volume

    def discard(self, key: VolumeKey) -> None:
        """Forget ``key`` (for example after its files changed)."""
        with self._lock:
            self._lru.pop(key, None)
            self._alive.pop(key, None)

    def clear(self) -> None:
        """Drop every cached volume (views keep what they show)."""
        with self._lock:
            self._lru.clear()

    def _evict(self, keep: VolumeKey | None = None) -> None:
        total = sum(v.voxels.nbytes for v in self._lru.values())
        for key in list(self._lru):
            if total <= self._budget:
                break
            if key == keep:
                continue
            total -= self._lru.pop(key).voxels.nbytes


@dataclass(frozen=True)
class PlannedVolume:
    """A series part whose headers are read: its plan and a preview of its middle slices."""

    key: VolumeKey
    plan: VolumePlan
    preview: ImageVolume | None


class VolumeLoader:
    """Opens stored series parts through a :class:`VolumeCache`.

    Parameters
    ----------
    series_files : callable
        ``series_files(series_uid) -> list[Path]``, e.g. ``StudyService.series_files``.
    cache : VolumeCache
        Where loaded volumes are kept.
    """

    def __init__(self, series_files: Callable[[str], Sequence[Path]], cache: VolumeCache) -> None:
        self._series_files = series_files
        self.cache = cache

    def cached(self, series_uid: str, part: str | None) -> ImageVolume | None:
        """The volume if it is already in memory (no disk access)."""
        return self.cache.get(volume_key(series_uid, part))

    def plan(
        self, series_uid: str, part: str | None, preview_slices: int = PREVIEW_SLICES
    ) -> Task[PlannedVolume]:
        """Read the headers of a stored series and a few middle slices of the part asked for.

        Raises
        ------
        NotFoundError
            (at once) no series with this UID is stored.
        UnsupportedSeriesError, DicomReadError
            (when run) the part cannot be formed or a file cannot be read.
        """
        paths = list(self._series_files(series_uid))
        return self._plan(volume_key(series_uid, part), paths, part, preview_slices)

    def _plan(
        self, key: VolumeKey, paths: list[Path], part: str | None, preview_slices: int
    ) -> Task[PlannedVolume]:
        plans = yield from plan_series(paths)
        plan = choose_plan(plans, part)
        preview = None
        if preview_slices > 0 and plan.report.slice_count > 2 * preview_slices:
            slab = middle_slab(plan, preview_slices)
            preview = yield from load_plan(slab)
        return PlannedVolume(key, plan, preview)

    def load(self, planned: PlannedVolume) -> Task[ImageVolume]:
        """Read every slice of a planned part and keep it in the cache.

        Yields
        ------
        Progress
            One step per file read.
        """
        existing = self.cache.get(planned.key)
        if existing is not None:
            return existing
        yield Progress(0, planned.plan.report.slice_count, "Reading images")
        volume = yield from load_plan(planned.plan)
        return self.cache.put(planned.key, volume)

    def open(self, series_uid: str, part: str | None) -> Task[ImageVolume]:
        """Plan and load in one task (CLI, tests, and views that need no preview)."""
        existing = self.cached(series_uid, part)
        paths = [] if existing is not None else list(self._series_files(series_uid))
        return self._open(volume_key(series_uid, part), existing, paths, part)

    def _open(
        self, key: VolumeKey, existing: ImageVolume | None, paths: list[Path], part: str | None
    ) -> Task[ImageVolume]:
        if existing is not None:
            return existing
        planned = yield from self._plan(key, paths, part, 0)
        volume = yield from self.load(planned)
        return volume
