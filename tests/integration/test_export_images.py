"""``export --format seg``: SEG per timepoint of the contoured demo case, plain and
de-identified (Basic Profile; the SEG still references its remapped source images)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from tests.conftest import make_services

from tace_planner.cli import main
from tace_planner.domain.progress import run_sync


@pytest.fixture(scope="module")
def contoured(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path):
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.demo import prepare_demo

    services = make_services(tmp_path_factory.mktemp("seg-export") / "data")
    demo_dir = services.settings.demo_dir
    shutil.copytree(small_phantom, demo_dir)
    (demo_dir / "phantom-parameters.json").write_text(
        '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
    )
    run_sync(
        prepare_demo(services.studies, services.cases, demo_dir, size="small",
                     contouring=contouring_service(services))
    )  # fmt: skip
    yield services
    services.close()


def _originals(services) -> list[bytes]:
    from tace_planner.store.models import InstanceRow, PatientRow, SeriesRow, StudyRow

    found: list[str] = []
    with services.session_factory() as session:
        for patient in session.query(PatientRow):
            found += [patient.patient_id, *(p for p in patient.name.split("^") if len(p) > 2)]
        for study in session.query(StudyRow):
            found.append(study.study_uid)
            if study.study_on:
                found += [study.study_on.strftime("%Y%m%d"), study.study_on.isoformat()]
        found += [s.series_uid for s in session.query(SeriesRow)]
        found += [s.frame_of_reference_uid for s in session.query(SeriesRow)]
        found += [i.sop_instance_uid for i in session.query(InstanceRow)]
    return [text.encode() for text in found if text]


def test_seg_per_timepoint_opens_in_highdicom(contoured, tmp_path):
    import highdicom as hd

    out = tmp_path / "out"
    assert main(["--data-dir", str(contoured.settings.data_dir), "export", "--all",
                 "--format", "seg", str(out)]) == 0  # fmt: skip
    files = sorted(out.rglob("*.dcm"))
    assert [p.relative_to(out).as_posix() for p in files] == ["case_001/baseline/seg_1.dcm"]
    seg = hd.seg.segread(files[0])
    labels = [seg.get_segment_description(n).SegmentLabel for n in seg.segment_numbers]
    assert "F1" in labels
    assert "Liver" in labels


def test_deidentified_seg_keeps_references_and_no_original(contoured, tmp_path):
    import highdicom as hd

    out = tmp_path / "out"
    assert main(["--data-dir", str(contoured.settings.data_dir), "export", "--all",
                 "--format", "seg", "--deidentify", str(out)]) == 0  # fmt: skip
    originals = _originals(contoured)
    for path in out.rglob("*"):
        assert not any(o.decode() in str(path) for o in originals)
        if path.is_file():
            data = path.read_bytes()
            assert [o for o in originals if o in data] == [], path
    seg_path = out / "case_001" / "baseline" / "seg_1.dcm"
    seg = hd.seg.segread(seg_path)
    assert seg.PatientID == "TP001"
    assert seg.PatientIdentityRemoved == "YES"
    images = [pydicom.dcmread(p) for p in sorted((seg_path.parent / "images_1").glob("*.dcm"))]
    uids = {ds.SOPInstanceUID for ds in images}
    referenced = {
        item.ReferencedSOPInstanceUID
        for series in seg.ReferencedSeriesSequence
        for item in series.ReferencedInstanceSequence
    }
    assert referenced
    assert referenced <= uids
    assert seg.FrameOfReferenceUID == images[0].FrameOfReferenceUID
    assert seg.StudyInstanceUID == images[0].StudyInstanceUID


def _run_app(services, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line in its own process: it creates a QGuiApplication, which must not
    meet the QApplication of the UI tests in this process."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    argv = [sys.executable, "-m", "tace_planner", "--data-dir", str(services.settings.data_dir)]
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_pdf_case_report_renders_with_a_key_image(contoured, tmp_path):
    pytest.importorskip("PySide6")  # the report is drawn with Qt (the GUI extra)
    out = tmp_path / "out"
    done = _run_app(contoured, "export", "--all", "--format", "pdf", "--deidentify", str(out))
    assert done.returncode == 0, done.stderr
    pdf = (out / "case_001_report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf.count(b"/Subtype /Image") >= 1  # the baseline key image
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) not installed")
    text = subprocess.run(
        ["pdftotext", str(out / "case_001_report.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "TP001" in text
    assert "Key images" in text
    assert [o for o in _originals(contoured) if o.decode() in text] == []


def test_deidentified_case_report_text_has_no_identifier(contoured):
    pytest.importorskip("PySide6")  # the report's text is laid out by the Qt renderer
    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.record import deidentified
    from tace_planner.services.export.records import gather_case
    from tace_planner.ui.case_report import case_report_html

    case_pk = contoured.cases.list_cases()[0].pk
    record = gather_case(contoured, case_pk)
    plain = case_report_html(build_case_report(contoured, record, 1))
    assert record.patient_id in plain
    report = build_case_report(contoured, deidentified(record, "TP001"), 1)
    text = case_report_html(report)
    assert "TP001" in text
    assert len(report.key_images) == 1
    assert [o for o in _originals(contoured) if o.decode() in text] == []


def test_deidentified_case_report_codes_free_text_lesion_names_and_drugs(contoured):
    """A lesion renamed by a user and a therapy line's drug may name people: the de-identified
    report's tables, key-image labels and captions show the lesion's code, and its timeline
    no drug."""
    pytest.importorskip("PySide6")  # the report's text is laid out by the Qt renderer
    import datetime as dt

    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.record import deidentified
    from tace_planner.services.export.records import gather_case
    from tace_planner.ui.case_report import case_report_html

    case_pk = contoured.cases.list_cases()[0].pk
    f1 = contoured.contouring.lesions.find(case_pk, "F1")
    contoured.contouring.update_lesion(f1.pk, name="F1 Mr Smith's dome")
    line = contoured.therapy.add_line(case_pk, "FOLFIRI (Dr Lefevre)", dt.date(2025, 6, 1))
    try:
        record = deidentified(gather_case(contoured, case_pk), "TP001")
        report = build_case_report(contoured, record, 1)
        text = case_report_html(report)
        shown = [text]
        for label, key in report.key_images:
            shown += [label, key.caption, *(mark.name for mark in key.labels)]
        assert [s for s in shown if "Smith" in s or "Lefevre" in s] == []
        assert "L1" in text
        assert "L1" in [mark.name for _, key in report.key_images for mark in key.labels]
        assert [t.drug for t in report.timeline.lines] == [""]
        plain = build_case_report(contoured, gather_case(contoured, case_pk), 1)
        assert "F1 Mr Smith" in " ".join(m.name for _, k in plain.key_images for m in k.labels)
    finally:
        contoured.contouring.update_lesion(f1.pk, name="F1")
        contoured.therapy.remove_line(line.pk, "test over")
