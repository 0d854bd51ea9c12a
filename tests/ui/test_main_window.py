"""Main window on the demo database: patient, case, CT phases and MR series, a loaded volume."""

from __future__ import annotations

from pathlib import Path

import pytest

from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.ui.main_window import DISCLAIMER, MainWindow

pytestmark = [pytest.mark.dicom, pytest.mark.db]


@pytest.fixture
def window(qtbot, demo_data_dir: Path):
    services = open_services(AppSettings(data_dir=demo_data_dir, db_url=None, user="viewer"))
    main = MainWindow(services)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()
    services.close()


def test_demo_patient_case_and_series_are_listed(window, qtbot) -> None:
    cases = window.case_list
    assert cases.topLevelItemCount() == 1
    assert "TACE-DEMO-001" in cases.topLevelItem(0).text(0)
    assert "demo" in cases.topLevelItem(0).child(0).text(0)
    window.select_case(window._services.cases.list_cases()[0].pk)
    rows = window.study_tree.series_rows()
    ct_phases = sorted(row[2] for row in rows if row[1] == "CT")
    for phase in ("native", "arterial", "venous", "delayed"):
        assert phase in ct_phases
    mr = {row[2] for row in rows if row[1] == "MR"}
    assert {"t2 axial", "t2 coronal", "t1 axial", "dwi axial", "adc axial"} <= mr


def test_selecting_a_series_loads_it_off_the_gui_thread(window, qtbot) -> None:
    window.select_case(window._services.cases.list_cases()[0].pk)
    qtbot.waitUntil(lambda: window.slice_view.slice_count > 0, timeout=20_000)
    assert "voxels" in window.view_title.text()
    qtbot.waitUntil(lambda: not window.progress_bar.isVisible(), timeout=5_000)


def test_status_bar_and_about_name_the_database(window, demo_data_dir: Path) -> None:
    assert str(demo_data_dir) in window.database_label.text()
    assert str(demo_data_dir) in window.about_text()
    assert DISCLAIMER in window.about_text()


def test_settings_dialog_choice_is_saved(window, monkeypatch, tmp_path: Path) -> None:
    from tace_planner.services.settings import resolve_settings
    from tace_planner.ui.dialogs.settings_dialog import SettingsChoice, SettingsDialog

    choice = SettingsChoice(data_dir=str(tmp_path / "elsewhere"), db_url="", user="dr house")
    monkeypatch.setattr(SettingsDialog, "ask", classmethod(lambda cls, *a, **k: choice))
    window._on_settings_triggered()
    saved = resolve_settings()
    assert saved.data_dir == tmp_path / "elsewhere"
    assert saved.user == "dr house"
