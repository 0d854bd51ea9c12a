"""What the start-up path loads: nothing heavy before the first window (issue 17).

Each check runs in a fresh interpreter, so that modules imported by other tests do not hide
an import on the path to the window.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.store.upgrade import head_revision, shipped_head

pytestmark = [pytest.mark.db]

HEAVY = ("scipy", "skimage", "highdicom", "alembic", "SimpleITK", "matplotlib")
#: Not needed to paint the empty window: the worker thread imports them after it (issue 17).
AFTER_THE_FIRST_PAINT = ("sqlalchemy", "pyqtgraph", "pydicom", "numpy", "PIL", "psygnal")


def _loaded_after(code: str, *, qt: bool = False) -> set[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    script = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return set(result.stdout.split())


def test_the_shipped_head_is_read_without_alembic() -> None:
    assert shipped_head() == head_revision()


def test_opening_a_database_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    open_services(AppSettings(data_dir=tmp_path, db_url=None, user="t")).close()  # creates it
    loaded = _loaded_after(
        "from pathlib import Path\n"
        "from tace_planner.services.bootstrap import open_services\n"
        "from tace_planner.services.settings import AppSettings\n"
        f"s = open_services(AppSettings(data_dir=Path({str(tmp_path)!r}), db_url=None, "
        "user='t'))\n"
        "assert s.upgrade.to_revision == s.upgrade.from_revision\n"
        "s.close()"
    )
    assert not loaded & set(HEAVY)


def test_a_new_database_is_still_migrated(tmp_path: Path) -> None:
    services = open_services(AppSettings(data_dir=tmp_path, db_url=None, user="t"))
    try:
        assert services.upgrade.from_revision is None
        assert services.upgrade.to_revision == head_revision()
    finally:
        services.close()


@pytest.mark.ui
def test_the_main_window_is_shown_without_heavy_imports(tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    open_services(AppSettings(data_dir=tmp_path, db_url=None, user="t")).close()
    loaded = _loaded_after(
        "from pathlib import Path\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from tace_planner.app import demo_task\n"
        "from tace_planner.services.bootstrap import open_services\n"
        "from tace_planner.services.settings import AppSettings\n"
        "from tace_planner.ui.main_window import MainWindow\n"
        "app = QApplication([])\n"
        f"s = open_services(AppSettings(data_dir=Path({str(tmp_path)!r}), db_url=None, "
        "user='t'))\n"
        "w = MainWindow(s)\n"
        "w.show()\n"
        "app.processEvents()\n"
        "w.close()\n"
        "s.close()"
    )
    assert not loaded & set(HEAVY)


@pytest.mark.ui
def test_the_empty_main_window_is_painted_before_anything_heavy_is_imported(
    tmp_path: Path,
) -> None:
    """What ``tace-planner`` loads before its first paint: Qt and the window's frame only."""
    pytest.importorskip("PySide6")
    loaded = _loaded_after(
        "from PySide6.QtCore import QSettings\n"
        "from PySide6.QtWidgets import QApplication\n"
        "import tace_planner.app\n"
        "from tace_planner.ui.main_window import MainWindow\n"
        "app = QApplication([])\n"
        f"settings = QSettings({str(tmp_path / 'window.ini')!r}, QSettings.Format.IniFormat)\n"
        "w = MainWindow(None, layout_settings=settings)\n"
        "w.show_on_screen()\n"
        "app.processEvents()\n"
        "w.close()"
    )
    assert not loaded & set(HEAVY + AFTER_THE_FIRST_PAINT)
