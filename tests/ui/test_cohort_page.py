"""The Cohort workspace page draws the registry's plots and saves them as PNG."""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from tests.export_seed import seed_registry

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.export.cohort_plots import registry_plots
from tace_planner.ui.main_window import MainWindow
from tace_planner.ui.workspaces.cohort_page import PNG_NAMES, CohortPage


def test_cohort_workspace_shows_the_registry_plots(qtbot, services, tmp_path: Path) -> None:
    seed_registry(services)
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        services, layout_settings=settings, cohort=functools.partial(registry_plots, services)
    )
    qtbot.addWidget(window)
    window.show()
    window.enter_workspace("cohort")
    page = window.cohort_page
    assert window.pages.currentWidget() is page
    assert page.plots is not None
    assert "synchronous: 2" in page.status.text()
    assert "Number at risk" in page.risk_table.text()
    page.group_box.setCurrentIndex(page.group_box.findData("tace_sequence"))
    assert {c.group for c in page.plots.curves} == {"after_chemotherapy", "immediate"}
    assert "immediate" in page.risk_table.text()
    out = tmp_path / "png"
    out.mkdir()
    written = page.save_pngs(out)
    assert [p.name for p in written] == list(PNG_NAMES)
    assert all(not QImage(str(p)).isNull() for p in written)
    window.close()


def test_a_refusal_is_shown_on_the_page(qtbot) -> None:
    def refuse(group: str):
        raise InvalidInputError("--filter", "no case of the registry matches")

    page = CohortPage(refuse)
    qtbot.addWidget(page)
    page.refresh()
    assert page.plots is None
    assert "no case of the registry matches" in page.status.text()
    page.close()
