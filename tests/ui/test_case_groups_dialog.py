"""Case dates and groups entered in the GUI reach the cohort tables (audited, rule shown)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from PySide6.QtCore import QDate, QSettings
from sqlalchemy import select
from tests.followup_seed import add_case

from tace_planner.services.export.cohort_plots import registry_plots
from tace_planner.store.models import AuditEventRow
from tace_planner.ui.dialogs.case_groups_dialog import CaseGroupsDialog
from tace_planner.ui.main_window import MainWindow


def _case(services) -> int:
    return add_case(services.session_factory, "GRP-1")


def test_dates_derive_the_timing_and_an_entry_overrides_it(qtbot, services) -> None:
    case_pk = _case(services)
    dialog = CaseGroupsDialog(services.therapy, case_pk, "Test Groups · Course A")
    qtbot.addWidget(dialog)
    assert "Liver metastases: not known" in dialog.result_label.text()
    dialog.diagnosed.known.setChecked(True)
    dialog.diagnosed.edit.setDate(QDate(2024, 5, 6))
    dialog.detected.known.setChecked(True)
    dialog.detected.edit.setDate(QDate(2024, 5, 20))
    assert dialog.save()
    assert "Liver metastases: synchronous</b> (derived)" in dialog.result_label.text()
    assert services.therapy.case_attributes(case_pk)["diagnosed_on"] == dt.date(2024, 5, 6)
    # entered by the user: wins over the dates, and says so
    dialog.timing_box.setCurrentIndex(dialog.timing_box.findData("metachronous"))
    assert dialog.save()
    assert "Liver metastases: metachronous</b> (entered)" in dialog.result_label.text()
    groups = services.therapy.ttp(case_pk)["groups"]
    assert groups["metastases_timing"]["value"] == "metachronous"
    assert groups["metastases_timing"]["how"] == "entered"
    with services.session_factory() as session:
        actions = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.action == "set_case_attributes")
        ).all()
    assert len(actions) == 2
    # a reopened dialog shows what is stored
    again = CaseGroupsDialog(services.therapy, case_pk, "Test Groups · Course A")
    qtbot.addWidget(again)
    assert again.timing_box.currentData() == "metachronous"
    assert again.diagnosed.value() == dt.date(2024, 5, 6)
    again.detected.known.setChecked(False)
    assert again.values()["liver_metastases_on"] is None


def test_cohort_page_without_group_values_says_where_to_enter_them(
    qtbot, services, tmp_path: Path
) -> None:
    _case(services)
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        services, layout_settings=settings, cohort=functools.partial(registry_plots, services)
    )
    qtbot.addWidget(window)
    window.show()
    window.enter_workspace("cohort")
    qtbot.waitUntil(lambda: not window.cohort_page.busy, timeout=60_000)
    text = window.cohort_page.status.text()
    assert "Case → Dates and groups for the cohort" in text
    assert "every cell is empty" not in text
    assert "registry" not in text


def test_a_dialog_left_open_does_not_put_back_a_colleagues_entry(qtbot, services) -> None:
    case_pk = _case(services)
    dialog = CaseGroupsDialog(services.therapy, case_pk, "Test Groups · Course A")
    qtbot.addWidget(dialog)
    # another workstation records the diagnosis date while this dialog is open
    services.therapy.set_case_attributes(case_pk, diagnosed_on=dt.date(2023, 11, 2))
    dialog.sequence_box.setCurrentIndex(dialog.sequence_box.findData("after_chemotherapy"))
    assert dialog.save()
    stored = services.therapy.case_attributes(case_pk)
    assert stored["diagnosed_on"] == dt.date(2023, 11, 2)  # not put back to "not known"
    assert stored["tace_sequence"] == "after_chemotherapy"
