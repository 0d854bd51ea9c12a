"""Kill the process while it saves procedures (SIGKILL, many times): nothing signed is lost.

A child process logs, edits, signs and amends procedures in a loop; it is killed at
a random moment, 30 times. After each kill the SQLite file must pass
``PRAGMA integrity_check`` and every signed revision seen before must still be
there, byte for byte the same.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from planning_seed import seed_case
from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings

pytestmark = [pytest.mark.db, pytest.mark.slow]

RUNS = 30
SCRIPT = Path(__file__).with_name("_procedure_kill_script.py")


def _signed(path: Path) -> dict[int, tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = connection.execute(
            "SELECT id, procedure_pk, revision, record, derived, delivered_mg, loaded_mg, "
            "signed_at, signed_by, amendment_reason, version FROM procedure_revision "
            "WHERE signed_at IS NOT NULL"
        ).fetchall()
    finally:
        connection.close()
    return {row[0]: row for row in rows}


def test_sigkill_during_saves_keeps_the_database_and_every_signed_record(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="setup"))
    try:
        case_pk = seed_case(services)
        db_path = Path(str(services.engine.url.database))
    finally:
        services.close()
    rng = random.Random(13)
    seen: dict[int, tuple[Any, ...]] = {}
    signatures = 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(RUNS):
        child = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(db_path), str(case_pk)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert child.stdout is not None
            first = child.stdout.readline()
            assert first.strip() == "ready", child.stderr.read() if child.stderr else first
            time.sleep(rng.uniform(0.0, 0.4))  # when to kill, not an assertion
        finally:
            child.send_signal(signal.SIGKILL)
            out, _ = child.communicate(timeout=30)
        signatures += out.count("signed ")
        now = _signed(db_path)
        for pk, row in seen.items():
            assert now.get(pk) == row, f"signed revision {pk} changed or vanished"
        seen = now
    assert signatures > 0  # the kills did land among saves
    assert len(seen) >= signatures
