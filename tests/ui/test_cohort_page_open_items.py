"""The Cohort page's open items from the user reviews: an "All cases" grouping (one curve,
no log-rank test, said in words), every bar's Patient ID whole at 1366 × 768, the cases left
out of the waterfall counted per reason, and the default grouping found on one reading of
the registry."""

from __future__ import annotations

import functools
import itertools
from types import MappingProxyType
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tests.ui.cohort_reads import registry_read
from tests.ui.test_cohort_page import _seed_measured_registry
from tests.ui.test_cohort_plots_small_screen import MIXED, PAGE_SIZE
from tests.ui.test_cohort_plots_small_screen import _plots as _ten_bars

from tace_planner.domain.errors import EmptyColumnError
from tace_planner.services.export.cohort_plots import CohortPlots, WaterfallBar, registry_plots
from tace_planner.ui.workspaces.cohort_page import CohortPage

NO_FOLLOW_UP = "without a follow-up measurement"
NO_TARGETS = "without target lesions"


def _page(qtbot: Any, load: Any, size: tuple[int, int] = PAGE_SIZE) -> CohortPage:
    page = CohortPage(load)
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    qtbot.waitExposed(page)
    return page


def _shown(qtbot: Any, plots: CohortPlots, size: tuple[int, int] = PAGE_SIZE) -> CohortPage:
    page = _page(qtbot, lambda group: (None, plots), size)
    page.show_plots(plots)
    qtbot.wait(50)  # laid out: the names are fitted to the room the bars have
    return page


def _ticks(page: CohortPage) -> list[str]:
    levels = page.waterfall.plot.getAxis("bottom")._tickLevels
    return [text for _, text in levels[0]] if levels else []


def _note_text(plot: Any) -> str:
    import pyqtgraph as pg

    items = [i for i in plot.getPlotItem().vb.addedItems if isinstance(i, pg.TextItem)]
    return " ".join(item.textItem.toPlainText() for item in items)


def test_all_cases_is_the_first_grouping_and_draws_one_curve(qtbot, services) -> None:
    _seed_measured_registry(services)
    page = _page(qtbot, functools.partial(registry_plots, services))
    assert page.group_box.itemText(0) == "All cases"
    page.group_box.setCurrentIndex(0)
    assert page.plots is not None
    assert [curve.group for curve in page.plots.curves] == ["all"]
    title = page.km_plot.plotItem.titleLabel.text
    assert "no log-rank test" in title  # said in words, no "p not computed"
    assert "p " not in title
    assert all(len(box.groups) == 1 for box in page.plots.boxes)
    assert "one group: no test" in page.box_plot.plotItem.titleLabel.text
    assert "all cases: 2" in page.status.text()
    assert "all cases" in page.risk_table.text()
    assert page.waterfall.order == ["TP001", "TP002"]
    assert not page.waterfall.legend.isVisible()  # one colour: no legend of one group
    page.close()


def test_with_no_grouping_recorded_the_first_view_is_all_cases(qtbot) -> None:
    asked: list[str] = []
    read = registry_read(groups={})  # cases without any grouping value

    def load(group: str):
        asked.append(group)
        raise EmptyColumnError("registry: column group", "every cell is empty", partial=read)

    page = _page(qtbot, load)
    page.refresh()
    assert page.group_box.currentData() == "all"
    assert page.plots is not None
    assert [curve.group for curve in page.plots.curves] == ["all"]
    assert page.empty_notes == []  # drawn, not "no case has a value"
    assert asked == ["metastases_timing"]  # read once; every other grouping from that read
    assert "all cases: 34" in page.status.text()
    assert "“Tumour grade”" in page.status.text()
    assert "Case → Dates and groups for the cohort…" in page.status.text()
    page.close()


def test_ten_patient_ids_are_whole_and_apart_at_1366(qtbot) -> None:
    page = _shown(qtbot, _ten_bars(MIXED))
    ids = [f"EXP-{1000 + n}" for n in range(10)]
    order = [int(label[2:]) - 1 for label in page.waterfall.order]
    assert _ticks(page) == [ids[n] for n in order]  # each whole, none cut ("EXP-1…")
    axis = page.waterfall.name_axis
    rects = axis.name_rects()
    assert len(rects) == 10
    bounds = axis.boundingRect()
    metrics = page.fontMetrics()
    for first, second in itertools.combinations(rects, 2):
        assert not first.intersects(second)  # legible: no name over another
    for rect, text in zip(rects, _ticks(page), strict=True):
        assert bounds.contains(rect)
        assert rect.width() >= metrics.horizontalAdvance(text)
    assert "Course" in page.bar_tooltip(0)  # the case in full under the pointer
    page.close()


def _long_ids(n_chars: int) -> CohortPlots:
    bars = tuple(
        WaterfallBar(f"TP{n:03d}", "", -5.0 * n, -9.0 * n, name=f"{n:0{n_chars}d} · C")
        for n in range(1, 13)
    )
    return CohortPlots(boxes=(), curves=(), risk_times=(), at_risk=(), logrank_p=None,
                       points=(), slope=None, intercept=None, r2=None, x_label="x",
                       y_label="y", waterfall=bars)  # fmt: skip


