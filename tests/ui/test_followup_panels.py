"""Worklist and timeline panels on a real follow-up service (pytest-qt, offscreen)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_case, add_measurement, add_study, clock, sign_tace
from tace_planner.services.followups import FollowupService
from tace_planner.services.therapy_lines import TherapyService

D = dt.date
TODAY = D(2026, 12, 2)


@pytest.fixture
def course(services: Any) -> tuple[FollowupService, TherapyService, int]:
    """Two patients: W1 due this week with a new study, W2 overdue; W1 with a full course."""
    factory = services.session_factory
    case = add_case(factory, "W1", baseline_on=D(2026, 3, 2))
    followups = FollowupService(factory, "dr rad", clock=clock(TODAY))
    therapy = TherapyService(factory, "dr onc", lambda: followups.parameters, clock=clock(TODAY))
    therapy.add_line(case, "CAPTEM", D(2025, 11, 1), stop_on=D(2026, 2, 20),
                     progression_on=D(2026, 2, 20), progression_site="liver")  # fmt: skip
    therapy.add_line(case, "octreotide LAR", D(2026, 3, 1))
    sign_tace(factory, case, D(2026, 3, 16), delivered_fraction=0.9)
    followups.sync_case(case)
    add_measurement(factory, case, "1.2.W1.0", "F1", 42.0, 48.0)
    for uid, on, volume, diameter in (("1.2.W1.1", D(2026, 5, 12), 30.5, 41.0),
                                      ("1.2.W1.2", D(2026, 8, 14), 26.0, 38.5)):  # fmt: skip
        add_study(factory, "W1", uid, on)
        followups.confirm_match(uid)
        add_measurement(factory, case, uid, "F1", volume, diameter)
    sign_tace(factory, case, D(2026, 10, 5))  # repeat TACE: first follow-up due 30 Nov
    followups.sync_case(case)
    add_study(factory, "W1", "1.2.W1.3", D(2026, 12, 1))
    other = add_case(factory, "W2", baseline_on=D(2026, 3, 1))
    sign_tace(factory, other, D(2026, 3, 16))
    followups.sync_case(other)
    return followups, therapy, case


def test_worklist_shows_categories_filters_and_links_the_proposed_study(
    qtbot: Any, course: Any, services: Any
) -> None:
    from tace_planner.ui.panels.worklist_panel import COLUMNS, WorklistPanel

    followups, _, case = course
    panel = WorklistPanel(followups)
    qtbot.addWidget(panel)
    panel.refresh()
    assert [panel.table.horizontalHeaderItem(c).text() for c in range(len(COLUMNS))] == list(
        COLUMNS
    )
    assert panel.table.rowCount() == 1
    row = [panel.table.item(0, c).text() for c in range(len(COLUMNS))]
    assert row[0].endswith("[W1]")
    assert row[2] == "TACE 2 · 2026-10-05"
    assert (row[3], row[4], row[5]) == ("TACE 2 follow-up 1", "2026-11-30",
                                        "2026-11-16 – 2026-12-14")  # fmt: skip
    # the study as people know it (description, modality, date), never its UID
    assert row[7].startswith("proposed: CT · ")
    assert "1.2.W1.3" not in row[7]
    assert "1 with a new study to confirm" in panel.message.text()
    with qtbot.waitSignal(panel.case_selected) as selected:
        panel.table.selectRow(0)
    assert selected.args == [case]
    assert panel.link_button.isEnabled()
    panel.link_button.click()
    assert panel.table.rowCount() == 0
    assert "linked to TACE 2 follow-up 1" in panel.message.text()

    panel.set_category("overdue")
    assert {item.patient_id for item in panel.items} == {"W2"}
    # the schedule preset of the selected row's case, chosen here, is laid out again
    panel.table.selectRow(0)
    assert panel.preset.isEnabled()
    assert panel.preset.currentData() == "protocol"
    overdue_case = panel.selected_item().case_pk
    panel.preset.setCurrentIndex(panel.preset.findData("months"))
    panel.preset.activated.emit(panel.preset.currentIndex())
    assert "schedule 1, 3, 6, 9, 12 months" in panel.message.text()
    preset, _ = followups.schedule_preset(overdue_case)
    assert preset.key == "months"
    from sqlalchemy import select

    from tace_planner.store.models import AuditEventRow

    with services.session_factory() as session:  # the choice is audited, with before/after
        [event] = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "choose_followup_preset")
        ).all()
        assert (event.before, event.after) == (
            {"followup_preset": ""}, {"followup_preset": "months"}
        )  # fmt: skip
    panel.set_category("done")
    assert [item.study_uid for item in panel.items] == ["1.2.W1.1", "1.2.W1.2", "1.2.W1.3"]
    panel.case_filter.setText("abc")
    panel.refresh()
    assert panel.items == []
    assert panel.message.text().startswith("No patient or case matches “abc”")
    panel.case_filter.setText("W1")  # the patient's name or ID, or the case title
    panel.set_category("all")
    panel.refresh()
    assert {item.case_pk for item in panel.items} == {case}
    panel.modality.setCurrentIndex(panel.modality.findData("MR"))
    assert panel.items == []


def test_timeline_draws_the_course_hovers_and_exports(
    qtbot: Any, course: Any, tmp_path: Path
) -> None:
    from tace_planner.ui.panels.timeline_panel import TimelinePanel

    _, therapy, case = course
    data = therapy.timeline(case)
    assert [t.delivered_mg for t in data.taces] == [pytest.approx(90.0), pytest.approx(100.0)]
    assert [p.total_volume_cm3 for p in data.points] == [42.0, 30.5, 26.0]
    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.show_timeline(data)
    assert "W1" in panel.title.text()
    assert panel.hover_text(D(2026, 3, 17)) == "TACE 1 on 2026-03-16: 90 mg delivered"
    text = panel.hover_text(D(2026, 5, 12))
    assert "total volume 30.5 cm³" in text
    assert "sum of diameters 41.0 mm" in text
    assert "due 2027" in panel.hover_text(D(2027, 3, 1))
    path = panel.export_png(tmp_path / "timeline.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OSError, match="could not be written"):
        panel.export_png(tmp_path / "missing" / "x.png")


def test_the_follow_up_page_follows_the_case_list(qtbot: Any, services: Any) -> None:
    from tace_planner.ui.panels.case_list import CaseListPanel
    from tace_planner.ui.tasks import TaskRunner
    from tace_planner.ui.workspaces.followup_page import TIMELINE_TAB, FollowupPage

    factory = services.session_factory
    today = dt.date.today()
    case = add_case(factory, "K1", baseline_on=today - dt.timedelta(weeks=9))
    sign_tace(factory, case, today - dt.timedelta(weeks=8))  # first follow-up due today
    case_list = CaseListPanel()
    qtbot.addWidget(case_list)
    case_list.show_cases(services.cases.list_patients(), services.cases.list_cases())
    runner = TaskRunner()
    page = FollowupPage(services, runner, case_list)
    qtbot.addWidget(page)
    try:
        worklist, timeline = page.worklist, page.timeline
        assert [item.patient_id for item in worklist.items] == ["K1"]  # synchronised on opening
        tabs = page.review.tabs
        assert tabs.tabText(tabs.indexOf(timeline)) == TIMELINE_TAB
        worklist.table.selectRow(0)
        assert timeline.title.text().startswith("DEBIRI course — K1")
        assert page.review.case_pk == case
        services.followups.close_case(case, "death", today)
        case_list.case_selected.emit(case)
        assert "closed" in timeline.title.text()
        assert "follow-up closed: death" in timeline.hover_text(today)
    finally:
        assert runner.shutdown(timeout_ms=5_000)


def test_worklist_lists_due_tace_sessions_first(qtbot: Any) -> None:
    from tace_planner.services.followup_dto import DueSession
    from tace_planner.ui.panels.worklist_panel import WorklistPanel

    session = DueSession(7, "S1", "Test^S1", "DEBIRI course", 2, "left lobe", D(2026, 4, 6),
                         "due", after_tace=1)  # fmt: skip

    class FakeService:
        parameters = type("P", (), {"presets": {}})()

        def worklist(self, category: str, **filters: Any) -> list[Any]:
            return []

        def due_sessions(self, category: str, **filters: Any) -> list[DueSession]:
            return [session]

    panel = WorklistPanel(FakeService())  # type: ignore[arg-type]
    qtbot.addWidget(panel)
    panel.refresh()
    assert [panel.table.item(0, c).text() for c in (2, 3, 4, 6)] == [
        "after TACE 1", "TACE session 2: left lobe", "2026-04-06", "TACE due"
    ]  # fmt: skip
    assert "1 TACE session(s) to perform" in panel.message.text()
    with qtbot.waitSignal(panel.case_selected) as selected:
        panel.table.selectRow(0)
    assert selected.args == [7]
    assert panel.selected_item() is None
    panel.radiologist.setText("Dr X")
    panel.refresh()
    assert panel.table.rowCount() == 0  # an imaging filter hides the TACE sessions


def test_imported_study_is_proposed_or_linked_at_once_by_the_saved_setting(
    qtbot: Any, course: Any, tmp_path: Path
) -> None:
    from tace_planner.services.settings import AppSettings, resolve_settings, save_settings
    from tace_planner.ui.dialogs.settings_dialog import SettingsDialog
    from tace_planner.ui.panels.worklist_panel import WorklistPanel

    followups, _, _case = course
    # the Settings dialog shows the saved choice (default off) and returns the new one
    dialog = SettingsDialog(AppSettings(tmp_path, None, "dr rad"))
    qtbot.addWidget(dialog)
    assert not dialog.link_new_studies.isChecked()
    dialog.link_new_studies.setChecked(True)
    choice = dialog.choice()
    assert choice.link_new_studies
    save_settings(data_dir=None, db_url=None, link_new_studies=choice.link_new_studies)
    assert resolve_settings().link_new_studies

    panel = WorklistPanel(followups)  # off: ask the user
    qtbot.addWidget(panel)
    panel.refresh()
    text = panel.studies_imported(["1.2.W1.3"])
    assert "proposed on the worklist" in text
    assert panel.items[0].proposed_study_uid == "1.2.W1.3"
    assert panel.items[0].status == "scheduled"

    panel.link_at_once = resolve_settings().link_new_studies
    text = panel.studies_imported(["1.2.W1.3"])
    assert "linked to their follow-up: TACE 2 follow-up 1" in text
    assert panel.message.text() == text
    panel.set_category("done")
    assert "1.2.W1.3" in {item.study_uid for item in panel.items}


def test_a_hand_edited_schedule_file_out_of_range_is_said_and_the_window_opens(
    qtbot: Any, tmp_path: Path
) -> None:
    """followup.json with a first imaging at 80 weeks: one line naming the file, no schedule."""
    import importlib.resources
    import json

    from PySide6.QtCore import QSettings

    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings
    from tace_planner.ui.main_window import MainWindow

    data_dir = tmp_path / "data"
    folder = data_dir / "parameters"
    folder.mkdir(parents=True)
    resource = importlib.resources.files("tace_planner.resources") / "parameters"
    data = json.loads((resource / "followup.json").read_text(encoding="utf-8"))
    data["values"]["preset_protocol"]["value"]["first_weeks"] = 80
    (folder / "followup.json").write_text(json.dumps(data), encoding="utf-8")
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="tester"))
    try:
        settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
        window = MainWindow(services, layout_settings=settings)
        qtbot.addWidget(window)
        window.show()
        window.enter_workspace("follow_up")
        text = window.worklist_panel.message.text()
        assert "followup.json" in text
        assert "First imaging" in text
        assert window.worklist_panel.preset.count() == 0
        window.close()
    finally:
        services.close()
