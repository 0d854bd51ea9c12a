"""The Cohort page's first view and its waterfall: bar names use the room each bar has (the
Patient ID whole), an empty waterfall says the reason its cases give, and the default
grouping is the first one some case has a value for."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("PySide6")

from tests.ui.cohort_reads import registry_read

from tace_planner.domain.errors import EmptyColumnError
from tace_planner.services.export.cohort_plots import (
    CohortPlots,
    SurvivalCurve,
    WaterfallBar,
)
from tace_planner.ui.panels.waterfall_plot import NO_BARS, WaterfallPlot
from tace_planner.ui.workspaces.cohort_page import CohortPage

DEMO_NAME = "TACE-DEMO-001 · NET liver metastases — DEBIRI course (demo)"


def _plots(*bars: WaterfallBar, curves: tuple[SurvivalCurve, ...] = ()) -> CohortPlots:
    return CohortPlots(boxes=(), curves=curves, risk_times=(0.0,), at_risk=(),
                       logrank_p=None, points=(), slope=None, intercept=None, r2=None,
                       x_label="x", y_label="y", waterfall=tuple(bars))  # fmt: skip


def _ticks(page: CohortPage) -> list[str]:
    levels = page.waterfall.plot.getAxis("bottom")._tickLevels
    return [text for _, text in levels[0]] if levels else []


def _note_text(plot) -> str:
    import pyqtgraph as pg

    items = [i for i in plot.getPlotItem().vb.addedItems if isinstance(i, pg.TextItem)]
    return " ".join(item.textItem.toPlainText() for item in items)


def _shown(qtbot, width: int, height: int, plots: CohortPlots) -> CohortPage:
    page = CohortPage(lambda group: (None, plots))
    qtbot.addWidget(page)
    page.resize(width, height)
    page.show()
    qtbot.waitExposed(page)
    page.show_plots(plots)
    qtbot.wait(50)  # laid out: the names are fitted to the room the bars have
    return page


def test_a_single_bar_keeps_its_patient_id_whole(qtbot) -> None:
    page = _shown(qtbot, 1366, 700, _plots(WaterfallBar("TP001", "", -25.0, -40.0, name=DEMO_NAME)))
    (tick,) = _ticks(page)
    first, second = tick.split("\n")
    assert first == "TACE-DEMO-001"  # never cut while the title can give way
    assert second.rstrip("…")
    assert DEMO_NAME.split(" · ")[1].startswith(second.rstrip("…"))
    assert DEMO_NAME in page.bar_tooltip(0)  # in full in the tooltip
    page.close()


def test_a_single_bar_is_named_in_full_with_room(qtbot) -> None:
    page = _shown(qtbot, 1920, 1000, _plots(WaterfallBar("TP001", "", -25.0, -40.0,
                                                         name=DEMO_NAME)))  # fmt: skip
    assert _ticks(page) == ["TACE-DEMO-001\nNET liver metastases — DEBIRI course (demo)"]
    page.close()


def test_bar_names_follow_the_plot_width(qtbot) -> None:
    title = "NET liver metastases — DEBIRI course (demo)"
    bars = [
        WaterfallBar(f"TP00{i}", "", -10.0 * i, -20.0 * i, name=f"TACE-DEMO-00{i} · {title}")
        for i in range(1, 4)
    ]
    page = _shown(qtbot, 1920, 1000, _plots(*bars))
    wide, wide_ticks = page.bar_room_px(), _ticks(page)
    assert [tick.split("\n")[0] for tick in wide_ticks] == [f"TACE-DEMO-00{i}" for i in (1, 2, 3)]
    page.resize(1100, 700)
    qtbot.waitUntil(lambda: 0 < page.bar_room_px() < wide)
    narrow_ticks = _ticks(page)
    assert all(len(n) < len(w) for n, w in zip(narrow_ticks, wide_ticks, strict=True))
    page.resize(1920, 1000)
    qtbot.waitUntil(lambda: page.bar_room_px() == wide)
    assert _ticks(page) == wide_ticks
    page.close()


def test_an_empty_waterfall_says_the_targets_are_missing(qtbot) -> None:
    plot = WaterfallPlot()
    qtbot.addWidget(plot)
    # followed up and measured (a volume change) but without targets: no sum of diameters
    plot.show_changes([SimpleNamespace(label="TP001", diameter_sum_percent=None,
                                       volume_percent=-30.0)])  # fmt: skip
    said = _note_text(plot.plot)
    assert NO_BARS not in said
    assert "target" in said
    assert "1 left out" in plot.note.text()
    plot.show_changes([SimpleNamespace(label="TP001", diameter_sum_percent=None,
                                       volume_percent=None)])  # fmt: skip
    assert NO_BARS in _note_text(plot.plot)  # no follow-up measured at all


def _load_without_timing(calls: list[str]):
    """The registry's loader: no case has a synchronous/metachronous value; the cohort read
    it refuses with gives every case a TACE sequence (the page groups that read again)."""
    bar = WaterfallBar("TP001", "", -25.0, -40.0, name=DEMO_NAME)
    read = registry_read(bar, groups={"tace_sequence": "immediate"})

    def load(group: str):
        calls.append(group)
        raise EmptyColumnError("registry: column group", "every cell is empty", partial=read)

    return load


def test_the_first_view_shows_a_grouping_the_cases_have(qtbot) -> None:
    calls: list[str] = []
    page = CohortPage(_load_without_timing(calls))
    qtbot.addWidget(page)
    page.refresh()
    assert page.group_box.currentData() == "tace_sequence"
    assert page.plots is not None
    assert [curve.group for curve in page.plots.curves] == ["immediate"]  # from the read
    assert page.empty_notes == []
    status = page.status.text()
    assert "“Synchronous vs metachronous”" in status
    assert "Case → Dates and groups for the cohort…" in status
    # a grouping the user picks is shown as picked, even when no case has it
    page.group_box.setCurrentIndex(page.group_box.findData("metastases_timing"))
    assert page.plots is None
    assert page.group_box.currentData() == "metastases_timing"
    assert "no case has a value for “Synchronous vs metachronous”" in page.status.text()
    # read once, grouped again without reading; the user's pick reads again
    assert calls == ["metastases_timing", "metastases_timing"]
    page.close()


def test_no_grouping_recorded_says_so_once(qtbot) -> None:
    def load(group: str):
        raise EmptyColumnError(
            "registry: column group", "every cell is empty", partial=registry_read()
        )

    page = CohortPage(load)
    qtbot.addWidget(page)
    page.refresh()
    assert page.group_box.currentData() == "metastases_timing"  # back to the first
    assert "no case has a value for any grouping" in page.status.text()
    page.close()


def test_the_registry_without_timing_or_targets(qtbot, services, task_runner) -> None:
    """The reviewer's registry: followed up and assessed, no synchronous/metachronous value
    and no target lesion chosen. The first view groups by what the cases have (off the GUI
    thread), and the empty waterfall says the targets are missing, as the line below it."""
    import functools

    from sqlalchemy import update
    from tests.ui.test_cohort_page import _seed_measured_registry

    from tace_planner.services.export.cohort_plots import registry_plots
    from tace_planner.store.models import LesionRow

    _seed_measured_registry(services)
    for case in services.cases.list_cases():
        services.therapy.set_case_attributes(
            case.pk, diagnosed_on=None, liver_metastases_on=None, metastases_timing=""
        )
    with services.session_factory() as session:
        session.execute(update(LesionRow).values(is_target=False))
        session.commit()
    page = CohortPage(functools.partial(registry_plots, services), tasks=task_runner)
    qtbot.addWidget(page)
    page.refresh()
    qtbot.waitUntil(lambda: page.plots is not None, timeout=60_000)
    assert page.group_box.currentData() == "tace_sequence"
    assert {curve.group for curve in page.plots.curves} == {"after_chemotherapy", "immediate"}
    assert "Synchronous vs metachronous" in page.status.text()
    assert "without target lesions" in page.waterfall.note.text()
    said = _note_text(page.waterfall.plot)
    assert NO_BARS not in said
    assert "target lesions" in said
    # the groups read as words, not as the stored codes
    shown = " ".join(
        [page.status.text(), page.risk_table.text()]
        + [item.name() for item in page.km_plot.listDataItems() if item.name()]
    )
    assert "after chemotherapy" in shown
    assert "after_chemotherapy" not in shown
    page.close()


def test_a_refresh_returns_to_the_first_grouping_once_recorded(qtbot) -> None:
    calls: list[str] = []
    recorded: list[str] = []
    without = _load_without_timing(calls)

    def load(group: str):
        if recorded:  # the timing entered meanwhile (Case → Dates and groups…)
            return registry_read(groups={"metastases_timing": "synchronous"}).plots(group)
        return without(group)

    page = CohortPage(load)
    qtbot.addWidget(page)
    page.refresh()
    assert page.group_box.currentData() == "tace_sequence"
    recorded.append("synchronous")
    page.refresh()
    assert page.group_box.currentData() == "metastases_timing"
    assert [curve.group for curve in page.plots.curves] == ["synchronous"]
    assert "no case has a value" not in page.status.text()
    page.close()
