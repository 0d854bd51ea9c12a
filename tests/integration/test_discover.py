"""Finding DICOM files: DICOMDIR, zip archives, hidden files, bad files, cancel, object kinds."""

from __future__ import annotations

import concurrent.futures
import copy
import multiprocessing
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom import examples
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.fileset import FileSet
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

import tace_planner.imaging.dicom.discover as discover
import tace_planner.imaging.dicom.file_search as file_search
from tace_planner.domain.progress import Progress, run_sync
from tace_planner.imaging.dicom.discover import (
    ScanResult,
    iter_candidate_files,
    kind_of,
    read_dicomdir_references,
    scan_files,
)
from tace_planner.imaging.dicom.sop_classes import OBJECT_KINDS, object_kind, sop_class_name

pytestmark = pytest.mark.dicom

CT = "1.2.840.10008.5.1.4.1.1.2"


def ct_series(count: int, series_uid: str | None = None) -> list[Dataset]:
    """``count`` slices of pydicom's small CT, 1 mm apart, with fresh UIDs."""
    template = examples.ct
    series_uid = series_uid or generate_uid()
    study_uid = generate_uid()
    slices = []
    for n in range(count):
        ds = copy.deepcopy(template)
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = n + 1
        ds.ImagePositionPatient = [0.0, 0.0, float(n)]
        slices.append(ds)
    return slices


def write_series(folder: Path, count: int, prefix: str = "IM") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, ds in enumerate(ct_series(count)):
        path = folder / f"{prefix}{n:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_object(path: Path, sop_class_uid: str, **elements: object) -> Path:
    """A minimal Part 10 file of any SOP class (no pixels)."""
    ds = Dataset()
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "TEST"
    ds.Modality = "OT"
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def make_fileset(folder: Path, count: int = 5) -> tuple[Path, list[Path]]:
    """A real DICOM file-set (DICOMDIR + IM files) written by pydicom's FileSet."""
    fs = FileSet()
    for ds in ct_series(count):
        fs.add(ds)
    fs.write(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    assert len(files) == count
    return folder / "DICOMDIR", files


def scan(paths: list[Path], **options: object) -> ScanResult:
    return run_sync(scan_files(paths, **options))  # type: ignore[arg-type]


def all_paths(result: ScanResult) -> list[Path]:
    return [h.path for h in result.headers] + [e.path for e in result.errors + result.skipped]


def reasons_for(result: ScanResult, name: str) -> list[str]:
    return [e.reason for e in result.errors + result.skipped if e.path.name == name]


# --- DICOMDIR ---------------------------------------------------------------------------


def test_dicomdir_lists_the_files_and_viewer_files_are_not_read(tmp_path: Path) -> None:
    dicomdir, files = make_fileset(tmp_path / "cd")
    (tmp_path / "cd" / "VIEWER.EXE").write_bytes(b"MZ" + b"\0" * 100)
    (tmp_path / "cd" / "README.TXT").write_text("open the viewer", encoding="utf-8")
    references = read_dicomdir_references(dicomdir)
    assert len(references) == len(files)
    assert all(ref[0] == "PT000000" for ref in references)

    result = scan([tmp_path / "cd"])

    assert sorted(h.path for h in result.headers) == files
    assert result.errors == []
    [note] = result.skipped
    assert note.path == dicomdir
    assert "DICOMDIR used" in note.reason
    assert "2 other file(s)" in note.reason


def test_dicomdir_matches_iso9660_names_case_insensitively(tmp_path: Path) -> None:
    _dicomdir, files = make_fileset(tmp_path / "cd", count=3)
    # What some CD drivers show: lower-case names, ";1" versions and final dots.
    for n, path in enumerate(files):
        suffix = ";1" if n == 0 else "." if n == 1 else ""
        path.rename(path.with_name(path.name.lower() + suffix))
    (tmp_path / "cd" / "PT000000").rename(tmp_path / "cd" / "pt000000")

    result = scan([tmp_path / "cd"])

    assert len(result.headers) == 3
    assert {h.path.name for h in result.headers} == {"im000000;1", "im000001.", "im000002"}
    assert "DICOMDIR used" in result.skipped[0].reason


def test_dicomdir_with_missing_files_falls_back_to_the_folder(tmp_path: Path) -> None:
    dicomdir, files = make_fileset(tmp_path / "cd", count=5)
    files[2].unlink()
    extra = write_series(tmp_path / "cd" / "EXTRA", 2)  # not listed in the DICOMDIR

    result = scan([tmp_path / "cd"])

    found = sorted(h.path for h in result.headers)
    assert found == sorted([*files[:2], *files[3:], *extra])
    assert len(found) == len(set(found)), "a file was counted twice"
    [note] = [s for s in result.skipped if s.path == dicomdir]
    assert note.reason.startswith("DICOMDIR lists 1 file that is missing")
    assert note.reason.endswith("the folder was scanned instead")
    assert "PT000000/ST000000/SE000000/IM000002" in note.reason
    assert result.errors == []


def test_unreadable_dicomdir_falls_back_to_the_folder(tmp_path: Path) -> None:
    files = write_series(tmp_path / "cd" / "DICOM", 3)
    (tmp_path / "cd" / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 40)

    result = scan([tmp_path / "cd"])

    assert sorted(h.path for h in result.headers) == files
    [note] = result.skipped
    assert note.path.name == "DICOMDIR"
    assert "DICOMDIR could not be read" in note.reason
    assert "the folder was scanned instead" in note.reason


def test_pydicom_dicomdir_test_set_reads_each_file_once(tmp_path: Path) -> None:
    source = Path(get_testdata_file("DICOMDIR")).parent  # type: ignore[arg-type]
    shutil.copytree(source, tmp_path / "cd")
    dicomdir = tmp_path / "cd" / "DICOMDIR"

    # The folder, the DICOMDIR itself and a file inside: each file is still read once.
    result = scan([tmp_path / "cd", dicomdir, tmp_path / "cd" / "98892001" / "CT2N" / "6293"])

    paths = all_paths(result)
    assert len(paths) == len(set(paths))
    assert len(result.headers) == 31 + 50  # the DICOMDIR's files + TINY_ALPHA's
    assert any("DICOMDIR used: it lists 31 files" in s.reason for s in result.skipped)
    # The other DICOMDIRs of pydicom's test set are recognised by their SOP class.
    others = [e for e in result.skipped if e.path.name.startswith("DICOMDIR-")]
    assert len(others) == 6
    assert all("DICOMDIR" in e.reason for e in others)
    assert result.errors == []


# --- archives ---------------------------------------------------------------------------


def zip_folder(folder: Path, archive: Path) -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, path.relative_to(folder).as_posix())
    return archive


