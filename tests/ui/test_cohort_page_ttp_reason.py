"""The Cohort page says who the Kaplan–Meier leaves out, and why (no follow-up assessed)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from tests.export_seed import seed_registry
from tests.ttp_seed import assess_follow_ups

from tace_planner.services.export.cohort_plots import registry_plots
from tace_planner.ui.workspaces.cohort_page import CohortPage


def test_the_status_names_the_cases_without_ttp_and_the_reason(qtbot, services) -> None:
    first, _ = seed_registry(services)  # follow-ups measured, none assessed yet
    assess_follow_ups(services, first)
    drawn = registry_plots(services, "tace_sequence")
    page = CohortPage(lambda group: drawn)
    qtbot.addWidget(page)
    page.group_box.setCurrentIndex(page.group_box.findData("tace_sequence"))
    page.refresh()
    text = page.status.text()
    assert (
        "immediate: 1 patient(s) left out of the Kaplan–Meier: time to progression after "
        "TACE not evaluable: no follow-up assessed" in text
    )
    assert text.count("left out of the Kaplan–Meier") == 1  # the assessed case is plotted
    assert [c.group for c in page.plots.curves] == ["after_chemotherapy"]


def test_no_case_assessed_leaves_the_kaplan_meier_empty_saying_so(qtbot, services) -> None:
    seed_registry(services)  # the demo's state: follow-ups imaged, none assessed
    drawn = registry_plots(services, "tace_sequence")
    page = CohortPage(lambda group: drawn)
    qtbot.addWidget(page)
    page.group_box.setCurrentIndex(page.group_box.findData("tace_sequence"))
    page.refresh()
    assert page.plots.curves == ()  # no curve at 1.0 from unread imaging
    [note] = [n.toPlainText() for n in page.empty_notes]  # on the Kaplan–Meier only
    assert note.startswith("No case has a time to progression after TACE")
    assert page.status.text().count("not evaluable: no follow-up assessed") == 2
    assert page.risk_table.text() == ""
