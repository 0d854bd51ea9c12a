"""The import report reads by patient and study, says a CD's index was read, failures first.

Before: 13 series of a two-patient CD in one flat list with no patient, study or date;
the DICOMDIR under "Skipped"; "Files that failed" collapsed below the series while the
warnings were open above them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tace_planner.ui.dialogs.import_dialog import ImportDialog

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def _imported(qtbot, services, task_runner, source: Path) -> ImportDialog:
    dialog = ImportDialog(services.studies, task_runner)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.imported, timeout=60_000):
        dialog.start([source])
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=5_000)
    return dialog


def _top_texts(dialog: ImportDialog) -> list[str]:
    return [dialog.report.topLevelItem(i).text(0) for i in range(dialog.report.topLevelItemCount())]


def test_a_two_patient_cd_reads_by_patient_and_study(
    qtbot, services, task_runner, tmp_path: Path
) -> None:
    from pydicom.data import get_testdata_file

    source = Path(get_testdata_file("DICOMDIR")).parent  # type: ignore[arg-type]
    cd = tmp_path / "cd"
    shutil.copytree(source, cd, ignore=shutil.ignore_patterns("TINY_ALPHA", "DICOMDIR-*"))
    (cd / "LABEL").write_bytes(b"burnt 2003-05-05")  # not listed, not DICOM: skipped

    dialog = _imported(qtbot, services, task_runner, cd)

    texts = _top_texts(dialog)
    assert texts[0] == (
        "Read from the CD's index (DICOMDIR): 31 files listed; "
        "1 other file(s) (viewer software, documents) were not read"  # the CD's README.txt
    )
    assert texts[1] == "Imported series (13) of 2 patients, 6 studies"
    # only what was really left out is under Skipped, not the DICOMDIR
    assert texts[2:] == ["Skipped (1)"]
    assert "LABEL: not a DICOM file" in dialog.report.topLevelItem(2).child(0).text(0)
    series = dialog.report.topLevelItem(1)
    assert series.isExpanded()
    peter = series.child(1)
    assert peter.text(0) == "DOE, Peter · Patient ID 98890234"
    assert peter.isExpanded()
    carotids = peter.child(3)
    assert carotids.text(0) == "2003-05-05 · Carotids (2 series)"
    rows = [[carotids.child(i).text(c) for c in range(5)] for i in range(carotids.childCount())]
    assert rows == [
        ["FAST LOCALIZER", "1", "MR", "other sagittal", "1"],
        ["FAST LOCALIZER", "2", "MR", "other sagittal", "1"],
    ]
    assert "13 series of 2 patients" in dialog.status_label.text()


def test_failed_files_come_first_and_open(
    qtbot, services, task_runner, small_phantom: Path, tmp_path: Path
) -> None:
    import pydicom

    stick = tmp_path / "stick"
    shutil.copytree(small_phantom / "baseline" / "CT_arterial", stick / "arterial")
    first = sorted((stick / "arterial").glob("*.dcm"))[0]
    (stick / "broken.dcm").write_bytes(first.read_bytes()[:200])
    nameless = sorted((stick / "arterial").glob("*.dcm"))[-1]
    dataset = pydicom.dcmread(nameless)
    dataset.PatientID = ""
    dataset.SeriesInstanceUID = pydicom.uid.generate_uid()
    dataset.save_as(nameless, enforce_file_format=True)

    dialog = _imported(qtbot, services, task_runner, stick)

    texts = _top_texts(dialog)
    assert texts[:2] == ["Files that failed (1)", "Warnings (1)"]
    failed = dialog.report.topLevelItem(0)
    assert failed.isExpanded()
    assert "broken.dcm" in failed.child(0).text(0)
    assert not failed.icon(0).isNull()
    assert dialog.report.topLevelItem(1).isExpanded()
    assert texts[2].startswith("Imported series (2)")
