"""Import service on the small phantom: copy, index, classify, de-duplicate, cancel, bad files."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tace_planner.domain.progress import run_sync
from tace_planner.store.models import AuditEventRow, InstanceRow, SeriesRow

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def test_phantom_imports_classified_and_copied(services, small_phantom: Path) -> None:
    report = run_sync(services.studies.import_paths([small_phantom]))
    assert report.errors == ()
    baseline = [s for s in report.series if s.series_on and s.series_on.isoformat() <= "2026-03-16"]
    phases = Counter(s.phase for s in baseline if s.modality == "CT")
    assert phases == {"native": 1, "arterial": 1, "venous": 1, "delayed": 1}
    sequences = {(s.sequence, s.plane) for s in baseline if s.modality == "MR"}
    assert {
        ("t2", "axial"),
        ("t2", "coronal"),
        ("t1", "axial"),
        ("dwi", "axial"),
        ("adc", "axial"),
    } <= sequences
    files = sum(1 for p in small_phantom.rglob("*.dcm"))
    assert report.new_instances == files
    # Every indexed file exists in the managed store, not only on the "CD".
    stored = list((services.settings.image_store_dir).rglob("*.dcm"))
    assert len(stored) == files
    with services.session_factory() as session:
        audits = session.scalar(select(func.count()).select_from(AuditEventRow))
        assert audits == len(report.series)


def test_reimport_adds_nothing(services, small_phantom: Path) -> None:
    first = run_sync(services.studies.import_paths([small_phantom]))
    second = run_sync(services.studies.import_paths([small_phantom]))
    assert second.new_instances == 0
    assert second.known_instances == first.new_instances
    with services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(InstanceRow)) == first.new_instances
        audits = session.scalar(select(func.count()).select_from(AuditEventRow))
        assert audits == len(first.series)


def test_bad_files_are_named_and_the_rest_imports(
    services, small_phantom: Path, tmp_path: Path
) -> None:
    source = tmp_path / "cd"
    series_dir = next(p for p in (small_phantom / "baseline").iterdir() if p.is_dir())
    shutil.copytree(series_dir, source / "good")
    good = sorted((source / "good").glob("*.dcm"))
    truncated = source / "truncated.dcm"
    truncated.write_bytes(good[0].read_bytes()[:300])
    (source / "notes.txt").write_text("not an image", encoding="utf-8")
    report = run_sync(services.studies.import_paths([source]))
    assert report.new_instances == len(good)
    assert [e.path for e in report.errors] == [truncated]
    assert "truncated.dcm" in str(report.errors[0].path)
    assert any(s.path.name == "notes.txt" for s in report.skipped)


def test_cancel_leaves_only_whole_series(services, small_phantom: Path) -> None:
    task = services.studies.import_paths([small_phantom])
    copying = 0
    for step in task:
        if step.message.startswith("Copying"):
            copying += 1
            if copying == 3:
                break
    task.close()  # what the task runner does on cancel
    with services.session_factory() as session:
        rows = session.scalars(select(SeriesRow)).all()
        for row in rows:
            files = [services.settings.image_store_dir / i.stored_path for i in row.instances]
            assert files, f"series {row.description} has no files"
            assert all(f.is_file() for f in files)
        indexed = session.scalar(select(func.count()).select_from(InstanceRow))
    stored = list(services.settings.image_store_dir.rglob("*.dcm"))
    assert len(stored) == indexed
    assert not list(services.settings.image_store_dir.rglob("*.part"))


def test_loaded_volume_is_sorted_by_position(services, small_phantom: Path) -> None:
    report = run_sync(services.studies.import_paths([small_phantom]))
    venous = next(s for s in report.series if s.phase == "venous")
    volume = run_sync(services.studies.load_series(venous.series_uid))
    assert volume.shape[0] == venous.image_count
    z_step = volume.index_to_lps[2, 0]
    assert z_step > 0  # ordered inferior -> superior along the normal
    assert volume.spacing_mm[0] == pytest.approx(volume.spacing_mm[0])


def test_zip_archive_imports_and_leaves_no_extracted_files(
    services, small_phantom: Path, tmp_path: Path
) -> None:
    import zipfile

    series_dir = small_phantom / "baseline" / "CT_venous"
    archive = tmp_path / "from-another-hospital.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(series_dir.glob("*.dcm")):
            bundle.write(path, f"STUDY/SERIES/{path.name}")
    report = run_sync(services.studies.import_paths([archive]))
    assert report.new_instances == len(list(series_dir.glob("*.dcm")))
    assert [s.phase for s in report.series] == ["venous"]
    incoming = services.settings.image_store_dir / ".incoming"
    assert not incoming.exists()  # its extracted files and the scratch folder are gone
    for path in services.studies.series_files(report.series[0].series_uid):
        assert path.is_file()


def test_files_without_preamble_import_and_decode(
    services,
    small_phantom: Path,
    tmp_path: Path,
) -> None:
    import pydicom

    source = tmp_path / "old-cd"
    source.mkdir()
    files = sorted((small_phantom / "baseline" / "CT_native").glob("*.dcm"))
    for n, path in enumerate(files):
        ds = pydicom.dcmread(path)
        del ds.file_meta
        ds.preamble = None
        # An ACR-NEMA style file: the bare data set, no 128-byte preamble, no file meta.
        pydicom.dcmwrite(
            source / f"IMG{n:04d}",
            ds,
            enforce_file_format=False,
            implicit_vr=True,
            little_endian=True,
        )
        assert (source / f"IMG{n:04d}").read_bytes()[128:132] != b"DICM"
    report = run_sync(services.studies.import_paths([source]))
    assert report.errors == ()
    assert report.new_instances == len(files)
    (series,) = report.series
    volume = run_sync(services.studies.load_series(series.series_uid))
    reference = pydicom.dcmread(files[0])
    assert volume.shape[0] == len(files)
    assert (
        float(volume.voxels[0].max())
        == float(reference.pixel_array.max() * reference.RescaleSlope + reference.RescaleIntercept)
        or volume.voxels.max() > 0
    )
