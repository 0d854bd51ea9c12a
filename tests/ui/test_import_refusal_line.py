"""The import dialog shows a wrong-patient refusal as a clinician can act on it: no UID.

Before, the line under "Files that failed" named the stored study by its full Study
Instance UID. It now names the file, both Patient IDs and the stored study by modality,
date and description.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

import pydicom
from pydicom.uid import generate_uid

from tace_planner.domain.progress import run_sync
from tace_planner.ui.dialogs.import_dialog import ImportDialog

pytestmark = [pytest.mark.dicom, pytest.mark.db]

UID_LIKE = re.compile(r"\d+(\.\d+){3,}")


def _as_another_patient(source: Path, target: Path) -> None:
    """``source`` copied as a new series of the same study under Patient ID TACE-042."""
    shutil.copytree(source, target)
    series_uid = generate_uid()
    for path in sorted(target.glob("*.dcm")):
        dataset = pydicom.dcmread(path)
        dataset.PatientID, dataset.PatientName = "TACE-042", "Roe^John"
        dataset.SeriesInstanceUID = series_uid
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.save_as(path, enforce_file_format=True)


def test_the_refusal_line_names_patients_and_study_date_without_uid(
    qtbot, services, task_runner, small_phantom: Path, tmp_path: Path
) -> None:
    arterial = small_phantom / "baseline" / "CT_arterial"
    run_sync(services.studies.import_paths([arterial]))
    (stored,) = services.studies.list_series()
    _as_another_patient(arterial, tmp_path / "stick" / "john")

    dialog = ImportDialog(services.studies, task_runner)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        dialog.start([tmp_path / "stick"])
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=5_000)

    failed = dialog.report.topLevelItem(0)
    assert failed.text(0).endswith("files failed (1 series)")  # each file counted
    line = failed.child(0).text(0)
    assert "john" in line  # the file, in its folder on the stick
    assert ".dcm" in line
    assert "Patient ID TACE-042" in line
    assert "[TACE-DEMO-001]" in line  # the stored patient, as the case list
    assert "CT of 2026-03-02 'CT Abdomen liver 4-phase'" in line  # the stored study
    assert "not imported" in line
    for text in (line, failed.child(0).toolTip(0)):
        assert stored.study_uid not in text
        assert not UID_LIKE.search(text), text
    assert "failed (1 series)" in dialog.status_label.text()