def test_zip_archive_is_extracted_until_cleanup(tmp_path: Path) -> None:
    files = write_series(tmp_path / "src" / "series1", 3)
    files += write_series(tmp_path / "src" / "deep" / "series2", 2)
    (tmp_path / "src" / "notes.txt").write_text("not an image", encoding="utf-8")
    archive = zip_folder(tmp_path / "src", tmp_path / "study.zip")

    result = scan([archive], temp_dir=tmp_path)

    assert len(result.headers) == 5
    [temp] = result.temp_dirs
    assert temp.parent == tmp_path
    for header in result.headers:
        assert header.path.is_relative_to(temp)
        assert header.path.is_file()
        shown = result.display_path(header.path)
        assert shown.parts[: len(archive.parts)] == archive.parts
    assert [s.path for s in result.skipped] == [archive / "notes.txt"]
    assert "not a DICOM file" in result.skipped[0].reason

    with result:
        pass
    assert not temp.exists()
    result.cleanup()  # idempotent


def test_zip_found_while_walking_and_folder_files_not_doubled(tmp_path: Path) -> None:
    write_series(tmp_path / "src", 2)
    (tmp_path / "cd").mkdir()
    zip_folder(tmp_path / "src", tmp_path / "cd" / "ARCHIVE.ZIP")
    plain = write_series(tmp_path / "cd" / "plain", 2)

    with scan([tmp_path / "cd", plain[0]]) as result:
        assert len(result.headers) == 4
        assert result.errors == []
        assert result.skipped == []


def test_zip_slip_members_are_refused(tmp_path: Path) -> None:
    good = write_series(tmp_path / "src", 1)[0]
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(good, "ok/IM0.dcm")
        zf.writestr("../escaped.dcm", good.read_bytes())
        zf.writestr("a/../../escaped2.dcm", good.read_bytes())
        zf.writestr("/absolute.dcm", good.read_bytes())
        zf.writestr("C:/windows.dcm", good.read_bytes())
        zf.writestr("__MACOSX/ok/._IM0.dcm", b"apple double")

    with scan([archive], temp_dir=tmp_path / "tmp") as result:
        assert [h.path.name for h in result.headers] == ["IM0.dcm"]
        refused = {e.path.relative_to(archive).as_posix(): e.reason for e in result.skipped}
        assert set(refused) == {
            "../escaped.dcm",
            "a/../../escaped2.dcm",
            "absolute.dcm",
            "C:/windows.dcm",
        }
        assert all("unsafe path" in reason for reason in refused.values())
    leaked = [p.name for p in tmp_path.rglob("*") if "escaped" in p.name or "absolute" in p.name]
    assert leaked == []


