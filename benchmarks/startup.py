"""Cold start until the main window is shown on the demo database; prints one JSON line.

Usage: python benchmarks/startup.py [--runs 5] [--data-dir DIR] [--phantom-size full|small]

The demo database is prepared first (not timed) with ``tace-planner demo --no-gui``.
Each run is a fresh Python process with the offscreen Qt platform.
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

CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import tace_planner.ui.main_window as main_window
from tace_planner.app import main

_show = main_window.MainWindow.show

def show_then_quit(self):
    _show(self)
    QApplication.processEvents()
    print("shown", flush=True)
    QTimer.singleShot(0, QApplication.quit)

main_window.MainWindow.show = show_then_quit
sys.exit(main(["--data-dir", sys.argv[1], "gui"]))
"""


def main() -> None:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--phantom-size", choices=["small", "full"], default="full")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / f"tace-bench-{args.phantom_size}"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tace_planner",
            "--data-dir",
            str(data_dir),
            "demo",
            "--no-gui",
            "--phantom-size",
            args.phantom_size,
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == "shown":
                times.append(time.perf_counter() - start)
                break
        child.wait(timeout=60)
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "runs": len(times),
                "median_s": round(statistics.median(times), 3),
                "min_s": round(min(times), 3),
                "max_s": round(max(times), 3),
                "phantom_size": args.phantom_size,
                "goal_s": 1.5,
            }
        )
    )


if __name__ == "__main__":
    main()
