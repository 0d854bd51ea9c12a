"""Workstations that start at once on a new department database (PostgreSQL) take turns.

Runs only on a PostgreSQL server (``TACE_TEST_POSTGRES=postgresql+psycopg://…``, see
``tests/conftest.py``): the file lock that orders two apps on one data folder does not
reach a workstation with a data folder of its own, so the migration itself must wait.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("TACE_TEST_POSTGRES"), reason="needs TACE_TEST_POSTGRES (a server)"
)


def test_two_workstations_migrate_a_new_database_at_once(tmp_path: Path) -> None:
    from tace_planner.services import bootstrap
    from tace_planner.store.db import make_engine
    from tace_planner.store.upgrade import current_revision, head_revision, upgrade_to_head

    url = bootstrap.sqlite_url_for(tmp_path / "department" / "tace.sqlite")
    engines = [make_engine(url) for _ in range(3)]
    barrier = threading.Barrier(len(engines))
    outcomes: list[str] = []

    def start(engine) -> None:
        barrier.wait()
        try:
            result = upgrade_to_head(engine)
            outcomes.append(f"ok from {result.from_revision}")
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            outcomes.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=start, args=(engine,), daemon=True) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)  # a migration waiting for ever fails below
    try:
        assert all(outcome.startswith("ok") for outcome in outcomes), outcomes
        assert len(outcomes) == len(engines)
        assert current_revision(engines[0]) == head_revision()
    finally:
        for engine in engines:
            engine.dispose()