def test_zip_bomb_and_broken_archive_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_search, "MAX_COMPRESSION_RATIO", 20)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.dcm", b"\0" * (2 * 1024**2))
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")

    result = scan([archive, tmp_path / "broken.zip"], temp_dir=tmp_path)

    assert result.headers == []
    assert {e.path.name: e.reason for e in result.errors}.keys() == {"zeros.dcm", "broken.zip"}
    assert "zip bomb" in reasons_for(result, "zeros.dcm")[0]
    assert "not a readable zip archive" in reasons_for(result, "broken.zip")[0]
    assert result.temp_dirs == () or all(not any(t.iterdir()) for t in result.temp_dirs)
    result.cleanup()


def test_archive_members_that_cannot_be_written_are_named(tmp_path: Path) -> None:
    good = write_series(tmp_path / "src", 1)[0]
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("series", b"a file where a folder should be")
        zf.write(good, "series/IM0.dcm")
        zf.write(good, "other/IM0.dcm")
        zf.write(good, "OTHER/im0.dcm")  # the same name on a case-insensitive disk

    with scan([archive], temp_dir=tmp_path / "tmp") as result:
        assert sorted(h.path.name for h in result.headers) in (
            ["IM0.dcm", "im0.dcm"],  # case-sensitive disk
            ["IM0.dcm", "im0~2.dcm"],  # case-insensitive disk
        )
        [failed] = result.errors
        assert failed.path == archive / "series" / "IM0.dcm"
        assert "cannot extract" in failed.reason
        assert [s.path for s in result.skipped] == [archive / "series"]


def test_archive_inside_archive_is_not_opened(tmp_path: Path) -> None:
    write_series(tmp_path / "src", 1)
    inner = zip_folder(tmp_path / "src", tmp_path / "inner.zip")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "inner.zip")
    with scan([outer], temp_dir=tmp_path) as result:
        assert result.headers == []
        [note] = result.skipped
        assert note.path == outer / "inner.zip"
        assert "archive inside an archive" in note.reason


# --- folders ----------------------------------------------------------------------------


def test_nested_folders_and_hidden_files(tmp_path: Path) -> None:
    files = write_series(tmp_path / "a" / "b" / "c", 2)
    files += write_series(tmp_path / "a" / "d", 1)
    shutil.copy(files[0], tmp_path / "a" / ".hidden.dcm")
    shutil.copy(files[0], tmp_path / "a" / "b" / "._IM0000.dcm")  # macOS AppleDouble
    (tmp_path / "a" / ".git").mkdir()
    shutil.copy(files[0], tmp_path / "a" / ".git" / "IM.dcm")
    (tmp_path / "a" / "__MACOSX").mkdir()
    shutil.copy(files[0], tmp_path / "a" / "__MACOSX" / "IM.dcm")
    (tmp_path / "a" / "Thumbs.db").write_bytes(b"\0" * 10)

    result = scan([tmp_path / "a"])

    assert sorted(h.path for h in result.headers) == sorted(files)
    assert result.errors == []
    assert result.skipped == []
    assert sorted(iter_candidate_files([tmp_path / "a"])) == sorted(files)


