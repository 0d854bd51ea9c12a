"""The Cohort page's waterfall names its bars as the user knows the cases (Patient ID · case
title, elided to fit, in full in the tooltip), never "case N"; saved images name them by
pseudonym only."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPointF
from tests.ui.test_cohort_page import _seed_measured_registry

from tace_planner.services.export.cohort_plots import (
    CohortPlots,
    WaterfallBar,
    registry_plots,
)
from tace_planner.ui.workspaces.cohort_page import CohortPage

LONG_TITLE = "DEBIRI course of the right lobe after second-line chemotherapy failure"


def _plots() -> CohortPlots:
    bars = (
        WaterfallBar("TP001", "immediate", -40.0, -70.0, name="EXP-0815 · DEBIRI course"),
        WaterfallBar("TP002", "after_chemotherapy", 10.0, 5.0, name=f"EXP-4711 · {LONG_TITLE}"),
        WaterfallBar("TP003", "immediate", -10.0, None, name="EXP-1234 · Second course"),
    )
    return CohortPlots(boxes=(), curves=(), risk_times=(), at_risk=(), logrank_p=None,
                       points=(), slope=None, intercept=None, r2=None, x_label="x",
                       y_label="y", waterfall=bars)  # fmt: skip


def _ticks(page: CohortPage) -> list[str]:
    levels = page.waterfall.plot.getAxis("bottom")._tickLevels
    return [text for _, text in levels[0]] if levels else []


@pytest.fixture
def page(qtbot):
    shown = CohortPage(lambda group: (None, _plots()))
    qtbot.addWidget(shown)
    shown.resize(1200, 800)
    shown.show()
    qtbot.waitExposed(shown)
    shown.show_plots(_plots())
    yield shown
    shown.close()


def test_bars_are_named_by_patient_id_and_case_title(page) -> None:
    assert page.waterfall.order == ["TP002", "TP003", "TP001"]  # largest change first
    lines = [tick.split("\n") for tick in _ticks(page)]  # Patient ID over case title
    assert [line[0] for line in lines] == ["EXP-4711", "EXP-1234", "EXP-0815"]
    title = lines[0][1]
    assert title.endswith("…")
    assert LONG_TITLE.startswith(title[:-1])
    assert all(len(line) == 2 and line[1] for line in lines)


def test_the_tooltip_names_the_case_in_full(page) -> None:
    view = page.waterfall.plot.getViewBox()
    over_first = view.mapViewToScene(QPointF(0.0, 5.0))
    page.waterfall.plot.scene().sigMouseMoved.emit(over_first)
    tooltip = page.waterfall.plot.plotItem.toolTip()
    assert f"EXP-4711 · {LONG_TITLE}" in tooltip
    assert "TP002" in tooltip
    assert "+10.0 %" in tooltip
    between = view.mapViewToScene(QPointF(0.5, 5.0))  # between two bars: no case
    page.waterfall.plot.scene().sigMouseMoved.emit(between)
    assert page.waterfall.plot.plotItem.toolTip() == ""


def test_saved_waterfalls_name_cases_by_pseudonym_only(page, tmp_path: Path, monkeypatch) -> None:
    seen: list[list[str]] = []
    grab = page.waterfall.grab

    def spy(*args):
        seen.append(_ticks(page))
        return grab(*args)

    monkeypatch.setattr(page.waterfall, "grab", spy)
    page.save_pngs(tmp_path)
    assert seen == [["TP002", "TP003", "TP001"], ["TP002", "TP001"]]  # diameters, volume
    assert [tick.split("\n")[0] for tick in _ticks(page)] == ["EXP-4711", "EXP-1234", "EXP-0815"]


def test_the_registry_waterfall_names_patients_on_the_page(qtbot, services) -> None:
    _seed_measured_registry(services)
    page = CohortPage(functools.partial(registry_plots, services))
    qtbot.addWidget(page)
    page.refresh()
    assert page.waterfall.order == ["TP001", "TP002"]
    assert [tick.split("\n")[0] for tick in _ticks(page)] == ["EXP-0815", "EXP-4711"]
    assert page.bar_tooltip(0) == (
        f"EXP-0815 · DEBIRI course (TP001 in saved plots and notes): "
        f"{page.waterfall.heights[0]:+.1f} %"
    )
    page.close()
