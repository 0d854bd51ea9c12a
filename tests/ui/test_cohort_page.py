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
from tests.ttp_seed import assess_follow_ups

from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.export.cohort_plots import registry_plots
from tace_planner.store.models import SegmentationRow
from tace_planner.ui.main_window import MainWindow
from tace_planner.ui.workspaces.cohort_page import (
    COMPUTING,
    NOT_COMPUTED,
    PNG_NAMES,
    WATERFALL_PNG_NAMES,
    CohortPage,
)


def _seed_measured_registry(services) -> None:
    """The export registry's two cases, each with a best change from baseline."""
    cases = seed_registry(services)
    for case, patient in zip(cases, ("EXP-4711", "EXP-0815"), strict=True):
        # F2 measured at the follow-up too: the sum of diameters has a best change
        add_measurement(services.session_factory, case, f"1.2.{patient}.8", 'F2, "cyst"', 2.0, 9.0)
    with services.session_factory() as session:  # the seeded masks hold a voxel box
        for row in session.query(SegmentationRow):
            row.grid_shape = {"shape": [4, 4, 4], "bbox": [0, 2, 0, 2, 0, 2]}
        session.commit()
    for case in cases:  # read by the radiologist: the follow-up censors TTP (Llovet 2008)
        assess_follow_ups(services, case)


def test_cohort_workspace_shows_the_registry_plots(qtbot, services, tmp_path: Path) -> None:
    _seed_measured_registry(services)
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
    # the waterfall (bars keyed by pseudonym, TP001 = EXP-0815, first in the case list):
    # both cases F1 31 → 27.5 and F2 15 → 9 mm (−20.7 %); volumes 16.5 → 12.25 cm³
    # (TP001, −25.8 %) and 15.5 → 11.25 cm³ (TP002, −27.4 %)
    waterfall = page.waterfall
    assert waterfall.order == ["TP001", "TP002"]
    ticks = waterfall.plot.getAxis("bottom")._tickLevels[0]  # named as the user knows them
    assert [text.split("\n")[0] for _, text in ticks] == ["EXP-0815", "EXP-4711"]
    assert waterfall.heights == pytest.approx([100 * (36.5 / 46 - 1)] * 2)
    # the RECIST 1.1 sum of the target diameters, named so (the guide lines apply to it)
    assert "sum of target diameters" in waterfall.plot.getAxis("left").labelText
    legend = {label.text for _, label in waterfall.plot.plotItem.legend.items}
    assert legend == {"after chemotherapy", "immediately"}  # one colour per group, in words
    assert waterfall.legend.isVisible()
    page.measure_box.setCurrentIndex(page.measure_box.findData("volume_percent"))
    assert waterfall.order == ["TP001", "TP002"]
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
    # each empty plot says what it will show and why it is empty, not bare 0-1 axes
    titles = [p.plotItem.titleLabel.text for p in (page.box_plot, page.km_plot,
                                                   page.regression_plot)]  # fmt: skip
    assert "Kaplan–Meier" in titles[1]
    assert "regression" in titles[2].lower()
    assert [n.toPlainText() for n in page.empty_notes] == [
        "Nothing to plot: see the message above"
    ] * 3
    assert all(n.scene() is not None for n in page.empty_notes)  # drawn on the plots
    assert not page.km_plot.plotItem.getAxis("bottom").isVisible()  # no bare 0-1 scale
    assert not page.waterfall.plot.getPlotItem().getAxis("left").isVisible()
    assert "No waterfall" in page.waterfall.note.text()
    page.close()