def test_bad_files_are_named_with_a_reason(tmp_path: Path) -> None:
    good = write_series(tmp_path / "in", 2)
    (tmp_path / "in" / "notes.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "in" / "empty.dcm").write_bytes(b"")
    (tmp_path / "in" / "truncated.dcm").write_bytes(good[0].read_bytes()[:300])
    ds = pydicom.dcmread(good[1])
    del ds.StudyInstanceUID
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(tmp_path / "in" / "no-study.dcm")
    missing = tmp_path / "gone"

    result = scan([tmp_path / "in", missing])

    assert len(result.headers) == 2
    assert "not a DICOM file" in reasons_for(result, "notes.txt")[0]
    assert "not a DICOM file" in reasons_for(result, "empty.dcm")[0]
    assert reasons_for(result, "truncated.dcm")
    assert reasons_for(result, "no-study.dcm") == ["missing Study Instance UID"]
    assert "does not exist" in reasons_for(result, "gone")[0]
    assert {e.path.name for e in result.errors} == {"truncated.dcm", "no-study.dcm", "gone"}
    assert {e.path.name for e in result.skipped} == {"notes.txt", "empty.dcm"}


def test_an_unexpected_exception_is_a_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_series(tmp_path, 2)

    def explode(path: Path) -> object:
        if path == files[0]:
            raise RuntimeError("decoder bug")
        return real(path)

    real = discover.read_header
    monkeypatch.setattr(discover, "read_header", explode)
    result = scan([tmp_path], processes=False)
    assert [h.path for h in result.headers] == [files[1]]
    assert result.errors[0].path == files[0]
    assert "RuntimeError: decoder bug" in result.errors[0].reason


# --- pools, progress and cancel ---------------------------------------------------------


def test_process_pool_gives_the_same_result_as_threads(tmp_path: Path) -> None:
    write_series(tmp_path, 70)
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    threads = scan([tmp_path], processes=False)
    processes = scan([tmp_path], processes=True)
    assert processes.headers == threads.headers
    assert processes.skipped == threads.skipped


def test_a_broken_pool_falls_back_to_reading_in_the_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_series(tmp_path, 20)
    expected = scan([tmp_path], processes=False).headers

    def dead_worker(paths: object) -> object:
        raise OSError("worker process died")  # what a BrokenProcessPool looks like

    monkeypatch.setattr(discover, "_read_chunk", dead_worker)
    assert scan([tmp_path], processes=False).headers == expected

    closed = concurrent.futures.ThreadPoolExecutor(1)
    closed.shutdown()  # submit() raises: the pool could not start
    monkeypatch.setattr(discover, "_make_executor", lambda total, processes: (closed, 8))
    result = scan([tmp_path])
    assert result.headers == expected
    assert len(result.headers) == len(files)


def test_progress_counts_every_file(tmp_path: Path) -> None:
    files = write_series(tmp_path, 20)
    steps: list[Progress] = []
    run_sync(scan_files([tmp_path]), steps.append)
    reading = [s for s in steps if s.message.startswith("Reading headers")]
    assert reading
    assert all(s.total == len(files) for s in reading)
    assert steps[-1].done == steps[-1].total == len(files)


def _scan_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("dicom-scan")]


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_closing_the_scan_cancels_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: bool
) -> None:
    write_series(tmp_path / "src", 40)
    zip_folder(tmp_path / "src", tmp_path / "in" / "a.zip")
    write_series(tmp_path / "in" / "plain", 300)
    total = 340
    reads: list[Path] = []
    if not processes:  # slow reads, counted: closing must not wait for the rest

        def slow_read(path: Path) -> object:
            reads.append(path)
            time.sleep(0.01)
            return real_read(path)

        real_read = discover.read_header
        monkeypatch.setattr(discover, "read_header", slow_read)
    (tmp_path / "tmp").mkdir()
    task = scan_files([tmp_path / "in"], temp_dir=tmp_path / "tmp", processes=processes)
    for step in task:
        if step.message.startswith("Reading headers") and 0 < step.done < step.total:
            assert step.total == total
            break
    else:
        pytest.fail("the scan finished before it could be cancelled")
    started = time.monotonic()
    task.close()
    assert time.monotonic() - started < 0.5, "closing waited for the remaining files"
    assert list((tmp_path / "tmp").iterdir()) == [], "extracted files were left behind"
    deadline = time.monotonic() + 10
    while (_scan_threads() or multiprocessing.active_children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _scan_threads() == []
    assert multiprocessing.active_children() == []
    if not processes:
        assert len(reads) < total / 2, "the pool went on reading after the scan was closed"


# --- object kinds -----------------------------------------------------------------------


def _part10_copy(name: str, target: Path) -> Path:
    """A pydicom test file written as a Part 10 file (some have no preamble)."""
    ds = pydicom.dcmread(get_testdata_file(name), force=True)  # type: ignore[arg-type]
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    target.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(target, enforce_file_format=True)
    return target


def test_non_image_objects_are_kept_and_classified(tmp_path: Path) -> None:
    folder = tmp_path / "objects"
    expected = {
        _part10_copy("test-SR.dcm", folder / "sr.dcm"): "sr",
        _part10_copy("liver.dcm", folder / "seg.dcm"): "seg",
        _part10_copy("rtstruct.dcm", folder / "rtstruct.dcm"): "rtstruct",
        _part10_copy("rtdose.dcm", folder / "rtdose.dcm"): "rt",
        _part10_copy("rtplan.dcm", folder / "rtplan.dcm"): "rt",
        _part10_copy("SC_rgb.dcm", folder / "sc.dcm"): "secondary_capture",
        _part10_copy("waveform_ecg.dcm", folder / "ecg.dcm"): "other",
        write_object(
            folder / "report.dcm",
            "1.2.840.10008.5.1.4.1.1.104.1",
            MIMETypeOfEncapsulatedDocument="application/pdf",
        ): "document",
        write_object(folder / "gsps.dcm", "1.2.840.10008.5.1.4.1.1.11.1"): "presentation_state",
        write_object(folder / "kos.dcm", "1.2.840.10008.5.1.4.1.1.88.59"): "sr",
        write_object(folder / "raw.dcm", "1.2.840.10008.5.1.4.1.1.66"): "other",
    }
    scout = ct_series(1)[0]
    scout.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    scout.save_as(folder / "scout.dcm", enforce_file_format=True)
    expected[folder / "scout.dcm"] = "localizer"
    images = write_series(folder / "ct", 2)
    expected.update(dict.fromkeys(images, "image"))

    result = scan([folder])

    assert result.errors == []
    assert result.skipped == []
    assert {h.path: kind_of(h) for h in result.headers} == expected
    assert sorted(h.path for h in result.image_headers) == images


@pytest.mark.parametrize(
    ("uid", "image_type", "kind"),
    [
        (CT, ("ORIGINAL", "PRIMARY", "AXIAL"), "image"),
        (CT, ("ORIGINAL", "PRIMARY", "LOCALIZER"), "localizer"),
        ("1.2.840.10008.5.1.4.1.1.4", ("original", "primary", "localizer "), "localizer"),
        ("1.2.840.10008.5.1.4.1.1.2.1", (), "image"),  # Enhanced CT
        ("1.2.840.10008.5.1.4.1.1.4.1", (), "image"),  # Enhanced MR
        ("1.2.840.10008.5.1.4.1.1.128", (), "image"),  # PET
        ("1.2.840.10008.5.1.4.1.1.30", (), "image"),  # Parametric Map
        ("1.2.840.10008.5.1.4.1.1.66.4", ("DERIVED",), "seg"),
        ("1.2.840.10008.5.1.4.1.1.481.3", (), "rtstruct"),
        ("1.2.840.10008.5.1.4.1.1.481.2", (), "rt"),  # RT Dose
        ("1.2.840.10008.5.1.4.1.1.481.1", ("LOCALIZER",), "rt"),  # RT Image is not a scout
        ("1.2.840.10008.5.1.4.1.1.88.33", (), "sr"),
        ("1.2.840.10008.5.1.4.1.1.88.59", (), "sr"),  # Key Object Selection
        ("1.2.840.10008.5.1.4.1.1.11.1", (), "presentation_state"),
        ("1.2.840.10008.5.1.4.1.1.7", (), "secondary_capture"),
        ("1.2.840.10008.5.1.4.1.1.7.4", (), "secondary_capture"),
        ("1.2.840.10008.5.1.4.1.1.104.1", (), "document"),
        ("1.2.840.10008.5.1.4.1.1.66", (), "other"),  # Raw Data
        ("1.2.840.10008.5.1.4.1.1.66.1", (), "other"),  # Spatial Registration
        ("1.2.840.10008.5.1.4.1.1.9.1.1", (), "other"),  # ECG
        ("1.2.840.10008.1.3.10", (), "other"),  # DICOMDIR
        ("1.2.840.10008.5.1.4.1.1.20", (), "image"),  # NM
        ("1.2.840.10008.5.1.4.1.1.77.1.1", (), "image"),  # VL Endoscopic, not "7.*"
        ("1.2.3.4.5", (), "other"),
        ("", (), "other"),
    ],
)
def test_object_kind_table(uid: str, image_type: tuple[str, ...], kind: str) -> None:
    assert object_kind(uid, image_type) == kind
    assert kind in OBJECT_KINDS


def test_sop_class_names() -> None:
    assert sop_class_name(CT) == "CT Image Storage"
    assert sop_class_name("1.2.840.10008.5.1.4.1.1.66.4") == "Segmentation Storage"
    assert sop_class_name("1.2.3.4") == "unknown SOP class 1.2.3.4"
    assert sop_class_name("") == "no SOP class"
