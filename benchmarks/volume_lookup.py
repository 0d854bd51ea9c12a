"""A view's look-up of a cached series volume, and a full file stamp; prints one JSON line.

Usage: python benchmarks/volume_lookup.py [--files 500] [--runs 300]

A series of ``--files`` small files is written to a temporary folder (dated an hour ago,
as an imported series is). Timed, median of ``--runs``:

- ``files_stamp_ms``: :func:`~tace_planner.services.file_stamps.files_stamp` of every
  file (what a save checks the view's volume against);
- ``cached_lookup_ms``: :meth:`~tace_planner.services.volume_cache.VolumeLoader.cached`,
  which runs on every view change: it reuses a stamp taken within its validity while
  the series folder is unchanged, so it should not query the database
  (``series_files_queries_per_lookup``) nor stat every file.

Goal: a look-up well under 1 ms on a 500-file series, with no query per look-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tace_planner.domain.volume import ImageVolume
from tace_planner.services import file_stamps
from tace_planner.services.volume_cache import VolumeCache, VolumeLoader, volume_key


def _median_ms(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "study" / "series"
        folder.mkdir(parents=True)
        paths = []
        for n in range(args.files):
            path = folder / f"1.2.3.{n}.dcm"
            path.write_bytes(b"\0" * 2048)
            paths.append(path)
        an_hour_ago = time.time_ns() - 3600 * 10**9
        os.utime(folder, ns=(an_hour_ago, an_hour_ago))
        queries: list[str] = []

        def series_files(uid: str) -> list[Path]:
            queries.append(uid)
            return paths

        loader = VolumeLoader(series_files, VolumeCache())
        volume = ImageVolume(np.zeros((2, 2, 2), np.float32), np.eye(4))
        loader.cache.put(volume_key("1.2", None), volume, file_stamps.files_stamp(paths))
        if loader.cached("1.2", None) is not volume:
            raise SystemExit("the cached volume was not handed back")
        stamp_ms = _median_ms(lambda: file_stamps.files_stamp(paths), args.runs)
        queries.clear()
        lookup_ms = _median_ms(lambda: loader.cached("1.2", None), args.runs)
        print(
            json.dumps(
                {
                    "benchmark": "volume_lookup",
                    "files": args.files,
                    "files_stamp_ms": round(stamp_ms, 3),
                    "cached_lookup_ms": round(lookup_ms, 3),
                    "series_files_queries_per_lookup": round(len(queries) / args.runs, 3),
                }
            )
        )


if __name__ == "__main__":
    main()
