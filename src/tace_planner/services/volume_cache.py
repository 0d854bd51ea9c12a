"""Volumes in memory: one copy per series part, recently opened ones kept within a byte budget.

:class:`VolumeCache` is a thread-safe LRU of :class:`ImageVolume` objects keyed
by (series UID, part), bounded by the bytes of their voxels. A volume evicted
from the LRU while a view still shows it stays reachable through a weak
reference, so opening it again never makes a second copy.

Each volume is kept with a *stamp* of its series' stored files (path, size,
modification time, file number: :mod:`tace_planner.services.file_stamps`), and
:class:`VolumeLoader` compares it with the files as they are now before it hands a
kept volume out: a series removed and imported again under the same UID, with
other pixels or another geometry, is read again instead of showing the old
volume. Stamps, rather than a call from the import or the removal into the cache,
because they also see a series removed or imported again by another program or
workstation sharing the image store, and keep the import free of the cache; the
price is one database query and one listing of the series' folder (a ``stat`` per
file on most systems) when a series is opened. A view asking again for a series
(:meth:`VolumeLoader.cached`, at each change of what a view shows) reuses a stamp
taken less than :data:`STAMP_VALIDITY_S` ago while the series' folder is unchanged:
one ``stat`` and no query. :meth:`VolumeLoader.read_from_current_files` always
checks every file: it guards saving a contour drawn on a volume
(:mod:`tace_planner.services.volume_currency`).

:class:`VolumeLoader` opens stored series through the cache in two tasks, so
that a view can show something before the whole series is read:
:meth:`VolumeLoader.plan` reads the headers and a few middle slices (a
*preview*, on the same grid), :meth:`VolumeLoader.load` reads every slice.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tace_planner.domain.progress import Progress, Task
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.series import choose_plan, plan_series
from tace_planner.imaging.dicom.volume_loading import load_plan
from tace_planner.imaging.dicom.volume_plan import VolumePlan, middle_slab
from tace_planner.services.file_stamps import (
    FileStamp,
    files_stamp,
    folders_stamp,
    series_folders,
)

VolumeKey = tuple[str, str]
"""(series UID, part); the part is "" for a series that is one volume."""

GIB = 1024**3
DEFAULT_BUDGET_BYTES = 2 * GIB
ENV_BUDGET_MB = "TACE_PLANNER_VOLUME_CACHE_MB"
PREVIEW_SLICES = 3
STAMP_VALIDITY_S = 3.0
"""How long :meth:`VolumeLoader.cached` trusts a series' file stamps while its folder is
unchanged (a file rewritten in place, which leaves the folder as it is, is seen after
at most this long; a save checks every file at once)."""


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
        self._stamps: dict[VolumeKey, Hashable] = {}
        # (key, stamp) each volume was read with, for as long as the volume lives: a view
        # may hand a volume back after its series' files changed and it was forgotten
        self._read_with: weakref.WeakKeyDictionary[ImageVolume, tuple[VolumeKey, Hashable]] = (
            weakref.WeakKeyDictionary()
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

    def get(self, key: VolumeKey, stamp: Hashable | None = None) -> ImageVolume | None:
        """The volume for ``key`` if it is in memory (cached or still shown), else None.

        ``stamp`` says what the series' files look like now: a volume kept with
        another stamp was read from other files (the series was imported again) and
        is forgotten, and None is returned. Without ``stamp`` nothing is compared.
        """
        with self._lock:
            held = self._stamps.get(key)
            if stamp is not None and held is not None and held != stamp:
                self._forget(key)
            volume = self._lru.get(key)
            if volume is None:
                volume = self._alive.get(key)
                if volume is not None:
                    self._lru[key] = volume
                    self._evict(keep=key)
            if volume is None:
                self.misses += 1
                return None
            if stamp is not None and held is None:  # kept without a stamp: compare from now on
                self._stamps[key] = stamp
            self._lru.move_to_end(key)
            self.hits += 1
            return volume

    def put(
        self, key: VolumeKey, volume: ImageVolume, stamp: Hashable | None = None
    ) -> ImageVolume:
        """Keep ``volume`` under ``key``; returns the copy in memory (an earlier one wins,
        unless it was read from files with another ``stamp``: then ``volume`` replaces it).

        ``stamp`` is what the series' files looked like before ``volume`` was read
        from them (see :meth:`get`); without it the stamp kept for ``key`` stays. A
        volume put without a stamp that this cache once kept under ``key`` with one
        (a view handing back what it shows) is kept with the stamp it was read with, so
        that after its series was imported again it is forgotten at the next stamped
        look-up instead of being taken for the new files' volume.
        """
        with self._lock:
            if stamp is not None:
                self._read_with[volume] = (key, stamp)
            held = self._stamps.get(key)
            if stamp is not None and held is not None and held != stamp:
                self._forget(key)
            existing = self._lru.get(key) or self._alive.get(key)
            if existing is not None:
                volume = existing
            elif stamp is None:
                stamp = self._stamp_read_with(key, volume)
                self._stamps.pop(key, None)
            if stamp is not None:
                self._stamps[key] = stamp
            self._lru[key] = volume
            self._lru.move_to_end(key)
            self._alive[key] = volume
            self._evict(keep=key)
            return volume

    def read_with(self, key: VolumeKey, volume: ImageVolume) -> Hashable | None:
        """The stamp ``volume`` was kept with under ``key`` (None: it never was)."""
        with self._lock:
            return self._stamp_read_with(key, volume)

    def _stamp_read_with(self, key: VolumeKey, volume: ImageVolume) -> Hashable | None:
        origin = self._read_with.get(volume)
        return origin[1] if origin is not None and origin[0] == key else None

    def discard(self, key: VolumeKey) -> None:
        """Forget ``key`` (for example after its files changed)."""
        with self._lock:
            self._forget(key)

    def _forget(self, key: VolumeKey) -> None:
        self._lru.pop(key, None)
        self._alive.pop(key, None)
        self._stamps.pop(key, None)

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
    stamp: Hashable | None = None
    """The series' files as they were before the headers were read (see ``files_stamp``)."""


