"""Regression guard: the installed Qt binding survives many signals and image updates.

PySide6 6.12.0 on CPython 3.11 aborts the process after about 1,000 Signal.emit()
calls (docs/adr/0003-qt-binding-guard.md). An abort cannot be caught inside pytest,
so the stress runs in a child process and the test reads its exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tace_planner
from tace_planner.compat import check_qt_binding

EMISSIONS = 20_000
IMAGE_UPDATES = 5_000
SCRIPT = Path(__file__).with_name("_crash_guard_script.py")


def test_running_qt_binding_is_not_known_bad() -> None:
    message = check_qt_binding()

    assert message is None, message


def test_binding_survives_many_emissions_and_image_updates(tmp_path: Path) -> None:
    src_dir = Path(tace_planner.__file__).resolve().parent.parent
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(src_dir), env.get("PYTHONPATH", "")) if part
    )

    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(EMISSIONS), str(IMAGE_UPDATES)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    report = f"exit code {completed.returncode}\n{completed.stdout}\n{completed.stderr[-3000:]}"
    assert "Fatal Python error" not in completed.stderr, report
    assert completed.returncode == 0, report
    assert f"survived {EMISSIONS} emissions and {IMAGE_UPDATES} image updates" in (
        completed.stdout
    ), report
