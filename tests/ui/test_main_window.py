"""Main window on the demo database: patient, case, CT phases and MR series, a loaded volume."""

from __future__ import annotations

from pathlib import Path

import pytest

from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.ui.main_window import DISCLAIMER, MainWindow

pytestmark = [pytest.mark.dicom, pytest.mark.db]


@pytest.fixture
def window(qtbot, demo_copy: Path):
    """The window on a private copy of the demo: a test here reclassifies a series, which on
    the shared demo folder changed what later tests found there."""
    services = open_services(AppSettings(data_dir=demo_copy, db_url=None, user="viewer"))
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


def test_status_bar_and_about_name_the_database(window, demo_copy: Path) -> None:
    assert str(demo_copy) in window.database_label.text()
    assert str(demo_copy) in window.about_text()
    assert DISCLAIMER in window.about_text()


def test_settings_dialog_choice_is_saved(window, monkeypatch, tmp_path: Path) -> None:
    from tace_planner.services.settings import resolve_settings
    from tace_planner.ui.dialogs.settings_dialog import SettingsChoice, SettingsDialog

    choice = SettingsChoice(data_dir=str(tmp_path / "elsewhere"), db_url="")
    monkeypatch.setattr(SettingsDialog, "ask", classmethod(lambda cls, *a, **k: choice))
    window._on_settings_triggered()
    saved = resolve_settings()
    assert saved.data_dir == tmp_path / "elsewhere"
    assert saved.user == resolve_settings().user  # not a setting: the login or --user
    assert saved.link_new_studies is False  # default: the user confirms each link


def test_link_setting_applies_at_once_and_follow_up_parameters_open_from_the_menu(
    window, monkeypatch
) -> None:
    from tace_planner.services.settings import resolve_settings
    from tace_planner.ui.dialogs.followup_parameters_dialog import FollowupParametersDialog
    from tace_planner.ui.dialogs.settings_dialog import SettingsChoice, SettingsDialog

    choice = SettingsChoice(data_dir="", db_url="", link_new_studies=True)
    monkeypatch.setattr(SettingsDialog, "ask", classmethod(lambda cls, *a, **k: choice))
    assert window.worklist_panel.link_at_once is False
    window._on_settings_triggered()
    assert resolve_settings().link_new_studies is True
    assert window.worklist_panel.link_at_once is True  # no restart needed
    opened = []
    monkeypatch.setattr(FollowupParametersDialog, "exec", lambda self: opened.append(self) or 0)
    assert window.followup_parameters_action.text() == "Follow-up &schedule parameters…"
    window.followup_parameters_action.trigger()
    assert len(opened) == 1
    assert "follow-up schedule version 1" in opened[0].origin_label.text()
    opened[0].deleteLater()


@pytest.mark.writes
def test_protocol_status_and_classification_correction(
    window, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tace_planner.ui.dialogs.classification_dialog import (
        ClassificationChoice,
        ClassificationDialog,
    )

    window.select_case(window._services.cases.list_cases()[0].pk)
    # The small phantom has 5 mm CT slices, so its baseline fails on slice thickness.
    assert window.protocol_label.text().startswith("Baseline imaging protocol not met: ")
    assert "5 mm" in window.protocol_label.toolTip()
    arterial = next(
        s
        for study in window._services.studies.studies_of_case(window._case_pk)
        for s in study.series
        if s.phase == "arterial"
    )
    choice = ClassificationChoice(phase="unknown", sequence="", plane="axial", reason="test")
    monkeypatch.setattr(ClassificationDialog, "ask", classmethod(lambda cls, *a, **k: choice))
    window.study_tree.classification_requested.emit(arterial)
    rows = window.study_tree.series_rows()
    assert any(row[2] == "unknown ✎" for row in rows)
    assert "arterial phase present" in window.protocol_label.toolTip()


def test_a_series_of_several_volumes_offers_its_parts(window, qtbot) -> None:
    window.select_case(window._services.cases.list_cases()[0].pk)
    tree = window.study_tree
    dwi = next(
        tree.topLevelItem(t).child(c)
        for t in range(tree.topLevelItemCount())
        for c in range(tree.topLevelItem(t).childCount())
        if tree.topLevelItem(t).child(c).text(2) == "dwi axial"
    )
    assert sorted(dwi.child(i).text(0) for i in range(dwi.childCount())) == ["b=50", "b=800"]
    tree.setCurrentItem(dwi)  # choosing the series picks one of its volumes
    qtbot.waitUntil(lambda: "b=800" in window.view_title.text(), timeout=10_000)
    qtbot.waitUntil(lambda: "voxels" in window.view_title.text(), timeout=20_000)
