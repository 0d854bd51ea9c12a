"""Two imports of the same folder at once: both finish, no committed file is lost.

Each repetition starts two processes on a fresh data folder, released together
by a barrier, that import the same three series through the command line. The
loser of every race must end with "already stored", never with a unique-key
error whose clean-up deletes the winner's files; afterwards every file the
database references exists and decodes.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import shutil
import sys
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select

from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.store.models import InstanceRow

pytestmark = [pytest.mark.dicom, pytest.mark.db, pytest.mark.slow]

REPETITIONS = 20
SERIES = ("CT_arterial", "CT_venous", "MR_T2_axial")


def _import(data_dir: str, folder: str, barrier: object, results: object) -> None:
    from tace_planner.cli import main

    barrier.wait(timeout=60)  # type: ignore[attr-defined]
    out = io.StringIO()
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--data-dir", data_dir, "import", folder, "--json"])
        except BaseException as error:  # noqa: BLE001 - reported to the test
            code = f"{type(error).__name__}: {error}"
    results.put((code, out.getvalue(), err.getvalue()))  # type: ignore[attr-defined]


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")  # fast: the modules are loaded already
    return multiprocessing.get_context("spawn")


@pytest.fixture(scope="module")
def three_series(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path) -> Path:
    folder = tmp_path_factory.mktemp("three-series")
    for name in SERIES:
        shutil.copytree(small_phantom / "baseline" / name, folder / name)
    return folder


def test_two_concurrent_imports_lose_nothing(tmp_path: Path, three_series: Path) -> None:
    total = sum(1 for _ in three_series.rglob("*.dcm"))
    context = _context()
    failures: list[str] = []
    for repetition in range(REPETITIONS):
        data = tmp_path / f"data{repetition}"
        barrier = context.Barrier(2)
        results = context.Queue()
        workers = [
            context.Process(target=_import, args=(str(data), str(three_series), barrier, results))
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=300) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        for code, _, err in outcomes:
            if code != 0:
                failures.append(f"run {repetition}: exit {code}: {err.strip()[:300]}")
        services = open_services(AppSettings(data_dir=data, db_url=None, user="tester"))
        try:
            store = services.settings.image_store_dir
            with services.session_factory() as session:
                stored = session.scalars(select(InstanceRow.stored_path)).all()
        finally:
            services.close()
        if len(stored) != total:
            failures.append(f"run {repetition}: {len(stored)} of {total} files in the database")
        for relative in stored:
            path = store / relative
            if not path.is_file():
                failures.append(f"run {repetition}: {relative} is referenced but missing")
                continue
            try:
                pydicom.dcmread(path).pixel_array  # noqa: B018 - decoding is the check
            except Exception as error:  # noqa: BLE001 - collected below
                failures.append(f"run {repetition}: {relative} does not decode: {error}")
    assert failures == []
