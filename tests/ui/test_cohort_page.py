"""The Cohort workspace page draws the registry's plots and saves them as PNG."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from tests.export_seed import seed_registry
from tests.followup_seed import add_measurement

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.export.cohort_plots import registry_plots
from tace_planner.store.models import SegmentationRow
from tace_planner.ui.main_window import MainWindow
from tace_planner.ui.workspaces.cohort_page import PNG_NAMES, WATERFALL_PNG_NAMES, CohortPage


def test_cohort_workspace_shows_the_registry_plots(qtbot, services, tmp_path: Path) -> None:
    cases = seed_registry(services)
    for case, patient in zip(cases, ("EXP-4711", "EXP-0815"), strict=True):
        # F2 measured at the follow-up too: the sum of diameters has a best change
        add_measurement(services.session_factory, case, f"1.2.{patient}.8", 'F2, "cyst"', 2.0, 9.0)
    with services.session_factory() as session:  # the seeded masks hold a voxel box
        for row in session.query(SegmentationRow):
            row.grid_shape = {"shape": [4, 4, 4], "bbox": [0, 2, 0, 2, 0, 2]}
        session.commit()
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        services, layout_settings=settings, cohort=functools.partial(registry_plots, services)
    )
    qtbot.addWidget(window)
    window.show()
    window.enter_workspace("cohort")
    page = window.cohort_page
    assert window.pages.currentWidget() is page
    assert page.busy  # computed off the GUI thread
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert page.plots is not None
    assert "synchronous: 2" in page.status.text()
    assert "Number at risk" in page.risk_table.text()
    page.group_box.setCurrentIndex(page.group_box.findData("tace_sequence"))
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert {c.group for c in page.plots.curves} == {"after_chemotherapy", "immediate"}
    assert "immediate" in page.risk_table.text()
    names = [page.variable_box.itemData(i) for i in range(page.variable_box.count())]
    for name in ("burden_percent", "diameter_sum_change_percent", "delivered_irinotecan_mg"):
        assert name in names  # the variables of the registry's treatment records
    page.variable_box.setCurrentIndex(names.index("delivered_irinotecan_mg"))
    drawn = {g[0]: g[1] for g in page.plots.boxes[names.index("delivered_irinotecan_mg")].groups}
    assert drawn == {"after_chemotherapy": (100.0,), "immediate": (100.0,)}
    # the waterfall ("case N": N-th in the case list, EXP-0815 first): both cases F1
    # 31 → 27.5 and F2 15 → 9 mm (−20.7 %); volumes 16.5 → 12.25 cm³ (case 1, −25.8 %)
    # and 15.5 → 11.25 cm³ (case 2, −27.4 %)
    waterfall = page.waterfall
    assert waterfall.order == ["case 1", "case 2"]
    assert waterfall.heights == pytest.approx([100 * (36.5 / 46 - 1)] * 2)
    assert "Best change in the sum of diameters" in waterfall.plot.getAxis("left").labelText
    legend = {label.text for _, label in waterfall.plot.plotItem.legend.items}
    assert legend == {"after_chemotherapy", "immediate"}  # one colour per group
    assert waterfall.legend.isVisible()
    page.measure_box.setCurrentIndex(page.measure_box.findData("volume_percent"))
    assert waterfall.order == ["case 1", "case 2"]
    assert waterfall.heights == pytest.approx([100 * (12.25 / 16.5 - 1), 100 * (11.25 / 15.5 - 1)])
    out = tmp_path / "png"
    out.mkdir()
    written = page.save_pngs(out)
    assert [p.name for p in written] == [*PNG_NAMES, *WATERFALL_PNG_NAMES.values()]
    assert all(not QImage(str(p)).isNull() for p in written)
    assert page.measure_box.currentData() == "volume_percent"  # restored after saving
    pdf = page.save_pdf(tmp_path / "plots.pdf")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pages == len(page.plots.boxes) + 4  # box per variable, KM, regression, 2 waterfalls
    window.close()


def test_a_refusal_is_shown_on_the_page(qtbot) -> None:
    def refuse(group: str):
        raise InvalidInputError("--filter", "no case of the registry matches")

    page = CohortPage(refuse)
    qtbot.addWidget(page)
    page.refresh()
    assert page.plots is None
    assert "no case of the registry matches" in page.status.text()
    assert not page.waterfall.legend.isVisible()  # no blank legend box on an empty plot
    page.close()


def test_a_grouping_chosen_while_computing_is_computed_next(qtbot) -> None:
    """The service runs on a worker; the page stays usable and ends on the last choice."""
    import threading

    from tace_planner.ui.tasks import TaskRunner

    release = threading.Event()
    asked: list[str] = []

    def load(group: str):
        asked.append(group)
        if len(asked) == 1:
            assert release.wait(30)
        raise InvalidInputError("--group", f"nothing for {group}")

    runner = TaskRunner()
    page = CohortPage(load, tasks=runner)
    qtbot.addWidget(page)
    page.refresh()
    assert page.busy
    assert "Computing the cohort statistics" in page.status.text()
    assert not page.refresh_button.isEnabled()
    page.group_box.setCurrentIndex(page.group_box.findData("grade"))  # while the first runs
    release.set()
    qtbot.waitUntil(lambda: not page.busy and len(asked) == 2, timeout=30_000)
    assert asked == ["metastases_timing", "grade"]
    assert page.status.text().endswith("nothing for grade")
    assert page.refresh_button.isEnabled()
    assert runner.shutdown()
    page.close()