@dataclass(frozen=True)
class _Seen:
    """A series' files as last stamped: when, and its folders then."""

    paths: tuple[Path, ...]
    stamp: tuple[FileStamp, ...]
    folders: tuple[str, ...]
    folders_then: tuple[FileStamp, ...] | None
    """None: a folder had just changed, so the stamp is never reused."""
    at_s: float


class VolumeLoader:
    """Opens stored series parts through a :class:`VolumeCache`.

    Parameters
    ----------
    series_files : callable
        ``series_files(series_uid) -> list[Path]``, e.g. ``StudyService.series_files``.
    cache : VolumeCache
        Where loaded volumes are kept.
    validity_s : float
        How long :meth:`cached` reuses a series' stamps while its folder is unchanged.
    clock : callable
        Seconds, monotonic (tests pass their own).
    """

    def __init__(
        self,
        series_files: Callable[[str], Sequence[Path]],
        cache: VolumeCache,
        *,
        validity_s: float = STAMP_VALIDITY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._series_files = series_files
        self.cache = cache
        self._validity_s = validity_s
        self._clock = clock
        self._seen: dict[str, _Seen] = {}
        self._seen_lock = threading.Lock()

    def _stamp(self, series_uid: str, *, fresh: bool) -> tuple[list[Path], Hashable]:
        """The series' files and their stamp; unless ``fresh``, one taken less than the
        validity ago while the series' folders stayed as they were."""
        if not fresh:
            with self._seen_lock:
                seen = self._seen.get(series_uid)
            if (
                seen is not None
                and seen.folders_then is not None
                and self._clock() - seen.at_s < self._validity_s
                and folders_stamp(seen.folders) == seen.folders_then
            ):
                return list(seen.paths), seen.stamp
        at_s = self._clock()
        try:
            paths = list(self._series_files(series_uid))
        except Exception:
            with self._seen_lock:
                self._seen.pop(series_uid, None)
            raise
        folders = series_folders(paths)
        folders_then = folders_stamp(folders)  # before the files: a change between shows
        stamp = files_stamp(paths)
        with self._seen_lock:
            self._seen[series_uid] = _Seen(tuple(paths), stamp, folders, folders_then, at_s)
        return paths, stamp

    def cached(self, series_uid: str, part: str | None) -> ImageVolume | None:
        """The volume if it is in memory and its series' files did not change since it was
        read (no file is read). Called at each change of what a view shows, so it reuses
        stamps taken less than ``validity_s`` ago while the series' folder is unchanged
        (one ``stat``); otherwise one query and a listing of the folder.

        Raises
        ------
        NotFoundError
            No series with this UID is stored (any more), when the files are looked up.
        """
        _, stamp = self._stamp(series_uid, fresh=False)
        return self.cache.get(volume_key(series_uid, part), stamp)

    def read_from_current_files(
        self, series_uid: str, part: str | None, volume: ImageVolume
    ) -> bool | None:
        """Whether ``volume`` was read from the series part's files as they are now.

        Checks every file (one query, a listing of the folder, no read). None when this
        loader's cache did not read ``volume`` for this part: nothing to compare with.

        Raises
        ------
        NotFoundError
            No series with this UID is stored (any more).
        """
        then = self.cache.read_with(volume_key(series_uid, part), volume)
        if then is None:
            return None
        _, now = self._stamp(series_uid, fresh=True)
        return now == then

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
        paths, stamp = self._stamp(series_uid, fresh=True)
        return self._plan(volume_key(series_uid, part), paths, stamp, part, preview_slices)

    def _plan(
        self,
        key: VolumeKey,
        paths: list[Path],
        stamp: Hashable,
        part: str | None,
        preview_slices: int,
    ) -> Task[PlannedVolume]:
        plans = yield from plan_series(paths)
        plan = choose_plan(plans, part)
        preview = None
        if preview_slices > 0 and plan.report.slice_count > 2 * preview_slices:
            slab = middle_slab(plan, preview_slices)
            preview = yield from load_plan(slab)
        return PlannedVolume(key, plan, preview, stamp)

    def load(self, planned: PlannedVolume) -> Task[ImageVolume]:
        """Read every slice of a planned part and keep it in the cache.

        Yields
        ------
        Progress
            One step per file read.
        """
        existing = self.cache.get(planned.key, planned.stamp)
        if existing is not None:
            return existing
        yield Progress(0, planned.plan.report.slice_count, "Reading images")
        volume = yield from load_plan(planned.plan)
        return self.cache.put(planned.key, volume, planned.stamp)

    def open(self, series_uid: str, part: str | None) -> Task[ImageVolume]:
        """Plan and load in one task (CLI, tests, and views that need no preview)."""
        paths, stamp = self._stamp(series_uid, fresh=True)
        key = volume_key(series_uid, part)
        return self._open(key, self.cache.get(key, stamp), paths, stamp, part)

    def _open(
        self,
        key: VolumeKey,
        existing: ImageVolume | None,
        paths: list[Path],
        stamp: Hashable,
        part: str | None,
    ) -> Task[ImageVolume]:
        if existing is not None:
            return existing
        planned = yield from self._plan(key, paths, stamp, part, 0)
        volume = yield from self.load(planned)
        return volume
