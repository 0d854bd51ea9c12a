"""Fuzzed DICOM files: the scan names every bad file, the import leaves no half-written series.

More than 200 files are made from real ones (the small phantom and
``pydicom.examples``) with a seeded generator: truncated at random offsets, random
bytes written into the header, pixel data removed, element lengths falsified,
geometry or UIDs removed, and plain garbage. Files are grouped into short series so
that the import and the volume loader meet half-broken series, not only broken files.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import examples
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from sqlalchemy import select

from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.discover import ScanResult, scan_files
from tace_planner.store.models import InstanceRow, SeriesRow

pytestmark = [
    pytest.mark.dicom,
    pytest.mark.db,
    pytest.mark.filterwarnings("ignore::UserWarning"),  # pydicom complains about each bad file
]

SEED = 20_251_126
FILES_PER_SERIES = 8
SERIES_PER_KIND = 4

Rng = np.random.Generator
Mutation = Callable[[Dataset, Rng], bytes]

# VRs whose explicit-VR length field is 4 bytes (after 2 reserved bytes).
_LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def to_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def pixel_offset(data: bytes) -> int:
    """Where the (7FE0,0010) Pixel Data element starts (the end of the header)."""
    found = data.rfind(b"\xe0\x7f\x10\x00")
    return found if found > 132 else len(data)


# --- mutations --------------------------------------------------------------------------


def truncated(ds: Dataset, rng: Rng) -> bytes:
    data = to_bytes(ds)
    return data[: int(rng.integers(0, len(data)))]


def garbled_header(ds: Dataset, rng: Rng) -> bytes:
    data = bytearray(to_bytes(ds))
    end = pixel_offset(bytes(data))
    for _ in range(int(rng.integers(1, 17))):
        start = int(rng.integers(128, end))
        count = int(rng.integers(1, 9))
        data[start : start + count] = rng.integers(0, 256, count, dtype=np.uint8).tobytes()
    return bytes(data)


def no_pixels(ds: Dataset, rng: Rng) -> bytes:
    del ds.PixelData
    return to_bytes(ds)


def wrong_length(ds: Dataset, rng: Rng) -> bytes:
    """Falsify the length field of one or two random elements of the data set."""
    data = bytearray(to_bytes(ds))
    parsed = pydicom.dcmread(io.BytesIO(bytes(data)), defer_size=None)
    tags = [tag for tag in parsed.keys() if tag.group != 0x0002]  # noqa: SIM118 - unconverted
    raw = (parsed.get_item(tag) for tag in tags)
    elements = [e for e in raw if getattr(e, "value_tell", None) is not None]
    for _ in range(int(rng.integers(1, 3))):
        element = elements[int(rng.integers(0, len(elements)))]
        position = element.value_tell
        if element.VR in _LONG_VRS:
            field, size = position - 4, 4
        else:
            field, size = position - 2, 2
        new = int(rng.choice([0, 1, 3, element.length + 1, element.length * 7 + 1, 0xFFFF]))
        new = min(new, 2 ** (8 * size) - 2)
        data[field : field + size] = new.to_bytes(size, "little")
    return bytes(data)


def missing_geometry(ds: Dataset, rng: Rng) -> bytes:
    keyword = str(rng.choice(["ImagePositionPatient", "PixelSpacing", "Rows"]))
    if keyword in ds:
        delattr(ds, keyword)
    return to_bytes(ds)


MISSING_UID_NAMES = {
    "SOPInstanceUID": "SOP Instance UID",
    "StudyInstanceUID": "Study Instance UID",
    "SeriesInstanceUID": "Series Instance UID",
}


def missing_uid(ds: Dataset, rng: Rng) -> bytes:
    keyword = str(rng.choice(sorted(MISSING_UID_NAMES)))
    delattr(ds, keyword)
    if keyword == "SOPInstanceUID":
        ds.file_meta.MediaStorageSOPInstanceUID = ""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=False)
    return buffer.getvalue()


def garbage(ds: Dataset, rng: Rng) -> bytes:
    choice = int(rng.integers(0, 3))
    if choice == 0:
        return b""
    if choice == 1:
        return rng.integers(0, 256, int(rng.integers(1, 5000)), dtype=np.uint8).tobytes()
    return b"Patient CD viewer - read me\r\n" * int(rng.integers(1, 50))


MUTATIONS: dict[str, Mutation] = {
    "truncated": truncated,
    "garbled-header": garbled_header,
    "no-pixels": no_pixels,
    "wrong-length": wrong_length,
    "missing-geometry": missing_geometry,
    "missing-uid": missing_uid,
    "garbage": garbage,
}


# --- the fuzzed folder -------------------------------------------------------------------


def seed_series(small_phantom: Path) -> list[list[Dataset]]:
    """Real series to mutate: two of the phantom and one made from pydicom's CT."""
    series = []
    for folder in ("baseline/CT_venous", "baseline/MR_T2_axial"):
        paths = sorted((small_phantom / folder).glob("*.dcm"))[:FILES_PER_SERIES]
        assert len(paths) == FILES_PER_SERIES, folder
        series.append([pydicom.dcmread(p) for p in paths])
    ct = []
    for n in range(FILES_PER_SERIES):
        ds = examples.ct
        ds.ImagePositionPatient = [0.0, 0.0, 2.5 * n]
        ct.append(ds)
    series.append(ct)
    series.append([examples.mr] * FILES_PER_SERIES)  # one slice repeated: duplicates
    return series


