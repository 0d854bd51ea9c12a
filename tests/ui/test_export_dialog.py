"""File → Export case… / Export cohort…: the export dialog runs off the GUI thread, with
progress and Cancel, and says a refusal in one line."""

from __future__ import annotations

import csv
import functools
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tace_planner.cli_export import FORMATS as CLI_FORMATS
from tace_planner.domain.progress import Progress
from tace_planner.services.bootstrap import open_services
from tace_planner.services.export.runner import export_task
from tace_planner.services.settings import AppSettings
from tace_planner.ui.dialogs.export_dialog import FORMATS, ExportDialog
from tace_planner.ui.main_window import MainWindow

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def _make_task(services, out, fmt, case, deidentify, mapping):
    return export_task(services, out, fmt, case=case, deidentify=deidentify, mapping=mapping)


@pytest.fixture
def window(qtbot, demo_data_dir: Path, tmp_path: Path):
    services = open_services(AppSettings(data_dir=demo_data_dir, db_url=None, user="viewer"))
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    main = MainWindow(
        services, layout_settings=settings, export=functools.partial(_make_task, services)
    )
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()
    services.close()


def test_file_menu_exports_the_demo_case_as_csv(window, qtbot, tmp_path: Path) -> None:
    actions = window.export_actions
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Export case…" in texts
    assert "Export c&ohort…" in texts
    assert actions.export_case() is None  # no case chosen yet: said in the status bar
    assert "Choose a case" in window.statusBar().currentMessage()
    case = window._services.cases.list_cases()[0]
    window.select_case(case.pk)
    actions.case_action.trigger()
    dialog = actions.dialog
    assert dialog is not None
    assert dialog.windowTitle() == "Export case"
    offered = [dialog.format_box.itemData(i) for i in range(dialog.format_box.count())]
    assert offered == [key for key, _ in FORMATS] == list(CLI_FORMATS)  # the command line's
    assert not dialog.mapping_edit.isEnabled()  # a mapping goes with de-identification
    out = tmp_path / "out"
    dialog.folder_edit.setText(str(out))
    assert dialog.start() is not None
    assert dialog.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.result is not None, dialog.status_label.text()
    assert sorted(p.name for p in out.iterdir()) == [
        "case.csv", "data_dictionary.csv", "data_dictionary.md",
        "lesion_timepoint.csv", "procedure.csv", "therapy_line.csv",
    ]  # fmt: skip
    with (out / "case.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert "TACE-DEMO-001" in rows[0].values()
    assert "6 file(s) written" in dialog.status_label.text()
    assert not dialog.cancel_button.isVisible()
    # the same folder again: refused in one line, nothing touched
    before = sorted(p.name for p in out.iterdir())
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    text = dialog.status_label.text()
    assert text.startswith("Not exported:")
    assert "not empty" in text
    assert "\n" not in text
    assert sorted(p.name for p in out.iterdir()) == before
    dialog.close()


def test_deidentified_cohort_export_writes_the_mapping_apart(window, qtbot, tmp_path) -> None:
    dialog = window.export_actions.export_cohort()
    assert dialog.windowTitle() == "Export cohort"
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("json"))
    dialog.deidentify_box.setChecked(True)
    assert dialog.mapping_edit.isEnabled()
    dialog.mapping_edit.setText(str(tmp_path / "mapping.csv"))
    dialog.folder_edit.setText(str(tmp_path / "out"))
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.result is not None, dialog.status_label.text()
    record = (tmp_path / "out" / "case_001.json").read_text(encoding="utf-8")
    assert "TACE-DEMO-001" not in record
    mapping = (tmp_path / "mapping.csv").read_text(encoding="utf-8")
    assert "TP001,TACE-DEMO-001" in mapping
    assert "keep it apart" in dialog.status_label.text()
    dialog.close()


def test_cancel_stops_the_export_and_says_so(qtbot, task_runner, tmp_path) -> None:
    release = threading.Event()
    closed = []

    def slow(out, fmt, case, deidentify, mapping):
        try:
            yield Progress(0, 2, "reading case 1 of 1")
            release.wait(10)
            yield Progress(1, 2, "writing csv")
        finally:
            closed.append(True)

    dialog = ExportDialog(slow, task_runner, None, "every case")
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path / "out"))
    dialog.start()
    qtbot.waitUntil(lambda: "reading case 1" in dialog.status_label.text(), timeout=10_000)
    dialog.cancel_button.click()
    release.set()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    assert closed == [True]  # the task was closed: its clean-up ran
    assert dialog.result is None
    assert "cancelled" in dialog.status_label.text()
    assert dialog.export_button.isEnabled()
    dialog.close()


def test_refusals_name_the_dialogs_fields_not_the_command_lines(
    qtbot, task_runner, services, tmp_path
) -> None:
    dialog = ExportDialog(functools.partial(_make_task, services), task_runner, None, "all")
    qtbot.addWidget(dialog)
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.txt").write_text("x", encoding="utf-8")
    dialog.folder_edit.setText(str(full))
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    text = dialog.status_label.text()
    assert text == f"Not exported: Output folder: {full} is not empty; give a new or empty folder"
    dialog.deidentify_box.setChecked(True)
    out = tmp_path / "out"
    dialog.folder_edit.setText(str(out))
    dialog.mapping_edit.setText(str(out / "map.csv"))
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    text = dialog.status_label.text()
    assert text.startswith("Not exported: Mapping file: ")
    assert "is inside the output folder" in text
    for cli in ("OUT", "--mapping", "--deidentify"):
        assert cli not in text
    dialog.close()
