"""The window is painted first, empty; its content comes once the database is open (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.ui.main_window import MainWindow

pytestmark = [pytest.mark.db]


def _opening(services: object, gate: list[bool]):
    import time

    from tace_planner.domain.progress import Progress

    yield Progress(0, 1, "Opening the database")
    while not gate:  # the test decides when the database "is open"
        time.sleep(0.01)
        yield Progress(0, 1, "Opening the database")
    return services


def test_the_empty_window_shows_then_gets_its_content(qtbot, tmp_path: Path) -> None:
    services = open_services(AppSettings(data_dir=tmp_path / "data", db_url=None, user="t"))
    layout = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(None, layout_settings=layout)
    qtbot.addWidget(window)
    gate: list[bool] = []
    ready: list[object] = []
    failed: list[BaseException] = []

    def on_ready(opened: object) -> None:
        window.attach(opened)
        ready.append(opened)

    try:
        window.start_in_background(_opening(services, gate), on_ready, failed.append)
        window.show_on_screen()
        qtbot.waitExposed(window, timeout=30_000)
        assert not window.ready
        assert "Opening the database" in window.findChild(QLabel, "starting_label").text()
        assert not hasattr(window, "case_list")
        gate.append(True)
        qtbot.waitUntil(lambda: bool(ready or failed), timeout=30_000)
        assert not failed
        assert window.ready
        assert window.centralWidget().findChild(QLabel, "disclaimer") is not None
        assert window.workspace_key == "plan"  # the layout was restored after attach
        # widgets added to a shown window appear through a queued show (QLayout::addChildWidget)
        qtbot.waitUntil(window.case_list.isVisible, timeout=30_000)
        window.close()
        # The layout of the full window was saved, its docks with it.
        assert layout.value("window/geometry") is not None
    finally:
        window.close()
        services.close()


def test_a_window_closed_while_starting_keeps_the_saved_layout(qtbot, tmp_path: Path) -> None:
    layout = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    layout.setValue("window/state", b"saved docks")
    window = MainWindow(None, layout_settings=layout)
    qtbot.addWidget(window)
    gate: list[bool] = []
    window.start_in_background(_opening(None, gate), lambda _: None, lambda _: None)
    window.show_on_screen()
    qtbot.waitExposed(window, timeout=30_000)
    window.close()  # cancels the opening task and waits for it
    assert layout.value("window/state") == b"saved docks"


def test_attach_twice_is_refused(qtbot, tmp_path: Path) -> None:
    services = open_services(AppSettings(data_dir=tmp_path / "data", db_url=None, user="t"))
    layout = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(services, layout_settings=layout)
    qtbot.addWidget(window)
    try:
        with pytest.raises(RuntimeError):
            window.attach(services)
    finally:
        window.close()
        services.close()


def test_a_data_folder_that_cannot_open_is_one_line_after_the_window(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env["TACE_PLANNER_CONFIG"] = str(tmp_path / "config" / "settings.json")
    done = subprocess.run(
        [sys.executable, "-m", "tace_planner", "--data-dir", str(blocker), "gui", "--check-window"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: data folder {blocker}: {blocker} is a file, not a folder (choose --data-dir DIR)"
    ], done.stderr
    assert "Traceback" not in done.stderr


def test_a_window_whose_content_cannot_be_built_says_why_in_one_line(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from tace_planner.domain.errors import StoreError\n"
        "from tace_planner.ui.main_window import MainWindow\n"
        "def broken(self, *args, **kwargs):\n"
        "    raise StoreError('the case list cannot be read')\n"
        "MainWindow.attach = broken\n"
        "from tace_planner.app import main\n"
        f"sys.exit(main(['--data-dir', {str(tmp_path / 'data')!r}, 'gui', '--check-window']))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env["TACE_PLANNER_CONFIG"] = str(tmp_path / "config" / "settings.json")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env
    )
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: the case list cannot be read"], done.stderr
    assert "main window shown" not in done.stdout
