"""Cold start: process start → main window shown, and → demo case open; prints one JSON line.

Usage: python benchmarks/startup.py [--runs 7] [--data-dir DIR] [--phantom-size small|full]
                                    [--bundle PATH/TO/tace-planner] [--no-importtime]

The demo database is prepared first (not timed) with ``tace-planner demo --no-gui``.
Each run is a fresh process with the offscreen Qt platform:

* ``median_s`` (and min/max): start → the main window is shown and has painted once
  (empty at first: "Opening the database…");
* ``ready_median_s``: start → the window has its content (case list, viewer, docks), built
  once a worker thread has opened the database and imported the window's parts;
* ``case_median_s``: start → ``tace-planner demo`` has the demo case selected in the window
  (its studies listed, the first portal-venous CT chosen);
* ``bare_median_s`` (and min/max): a bare PySide6 ``QMainWindow`` shown, timed in turn with
  the app (the machine may be shared: compare ``ratio_to_bare`` between runs, not only times);
* ``importtime_top10``: the packages whose imports cost most on one start, to the first
  paint (``shown``) and to the content (``ready``), with ``(all)`` the sum
  (``python -X importtime``, self times added up per package, ms; inflated by the profiler).

Settings and ``window.ini`` go to a temporary folder (``TACE_PLANNER_CONFIG``): every
run starts as a first start, maximised. With ``--bundle``, the bundle's executable is timed
instead (``gui --check-window``: "main window painted", then "main window shown" once it
has its content; it polls every 0.1 s, so both are up to 0.1 s late; no case time, no
import profile).
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
_show = main_window.MainWindow.show_on_screen
_attach = getattr(main_window.MainWindow, "attach", None)  # None: built at once (before 0.1.0)
_select = main_window.MainWindow.select_case

def show_then_report(self):
    _show(self)
    QApplication.processEvents()
    print("shown", flush=True)
    print("--- shown", file=sys.stderr, flush=True)
    if _attach is None:
        print("ready", flush=True)
        if mode == "window":
            QTimer.singleShot(0, QApplication.quit)

def attach_then_report(self, *args, **kwargs):
    _attach(self, *args, **kwargs)
    QApplication.processEvents()
    print("ready", flush=True)
    if mode == "window":
        QTimer.singleShot(0, QApplication.quit)

def select_then_report(self, case_pk):
    _select(self, case_pk)
    QApplication.processEvents()
    print("case", flush=True)
    QTimer.singleShot(0, QApplication.quit)

main_window.MainWindow.show_on_screen = show_then_report
if _attach is not None:
    main_window.MainWindow.attach = attach_then_report
main_window.MainWindow.select_case = select_then_report
command = ["gui"] if mode == "window" else ["demo", "--phantom-size", sys.argv[3]]
sys.exit(main(["--data-dir", sys.argv[1], *command]))
"""

BARE = r"""
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1400, 860)
window.show()
QApplication.processEvents()
print("shown", flush=True)
"""
"""A bare PySide6 window, timed alongside: the machine is shared, so its load varies."""


def _time_until(command: list[str], markers: tuple[str, ...], env: dict[str, str]) -> list[float]:
    """Seconds from the start of ``command`` to each of ``markers`` (lines it prints)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    seen: dict[str, float] = {}
    for line in child.stdout:
        for marker in markers:
            if marker not in seen and line.strip().startswith(marker):
                seen[marker] = time.perf_counter() - start
        if len(seen) == len(markers):
            break
    child.stdout.close()
    child.wait(timeout=120)
    return [seen.get(marker, float("nan")) for marker in markers]


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
    }


def importtime_top(
    data_dir: Path, env: dict[str, str], count: int = 10
) -> dict[str, list[list[object]]]:
    """The ``count`` packages whose imports cost most on one start, to the first paint
    (``shown``) and to the window's content (``ready``).

    Each row is ``[package, ms]``: the self time (``-X importtime``) of every module of
    that top-level package added up, so that ``sqlalchemy`` counts all of SQLAlchemy
    whoever imported it; ``tace_planner`` is split by subpackage (``tace_planner.ui``).
    Imports of the start-up worker thread that finish before the first paint count in
    ``shown``.
    """
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CHILD, str(data_dir), "window"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    totals: dict[str, int] = {}
    profiles: dict[str, list[list[object]]] = {}
    for line in result.stderr.splitlines():
        if line.startswith("--- shown"):
            profiles["shown"] = _ranked(totals, count)
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        head, _, name_field = line.split("|")
        self_us = int(head.removeprefix("import time:"))
        parts = name_field.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "tace_planner" else parts[0]
        totals[package] = totals.get(package, 0) + self_us
    profiles["ready"] = _ranked(totals, count)
    return profiles


def _ranked(totals: dict[str, int], count: int) -> list[list[object]]:
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:count]
    return [[package, round(us / 1000)] for package, us in ranked] + [
        ["(all)", round(sum(totals.values()) / 1000)]
    ]


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
    # Its own settings and window.ini: the user's are not touched, and every run starts alike.
    config = Path(tempfile.mkdtemp(prefix="tace-bench-config-")) / "settings.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TACE_PLANNER_CONFIG=str(config))
    prepare = [str(args.bundle)] if args.bundle else [sys.executable, "-m", "tace_planner"]
    demo = ["demo", "--no-gui", "--phantom-size", args.phantom_size]
    subprocess.run(
        [*prepare, "--data-dir", str(data_dir), *demo],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    result: dict[str, object] = {"benchmark": "startup", "runs": args.runs}
    bare = [sys.executable, "-c", BARE]
    bare_times: list[float] = []
    if args.bundle:
        command = [str(args.bundle), "--data-dir", str(data_dir), "gui", "--check-window"]
        times, ready_times = [], []
        for _ in range(args.runs):  # interleaved with the bare window: both see the same load
            painted, ready = _time_until(command, ("main window painted", "main window shown"), env)
            times.append(painted)
            ready_times.append(ready)
            bare_times += _time_until(bare, ("shown",), env)
        result.update(_summary(times), bundle=str(args.bundle))
        result.update({f"ready_{key}": value for key, value in _summary(ready_times).items()})
    else:
        window = [sys.executable, "-c", CHILD, str(data_dir), "window"]
        case = [sys.executable, "-c", CHILD, str(data_dir), "case", args.phantom_size]
        times, ready_times, case_times = [], [], []
        for _ in range(args.runs):
            shown, ready = _time_until(window, ("shown", "ready"), env)
            times.append(shown)
            ready_times.append(ready)
            bare_times += _time_until(bare, ("shown",), env)
            case_times += _time_until(case, ("case",), env)
        result.update(_summary(times))
        result.update({f"ready_{key}": value for key, value in _summary(ready_times).items()})
        result.update({f"case_{key}": value for key, value in _summary(case_times).items()})
    result.update({f"bare_{key}": value for key, value in _summary(bare_times).items()})
    result["ratio_to_bare"] = round(statistics.median(times) / statistics.median(bare_times), 2)
    if not args.bundle and not args.no_importtime:
        result["importtime_top10"] = importtime_top(data_dir, env)
    result.update(phantom_size=args.phantom_size, goal_s=GOAL_S, cores=os.cpu_count())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
