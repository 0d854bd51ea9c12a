"""Hostile and damaged files at import: names from the app, nothing outside the store.

Crafted UIDs (path traversal, slashes, NUL, more than 255 characters, binary
garbage) are stored under names the app derives, reported as remapped, and the
good series beside them is imported; a truncated slice is left out and its
series flagged; broken links and FIFOs are named as skipped.
"""

from __future__ import annotations

import copy
import io
import os
from pathlib import Path

import pydicom
import pytest
from pydicom import config as pydicom_config
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from sqlalchemy import select

from tace_planner.domain.progress import run_sync
from tace_planner.services.image_store import ImageStore
from tace_planner.store.models import InstanceRow, SeriesRow

pytestmark = [
    pytest.mark.dicom,
    pytest.mark.db,
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def _ct_slices(small_phantom: Path, count: int = 6) -> list[Dataset]:
    paths = sorted((small_phantom / "baseline" / "CT_venous").glob("*.dcm"))[:count]
    return [pydicom.dcmread(p) for p in paths]


def write_dataset(ds: Dataset, path: Path) -> Path:
    """Write ``ds`` without pydicom's value checks (hostile values on purpose)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = pydicom_config.settings.writing_validation_mode
    pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE
    try:
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
    finally:
        pydicom_config.settings.writing_validation_mode = saved
    path.write_bytes(buffer.getvalue())
    return path


def crafted_series(
    sources: list[Dataset], folder: Path, sop_uids: list[str], series_uid: str | None = None
) -> list[Path]:
    """One series whose files carry the given SOP Instance UIDs (in both places)."""
    series_uid = series_uid or generate_uid()
    written = []
    for n, uid in enumerate(sop_uids):
        ds = copy.deepcopy(sources[n % len(sources)])
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        written.append(write_dataset(ds, folder / f"IM{n:03d}.dcm"))
    return written


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


HOSTILE_UIDS = {
    "traversal": "../../../../outside/PWNED",
    "slash": "1.2.3/4.5",
    "absolute": "/tmp/tace-absolute-PWNED",
    "nul": "1.2.840.99\x00.7",
    "long": "1." + "2" * 300,
    "garbage": "".join(chr(c) for c in range(33, 127)) * 2 + "é\x01\x7f" + "ÿ" * 10,
    "backslash": "..\\..\\PWNED",
}


def test_crafted_uids_stay_inside_the_store_and_are_reported(
    tmp_path: Path, small_phantom: Path, services
) -> None:
    sources = _ct_slices(small_phantom)
    incoming = tmp_path / "cd"
    crafted = crafted_series(sources, incoming / "crafted", list(HOSTILE_UIDS.values()))
    good = crafted_series(sources, incoming / "good", [generate_uid() for _ in sources])
    data = services.settings.data_dir
    before_outside = files_under(tmp_path) - files_under(data) - set(crafted) - set(good)
    report = run_sync(services.studies.import_paths([incoming]))
    store = services.settings.image_store_dir.resolve()
    with services.session_factory() as session:
        stored = session.scalars(select(InstanceRow.stored_path)).all()
        uids = session.scalars(select(InstanceRow.sop_instance_uid)).all()
        volumes = session.scalars(select(SeriesRow).where(SeriesRow.is_volume)).all()

    # Nothing was written outside the data folder (the incoming folder is untouched).
    after_outside = files_under(tmp_path) - files_under(data) - set(crafted) - set(good)
    assert after_outside == before_outside
    assert not Path("/tmp/tace-absolute-PWNED.dcm").exists()
    for relative in stored:
        path = (store / relative).resolve()
        assert path.is_relative_to(store), relative
        assert path.is_file(), relative
        assert path.parent.parent.parent == store, f"{relative} made sub-folders"
    assert all(len(uid) <= 64 and set(uid) <= set("0123456789.") for uid in uids)
    # Every crafted file is named in the report; the good series is imported beside them.
    assert report.new_instances == len(crafted) + len(good)
    remapped = {e.path for e in report.remapped}
    assert set(crafted) <= remapped
    assert not set(good) & remapped
    assert all("not a valid DICOM UID" in e.reason for e in report.remapped)
    assert any(v.image_count == len(good) for v in report.series if v.is_volume)
    assert volumes


def test_reimport_of_crafted_uids_adds_nothing(
    tmp_path: Path, small_phantom: Path, services
) -> None:

    sources = _ct_slices(small_phantom, 3)
    crafted_series(sources, tmp_path / "cd", [HOSTILE_UIDS["long"], "1.2.3/4", "x\x00y"])
    first = run_sync(services.studies.import_paths([tmp_path / "cd"]))
    second = run_sync(services.studies.import_paths([tmp_path / "cd"]))
    assert first.new_instances == 3
    assert (second.new_instances, second.known_instances) == (0, 3)


def test_a_crafted_uid_cannot_overwrite_another_series_file(
    tmp_path: Path, small_phantom: Path, services
) -> None:
    """A second object claiming a stored file's name gets its own file; the first is intact."""
    sources = _ct_slices(small_phantom, 2)
    crafted_series(sources, tmp_path / "a", [generate_uid(), generate_uid()])
    run_sync(services.studies.import_paths([tmp_path / "a"]))
    with services.session_factory() as session:
        row = session.scalars(select(InstanceRow)).first()
        assert row is not None
    victim_path = services.settings.image_store_dir / row.stored_path
    victim_bytes = victim_path.read_bytes()
    # Another object arrives under a stored file's name.
    store = ImageStore(services.settings.image_store_dir)
    other = copy.deepcopy(sources[0])
    other.PatientName = "Other^Patient"
    path = write_dataset(other, tmp_path / "b" / "x.dcm")
    result = store.store(path, row.stored_path)
    assert result.created
    assert result.relative_path != row.stored_path
    assert victim_path.read_bytes() == victim_bytes
    again = store.store(victim_path, row.stored_path)
    assert (again.relative_path, again.created) == (row.stored_path, False)


def test_truncated_slice_is_left_out_and_the_series_flagged(
    tmp_path: Path, small_phantom: Path, services
) -> None:

    sources = _ct_slices(small_phantom, 6)
    paths = crafted_series(sources, tmp_path / "cd", [generate_uid() for _ in sources])
    cut = paths[2]
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) - 5000])
    report = run_sync(services.studies.import_paths([tmp_path / "cd"]))
    [series] = report.series
    volume = run_sync(services.studies.load_series(series.series_uid))
    assert report.new_instances == 5
    [error] = report.errors
    assert error.path == cut
    assert "cut off" in error.reason
    assert series.geometry_status in ("warning", "unmeasurable")
    assert any("left out at import" in w for w in series.warnings)
    assert volume.shape[0] >= 5


@pytest.mark.skipif(os.name == "nt", reason="symbolic links and FIFOs")
def test_broken_links_and_fifos_are_named_as_skipped(tmp_path: Path, small_phantom: Path) -> None:
    from tace_planner.imaging.dicom.discover import scan_files

    sources = _ct_slices(small_phantom, 2)
    folder = tmp_path / "cd"
    crafted_series(sources, folder, [generate_uid(), generate_uid()])
    (folder / "dangling").symlink_to(tmp_path / "nowhere.dcm")
    os.mkfifo(folder / "pipe")

    result = run_sync(scan_files([folder]))

    skipped = {e.path.name: e.reason for e in result.skipped}
    assert "dangling" in skipped
    assert "broken symbolic link" in skipped["dangling"]
    assert "pipe" in skipped
    assert "not a regular file" in skipped["pipe"]
    assert len(result.headers) == 2
