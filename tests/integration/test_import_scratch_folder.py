"""The import's scratch folder (``.incoming`` in the image store) is gone after an import.

Each import extracts archives into a folder of its own under ``.incoming``; at its
end that folder is deleted, and ``.incoming`` too when no other import still has a
folder in it and nobody else holds the import lock.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from tace_planner.domain.progress import run_sync
from tace_planner.services.image_store import ImageStore

pytestmark = [pytest.mark.dicom, pytest.mark.db]

SCRATCH_FOLDER_NAME = ".incoming"


@pytest.fixture
def three_slices(tmp_path: Path, small_phantom: Path) -> Path:
    folder = tmp_path / "stick"
    folder.mkdir()
    for path in sorted((small_phantom / "baseline" / "CT_venous").glob("*.dcm"))[:3]:
        shutil.copy(path, folder / path.name)
    return folder


def test_no_scratch_folder_is_left_after_importing_a_folder(services, three_slices: Path) -> None:
    report = run_sync(services.studies.import_paths([three_slices]))

    assert report.new_instances == 3
    assert not (services.settings.image_store_dir / SCRATCH_FOLDER_NAME).exists()


def test_no_scratch_folder_is_left_after_importing_an_archive(
    services, three_slices: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "from-another-hospital.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(three_slices.glob("*.dcm")):
            bundle.write(path, f"STUDY/{path.name}")

    report = run_sync(services.studies.import_paths([archive]))

    assert report.new_instances == 3
    root = services.settings.image_store_dir
    assert not (root / SCRATCH_FOLDER_NAME).exists()
    assert not [p for p in root.rglob("*") if p.name.startswith("tace-import-")]


def test_a_cancelled_import_leaves_no_scratch_folder(services, three_slices: Path) -> None:
    task = services.studies.import_paths([three_slices])
    next(task)  # the scan has begun: the scratch folder exists
    assert (services.settings.image_store_dir / SCRATCH_FOLDER_NAME).is_dir()

    task.close()  # what the worker does on cancel

    assert not (services.settings.image_store_dir / SCRATCH_FOLDER_NAME).exists()


def test_the_scratch_folder_of_another_import_is_kept(services, three_slices: Path) -> None:
    root = services.settings.image_store_dir
    other = ImageStore(root)  # another import on the same store (another window or process)
    with other.scratch() as theirs:
        (theirs / "tace-import-x").mkdir()  # an archive it is extracting
        run_sync(services.studies.import_paths([three_slices]))
        assert (theirs / "tace-import-x").is_dir()
        assert theirs.parent == root / SCRATCH_FOLDER_NAME
        shutil.rmtree(theirs / "tace-import-x")
    assert not (root / SCRATCH_FOLDER_NAME).exists()  # the last one out removes it


def test_the_scratch_folder_is_left_while_another_holds_the_import_lock(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    lock = store.lock()
    with store.scratch() as folder:
        assert lock.acquire(blocking=False)  # e.g. another import writing a series
    try:
        assert not folder.exists()
        assert (store.root / SCRATCH_FOLDER_NAME).is_dir()  # that import removes it
    finally:
        lock.release()
    with store.scratch():
        pass
    assert not (store.root / SCRATCH_FOLDER_NAME).exists()


@pytest.mark.slow
def test_two_imports_at_once_leave_no_scratch_folder(tmp_path: Path, three_slices: Path) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import make_services

    for repetition in range(5):
        data = tmp_path / f"data{repetition}"
        opened = [make_services(data, user=f"user{n}") for n in range(2)]
        start = threading.Barrier(2)

        def run(services: object, start: threading.Barrier = start) -> int:
            start.wait(timeout=60)  # both scans begin together
            return run_sync(services.studies.import_paths([three_slices])).new_instances  # type: ignore[attr-defined]

        try:
            with ThreadPoolExecutor(2) as pool:
                added = sorted(pool.map(run, opened))
        finally:
            for services in opened:
                services.close()  # type: ignore[attr-defined]
        assert added == [0, 3]  # one stored them, the other found them stored
        assert not (data / "images" / SCRATCH_FOLDER_NAME).exists()