def test_a_grouping_without_values_says_so_in_every_plot_and_drawing_clears_it(
    qtbot, services
) -> None:
    """The demo's first look at the cohort: no case has the grouping's value yet."""
    from tace_planner.domain.errors import EmptyColumnError

    cases = seed_registry(services)
    assert cases
    for case in cases:  # assessed follow-ups: the Kaplan–Meier has curves
        assess_follow_ups(services, case)
    drawn = registry_plots(services, "metastases_timing")  # the seeded registry has values

    def load(group: str):
        if group == "grade":
            raise EmptyColumnError("--group", "no case has a value for grade")
        return drawn

    page = CohortPage(load)
    qtbot.addWidget(page)
    page.resize(1600, 800)
    page.show()
    page.group_box.setCurrentIndex(page.group_box.findData("grade"))
    # the two rows of plots share the height (the waterfall's note once made its row
    # three times the other's)
    qtbot.wait(200)  # the layout settles on the note's text
    assert page.waterfall.note.text()
    assert abs(page.box_plot.height() - page.regression_plot.height()) < 40
    grouping = page.group_box.currentText()
    assert [n.toPlainText() for n in page.empty_notes] == [
        f"No case has a value for “{grouping}”"
    ] * 3
    assert "Case → Dates and groups for the cohort" in page.status.text()
    assert not page.save_button.isEnabled()  # nothing to save or choose
    assert not page.pdf_button.isEnabled()
    assert not page.variable_box.isEnabled()
    notes = list(page.empty_notes)
    assert all(n.scene() is not None for n in notes)
    page.group_box.setCurrentIndex(page.group_box.findData("metastases_timing"))
    assert page.plots is not None
    assert page.empty_notes == []
    assert all(n.scene() is None for n in notes)  # the drawn plots no longer say "empty"
    assert page.km_plot.plotItem.getAxis("bottom").isVisible()
    # the empty state's fixed 0-1 range is released: the curves are in view
    qtbot.wait(50)
    (_, x1), _ = page.km_plot.plotItem.vb.viewRange()
    assert x1 >= max(max(c.step_x) for c in drawn[1].curves)
    assert page.save_button.isEnabled()
    assert page.variable_box.isEnabled()
    assert "Kaplan–Meier" in page.km_plot.plotItem.titleLabel.text
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
    assert [n.toPlainText() for n in page.empty_notes] == [NOT_COMPUTED] * 3
    page.refresh()
    assert page.busy
    assert "Computing the cohort statistics" in page.status.text()
    # no bare 0-1 scales while the first computation runs: each plot says so
    assert [n.toPlainText() for n in page.empty_notes] == [COMPUTING] * 3
    assert not page.km_plot.plotItem.getAxis("bottom").isVisible()
    assert page.waterfall.note.text() == ""  # no "no waterfall" before it is known
    assert not page.refresh_button.isEnabled()
    page.group_box.setCurrentIndex(page.group_box.findData("grade"))  # while the first runs
    release.set()
    qtbot.waitUntil(lambda: not page.busy and len(asked) == 2, timeout=30_000)
    assert asked == ["metastases_timing", "grade"]
    assert page.status.text().endswith("nothing for grade")
    assert page.refresh_button.isEnabled()
    assert runner.shutdown()
    page.close()


def test_a_grouping_no_case_has_still_draws_the_waterfall_ungrouped(qtbot, services) -> None:
    """The waterfall needs no grouping: it said 'needs the follow-up measurements' instead."""
    from tace_planner.domain.errors import EmptyColumnError

    _seed_measured_registry(services)
    with pytest.raises(EmptyColumnError) as raised:
        registry_plots(services, "grade")  # the seeded registry has no tumour grade
    # the refusal carries the cohort read: its waterfall, and other groupings without a re-read
    assert [bar.label for bar in raised.value.partial.waterfall] == ["TP001", "TP002"]
    page = CohortPage(functools.partial(registry_plots, services))
    qtbot.addWidget(page)
    page.group_box.setCurrentIndex(page.group_box.findData("grade"))
    page.refresh()
    assert page.plots is None
    assert "no case has a value for “Tumour grade”" in page.status.text()
    waterfall = page.waterfall
    assert waterfall.order == ["TP001", "TP002"]
    assert waterfall.heights == pytest.approx([100 * (36.5 / 46 - 1)] * 2)
    assert not waterfall.legend.isVisible()  # one unnamed group
    assert "No waterfall" not in waterfall.note.text()
    page.measure_box.setCurrentIndex(page.measure_box.findData("volume_percent"))
    assert waterfall.heights == pytest.approx([100 * (12.25 / 16.5 - 1), 100 * (11.25 / 15.5 - 1)])
    page.close()
