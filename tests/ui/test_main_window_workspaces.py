"""Main window: workspaces, the patient banner, docks that follow the patient, the layout kept
between starts, the Help menu, and the demo prepared in the task runner with progress."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget, QScrollArea, QToolBar

from tace_planner.app import demo_task
from tace_planner.domain.progress import run_sync
from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings
from tace_planner.ui.main_window import MainWindow

pytestmark = [pytest.mark.dicom, pytest.mark.db]

OTHER_ID = "TACE-OTHER-002"


@pytest.fixture(scope="module")
def two_patients(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path) -> Path:
    """The demo data plus a second patient (a renamed copy of one CT series) with a case."""
    data = tmp_path_factory.mktemp("two-patients") / "data"
    shutil.copytree(demo_data_dir, data)
    source = data / "demo-phantom" / "baseline" / "CT_arterial"
    other = data.parent / "other"
    other.mkdir()
    study, series = generate_uid(), generate_uid()
    for path in sorted(source.glob("*.dcm")):
        dataset = pydicom.dcmread(path)
        dataset.PatientID = OTHER_ID
        dataset.PatientName = "Other^Patient"
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, series
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.save_as(other / path.name)
    services = open_services(AppSettings(data_dir=data, db_url=None, user="tester"))
    try:
        run_sync(services.studies.import_paths([other]))
        services.cases.create_case(OTHER_ID, "Second course")
    finally:
        services.close()
    return data


@pytest.fixture
def services(two_patients: Path):
    opened = open_services(AppSettings(data_dir=two_patients, db_url=None, user="viewer"))
    yield opened
    opened.close()


@pytest.fixture
def layout_settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, services, layout_settings):
    main = MainWindow(services, layout_settings=layout_settings)
    qtbot.addWidget(main)
    main.resize(1400, 860)
    main.show()
    yield main
    main.close()


def case_of(services, patient_id: str):
    return next(c for c in services.cases.list_cases() if c.patient_id == patient_id)


def dock(window: MainWindow, name: str) -> QDockWidget:
    return window.findChild(QDockWidget, name)


def test_every_dock_follows_the_current_patient_and_names_them(window, services, qtbot) -> None:
    demo, other = case_of(services, "TACE-DEMO-001"), case_of(services, OTHER_ID)
    window.select_case(demo.pk)
    qtbot.waitUntil(lambda: window.slice_view.slice_count > 0, timeout=20_000)
    demo_series = window.slice_view.series_key
    banner = window.workspace_bar.banner.text()
    assert banner.startswith("Patient DEMO, Phantom [TACE-DEMO-001] · Case NET liver metastases")
    assert f"TACE {demo.planned_tace_on.isoformat()}" in banner
    for name in ("plan_dock", "procedure_dock", "lesion_dock"):
        assert "DEMO, Phantom" in dock(window, name).windowTitle()
    assert "DEMO, Phantom" in window.annotation_panel.heading.text()

    window.select_case(other.pk)
    assert window.workspace_bar.banner.text().startswith(
        f"Patient OTHER, Patient [{OTHER_ID}] · Case Second course · TACE not set"
    )
    for name in ("plan_dock", "procedure_dock", "lesion_dock"):
        assert "OTHER, Patient" in dock(window, name).windowTitle()
    assert window.plan_panel._case_pk == other.pk
    assert window.procedure_panel._case_pk == other.pk
    assert window.lesion_panel._case_pk == other.pk
    assert all(view.series_key != demo_series for view in window.viewer.all_views)

    # The demo patient's row (no case): nothing may keep showing the other patient's case.
    window.case_list.setCurrentItem(window.case_list.topLevelItem(0))
    assert "DEMO, Phantom" in window.workspace_bar.banner.text()
    assert "no case chosen" in window.workspace_bar.banner.text()
    assert window.plan_panel._case_pk is None
    assert window.procedure_panel._case_pk is None
    assert window.lesion_panel._case_pk is None
    assert "DEMO, Phantom" in dock(window, "plan_dock").windowTitle()


def test_workspaces_switch_docks_and_pages(window, services) -> None:
    tabs = window.workspace_bar.tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "Plan",
        "Procedure",
        "Follow-up",
        "Cohort",
    ]
    assert window.workspace_key == "plan"
    assert dock(window, "plan_dock").isVisible()
    assert not dock(window, "procedure_dock").isVisible()
    # Procedure needs a case: refused with the reason, the Plan workspace stays.
    assert not tabs.isTabEnabled(1)
    window.enter_workspace("procedure")
    assert window.workspace_key == "plan"
    assert "choose a case" in window.statusBar().currentMessage()
    window.select_case(case_of(services, "TACE-DEMO-001").pk)
    assert tabs.isTabEnabled(1)
    tabs.setCurrentIndex(1)
    assert window.workspace_key == "procedure"
    assert dock(window, "procedure_dock").isVisible()
    assert not dock(window, "lesion_dock").isVisible()
    assert window.findChild(QToolBar, "viewer_toolbar").isVisible()
    assert not window.findChild(QToolBar, "contour_toolbar").isVisible()
    window.enter_workspace("follow_up")
    assert window.pages.currentWidget() is window.followup_page
    assert window.followup_review.case_pk == case_of(services, "TACE-DEMO-001").pk
    assert window.worklist_panel.isVisible()
    assert not any(d.isVisible() for d in window.findChildren(QDockWidget))
    for key, words in (("cohort", "cohort"),):
        window.enter_workspace(key)
        assert window.pages.currentWidget() is window.placeholder_page
        assert words in window.placeholder_page.text()
        assert not any(d.isVisible() for d in window.findChildren(QDockWidget))
        assert not window.findChild(QToolBar, "viewer_toolbar").isVisible()
        assert window.workspace_bar.banner.isVisible()  # the patient stays named
    window.enter_workspace("plan")
    assert window.pages.currentWidget() is not window.placeholder_page
    assert dock(window, "plan_dock").isVisible()


def test_window_opens_maximised_then_where_it_was_left(qtbot, services, layout_settings) -> None:
    first = MainWindow(services, layout_settings=layout_settings)
    qtbot.addWidget(first)
    first.show_on_screen()
    qtbot.waitUntil(first.isVisible)
    assert first.isMaximized()
    first.showNormal()
    first.resize(1500, 900)
    first.select_case(case_of(services, "TACE-DEMO-001").pk)
    first.enter_workspace("cohort")
    qtbot.wait(50)
    geometry = first.saveGeometry()
    first.close()
    assert layout_settings.value("window/geometry") == geometry

    again = MainWindow(services, layout_settings=layout_settings)
    qtbot.addWidget(again)
    again.show_on_screen()
    qtbot.waitUntil(again.isVisible)
    # Where it was left (the headless screen is 800 px: Qt fits the saved size into it).
    assert not again.isMaximized()
    assert again.workspace_key == "cohort"
    assert again.pages.currentWidget() is again.placeholder_page
    again.close()


def test_plan_dock_is_not_clipped_on_a_wide_screen(window, services, qtbot) -> None:
    window.resize(1920, 1040)
    window.select_case(case_of(services, "TACE-DEMO-001").pk)
    window.fit_docks()
    qtbot.wait(50)
    scroll = window.plan_panel.findChild(QScrollArea)
    needed = scroll.widget().minimumSizeHint().width()
    assert needed <= scroll.viewport().width(), (needed, scroll.viewport().width())
    assert not scroll.horizontalScrollBar().isVisible()


def test_help_menu_has_the_manual_and_the_shortcuts(window) -> None:
    texts = [a.text() for a in window.menuBar().actions()[-1].menu().actions()]
    assert "User &manual" in texts
    assert "&Keyboard shortcuts" in texts
    manual = window.show_manual()
    text = manual.browser.toPlainText()
    for words in ("Viewer", "Contouring", "Planning", "Procedure", "Double-click", "from 1"):
        assert words in text
    assert "Martin, Cardiovasc Intervent Radiol 2010" in text
    for internal in ("§", "NOT FOUND", "[D]", "product brief"):
        assert internal not in text
    manual.close()
    shortcuts = window.show_shortcuts()
    rows = dict(shortcuts.rows())
    assert rows["Ctrl+I"] == "Import DICOM"
    assert "Window presets" in rows["1 – 5"]
    assert "alone" in rows["Double click"]
    shortcuts.close()


def test_demo_is_prepared_in_the_task_runner_with_progress_and_cancel(
    qtbot, tmp_path: Path, small_phantom: Path
) -> None:
    data = tmp_path / "data"
    opened = open_services(AppSettings(data_dir=data, db_url=None, user="tester"))
    main = MainWindow(
        opened,
        layout_settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
        demo=functools.partial(demo_task, opened),
    )
    qtbot.addWidget(main)
    main.show()
    try:
        # Cancel at once: nothing is left running, the action is offered again.
        handle = main.load_demo("small")
        assert handle is not None
        assert main.progress_bar.isVisible()
        assert main.cancel_button.isVisible()
        main.cancel_button.click()
        assert not main.progress_bar.isVisible()
        assert main.demo_action.isEnabled()
        qtbot.waitUntil(lambda: handle.is_finished, timeout=30_000)
        # A cached phantom (the small one): import and contouring run with progress shown.
        demo_dir = opened.settings.demo_dir
        shutil.rmtree(demo_dir, ignore_errors=True)
        shutil.copytree(small_phantom, demo_dir)
        (demo_dir / "phantom-parameters.json").write_text(
            '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
        )
        messages: list[str] = []
        main.statusBar().messageChanged.connect(messages.append)
        assert main.load_demo("small") is not None
        assert main.load_demo("small") is None  # one at a time
        qtbot.waitUntil(lambda: main.case_list.topLevelItemCount() == 1, timeout=120_000)
        assert any("Contouring" in m or "Import" in m or "import" in m for m in messages)
        assert not main.progress_bar.isVisible()
        assert main.context.case is not None
        assert "demo" in main.context.case.title
    finally:
        main.close()
        opened.close()
