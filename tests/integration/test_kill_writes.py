"""SIGKILL at random points during command-line writes: the next start finds everything whole.

Each run forks a process that runs one writing command (import, classify,
patient set, plan --save, remove-series, demo --no-gui with its contouring)
on its own copy of a data folder, kills it with SIGKILL after a random delay,
then starts the app again on that folder and checks: the SQLite file passes
``PRAGMA integrity_check`` and ``foreign_key_check``; every file a row
references exists and decodes; no series is left without its files; rows
committed before the kill are all there; and running the command again
completes it.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
import pytest
from sqlalchemy import func, select, text

from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.store.models import InstanceRow, SeriesRow

pytestmark = [
    pytest.mark.dicom,
    pytest.mark.db,
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and SIGKILL"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # fork with threads
]

SEED = 4_12_2026
RUNS = {  # family: runs
    "import": 14,
    "classify": 8,
    "patient set": 8,
    "plan --save": 8,
    "remove-series": 8,
    "demo --no-gui": 5,
}
IMPORTED_SERIES = ("CT_arterial", "CT_venous", "MR_T2_axial")
DECODED_PER_CHECK = 16


def _run_and_maybe_die(argv: list[str]) -> int:
    """Fork a child that runs ``tace-planner argv`` with its output discarded; return its pid."""
    pid = os.fork()
    if pid == 0:  # the child
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            from tace_planner.cli import main

            code = main(argv)
        except BaseException:  # noqa: BLE001 - the child must never return into pytest
            code = 99
        os._exit(code)
    return pid


def _kill_after(pid: int, delay: float) -> bool:
    """SIGKILL ``pid`` after ``delay`` s unless it ended; True when it was killed mid-way."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return True


def _complete(argv: list[str]) -> int:
    pid = _run_and_maybe_die(argv)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _state(data: Path) -> tuple[list[str], dict[str, int]]:
    """Start the app on ``data`` (the next start) and check it; (problems, counts)."""
    problems: list[str] = []
    services = open_services(AppSettings(data_dir=data, db_url=None, user="kill-test"))
    try:
        with services.engine.connect() as connection:
            check = connection.execute(text("PRAGMA integrity_check")).scalars().all()
            if check != ["ok"]:
                problems.append(f"integrity_check: {check[:3]}")
            broken = connection.execute(text("PRAGMA foreign_key_check")).all()
            if broken:
                problems.append(f"foreign_key_check: {broken[:3]}")
        store = services.settings.image_store_dir
        with services.session_factory() as session:
            rows = session.execute(select(InstanceRow.stored_path, InstanceRow.file_size_bytes))
            present = []
            for relative, size in rows:
                path = store / relative
                if not path.is_file():
                    problems.append(f"{relative}: referenced but missing")
                elif path.stat().st_size != size:
                    problems.append(f"{relative}: {path.stat().st_size} of {size} bytes")
                else:
                    present.append(path)
            # Every file is whole (size above); a sample is decoded as well.
            sample = np.random.default_rng(len(present)).permutation(len(present))
            for index in sample[:DECODED_PER_CHECK]:
                try:
                    pydicom.dcmread(present[index]).pixel_array  # noqa: B018 - the check
                except Exception as error:  # noqa: BLE001 - collected
                    problems.append(f"{present[index].name}: does not decode ({error})")
            empty = session.scalars(
                select(SeriesRow.series_uid).where(~SeriesRow.instances.any())
            ).all()
            if empty:
                problems.append(f"{len(empty)} series without files (a half-written import)")
            counts = dict(
                session.execute(
                    select(SeriesRow.series_uid, func.count(InstanceRow.id))
                    .join(InstanceRow)
                    .group_by(SeriesRow.series_uid)
                ).all()
            )
    finally:
        services.close()
    return problems, counts


@pytest.fixture(scope="module")
def empty_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("kill-empty") / "data"
    open_services(AppSettings(data_dir=data, db_url=None, user="kill-test")).close()
    return data


@pytest.fixture(scope="module")
def to_import(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path) -> Path:
    folder = tmp_path_factory.mktemp("kill-import")
    for name in IMPORTED_SERIES:
        shutil.copytree(small_phantom / "baseline" / name, folder / name)
    return folder


