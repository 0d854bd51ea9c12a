"""``export --format seg --deidentify`` end to end, with identifiers planted where review
found them leaking: file meta and preamble of the source images, attributes that Table
E.1-1 does not list, overlay text, free-text lesion names in the SEG, and the identified
SEG written to the system's temporary folder on its way."""

from __future__ import annotations

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
]


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
    targets: list[Path] = []
    original_export = ContouringService.export_seg

    def recording_export(self, series_uid, path, *, part=None):
        targets.append(Path(path))
        return original_export(self, series_uid, path, part=part)

    monkeypatch.setattr(ContouringService, "export_seg", recording_export)
    code = main(["--data-dir", str(planted.settings.data_dir), "export", "--all",
                 "--format", "seg", "--deidentify", str(out)])  # fmt: skip
    assert code == 0

    # 4. the identified SEG was built inside the output folder, and nothing is left of it
    assert targets
    for target in targets:
        assert out.resolve() in target.resolve().parents, target
    assert list(system_tmp.iterdir()) == []
    assert [p for p in out.rglob("*") if p.name.startswith(".scratch")] == []

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

    seg = pydicom.dcmread(next(p for p in files if p.name == "seg_1.dcm"))
    labels = [s.SegmentLabel for s in seg.SegmentSequence]
    assert "Liver" in labels
    # the two renamed foci carry the codes the export's tables give them (L1, L2 by name)
    assert {"L1", "L2"} <= set(labels)
    for item in seg.SegmentSequence:
        assert item.TrackingID == item.SegmentLabel
