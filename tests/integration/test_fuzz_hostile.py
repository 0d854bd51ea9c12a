"""Fuzzed and crafted files through the command line: every bad file named, nothing escapes.

More than 300 files are made from the small phantom with a seeded generator:
damaged files (cut off at random, cut inside the pixel data, pixel data
removed, random bytes in the header, falsified element lengths, plain garbage)
and crafted UIDs (path traversal ``../../``, ``/``, an absolute path, NUL, more
than 255 characters, binary garbage of 202 characters, backslashes, 65
digits) in the SOP, Series and Study Instance UIDs, plus a DICOMDIR whose file
IDs climb out with ``..`` and a zip archive whose members do ("zip slip"). Two
good series lie beside them. ``tace-planner import --json`` must exit without a
traceback, name every damaged or crafted file in its report, import the good
series whole, write nothing outside the data folder, and leave only files that
decode in the store.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import config as pydicom_config
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from tace_planner.cli import main

pytestmark = [
    pytest.mark.dicom,
    pytest.mark.db,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

SEED = 20_261_204
FILES_PER_SERIES = 7
SERIES_PER_FAMILY = 3

Rng = np.random.Generator


def to_bytes(ds: Dataset) -> bytes:
    saved = pydicom_config.settings.writing_validation_mode
    pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE
    try:
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
    finally:
        pydicom_config.settings.writing_validation_mode = saved
    return buffer.getvalue()


def pixel_offset(data: bytes) -> int:
    found = data.rfind(b"\xe0\x7f\x10\x00")
    return found if found > 132 else len(data)


def with_uid(keyword: str, value: str) -> Callable[[Dataset, Rng], bytes]:
    def mutate(ds: Dataset, rng: Rng) -> bytes:
        if keyword == "SOPInstanceUID":
            # The same hostile value for every file of the series, told apart by a suffix.
            value_n = value + "." + str(int(rng.integers(0, 10**9)))
            ds.SOPInstanceUID = value_n
            ds.file_meta.MediaStorageSOPInstanceUID = value_n
        else:
            setattr(ds, keyword, value)
        return to_bytes(ds)

    return mutate


def cut_anywhere(ds: Dataset, rng: Rng) -> bytes:
    data = to_bytes(ds)
    return data[: int(rng.integers(0, len(data) - 1))]


def cut_in_pixels(ds: Dataset, rng: Rng) -> bytes:
    data = to_bytes(ds)
    start = pixel_offset(data) + 12
    return data[: int(rng.integers(start, len(data) - 1))]


def no_pixels(ds: Dataset, rng: Rng) -> bytes:
    del ds.PixelData
    return to_bytes(ds)


def garbled_header(ds: Dataset, rng: Rng) -> bytes:
    data = bytearray(to_bytes(ds))
    end = pixel_offset(bytes(data))
    for _ in range(int(rng.integers(1, 17))):
        start = int(rng.integers(128, end))
        count = int(rng.integers(1, 9))
        data[start : start + count] = rng.integers(0, 256, count, dtype=np.uint8).tobytes()
    return bytes(data)


def wrong_length(ds: Dataset, rng: Rng) -> bytes:
    data = bytearray(to_bytes(ds))
    parsed = pydicom.dcmread(io.BytesIO(bytes(data)), defer_size=None)
    raw = [parsed.get_item(t) for t in parsed.keys() if t.group != 0x0002]  # noqa: SIM118
    elements = [e for e in raw if getattr(e, "value_tell", None) is not None]
    element = elements[int(rng.integers(0, len(elements)))]
    long_vr = element.VR in {"OB", "OW", "SQ", "UN", "UT", "UC", "UR", "OF", "OD", "OL"}
    field, size = (element.value_tell - 4, 4) if long_vr else (element.value_tell - 2, 2)
    new = int(rng.choice([0, 1, 3, element.length + 1, element.length * 7 + 1, 0xFFFF]))
    data[field : field + size] = min(new, 2 ** (8 * size) - 2).to_bytes(size, "little")
    return bytes(data)


def garbage(ds: Dataset, rng: Rng) -> bytes:
    if int(rng.integers(0, 2)):
        return b""
    return rng.integers(0, 256, int(rng.integers(1, 5000)), dtype=np.uint8).tobytes()


GARBAGE_202 = bytes(range(1, 203)).decode("latin-1")
Family = tuple[Callable[[Dataset, Rng], bytes], str]
"""A mutation and how the report must name its files: "error", "remapped" or "any"."""

FAMILIES: dict[str, Family] = {
    "uid-traversal": (with_uid("SOPInstanceUID", "../../../../outside/PWNED"), "remapped"),
    "uid-slash": (with_uid("SOPInstanceUID", "1.2.3/4.5"), "remapped"),
    "uid-absolute": (with_uid("SOPInstanceUID", "/tmp/tace-fuzz-PWNED"), "remapped"),
    "uid-nul": (with_uid("SOPInstanceUID", "1.2.840\x00.9"), "remapped"),
    "uid-256": (with_uid("SOPInstanceUID", "1." + "3" * 260), "remapped"),
    "uid-garbage-202": (with_uid("SOPInstanceUID", GARBAGE_202), "remapped"),
    "uid-backslash": (with_uid("SOPInstanceUID", "..\\..\\PWNED"), "remapped"),
    "uid-65-digits": (with_uid("SOPInstanceUID", "1." + "7" * 63), "remapped"),
    "series-uid-traversal": (with_uid("SeriesInstanceUID", "../../series"), "remapped"),
    "study-uid-garbage": (with_uid("StudyInstanceUID", GARBAGE_202), "remapped"),
    "cut-anywhere": (cut_anywhere, "error"),
    "cut-in-pixels": (cut_in_pixels, "error"),
    "no-pixels": (no_pixels, "error"),
    "garbled-header": (garbled_header, "any"),
    "wrong-length": (wrong_length, "any"),
    "garbage": (garbage, "skipped"),
}


def phantom_series(small_phantom: Path, name: str) -> list[Dataset]:
    paths = sorted((small_phantom / "baseline" / name).glob("*.dcm"))
    return [pydicom.dcmread(p) for p in paths]


def write_fuzzed(root: Path, small_phantom: Path) -> tuple[dict[Path, str], list[Path]]:
    """Write the fuzzed files (path -> family) and the good series (their files)."""
    rng = np.random.default_rng(SEED)
    sources = phantom_series(small_phantom, "CT_venous")[:FILES_PER_SERIES]
    written: dict[Path, str] = {}
    for family, (mutate, _) in FAMILIES.items():
        for group in range(SERIES_PER_FAMILY):
            series_uid = generate_uid()
            study_uid = generate_uid()
            for n, original in enumerate(sources):
                ds = copy.deepcopy(original)
                ds.StudyInstanceUID = study_uid
                ds.SeriesInstanceUID = series_uid
                ds.SOPInstanceUID = generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                path = root / "fuzzed" / family / f"s{group}" / f"IM{n:03d}.dcm"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(mutate(ds, rng))
                written[path] = family
    good: list[Path] = []
    for name in ("CT_arterial", "MR_T2_axial"):
        for n, ds in enumerate(phantom_series(small_phantom, name)):
            path = root / "good" / name / f"IM{n:03d}.dcm"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(to_bytes(ds))
            good.append(path)
    return written, good


def write_escapes(root: Path, small_phantom: Path) -> dict[Path, str]:
    """A zip whose members climb out, and a DICOMDIR whose file IDs do."""
    one = to_bytes(phantom_series(small_phantom, "CT_delayed")[0])
    archive = root / "fuzzed" / "zip-slip" / "cd.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../../outside-zip.dcm", one)
        zf.writestr("/abs-zip.dcm", one)
        zf.writestr("ok/../../escape.dcm", one)
    cd = root / "fuzzed" / "dicomdir-climb"
    cd.mkdir(parents=True)
    from pydicom.dataset import FileMetaDataset

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    record = Dataset()
    record.DirectoryRecordType = "IMAGE"
    record.ReferencedFileID = ["..", "..", "..", "etc", "passwd"]
    ds.DirectoryRecordSequence = [record]
    dicomdir = cd / "DICOMDIR"
    ds.save_as(dicomdir, enforce_file_format=True)
    return {archive: "zip-slip", dicomdir: "dicomdir-climb"}


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_fuzzed_and_crafted_files_through_the_command_line(
    tmp_path: Path, small_phantom: Path
) -> None:
    fuzzed, good = write_fuzzed(tmp_path / "in", small_phantom)
    escapes = write_escapes(tmp_path / "in", small_phantom)
    assert len(fuzzed) >= 300
    data = tmp_path / "data"
    before = files_under(tmp_path)

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--data-dir", str(data), "import", str(tmp_path / "in"), "--json"])

    assert "Traceback" not in err.getvalue()
    assert code == 0, err.getvalue()
    report = json.loads(out.getvalue())
    named: dict[str, dict[Path, str]] = {}
    for bucket in ("errors", "skipped", "remapped"):
        named[bucket] = {Path(e["file"]): e["reason"] for e in report[bucket]}
    # Nothing outside the data folder: the input tree is unchanged, nothing new elsewhere.
    assert files_under(tmp_path) - files_under(data) == before
    for name in ("outside", "PWNED", "tace-fuzz-PWNED.dcm", "outside-zip.dcm", "escape.dcm"):
        assert not (tmp_path / name).exists()
        assert not Path("/tmp", name).exists()
    store = (data / "images").resolve()
    stored = [p for p in files_under(data / "images") if p.suffix == ".dcm"]
    assert all(p.resolve().is_relative_to(store) for p in stored)
    assert all(p.resolve().parent.parent.parent == store for p in stored)
    # Every damaged or crafted file is named, in the bucket its family calls for.
    tried: Counter[str] = Counter(fuzzed.values())
    failed: Counter[str] = Counter()
    anywhere = {**named["errors"], **named["skipped"], **named["remapped"]}
    for path, family in fuzzed.items():
        expected = FAMILIES[family][1]
        if expected == "any":
            continue
        bucket = named["errors"] if expected == "error" else named[expected]
        if path not in bucket:
            failed[family] += 1
    for path, family in escapes.items():
        tried[family] += 1
        if not any(str(p).startswith(str(path)) for p in anywhere):
            failed[family] += 1
    table = "\n".join(
        f"{family:22} tried {tried[family]:3}  failed {failed[family]:3}" for family in tried
    )
    print(table)
    assert sum(failed.values()) == 0, table
    # The good series beside them are imported whole.
    slices = sorted(v["slices"] for v in report["volumes"] if v["geometry_status"] == "ok")
    for name in ("CT_arterial", "MR_T2_axial"):
        assert sum(1 for p in good if name in str(p)) in slices, (name, slices)
    assert not {p for p in good} & set(anywhere)
    # Every stored file decodes (a damaged file was refused, not stored).
    undecodable = []
    for path in stored:
        try:
            pydicom.dcmread(path).pixel_array  # noqa: B018 - decoding is the check
        except Exception as error:  # noqa: BLE001 - collected below
            undecodable.append(f"{path.name}: {type(error).__name__}: {error}")
    print(f"stored {len(stored)} files, {len(undecodable)} undecodable")
    assert undecodable == []
