"""``export --format seg --deidentify`` end to end, with identifiers planted where review
found them leaking: file meta and preamble of the source images, attributes that Table
E.1-1 does not list (text, UIDs, binary blobs), overlay text and data, free-text lesion
names in the SEG, and the identified SEG written to disk on its way (first to the
system's temporary folder, then to a scratch folder that a kill would leave behind)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from tests.conftest import make_services

from tace_planner.cli import main
from tace_planner.domain.progress import run_sync

pytestmark = pytest.mark.dicom

NEEDLES = [
    "SECRETNOTE",
    "PID998877",
    "MUELLER_WS",
    "Smith",
    "Müller",
    "José",
    "Lefèvre",
    "1952-03-14",
    "2026-03-02",
    "998877",  # the last component of the planted unlisted UIDs
]
PLANTED_UID = "1.2.826.0.1.3680043.8.498.998877"
BLOB = "SECRETNOTE Müller^José PID998877".encode()
CLASS_UIDS = {0x00080016, 0x00081150, 0x0008010C}  # SOP Class, Referenced SOP Class, Coding Scheme
PIXELS = {0x7FE00010}  # Pixel Data: an image's pixels, a SEG's segments


def _plant(folder: Path) -> None:
    """Identifiers in every phantom file, where the de-identifier used to let them through."""
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.add_new(0x00100033, "LO", "1952-03-14 (Julian)")  # birth date, other calendar
        ds.add_new(0x00400255, "LO", "CT liver for José Müller")  # procedure type description
        ds.add_new(0x00180034, "LO", "Dr Lefèvre drug")  # Intervention Drug Name
        ds.add_new(0x60001500, "LO", "José Müller overlay")  # Overlay Label
        ds.add_new(0x60000022, "LO", "SECRETNOTE overlay")  # Overlay Description
        item = Dataset()
        item.ValueType = "TEXT"
        item.add_new(0x0040A160, "UT", "José Müller, born 1952-03-14")  # Text Value
        ds.ContentSequence = Sequence([item])
        # UIDs that the table does not list: top level, two sequences down, private
        ds.add_new(0x00081167, "UI", f"{PLANTED_UID}.1")  # Multi-frame Source SOP Instance
        instance = Dataset()
        instance.add_new(0x00200242, "UI", f"{PLANTED_UID}.2")  # Concatenation Source
        series = Dataset()
        series.ReferencedInstanceSequence = Sequence([instance])
        ds.ReferencedSeriesSequence = Sequence([series])
        ds.private_block(0x0029, "TACE TEST", create=True).add_new(0x01, "UI", f"{PLANTED_UID}.3")
        # binary blobs with the name inside: unlisted, nested, and an overlay's bitmap
        ds.add_new(0x00143080, "OB", BLOB)  # Bad Pixel Image
        waveform = Dataset()
        waveform.add_new(0x54001010, "OW", BLOB)  # Waveform Data
        ds.WaveformSequence = Sequence([waveform])
        ds.add_new(0x60000010, "US", 4)  # Overlay Rows
        ds.add_new(0x60000011, "US", 8)  # Overlay Columns
        ds.add_new(0x60003000, "OW", BLOB)  # Overlay Data
        ds.file_meta.SourceApplicationEntityTitle = "MUELLER_WS"
        ds.file_meta.PrivateInformationCreatorUID = "1.2.3.4"
        ds.file_meta.PrivateInformation = b"SECRETNOTE PID998877"
        ds.preamble = b"SECRETNOTE PID998877".ljust(128, b"\0")
        ds.save_as(path, enforce_file_format=True)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path):
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo

    services = make_services(tmp_path_factory.mktemp("seg-leaks") / "data")
    demo_dir = services.settings.demo_dir
    shutil.copytree(small_phantom, demo_dir)
    _plant(demo_dir)
    (demo_dir / "phantom-parameters.json").write_text(
        '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
    )
    run_sync(
        prepare_demo(services.studies, services.cases, demo_dir, size="small",
                     contouring=contouring_service(services))
    )  # fmt: skip
    case_pk = services.cases.list_cases()[0].pk
    names = {"F1": "F1 Mr Smith's dome", "F2": "F2 José Müller 2026-03-02"}
    renamed = []
    for lesion in services.contouring.list_lesions(case_pk):
        if lesion.name in names:
            services.contouring.rename_lesion(lesion.pk, names[lesion.name])
            renamed.append(lesion.name)
    assert renamed, "the demo case has no F1/F2 to rename"
    yield services
    services.close()


def test_deidentified_seg_export_leaks_nothing_and_writes_nothing_outside(
    planted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tace_planner.services.contouring import ContouringService

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    out = tmp_path / "out"
    # every DICOM file written, whatever writes it (Dataset.save_as calls pydicom.dcmwrite)
    writes: list[tuple[str, object]] = []
    original_write = pydicom.dcmwrite

    def recording_write(filename, dataset, *args, **kwargs):
        # a path, or an open file: its name (a descriptor number for os.fdopen)
        name = filename if isinstance(filename, str | os.PathLike) else filename.name
        writes.append((str(name), dataset.get("PatientIdentityRemoved")))
        return original_write(filename, dataset, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmwrite", recording_write)
    monkeypatch.setattr(pydicom.filewriter, "dcmwrite", recording_write)
    exported: list[Path] = []
    original_export = ContouringService.export_seg

    def recording_export(self, series_uid, path, *, part=None):
        exported.append(Path(path))  # writes the identified SEG to a file
        return original_export(self, series_uid, path, part=part)

    monkeypatch.setattr(ContouringService, "export_seg", recording_export)
    code = main(["--data-dir", str(planted.settings.data_dir), "export", "--all",
                 "--format", "seg", "--deidentify", str(out)])  # fmt: skip
    assert code == 0

    # 4. the identified SEG is never written to disk, not even for a moment: every file
    # written is de-identified and in the output folder (a kill leaves nothing identified)
    assert exported == []
    assert writes
    for name, removed in writes:
        assert removed == "YES", name
        assert out.resolve() in Path(name).resolve().parents, name
    assert list(system_tmp.iterdir()) == []
    assert [p for p in out.rglob("*") if p.name.startswith(".")] == []

    # 1-3. no planted identifier anywhere in the files, raw bytes included
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert any(p.name == "seg_1.dcm" for p in files)
    for path in files:
        raw = path.read_bytes()
        text = raw.decode("utf-8", "replace") + raw.decode("latin-1")
        assert [n for n in NEEDLES if n in text] == [], path
        assert raw[:128] == b"\0" * 128, path
        meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
        assert "PrivateInformation" not in meta
        assert "SourceApplicationEntityTitle" not in meta
        _check_uids_and_blobs(pydicom.dcmread(path), path)

    seg = pydicom.dcmread(next(p for p in files if p.name == "seg_1.dcm"))
    labels = [s.SegmentLabel for s in seg.SegmentSequence]
    assert "Liver" in labels
    # the two renamed foci carry the codes the export's tables give them (L1, L2 by name)
    assert {"L1", "L2"} <= set(labels)
    for item in seg.SegmentSequence:
        assert item.TrackingID == item.SegmentLabel


def _check_uids_and_blobs(ds: Dataset, path: Path) -> None:
    """Every UID is remapped (``2.25.``), DICOM-defined or a class; every blob is pixels."""
    for element in ds.iterall():
        assert not element.tag.is_private, (path, element)
        if element.VR == "UI" and element.value:
            values = element.value if isinstance(element.value, list) else [element.value]
            for value in map(str, values):
                assert value.startswith(("2.25.", "1.2.840.10008.")) or (
                    int(element.tag) in CLASS_UIDS
                ), (path, element)
        if element.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") and element.value:
            assert int(element.tag) in PIXELS, (path, element)
