"""Stamping a series' files stays correct and gets cheaper on the views' hot path.

``VolumeLoader.cached`` runs at every change of what a view shows. It queried the
database and stat'ed every file of the series each time (500 requests for a 500-file
series, slow on a network share). It now reuses a stamp taken a moment ago while the
series' folder is unchanged; a file rewritten in place (the folder unchanged) is seen
once that moment is over, and :meth:`VolumeLoader.read_from_current_files`, which
guards a contour save, checks every file at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from tace_planner.domain.volume import ImageVolume
from tace_planner.services.file_stamps import file_stamp, files_stamp
from tace_planner.services.volume_cache import VolumeCache, VolumeLoader, volume_key

HOUR_NS = 3600 * 10**9


def _series(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for n in range(count):
        path = folder / f"1.2.3.{n}.dcm"
        path.write_bytes(bytes(64 + n))
        paths.append(path)
    _settle(folder)
    return paths


def _settle(folder: Path) -> None:
    """Date the folder an hour back: imported long ago."""
    then = time.time_ns() - HOUR_NS
    os.utime(folder, ns=(then, then))


def _touch(path: Path) -> None:
    """Rewrite-in-place stand-in: a new modification time, the folder left as it is."""
    later = path.stat().st_mtime_ns + 5 * 10**9
    os.utime(path, ns=(later, later))


@pytest.mark.parametrize("by_listing", [False, True], ids=["stat", "listing"])
def test_a_file_touched_in_place_changes_its_stamp_but_not_its_folders(
    tmp_path: Path, by_listing: bool
) -> None:
    from tace_planner.services.file_stamps import folders_stamp, series_folders

    first = _series(tmp_path / "a", 3)
    second = _series(tmp_path / "b", 2)
    gone = tmp_path / "a" / "gone.dcm"
    order = [second[1], *first, gone, second[0]]
    stamps = files_stamp(order, by_listing=by_listing)
    assert [s[0] for s in stamps] == [str(p) for p in order]
    for path, stamp in zip((second[1], *first, second[0]), stamps[:4] + stamps[5:], strict=True):
        assert stamp[1:3] == (path.stat().st_size, path.stat().st_mtime_ns)
        if os.name != "nt":
            assert stamp == file_stamp(path)
    assert stamps[4] == (str(gone), -1, -1, -1)
    folders = series_folders([*first, *second])
    assert folders == (str(tmp_path / "a"), str(tmp_path / "b"))
    settled = folders_stamp(folders)
    assert settled is not None
    assert len(settled) == 2

    before = files_stamp(first, by_listing=by_listing)
    _touch(first[0])
    after = files_stamp(first, by_listing=by_listing)
    assert after[0] != before[0]
    assert after[1:] == before[1:]
    assert folders_stamp(folders) == settled  # the folders cannot tell
    (tmp_path / "a" / "new.dcm").write_bytes(b"x")  # a file added: the folder changes now
    assert folders_stamp(folders) is None  # too recent to vouch for
    _settle(tmp_path / "a")
    assert folders_stamp(folders) not in (None, settled)


def test_a_view_asking_again_costs_no_query_and_no_stat_of_every_file(tmp_path: Path) -> None:
    paths = _series(tmp_path / "store" / "series", 500)
    queries: list[str] = []

    def series_files(uid: str) -> list[Path]:
        queries.append(uid)
        return paths

    loader = VolumeLoader(series_files, VolumeCache())
    volume = ImageVolume(np.zeros((2, 2, 2), dtype=np.float32), np.eye(4))
    loader.cache.put(volume_key("1.2", None), volume, files_stamp(paths))
    for _ in range(5):  # five view changes in a row
        assert loader.cached("1.2", None) is volume
    assert queries == ["1.2"]
    # a save's check looks at every file, whatever was stamped a moment ago
    _touch(paths[250])
    assert loader.read_from_current_files("1.2", None, volume) is False
    assert loader.cached("1.2", None) is None  # and the views know it at once


def test_a_file_rewritten_in_place_is_seen_once_the_stamp_is_old(tmp_path: Path) -> None:
    paths = _series(tmp_path / "series", 4)
    now = [100.0]
    loader = VolumeLoader(lambda uid: paths, VolumeCache(), validity_s=3.0, clock=lambda: now[0])
    volume = ImageVolume(np.zeros((2, 2, 2), dtype=np.float32), np.eye(4))
    loader.cache.put(volume_key("1.2", ""), volume, files_stamp(paths))
    assert loader.cached("1.2", "") is volume
    assert loader.read_from_current_files("1.2", "", volume) is True
    extra = tmp_path / "series" / "1.2.3.99.dcm"
    extra.write_bytes(b"new")  # a file added (imported again): the folder changes
    paths.append(extra)
    assert loader.cached("1.2", "") is None  # seen at once, within the validity
    paths.pop()
    extra.unlink()
    _settle(tmp_path / "series")
    loader.cache.put(volume_key("1.2", ""), volume, files_stamp(paths))
    assert loader.cached("1.2", "") is volume
    _touch(paths[0])
    now[0] += 1.0
    assert loader.cached("1.2", "") is volume  # within the validity: trusted
    now[0] += 3.0
    assert loader.cached("1.2", "") is None  # then stamped again: the old volume is not served
    assert loader.read_from_current_files("1.2", "", volume) is False
    foreign = ImageVolume(np.zeros((2, 2, 2), dtype=np.float32), np.eye(4))
    assert loader.read_from_current_files("1.2", "", foreign) is None