def _whole_and_apart(page: CohortPage, n_chars: int) -> None:
    ticks = _ticks(page)
    assert len(ticks) == 12
    assert all(len(tick) == n_chars and "…" not in tick for tick in ticks)  # whole, alone
    rects = page.waterfall.name_axis.name_rects()
    assert all(not a.intersects(b) for a, b in itertools.combinations(rects, 2))


def test_long_patient_ids_take_more_rows_or_stand_upright(qtbot) -> None:
    page = _shown(qtbot, _long_ids(12))  # 12 bars at 1366 × 768: two or three rows
    _whole_and_apart(page, 12)
    axis = page.waterfall.name_axis
    assert axis.layout == "staggered"
    assert 2 <= axis.rows <= 3
    page.close()
    page = _shown(qtbot, _long_ids(16), size=(900, 1000))  # narrow and tall: upright
    _whole_and_apart(page, 16)
    axis = page.waterfall.name_axis
    assert axis.layout == "upright"
    longest = max(page.fontMetrics().horizontalAdvance(t) for t in _ticks(page))
    assert axis.height() >= longest  # the axis holds the longest name
    page.close()


def test_ids_with_no_room_are_named_under_the_pointer(qtbot) -> None:
    page = _shown(qtbot, _long_ids(40))
    assert _ticks(page) == []
    axis = page.waterfall.plot.getAxis("bottom")
    assert "point at a bar" in axis.labelText  # the axis says so
    assert page.bar_tooltip(0).startswith("0" * 28)  # the ID in full under the pointer
    page.close()


def _bar(label: str, change: float | None, why: str = "") -> WaterfallBar:
    left_out = {"diameter_sum_percent": why} if change is None else {}
    volume = None if why == NO_FOLLOW_UP else -20.0
    if volume is None:
        left_out["volume_percent"] = why
    return WaterfallBar(label, "", change, volume, name=f"ID-{label}",
                        left_out=MappingProxyType(left_out))  # fmt: skip


def test_the_cases_left_out_are_counted_per_reason(qtbot) -> None:
    bars = (
        _bar("TP001", -40.0), _bar("TP002", 10.0),
        _bar("TP003", None, NO_FOLLOW_UP), _bar("TP004", None, NO_TARGETS),
        _bar("TP005", None, NO_FOLLOW_UP), _bar("TP006", None, NO_FOLLOW_UP),
    )  # fmt: skip
    plots = _ten_bars()
    page = _shown(qtbot, CohortPlots(**{**plots.__dict__, "waterfall": bars}))
    note = page.waterfall.note.text()
    assert "2 case(s); 4 left out: 3 cases " + NO_FOLLOW_UP + ", 1 " + NO_TARGETS in note
    page.measure_box.setCurrentIndex(page.measure_box.findData("volume_percent"))
    assert "3 case(s); 3 left out: 3 cases " + NO_FOLLOW_UP in page.waterfall.note.text()
    # no bar at all: the middle of the plot says why, per reason
    empty = tuple(b for b in bars if b.diameter_sum_percent is None)
    page.show_plots(CohortPlots(**{**plots.__dict__, "waterfall": empty}))
    page.measure_box.setCurrentIndex(page.measure_box.findData("diameter_sum_percent"))
    said = _note_text(page.waterfall.plot)
    assert "3 cases " + NO_FOLLOW_UP in said
    assert "1 " + NO_TARGETS in said
    page.close()


def test_the_registry_says_which_case_has_no_targets(qtbot, services) -> None:
    from sqlalchemy import update

    from tace_planner.store.models import LesionRow

    _seed_measured_registry(services)
    first = services.cases.list_cases()[0]  # TP001
    with services.session_factory() as session:
        session.execute(update(LesionRow).where(LesionRow.case_pk == first.pk)
                        .values(is_target=False))  # fmt: skip
        session.commit()
    page = _page(qtbot, functools.partial(registry_plots, services))
    page.refresh()
    assert page.waterfall.order == ["TP002"]
    assert "1 left out: 1 case " + NO_TARGETS + "." in page.waterfall.note.text()
    page.close()


def test_the_default_grouping_reads_the_registry_once(qtbot, services, monkeypatch) -> None:
    from tace_planner.services.export import cohort_registry

    _seed_measured_registry(services)
    cases = services.cases.list_cases()
    for case in cases:  # no synchronous/metachronous value: the page skips that grouping
        services.therapy.set_case_attributes(
            case.pk, diagnosed_on=None, liver_metastases_on=None, metastases_timing=""
        )
    from tace_planner.services.propagation import PropagationService

    gathered: list[int] = []
    courses: list[int] = []
    gather, course = cohort_registry.gather_case, PropagationService.course
    monkeypatch.setattr(cohort_registry, "gather_case",
                        lambda s, pk: gathered.append(pk) or gather(s, pk))  # fmt: skip
    monkeypatch.setattr(PropagationService, "course",
                        lambda self, pk: courses.append(pk) or course(self, pk))  # fmt: skip
    page = _page(qtbot, functools.partial(registry_plots, services))
    page.refresh()
    assert page.group_box.currentData() == "tace_sequence"
    assert page.plots is not None
    assert sorted(gathered) == sorted(case.pk for case in cases)  # each case read once
    assert sorted(courses) == sorted(case.pk for case in cases)
    page.refresh()  # a refresh reads it again: values may have been entered meanwhile
    assert len(gathered) == 2 * len(cases)
    page.close()
