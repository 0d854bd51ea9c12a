"""Import dialog and new-case flow: an import from the GUI, with report, cancel and a new case."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tace_planner.ui.dialogs.import_dialog import ImportDialog
from tace_planner.ui.dialogs.new_case_dialog import NewCaseChoice, NewCaseDialog
from tace_planner.ui.main_window import MainWindow

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def test_import_reports_series_and_failed_files(
    qtbot, services, task_runner, small_phantom: Path, tmp_path: Path
) -> None:
    source = tmp_path / "usb"
    shutil.copytree(small_phantom / "baseline" / "CT_arterial", source / "arterial")
    broken = source / "broken.dcm"
    broken.write_bytes(next((source / "arterial").glob("*.dcm")).read_bytes()[:200])
    dialog = ImportDialog(services.studies, task_runner)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.studies_imported, timeout=30_000) as imported:
        dialog.start([source])
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=5_000)
    # the studies the import touched, for the follow-up matching of the worklist
    assert imported.args == [[services.studies.list_series()[0].study_uid]]
    texts = [
        dialog.report.topLevelItem(i).text(0) for i in range(dialog.report.topLevelItemCount())
    ]
    assert texts[0] == "Files that failed (1)"
    assert "broken.dcm" in dialog.report.topLevelItem(0).child(0).text(0)
    assert texts[1] == "Imported series (1) of 1 patient, 1 study"
    # patient > study > series
    assert dialog.report.topLevelItem(1).child(0).child(0).child(0).text(3) == "arterial"
    assert "failed" in dialog.status_label.text()


def test_cancel_keeps_the_database_consistent(
    qtbot, services, task_runner, small_phantom: Path
) -> None:
    dialog = ImportDialog(services.studies, task_runner)
    qtbot.addWidget(dialog)
    dialog.start([small_phantom])
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=30_000)
    for item in services.studies.list_series():
        files = services.studies.series_files(item.series_uid)
        assert files
        assert all(f.is_file() for f in files)


def test_new_case_for_an_imported_patient_links_studies(
    qtbot, services, small_phantom: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tace_planner.domain.progress import run_sync

    run_sync(services.studies.import_paths([small_phantom]))
    window = MainWindow(services)
    qtbot.addWidget(window)
    assert window.case_list.topLevelItem(0).text(1) == "no case yet"
    window.case_list.setCurrentItem(window.case_list.topLevelItem(0))
    assert window.study_tree.topLevelItemCount() == 5  # CT + MR baseline, three follow-ups
    choice = NewCaseChoice("Right lobe DEBIRI", dt.date(2026, 3, 16), "ileum NET")
    monkeypatch.setattr(NewCaseDialog, "ask", classmethod(lambda cls, *a, **k: choice))
    window._on_new_case_triggered()
    case = services.cases.list_cases()[0]
    assert case.title == "Right lobe DEBIRI"
    assert case.study_count == 5
    labels = sorted(study.timepoint_label for study in services.studies.studies_of_case(case.pk))
    assert labels == ["baseline", "baseline", "follow-up 1", "follow-up 2", "follow-up 3"]
    window.close()