def _demo_series(demo_data_dir: Path) -> tuple[str, str]:
    """(a CT series UID, an MR series UID) of the demo data folder."""
    services = open_services(AppSettings(data_dir=demo_data_dir, db_url=None, user="t"))
    try:
        items = services.studies.list_series()
    finally:
        services.close()
    ct = next(i.series_uid for i in items if i.modality == "CT" and i.is_volume)
    mr = next(i.series_uid for i in items if i.modality == "MR" and i.is_volume)
    return ct, mr


def test_sigkill_during_writes_loses_nothing(
    tmp_path: Path, empty_data: Path, demo_data_dir: Path, to_import: Path
) -> None:
    rng = np.random.default_rng(SEED)
    total = sum(1 for _ in to_import.rglob("*.dcm"))
    ct, mr = _demo_series(demo_data_dir)
    _, base_counts = _state(demo_data_dir)
    tried: Counter[str] = Counter()
    killed: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    notes: list[str] = []
    run = 0

    def command(family: str, data: Path) -> list[str]:
        common = ["--data-dir", str(data), "--user", "kill-test"]
        return {
            "import": [*common, "import", str(to_import)],
            "classify": [*common, "classify", ct, "--phase", "arterial", "--reason", "k"],
            "patient set": [*common, "patient", "set", "--case", "1", "--weight-kg", "71"],
            "plan --save": [*common, "plan", "--case", "1", "--save"],
            "remove-series": [*common, "remove-series", mr, "--reason", "kill test"],
            "demo --no-gui": [*common, "demo", "--no-gui", "--phantom-size", "small"],
        }[family]

    def fresh_copy(family: str, name: str) -> Path:
        data = tmp_path / name
        shutil.copytree(empty_data if family == "import" else demo_data_dir, data)
        return data

    for family, runs in RUNS.items():
        # How long the command takes here and now: kills land before its end.
        calibration = fresh_copy(family, f"calibrate-{family.split()[0]}")
        started = time.monotonic()
        assert _complete(command(family, calibration)) in (0, 1), family
        duration = time.monotonic() - started
        shutil.rmtree(calibration, ignore_errors=True)
        for _ in range(runs):
            run += 1
            data = fresh_copy(family, f"run{run}")
            argv = command(family, data)
            delay = float(rng.uniform(0.0, 0.9 * duration))
            tried[family] += 1
            if _kill_after(_run_and_maybe_die(argv), delay):
                killed[family] += 1
            problems, counts = _state(data)
            # Rows committed before the kill are all there (remove-series: all or nothing).
            if family != "import":
                for uid, count in base_counts.items():
                    if uid == mr and family == "remove-series" and uid not in counts:
                        continue
                    if counts.get(uid) != count:
                        problems.append(f"series {uid}: {counts.get(uid)} of {count} files")
            # Running the command again completes it.
            again = _complete(argv)
            if family == "remove-series" and again == 1 and mr not in counts:
                again = 0  # removed before the kill: "not in the database" is right
            if again not in (0, 1) or (family == "import" and again != 0):
                problems.append(f"running it again: exit {again}")
            after, counts_after = _state(data)
            problems.extend(f"after the re-run: {p}" for p in after)
            if family == "import" and sum(counts_after.values()) != total:
                problems.append(f"re-import holds {sum(counts_after.values())} of {total} files")
            if family == "demo --no-gui":
                from tace_planner.services.contouring import contouring_service

                services = open_services(AppSettings(data_dir=data, db_url=None, user="t"))
                try:
                    names = [i.name for i in contouring_service(services).list_lesions(1)]
                finally:
                    services.close()
                if names != ["Liver", *[f"F{n}" for n in range(1, 8)]]:
                    problems.append(f"demo resumed to {names}")
            if problems:
                failed[family] += 1
                notes.append(f"run {run} ({family}, kill after {delay:.2f} s): {problems[:3]}")
            shutil.rmtree(data, ignore_errors=True)
    table = "\n".join(
        f"{family:14} tried {tried[family]:3}  killed mid-way {killed[family]:3}  "
        f"failed {failed[family]:3}"
        for family in RUNS
    )
    print(table)
    assert sum(tried.values()) >= 50
    assert sum(killed.values()) >= 0.6 * sum(tried.values()), table
    assert notes == [], table + "\n" + "\n".join(notes)