def write_fuzzed(folder: Path, small_phantom: Path) -> dict[Path, str]:
    """Write the fuzzed files; returns each file's mutation."""
    rng = np.random.default_rng(SEED)
    seeds = seed_series(small_phantom)
    written: dict[Path, str] = {}
    for kind, mutate in MUTATIONS.items():
        for group in range(SERIES_PER_KIND):
            source = seeds[(group + len(written)) % len(seeds)]
            series_uid = generate_uid()
            for n, original in enumerate(source):
                ds = copy.deepcopy(original)
                ds.SeriesInstanceUID = series_uid
                ds.SOPInstanceUID = generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                path = folder / kind / f"series{group}" / f"IM{n:03d}.dcm"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(mutate(ds, rng))
                written[path] = kind
    return written


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, small_phantom: Path
) -> tuple[Path, dict[Path, str]]:
    folder = tmp_path_factory.mktemp("fuzzed")
    return folder, write_fuzzed(folder, small_phantom)


# --- the scan ------------------------------------------------------------------------------


def test_enough_files_are_fuzzed(fuzzed: tuple[Path, dict[Path, str]]) -> None:
    _, files = fuzzed
    assert len(files) >= 200
    assert set(files.values()) == set(MUTATIONS)


def test_scan_names_every_bad_file(fuzzed: tuple[Path, dict[Path, str]]) -> None:
    folder, files = fuzzed

    result: ScanResult = run_sync(scan_files([folder]))

    refused = result.errors + result.skipped
    seen = [h.path for h in result.headers] + [e.path for e in refused]
    assert sorted(seen) == sorted(files), "a file was lost or counted twice"
    for entry in refused:
        assert entry.path in files, f"refusal names an unknown path: {entry.path}"
        assert entry.reason.strip(), f"{entry.path}: no reason given"
    by_path = {e.path: e for e in refused}
    for path, kind in files.items():
        if kind == "missing-uid":
            assert path in by_path, f"{path}: a file without a mandatory UID was accepted"
            assert path in {e.path for e in result.errors}
            assert any(name in by_path[path].reason for name in MISSING_UID_NAMES.values()), (
                by_path[path].reason
            )
        if kind == "garbage":
            assert path in {e.path for e in result.skipped}
            assert "not a DICOM file" in by_path[path].reason
    # Some of each kind of damage must really be refused, or the fuzzing is toothless.
    refused_kinds = {files[e.path] for e in result.errors}
    assert {"truncated", "wrong-length", "missing-uid"} <= refused_kinds


# --- the import ----------------------------------------------------------------------------


def test_import_of_fuzzed_files_leaves_only_whole_series(
    services,  # tests/conftest.py: Services on a temporary database
    fuzzed: tuple[Path, dict[Path, str]],
) -> None:
    folder, files = fuzzed

    report = run_sync(services.studies.import_paths([folder]))

    assert report.new_instances > 0
    accounted = report.new_instances + report.known_instances
    assert accounted + len(report.errors) + len(report.skipped) == len(files)
    store = services.settings.image_store_dir
    with services.session_factory() as session:
        rows = session.scalars(select(SeriesRow)).all()
        assert rows
        for row in rows:
            assert row.instances, f"series {row.series_uid} has no instances"
        instances = session.scalars(select(InstanceRow)).all()
        missing = [i.stored_path for i in instances if not (store / i.stored_path).is_file()]
        assert missing == []
        volume_uids = [row.series_uid for row in rows if row.is_volume]

    unexpected = []
    for uid in volume_uids:
        try:
            run_sync(services.studies.load_series(uid))
        except TacePlannerError:
            pass
        except Exception as error:  # noqa: BLE001 - collected and reported below
            unexpected.append(f"{uid}: {type(error).__name__}: {error}")
    assert unexpected == [], "loading raised errors the app cannot explain:\n" + "\n".join(
        unexpected
    )
