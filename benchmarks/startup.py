"""Cold start: process start → main window shown, and → demo case open; prints one JSON line.

Usage: python benchmarks/startup.py [--runs 7] [--data-dir DIR] [--phantom-size small|full]
                                    [--bundle PATH/TO/tace-planner] [--no-importtime]

The demo database is prepared first (not timed) with ``tace-planner demo --no-gui``.
Each run is a fresh process with the offscreen Qt platform:

* ``median_s`` (and min/max): start → the main window is shown and has painted once;
* ``case_median_s``: start → ``tace-planner demo`` has the demo case selected in the window
  (its studies listed, the first portal-venous CT chosen);
* ``importtime_top10``: the packages whose imports cost most on one start to the window
  (``python -X importtime``, self times added up per package, ms; inflated by the profiler).

With ``--bundle``, the bundle's executable is timed instead (``gui --check-window``, which
polls every 0.1 s, so its times are up to 0.1 s late; no case time, no import profile).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 1.0

CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import tace_planner.ui.main_window as main_window
from tace_planner.app import main

mode = sys.argv[2]
_show = main_window.MainWindow.show
_select = main_window.MainWindow.select_case

def show_then_report(self):
    _show(self)
    QApplication.processEvents()
    print("shown", flush=True)
    if mode == "window":
        QTimer.singleShot(0, QApplication.quit)

def select_then_report(self, case_pk):
    _select(self, case_pk)
    QApplication.processEvents()
    print("case", flush=True)
    QTimer.singleShot(0, QApplication.quit)

main_window.MainWindow.show = show_then_report
main_window.MainWindow.select_case = select_then_report
command = ["gui"] if mode == "window" else ["demo", "--phantom-size", sys.argv[3]]
sys.exit(main(["--data-dir", sys.argv[1], *command]))
"""


def _time_until(command: list[str], marker: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    elapsed = float("nan")
    for line in child.stdout:
        if line.strip().startswith(marker):
            elapsed = time.perf_counter() - start
            break
    child.stdout.close()
    child.wait(timeout=120)
    return elapsed


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
    }


def importtime_top(data_dir: Path, env: dict[str, str], count: int = 10) -> list[list[object]]:
    """The ``count`` packages whose imports cost most on one start to the window.

    Each row is ``[package, ms]``: the self time (``-X importtime``) of every module of
    that top-level package added up, so that ``sqlalchemy`` counts all of SQLAlchemy
    whoever imported it; ``tace_planner`` is split by subpackage (``tace_planner.ui``).
    """
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CHILD, str(data_dir), "window"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    totals: dict[str, int] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        head, _, name_field = line.split("|")
        self_us = int(head.removeprefix("import time:"))
        parts = name_field.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "tace_planner" else parts[0]
        totals[package] = totals.get(package, 0) + self_us
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:count]
    return [[package, round(us / 1000)] for package, us in ranked]


def main() -> None:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--phantom-size", choices=["small", "full"], default="small")
    parser.add_argument("--bundle", type=Path, help="time this bundled tace-planner instead")
    parser.add_argument("--no-importtime", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / f"tace-bench-{args.phantom_size}"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    prepare = [str(args.bundle)] if args.bundle else [sys.executable, "-m", "tace_planner"]
    demo = ["demo", "--no-gui", "--phantom-size", args.phantom_size]
    subprocess.run(
        [*prepare, "--data-dir", str(data_dir), *demo],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    result: dict[str, object] = {"benchmark": "startup", "runs": args.runs}
    if args.bundle:
        command = [str(args.bundle), "--data-dir", str(data_dir), "gui", "--check-window"]
        times = [_time_until(command, "main window shown", env) for _ in range(args.runs)]
        result.update(_summary(times), bundle=str(args.bundle))
    else:
        window = [sys.executable, "-c", CHILD, str(data_dir), "window"]
        case = [sys.executable, "-c", CHILD, str(data_dir), "case", args.phantom_size]
        times = [_time_until(window, "shown", env) for _ in range(args.runs)]
        case_times = [_time_until(case, "case", env) for _ in range(args.runs)]
        result.update(_summary(times))
        result.update({f"case_{key}": value for key, value in _summary(case_times).items()})
        if not args.no_importtime:
            result["importtime_top10"] = importtime_top(data_dir, env)
    result.update(phantom_size=args.phantom_size, goal_s=GOAL_S, cores=os.cpu_count())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
