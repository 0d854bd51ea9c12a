"""Missing identifiers at import are said, not hidden (issue 12, item 6).

A de-identified series without Patient ID, series or study description was shown
as "[(no patient id)]", "series ?" and "(no description)" with no warning.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from tace_planner.ui.dialogs.import_dialog import ImportDialog
from tace_planner.ui.panels.study_tree import StudyTreePanel

pytestmark = [pytest.mark.dicom, pytest.mark.db]


@pytest.fixture
def nameless(small_phantom: Path, tmp_path: Path) -> Path:
    """The phantom's arterial CT without Patient ID and descriptions."""
    folder = tmp_path / "stick" / "arterial"
    shutil.copytree(small_phantom / "baseline" / "CT_arterial", folder)
    for path in sorted(folder.glob("*.dcm")):
        dataset = pydicom.dcmread(path)
        dataset.PatientID = ""
        del dataset.SeriesDescription
        del dataset.StudyDescription
        dataset.save_as(path, enforce_file_format=True)
    return folder.parent


def test_missing_patient_id_is_warned_in_the_dialog_and_the_tree(
    qtbot, services, task_runner, nameless: Path
) -> None:
    dialog = ImportDialog(services.studies, task_runner)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        dialog.start([nameless])
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=5_000)
    warnings = dialog.report.topLevelItem(0)
    assert warnings.text(0) == "Warnings (1)"
    assert warnings.isExpanded()
    line = warnings.child(0).text(0)
    assert "arterial" in line  # names the file (its folder on the stick)
    assert ".dcm" in line
    assert "no Patient ID (0010,0020)" in line
    assert "1 warning(s)" in dialog.status_label.text()
    series_row = dialog.report.topLevelItem(1).child(0).child(0).child(0)  # patient > study
    assert series_row.text(0).startswith("CT series ")

    patient = services.cases.list_patients()[0]
    tree = StudyTreePanel()
    qtbot.addWidget(tree)
    tree.show_studies(services.studies.studies_of_patient(patient.pk))
    study = tree.topLevelItem(0)
    assert not study.icon(0).isNull()
    assert "no Patient ID" in study.toolTip(0)
    assert ".dcm" in study.toolTip(0)
    assert study.text(0) != "(no description)"
    assert study.text(0).startswith("CT of ")
    row = study.child(0)
    item = services.studies.list_series()[0]
    assert row.text(0) == f"CT series {item.series_number} at {item.acquired_at}"
    assert item.acquired_at  # the phantom records its acquisition time
    assert "no Patient ID" in row.toolTip(0)
    assert not row.icon(0).isNull()


def test_the_case_list_warns_about_files_filed_without_a_patient_id(qtbot) -> None:
    from tace_planner.services.dto import NO_PATIENT_ID, PatientItem
    from tace_planner.ui.panels.case_list import CaseListPanel

    panel = CaseListPanel()
    qtbot.addWidget(panel)
    known = PatientItem(1, "P-1", "Doe^Jane", None, "F", 0, 1)
    unknown = PatientItem(2, NO_PATIENT_ID, "", None, "", 0, 2)
    panel.show_cases([known, unknown], [])
    labels = [panel.topLevelItem(i).text(0) for i in range(panel.topLevelItemCount())]
    assert "[P-1]" in labels[0]
    assert "no Patient ID" in labels[1]
    assert NO_PATIENT_ID not in labels[1]
