"""Side-by-side review of a follow-up and the spider plot, on the demo case's phantom."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from tace_planner.imaging.body import body_extent
from tace_planner.imaging.phantom_truth import PhantomTruth, truth_masks
from tace_planner.services.bootstrap import open_services
from tace_planner.services.contouring import ContourWrite
from tace_planner.services.propagation import propagation_service
from tace_planner.services.settings import AppSettings
from tace_planner.ui.followup_review import FollowupReview
from tace_planner.ui.panels.spider_plot import NO_LINES, SpiderPlot
from tace_planner.ui.panels.waterfall_plot import NO_BARS

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def contoured(tmp_path: Path, demo_data_dir: Path):
    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="radiologist"))
    truth = PhantomTruth.from_json(
        json.loads((data_dir / "demo-phantom" / "truth.json").read_text(encoding="utf-8"))
    )
    baseline = truth.timepoint("baseline")
    venous = baseline.series_by_folder("CT_venous")
    case_pk, timepoint_pk, _ = services.contouring.series_context(venous.series_uid)
    masks = truth_masks(truth, services.contouring.volume(venous.series_uid), "baseline")
    writes = [ContourWrite("Liver", "liver", masks["liver"], "manual")]
    writes += [
        ContourWrite(f.name, "focus", masks[f.name], "manual")
        for f in baseline.foci
        if f.name in ("F1", "F4", "F7")
    ]
    services.contouring.write_contours(case_pk, timepoint_pk, venous.series_uid, None, writes)
    yield services, truth, case_pk
    services.close()


def test_views_are_linked_through_the_registration_and_jump_to_a_lesion(qtbot, contoured) -> None:
    services, _, case_pk = contoured
    propagation = propagation_service(services)
    item = propagation.propose(case_pk, "follow-up 1")
    review = FollowupReview(confirm=lambda i, n, r: propagation.confirm(i, n, replace=r))
    qtbot.addWidget(review)
    # before a proposal the black views say what fills them
    assert review.baseline.hint.isVisible()
    assert review.baseline.hint.toPlainText().startswith("No images yet")
    assert review.baseline.hint.scene() is not None
    assert not review.confirm_button.isEnabled()  # nothing proposed to confirm
    review.show_review(item, propagation.course(case_pk))
    assert not review.baseline.hint.isVisible()
    assert not review.follow_up.hint.isVisible()
    for panel in (review.baseline, review.follow_up):  # the image fills the view again
        (x0, x1), _ = panel.view.viewRange()
        assert x1 - x0 > 100.0  # mm, not the empty view's 0-1
        # the body fills the view, not the air around it (the images were small): the
        # view holds the body's box and, along the axis its aspect binds, not much more
        _, rows, columns = panel.volume.shape
        _, dy, dx = panel.volume.spacing_mm
        (row0, row1), (column0, column1) = body_extent(panel.volume.voxels)
        _, (y0, y1) = panel.view.viewRange()
        assert x0 <= column0 * dx
        assert y0 <= row0 * dy
        assert x1 >= column1 * dx
        assert y1 >= row1 * dy
        bound = min((x1 - x0) / (columns * dx), (y1 - y0) / (rows * dy))
        assert bound < 0.95
    assert "Registered" in review.quality.text()
    # one scale for both visits: the two views span the same millimetres
    (bx, by), (fx, fy) = review.baseline.view.viewRange(), review.follow_up.view.viewRange()
    assert bx[1] - bx[0] == pytest.approx(fx[1] - fx[0], rel=1e-6)
    assert by[1] - by[0] == pytest.approx(fy[1] - fy[0], rel=1e-6)
    table = review.table
    headings = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headings[2] == "Baseline (mm)"  # timepoint labels as headings, capitalised
    assert review.follow_up.title.text().startswith("Follow-up 1, proposed contours")
    # The patient lies 4 mm further along +z at follow-up 1 (5 mm slices): the same
    # anatomy is one slice further on, not the same slice index.
    review.slider.setValue(17)
    assert review.baseline.index == 17
    assert review.follow_up.index == 18
    review.table.selectRow(0)  # F1
    assert review.table.item(0, 0).text() == "F1"
    base_masks = dict(item.baseline_masks)
    assert base_masks["F1"][review.baseline.index].any()
    f1 = next(p for p in item.proposals if p.name == "F1")
    assert f1.mask[review.follow_up.index].any()
    assert review.follow_up.marker.data.size == 1
    # Uncheck F7, confirm: F1 and F4 are stored at follow-up 1.
    review.table.item(2, 0).setCheckState(review.table.item(2, 0).checkState().Unchecked)
    with qtbot.waitSignal(review.confirmed):
        review.confirm_button.click()
    stored = {
        m.lesion.name
        for m in services.contouring.masks_of_case(case_pk)
        if m.segmentation.timepoint_pk == item.follow_up.pk
    }
    assert stored == {"F1", "F4"}
    review.close()


def _at(services: Any, case_pk: int, timepoint_pk: int) -> dict[str, Any]:
    return {
        m.lesion.name: m
        for m in services.contouring.masks_of_case(case_pk)
        if m.segmentation.timepoint_pk == timepoint_pk
    }


def test_proposing_again_keeps_a_contour_corrected_by_hand_unless_replaced(
    qtbot, contoured
) -> None:
    """Proposing a follow-up again must not silently overwrite its stored contours."""
    services, _, case_pk = contoured
    propagation = propagation_service(services)
    first = propagation.propose(case_pk, "follow-up 1")
    propagation.confirm(first, ["F1", "F4"])
    # the radiologist corrects F1 at follow-up 1 by hand (a few voxels trimmed)
    f1 = _at(services, case_pk, first.follow_up.pk)["F1"]
    corrected = f1.mask.copy()
    corrected[tuple(np.argwhere(corrected)[:5].T)] = False
    services.contouring.write_contours(
        case_pk, first.follow_up.pk, f1.segmentation.series_uid, None,
        [ContourWrite("F1", "focus", corrected, "manual", None, f1.segmentation.version)],
    )  # fmt: skip
    item = propagation.propose(case_pk, "follow-up 1")
    questions: list[str] = []
    answers = [False, True]
    review = FollowupReview(
        confirm=lambda i, n, r: propagation.confirm(i, n, replace=r), course=propagation.course
    )
    qtbot.addWidget(review)
    review.ask = lambda title, text: questions.append(text) or answers.pop(0)
    review.show_review(item, propagation.course(case_pk))
    rows = {review.table.item(r, 0).text(): r for r in range(review.table.rowCount())}
    checked = Qt.CheckState.Checked
    # F1 and F4 already have contours there: unchecked, and the row says why
    assert [n for n, r in rows.items() if review.table.item(r, 0).checkState() == checked] == ["F7"]
    notes = review.table.item(rows["F1"], review.table.columnCount() - 1).text()
    assert notes.startswith("Stored contour: edited by hand, radiologist, ")
    assert "check the row to replace it" in notes
    # confirming the checked rows stores F7 and keeps F1 and F4 untouched, without asking
    with qtbot.waitSignal(review.confirmed) as signal:
        review.confirm_button.click()
    assert questions == []
    assert signal.args[0].confirmed == ("F7",)
    now = _at(services, case_pk, item.follow_up.pk)
    assert set(now) == {"F1", "F4", "F7"}
    assert np.array_equal(now["F1"].mask, corrected)
    # the rows now say what is stored, F7 included, and its follow-up value is shown
    assert all(
        review.table.item(r, 0).checkState() == Qt.CheckState.Unchecked for r in rows.values()
    )
    f7_notes = review.table.item(rows["F7"], review.table.columnCount() - 1).text()
    assert f7_notes.startswith("Stored contour: automatic contour, radiologist, ")
    headings = [review.table.horizontalHeaderItem(c).text() for c in range(4)]
    assert headings[3] == "Follow-up 1 (mm)"
    assert review.table.item(rows["F7"], 3).text() != "—"
    # checking F1 asks first; "No" stores nothing
    review.table.item(rows["F1"], 0).setCheckState(checked)
    version = now["F1"].segmentation.version
    review.confirm_button.click()
    assert len(questions) == 1
    assert questions[0].startswith("F1 already has a contour at follow-up 1")
    assert review.status.text().startswith("Nothing stored")
    assert _at(services, case_pk, item.follow_up.pk)["F1"].segmentation.version == version
    # "Yes" replaces it with the proposal
    with qtbot.waitSignal(review.confirmed):
        review.confirm_button.click()
    replaced = _at(services, case_pk, item.follow_up.pk)["F1"]
    proposal = next(p for p in item.proposals if p.name == "F1")
    assert np.array_equal(replaced.mask, proposal.mask)
    assert review.status.text() == "Stored 1 contour(s) at follow-up 1."
    review.close()


def test_a_contour_saved_after_the_proposal_is_not_overwritten(qtbot, contoured) -> None:
    services, _, case_pk = contoured
    propagation = propagation_service(services)
    item = propagation.propose(case_pk, "follow-up 2", lesions=["F4"])
    review = FollowupReview(confirm=lambda i, n, r: propagation.confirm(i, n, replace=r))
    qtbot.addWidget(review)
    review.show_review(item, propagation.course(case_pk))
    # meanwhile someone contours F4 at follow-up 2 in the Plan workspace
    proposal = item.proposals[0]
    drawn = proposal.mask.copy()
    drawn[tuple(np.argwhere(drawn)[:3].T)] = False
    services.contouring.write_contours(
        case_pk, item.follow_up.pk, item.follow_up_series_uid, None,
        [ContourWrite("F4", "focus", drawn, "manual", None, None)],
    )  # fmt: skip
    review.confirm_button.click()  # F4 was checked: nothing stored there then
    assert review.status.text().startswith("Nothing stored: ")
    assert np.array_equal(_at(services, case_pk, item.follow_up.pk)["F4"].mask, drawn)
    review.close()


def _notes(plot: Any) -> list[str]:
    return [i.toPlainText() for i in plot.getPlotItem().items if isinstance(i, pg.TextItem)]


def _assert_empty(plot: Any, text: str) -> None:
    """Both scales hidden, the reason the only item, in the middle of the view."""
    item = plot.getPlotItem()
    assert not item.getAxis("left").isVisible()
    assert not item.getAxis("bottom").isVisible()
    assert [i.toPlainText() for i in item.items] == [text]
    x_range, y_range = item.vb.viewRange()
    assert item.items[0].pos().x() == pytest.approx(sum(x_range) / 2)
    assert item.items[0].pos().y() == pytest.approx(sum(y_range) / 2)


def _assert_drawn(plot: Any, text: str, bars: int = 0) -> None:
    """Scales back, the reason gone, the range fitted to the data (not the empty 0-1).

    ``bars``: a waterfall's count of bars, whose axis is set to hold them all.
    """
    item = plot.getPlotItem()
    assert item.getAxis("left").isVisible()
    assert item.getAxis("bottom").isVisible()
    assert text not in _notes(plot)
    auto_x, auto_y = item.vb.autoRangeEnabled()
    assert auto_y  # the empty view's fixed 0-1 range released
    if bars:
        left, right = item.vb.viewRange()[0]
        assert left < 0.0
        assert right > bars - 1
    else:
        assert auto_x


def test_spider_plot_draws_each_followed_lesion_and_exports(
    qtbot, contoured, tmp_path: Path
) -> None:
    services, _, case_pk = contoured
    propagation = propagation_service(services)
    unmeasured = propagation.course(case_pk)
    propagation.confirm(propagation.propose(case_pk, "follow-up 1", lesions=["F4", "F7"]))
    course = propagation.course(case_pk)
    assert [t.label for t in course.timepoints] == ["baseline", "follow-up 1"]
    f4 = next(c for c in course.lesions if c.name == "F4")
    assert f4.diameter_change_percent[0] == 0.0
    assert f4.diameter_change_percent[1] == pytest.approx(
        100 * (f4.diameters_mm[1] / f4.diameters_mm[0] - 1)
    )
    plot = SpiderPlot()
    qtbot.addWidget(plot)
    # before any follow-up is measured: no 0-1 scale of days, the reason in the middle
    plot.show_course(unmeasured)
    _assert_empty(plot.plot, NO_LINES)
    plot.show_course(course)
    assert set(plot.lines) == {"F4", "F7"}  # F1 has no follow-up value: no line
    _assert_drawn(plot.plot, NO_LINES)
    x, y = plot.lines["F4"].getData()
    # days from day 0 (the demo's planned TACE: none performed), as the case report counts
    assert course.day_zero == "planned TACE (none performed)"
    assert course.days[0] < 0 < course.days[1]  # the baseline CT comes before the TACE
    assert list(x) == list(course.days)
    assert plot.plot.getAxis("bottom").labelText == (
        "Days from day 0: the planned TACE (none performed)"
    )
    assert np.allclose(y, f4.diameter_change_percent)
    png = plot.export_png(tmp_path / "spider.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot.close()


def test_follow_up_page_proposes_off_the_gui_thread(qtbot, contoured) -> None:
    from tace_planner.ui.followup_review import FollowupReviewPage
    from tace_planner.ui.tasks import TaskRunner

    services, _, case_pk = contoured
    runner = TaskRunner()
    page = FollowupReviewPage(services.propagation, runner, services.cases.list_cases)
    qtbot.addWidget(page)
    page.set_case(case_pk)
    assert [page.timepoints.itemText(i) for i in range(page.timepoints.count())] == [
        "follow-up 1", "follow-up 2", "follow-up 3"
    ]  # fmt: skip
    page.timepoints.setCurrentIndex(2)
    page.propose()
    qtbot.waitUntil(lambda: page.review.item is not None, timeout=60_000)
    assert page.review.item.follow_up.label == "follow-up 3"
    assert page.review.quality.text().startswith("Registered")
    assert page.message.text().startswith("Follow-up 3: 3 of 3 lesion(s) found")
    assert page.review.table.rowCount() == 3
    page.review.confirm_button.click()
    assert {line for line in page.spider.lines} == {"F1", "F4", "F7"}
    page.propose()  # again: the page says that the stored contours are kept
    qtbot.waitUntil(lambda: "already contoured" in page.message.text(), timeout=60_000)
    assert page.message.text().endswith(
        "3 already contoured there: unchecked, so their contours are kept."
    )
    # the waterfall's sum is the RECIST 1.1 sum of the targets: none chosen, no bar
    page.tabs.setCurrentWidget(page.waterfall)
    assert page.waterfall.order == []
    # the reason counted as the Cohort page counts it (services.cohort.waterfall_left_out)
    assert page.waterfall.note.text() == "0 case(s); 1 left out: 1 case without target lesions."
    for proposal in page.review.item.proposals:
        if proposal.name in ("F1", "F4"):
            services.contouring.lesions.update_lesion(proposal.lesion_pk, is_target=True)
    page.tabs.setCurrentWidget(page.spider)
    page.tabs.setCurrentWidget(page.waterfall)  # the cohort: the demo case alone
    assert len(page.waterfall.order) == 1
    assert page.waterfall.order[0].startswith("TACE-DEMO-001")
    assert runner.shutdown()
    page.close()
    page.set_case(None)
    assert not page.propose_button.isEnabled()
    # another case (here none): the last case's images and proposals are gone
    assert page.review.item is None
    assert page.review.table.rowCount() == 0
    assert page.review.baseline.hint.isVisible()
    assert page.review.baseline.volume is None
    assert not page.review.confirm_button.isEnabled()


def test_waterfall_sorts_cases_and_colours_groups(qtbot, tmp_path: Path) -> None:
    from tace_planner.services.propagation import BestChange
    from tace_planner.ui.panels.waterfall_plot import MIN_SLOTS, WaterfallPlot

    changes = [
        BestChange(1, "A", -45.0, -80.0),
        BestChange(2, "B", 12.0, 40.0),
        BestChange(3, "C", None, None),
        BestChange(4, "D", -10.0, -20.0),
    ]
    plot = WaterfallPlot()
    qtbot.addWidget(plot)
    _assert_empty(plot.plot, NO_BARS)  # no 0-1 scale of "cases" before there are any
    plot.show_changes(changes[2:3])
    _assert_empty(plot.plot, NO_BARS)
    assert "1 left out (without target lesions" in plot.note.text()
    plot.show_changes(changes, groups={"A": "immediate", "B": "delayed", "D": "immediate"})
    _assert_drawn(plot.plot, NO_BARS, bars=3)
    assert plot.order == ["B", "D", "A"]
    assert plot.heights == [12.0, -10.0, -45.0]
    assert "1 left out (without target lesions" in plot.note.text()
    assert plot.legend.isVisible()
    plot.show_changes(changes, "volume_percent")
    assert plot.heights == [40.0, -20.0, -80.0]
    # one case without groups: a bar among room for more, no "cases" legend, no SI scale
    plot.resize(900, 500)
    plot.show_changes(changes[:1])
    left, right = plot.plot.getViewBox().viewRange()[0]
    assert right - left >= MIN_SLOTS
    assert left < 0.0 < right
    assert not plot.legend.isVisible()
    # a change of a few thousandths of a percent: the scale still reads in percent
    plot.show_changes([BestChange(5, "E", -0.004, -0.004), BestChange(6, "F", 0.002, 0.002)])
    plot.plot.getAxis("left").updateAutoSIPrefix()
    assert "x0.001" not in plot.plot.getAxis("left").labelString()
    assert plot.export_png(tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"
    plot.close()


def test_the_timeline_shows_a_follow_up_once_its_contours_are_confirmed(qtbot, contoured) -> None:
    """The timeline lives outside the review: confirming must redraw it (it stayed stale)."""
    from tace_planner.ui.tasks import TaskRunner
    from tace_planner.ui.workspaces.followup_page import FollowupPage

    services, _, case_pk = contoured
    runner = TaskRunner()
    page = FollowupPage(services, runner)
    qtbot.addWidget(page)
    try:
        page.show_case(case_pk)

        def volumes() -> dict[str, float | None]:
            assert page.timeline._data is not None
            return {p.label: p.total_volume_cm3 for p in page.timeline._data.points}

        assert volumes()["follow-up 1"] is None  # nothing measured there yet
        assert "total volume" not in page.timeline.hover_text(
            next(p.on for p in page.timeline._data.points if p.label == "follow-up 1")
        )
        review = page.review
        review.timepoints.setCurrentIndex(review.timepoints.findText("follow-up 1"))
        review.propose()
        qtbot.waitUntil(lambda: review.review.item is not None, timeout=60_000)
        with qtbot.waitSignal(review.review.confirmed):
            review.review.confirm_button.click()
        measured = volumes()["follow-up 1"]
        assert measured is not None
        assert measured > 0
        day = next(p.on for p in page.timeline._data.points if p.label == "follow-up 1")
        assert f"total volume {measured:.1f} cm³" in page.timeline.hover_text(day)
    finally:
        assert runner.shutdown(timeout_ms=5_000)


def test_the_spider_plots_legend_lies_beside_the_lines(qtbot) -> None:
    """Inside the view, seven foci in one column ran down over the lines' common start and
    hid the last; a box at the top hid the response labels."""
    from types import SimpleNamespace

    points = [SimpleNamespace(label="baseline"), SimpleNamespace(label="follow-up 1")]
    lesions = [
        SimpleNamespace(name=f"F{n}", diameter_change_percent=[0.0, -3.0 * n]) for n in range(1, 8)
    ]
    plot = SpiderPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 500)
    plot.show()
    plot.show_course(
        SimpleNamespace(timepoints=points, days=[0, 70], lesions=lesions), {"follow-up 1": "SD"}
    )
    qtbot.wait(50)
    legend = plot.legend
    assert [label.text for _, label in legend.items] == [f"F{n}" for n in range(1, 8)]
    view = plot.plot.getPlotItem().vb.sceneBoundingRect()
    box = legend.sceneBoundingRect()
    assert 0 < box.height() < 0.6 * view.height()  # as tall as its entries, not the plot
    assert box.left() >= view.right() - 1.0  # beside the view box, covering nothing drawn
    assert view.width() > 0.7 * plot.plot.width()  # the lines keep most of the width
    plot.show_course(SimpleNamespace(timepoints=points, days=[0, 70], lesions=lesions[:2]))
    assert [label.text for _, label in legend.items] == ["F1", "F2"]  # redrawn, not added
