"""`tace-planner gui --check-window`: the start-up check CI runs under Xvfb (here: offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui]


def test_check_window_exits_once_the_main_window_is_shown(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "tace_planner", "--data-dir", str(tmp_path), "gui"]
    done = subprocess.run(
        [*command, "--check-window"], capture_output=True, text=True, timeout=180, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "main window shown on the offscreen platform" in done.stdout
    # Painted first (empty while the database opens), then shown with its content.
    assert done.stdout.index("main window painted") < done.stdout.index("main window shown")
