"""The Follow-up page's waterfall counts why each case has no bar, as the Cohort page does
(``services.cohort.waterfall_left_out`` / ``left_out_summary``; pytest-qt, offscreen).

It said one generic reason ("without target lesions, or …") for every case left out,
whatever each lacked.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("PySide6")

from tace_planner.services.contouring_dto import TimepointChoice
from tace_planner.services.propagation import BestChange, CaseCourse, LesionCourse

POINTS = (
    TimepointChoice(1, "baseline", "baseline", dt.date(2026, 3, 2)),
    TimepointChoice(2, "follow-up 1", "follow_up", dt.date(2026, 5, 11)),
)


def _lesion(diameters: tuple[float | None, ...], *, target: bool) -> LesionCourse:
    volumes = tuple(None if d is None else d / 10 for d in diameters)
    return LesionCourse(1, "F1", diameters, volumes, (None, None), (None, None), target)


class _Cohort:
    """Case 1 has a bar; cases 2 and 3 no follow-up measured; case 4 no target lesion."""

    def __init__(self) -> None:
        self.courses = {
            1: (_lesion((30.0, 20.0), target=True),),
            2: (_lesion((30.0, None), target=True),),
            3: (_lesion((25.0, None), target=False),),
            4: (_lesion((30.0, 20.0), target=False),),
        }

    def best_changes(self, case_pks: list[int]) -> list[BestChange]:
        return [BestChange(pk, str(pk), -33.3 if pk == 1 else None, None) for pk in case_pks]

    def course(self, case_pk: int) -> CaseCourse:
        return CaseCourse(case_pk, POINTS, (0, 70), self.courses[case_pk])


def _page(qtbot: Any, propagation: _Cohort) -> Any:
    from tace_planner.ui.workspaces.followup_page import FollowupReviewPage

    cases = [SimpleNamespace(pk=pk, patient_id=f"P{pk}", title="TACE") for pk in range(1, 5)]
    page = FollowupReviewPage(propagation, SimpleNamespace(), lambda: cases)
    qtbot.addWidget(page)
    return page


def test_each_reason_is_counted_for_the_cases_without_a_bar(qtbot: Any) -> None:
    page = _page(qtbot, _Cohort())
    page.show_waterfall()
    assert page.waterfall.order == ["P1 · TACE"]
    assert page.waterfall.note.text() == (
        "1 case(s); 3 left out: 2 cases without a follow-up measurement, 1 without target lesions."
    )
