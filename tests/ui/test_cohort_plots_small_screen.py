"""The Cohort page's plots on a 1366 × 768 screen: every axis title whole, no legend over the
data, the waterfall's guide labels clear of the bars."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

import pyqtgraph as pg
from PySide6.QtCore import QRectF

from tace_planner.services.export.cohort_plots import CohortPlots, SurvivalCurve, WaterfallBar
from tace_planner.ui.panels.waterfall_plot import GUIDES
from tace_planner.ui.workspaces.cohort_page import CohortPage

PAGE_SIZE = (1366, 640)
"""The Cohort page's room in the main window on a 1366 × 768 screen (menus, tabs, banner)."""

DEEP = (-40.0, -45.0, -52.0, -58.0, -63.0, -70.0, -76.0, -81.0, -88.0, -95.0)
"""Every case responded: the bars fill the plot's lower half, legend corner included."""
MIXED = (35.0, 22.0, 12.0, 4.0, -8.0, -18.0, -31.0, -45.0, -62.0, -80.0)
"""Bars across both guide lines of the diameters (+20 %, −30 %) and of the volume (−65 %)."""


def _plots(changes: tuple[float, ...] = DEEP) -> CohortPlots:
    groups = ("immediate", "after_chemotherapy")
    bars = tuple(
        WaterfallBar(f"TP{n + 1:03d}", groups[n % 2], change, 1.5 * change,
                     name=f"EXP-{1000 + n} · Course {n + 1}")
        for n, change in enumerate(changes)
    )  # fmt: skip
    curves = (
        SurvivalCurve("immediate", (0, 60, 60, 300), (1, 1, 0.8, 0.8), ((200, 0.8),), None),
        SurvivalCurve("after_chemotherapy", (0, 90, 90, 400), (1, 1, 0.9, 0.9), (), None),
    )
    return CohortPlots(boxes=(), curves=curves, risk_times=(0, 100), logrank_p=0.5,
                       at_risk=(("immediate", (5, 4)), ("after_chemotherapy", (5, 5))),
                       points=((-30.0, -200.0), (10.0, 300.0)), slope=12.5, intercept=175.0,
                       r2=1.0, x_label="Volume change after TACE, %",
                       y_label="Doubling time, days (negative: halving time)",
                       waterfall=bars)  # fmt: skip


@pytest.fixture
def page(qtbot: Any) -> Any:
    shown = CohortPage(lambda group: (None, _plots()))
    qtbot.addWidget(shown)
    shown.resize(*PAGE_SIZE)
    shown.show()
    qtbot.waitExposed(shown)
    shown.show_plots(_plots())
    qtbot.wait(50)  # the layout settles; the resizes fit the axis titles
    yield shown
    shown.close()


def _bar_rects(page: CohortPage) -> list[QRectF]:
    """Each waterfall bar's rectangle in scene coordinates (bar i at x = i, 0.8 wide)."""
    view = page.waterfall.plot.getViewBox()
    return [
        view.mapViewToScene(QRectF(i - 0.4, min(0.0, h), 0.8, abs(h))).boundingRect()
        for i, h in enumerate(page.waterfall.heights)
    ]


def _title_rect(axis: Any) -> QRectF:
    """An axis title's text in scene coordinates (without its document's blank margin)."""
    margin = axis.label.document().documentMargin()
    return axis.label.sceneBoundingRect().adjusted(margin, margin, -margin, -margin)


def _visible_scene_rect(plot: pg.PlotWidget) -> QRectF:
    return plot.mapToScene(plot.viewport().rect()).boundingRect()


def test_the_waterfall_axis_title_is_whole(page: CohortPage) -> None:
    plot = page.waterfall.plot
    axis = plot.getAxis("left")
    title = _title_rect(axis)
    assert "sum of target diameters" in axis.labelText
    along = axis.sceneBoundingRect()
    assert along.top() - 1 <= title.top(), (title, along)
    assert title.bottom() <= along.bottom() + 1, (title, along)
    assert _visible_scene_rect(plot).contains(title)
    # beside the tick numbers, not over them
    assert title.right() <= along.right() - axis.textWidth, (title, along, axis.textWidth)


@pytest.mark.parametrize("measure", ["diameter_sum_percent", "volume_percent"])
def test_the_waterfall_legend_covers_no_bar(qtbot: Any, page: CohortPage, measure: str) -> None:
    page.measure_box.setCurrentIndex(page.measure_box.findData(measure))
    qtbot.wait(50)  # the plot's layout places the refilled legend
    waterfall = page.waterfall
    assert len(waterfall.heights) == len(DEEP)
    assert waterfall.legend.isVisible()
    named = {label.text for _, label in waterfall.legend.items}
    assert named == {"immediately", "after chemotherapy"}  # the groups in words
    legend = waterfall.legend.sceneBoundingRect()
    assert _visible_scene_rect(waterfall.plot).contains(legend)
    bars = _bar_rects(page)
    assert not [bar for bar in bars if bar.intersects(legend)], legend


@pytest.mark.parametrize("measure", ["diameter_sum_percent", "volume_percent"])
@pytest.mark.parametrize("changes", [MIXED, tuple(-c for c in MIXED)], ids=["mixed", "mirrored"])
def test_the_guide_labels_cover_no_bar(
    qtbot: Any, page: CohortPage, measure: str, changes: tuple[float, ...]
) -> None:
    page.show_plots(_plots(changes))
    page.measure_box.setCurrentIndex(page.measure_box.findData(measure))
    qtbot.wait(50)
    waterfall = page.waterfall
    guides = [item for item in waterfall.plot.getPlotItem().items
              if isinstance(item, pg.InfiniteLine)]  # fmt: skip
    assert sorted(guide.label.toPlainText() for guide in guides) == sorted(
        text for _, text in GUIDES[measure]
    )
    bars = _bar_rects(page)
    view = waterfall.plot.getViewBox().sceneBoundingRect().adjusted(-1, -1, 1, 1)
    for guide in guides:
        label = guide.label.sceneBoundingRect()
        assert view.contains(label), guide.label.toPlainText()
        assert not [bar for bar in bars if bar.intersects(label)], guide.label.toPlainText()


def test_the_kaplan_meier_legend_lies_outside_the_curves(page: CohortPage) -> None:
    plot = page.km_plot
    legend = plot.getPlotItem().legend  # the one its curves join
    assert legend.isVisible()
    assert len(legend.items) == 2
    box = legend.sceneBoundingRect()
    assert not box.intersects(plot.getViewBox().sceneBoundingRect())
    assert _visible_scene_rect(plot).contains(box)
    for side in ("left", "bottom"):  # both titles whole
        axis = plot.getAxis(side)
        assert _visible_scene_rect(plot).contains(_title_rect(axis)), side


def test_the_regression_axis_title_is_whole(page: CohortPage) -> None:
    axis = page.regression_plot.getAxis("left")
    title, along = _title_rect(axis), axis.sceneBoundingRect()
    assert along.top() - 1 <= title.top(), (title, along)
    assert title.bottom() <= along.bottom() + 1, (title, along)
