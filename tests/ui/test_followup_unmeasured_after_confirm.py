"""After *Confirm* the Follow-up page says which lesions are still unmeasured there and
what follows; the follow-up view says its contours are stored; the spider plot names the
foci it leaves out and why (pytest-qt, offscreen).

Seen on the demo at 1366 × 768: F5 "not found" starts unchecked, so the default flow
confirmed 6 of 7 lesions; the message read "Follow-up 1: 6 contour(s) stored…" without
saying F5 was unmeasured, assessing then gave NE for every criterion with the reason far
down; the right-hand view still read "Follow-up 1, proposed contours"; the spider plot said
"6 focus line(s)" and left F5 out in silence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("PySide6")

from test_followup_disappeared_unseen import _F5Gone
from test_followup_unconfirmed import VISIT
from test_followup_unconfirmed import _proposed as _proposed_at_one
from unsaved_questions import answer, leave

from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.propagation import CaseCourse, LesionCourse

SOURCE = "(RECIST 1.1; Eisenhauer et al., Eur J Cancer 2009)"
F5_NE = (
    f"F5 not measured at {VISIT}: the response there is not evaluable (NE) until F5 is "
    f"contoured or confirmed as disappeared {SOURCE}."
)
BASELINE = TimepointChoice(1, "baseline", "baseline", dt.date(2026, 3, 2), name="baseline")
FOLLOW_UP = TimepointChoice(2, "follow-up 1", "follow_up", dt.date(2026, 5, 11), name=VISIT)


def _lesion(name: str, follow_up_mm: float | None, *, target: bool = False) -> LesionCourse:
    change = None if follow_up_mm is None else 100.0 * (follow_up_mm / 20.0 - 1.0)
    return LesionCourse(
        int(name[1:]), name, (20.0, follow_up_mm), (3.0, None), (0.0, change), (0.0, None),
        target,
    )  # fmt: skip


def _course(targets: tuple[str, ...] = ()) -> CaseCourse:
    """F1–F7 measured at baseline, all but F5 at follow-up 1 (16 mm)."""
    lesions = tuple(
        _lesion(f"F{n}", None if n == 5 else 16.0, target=f"F{n}" in targets) for n in range(1, 8)
    )
    return CaseCourse(7, (BASELINE, FOLLOW_UP), (-14, 56), lesions)


class _WithCourse(_F5Gone):
    """F5 not found at follow-up 1; the course after the confirmation of the six others."""

    def __init__(self, targets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.targets = targets

    def course(self, case_pk: int) -> CaseCourse:
        return _course(self.targets) if self.confirmed else CaseCourse(case_pk, (), (), ())


def test_confirm_names_the_lesion_left_unmeasured_and_what_follows(qtbot: Any) -> None:
    page = _proposed_at_one(qtbot, _WithCourse())
    page.review.confirm_button.click()
    assert page.message.text() == (
        f"{VISIT}: 6 contour(s) stored; the table below shows the values stored at this "
        f"follow-up. {F5_NE}"
    )


def test_confirm_in_the_question_says_it_as_well(qtbot: Any) -> None:
    page = _proposed_at_one(qtbot, _WithCourse())
    answer(page, "confirm", "ask_unconfirmed")
    assert leave(page)
    assert page.message.text().endswith(F5_NE)


def test_an_unmeasured_non_target_beside_targets_rules_out_a_complete_response(
    qtbot: Any,
) -> None:
    page = _proposed_at_one(qtbot, _WithCourse(targets=("F1", "F2")))
    page.review.confirm_button.click()
    assert page.message.text().endswith(
        f"F5 (non-target) not measured at {VISIT}: not evaluated, so the response there "
        f"cannot be complete (CR) until F5 is contoured or confirmed as disappeared {SOURCE}."
    )
    assert "(NE)" not in page.message.text()


def test_every_lesion_confirmed_leaves_nothing_to_say(qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    page = _proposed_at_one(qtbot, _WithCourse())
    page.review.table.item(4, 0).setCheckState(Qt.CheckState.Checked)  # F5, looked at
    page.review.confirm_button.click()
    assert "not measured" not in page.message.text()
    assert page.message.text().startswith(f"{VISIT}: 7 contour(s) stored")
    view = page.review.follow_up  # all seven stored, all seven drawn as stored
    assert view.title.text().startswith(f"{VISIT}, stored contours")
    assert len(view.masks) == 7


def test_after_confirm_the_follow_up_view_says_its_contours_are_stored(qtbot: Any) -> None:
    page = _proposed_at_one(qtbot, _WithCourse())
    view = page.review.follow_up
    assert view.title.text().startswith(f"{VISIT}, proposed contours — slice ")
    assert len(view.masks) == 7
    page.review.confirm_button.click()
    assert view.title.text().startswith(f"{VISIT}, stored contours — slice ")
    assert len(view.masks) == 6  # F5, unchecked, was not stored: not drawn as stored


def test_the_spider_plot_names_the_focus_it_leaves_out_and_why(qtbot: Any) -> None:
    from tace_planner.ui.panels.spider_plot import SpiderPlot

    spider = SpiderPlot()
    qtbot.addWidget(spider)
    spider.show_course(_course())
    assert sorted(spider.lines) == ["F1", "F2", "F3", "F4", "F6", "F7"]
    assert spider.note.text().startswith(
        f"6 focus line(s); not drawn — F5: not measured at {VISIT}. Guide lines:"
    )
    spider.show_course(_every_line())
    assert "not drawn" not in spider.note.text()
    assert spider.note.text().startswith("7 focus line(s). Guide lines:")


def _every_line() -> CaseCourse:
    lesions = tuple(_lesion(f"F{n}", 16.0) for n in range(1, 8))
    return CaseCourse(7, (BASELINE, FOLLOW_UP), (-14, 56), lesions)


def test_the_page_s_spider_plot_after_confirm_names_f5(qtbot: Any) -> None:
    page = _proposed_at_one(qtbot, _WithCourse())
    page.review.confirm_button.click()
    assert f"F5: not measured at {VISIT}" in page.spider.note.text()
