"""Shared fixtures: isolated settings, the small phantom, services on a temporary database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tace_planner.domain.progress import run_sync


@pytest.fixture(autouse=True)
def _isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never read or write the real user's settings, database or data folder."""
    config = tmp_path_factory.mktemp("config") / "settings.json"
    monkeypatch.setenv("TACE_PLANNER_CONFIG", str(config))
    for name in ("TACE_PLANNER_DATA", "TACE_PLANNER_DB", "TACE_PLANNER_USER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def small_phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small phantom, written once per test session (read-only for tests)."""
    from tace_planner.imaging.phantom import write_phantom

    folder = tmp_path_factory.mktemp("phantom-small")
    write_phantom(folder, size="small", seed=0)
    return folder


def make_services(data_dir: Path, user: str = "tester"):
    """Open services on a fresh SQLite database in ``data_dir``."""
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data_dir, db_url=None, user=user))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[object]:
    """Services on an empty, migrated SQLite database in a temporary data folder."""
    opened = make_services(tmp_path / "data")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path) -> Path:
    """A data folder holding the demo case built from the small phantom (shared, read-only)."""
    import shutil

    from tace_planner.services.demo import prepare_demo

    data_dir = tmp_path_factory.mktemp("demo-data")
    opened = make_services(data_dir)
    try:
        demo_dir = opened.settings.demo_dir
        shutil.copytree(small_phantom, demo_dir)
        (demo_dir / "phantom-parameters.json").write_text(
            '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
        )
        run_sync(prepare_demo(opened.studies, opened.cases, demo_dir, size="small", seed=0))
    finally:
        opened.close()
    return data_dir
