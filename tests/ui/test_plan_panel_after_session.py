"""The Plan panel once session 1 of the approved plan is performed (pytest-qt, offscreen).

Plan v1 (2 lobar sessions, 200 mg) approved, session 1 signed as TACE 1 on 2026-03-16,
the case's planned TACE date. A review at 1366 × 768 found:

1. the box naming the plan under way sat below the patient inputs and plan options,
   off screen until one scrolled: it is now the first thing in the panel, above the
   inputs, wrapping its text, the inputs keeping their height;
2. the banner "This plan makes 3 treatments in the course" now says "(1 performed, 2 in
   this plan)";
3. the new proposal's first session was dated on the day TACE 1 was performed: it is
   one interval later, and hovering the session's date tells why;
4. *Save draft* stayed disabled on a proposal equal to an approved version, which the
   service stores as a new draft (the way to approve it again): it is enabled and its
   tooltip says what it stores; the same proposal a second time stores nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from plan_progress_seed import approve, log_session

pytestmark = [pytest.mark.ui, pytest.mark.db]

DOCK_AT_1366 = (int(1366 * 0.36), 560)
"""The plan dock on a 1366 × 768 screen: its share of the width, the height under the bars."""


def _panel(qtbot: Any, planning: Any, case_pk: int) -> Any:
    from tace_planner.ui.panels.plan_panel import PlanPanel

    widget = PlanPanel(planning)
    qtbot.addWidget(widget)
    widget.set_case(case_pk)
    return widget


@pytest.fixture
def performed(services: Any, planning_case: tuple[Any, int]) -> tuple[Any, int]:
    """The case with plan v1 approved and its session 1 performed."""
    planning, case_pk = planning_case
    log_session(services, approve(planning, case_pk), 1)
    return planning, case_pk


def test_the_plan_under_way_is_read_first_without_scrolling(
    qtbot: Any, performed: tuple[Any, int]
) -> None:
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QGroupBox

    panel = _panel(qtbot, *performed)
    panel.resize(*DOCK_AT_1366)
    panel.show()
    qtbot.waitExposed(panel)
    content = panel._scroll.widget()  # laid out once the posted layout requests ran
    qtbot.waitUntil(lambda: content.height() >= content.heightForWidth(content.width()))
    box, viewport = panel.progress_label, panel._scroll.viewport()
    assert box.isVisible()
    assert panel._scroll.verticalScrollBar().value() == 0
    # wholly inside the part of the panel shown before any scrolling
    where = QRect(box.mapTo(viewport, QPoint(0, 0)), box.size())
    assert viewport.rect().contains(where), (where, viewport.rect())
    groups = {g.title(): g for g in panel.findChildren(QGroupBox)}
    for title in ("Patient", "Plan options"):
        assert box.geometry().bottom() < groups[title].geometry().top(), title
        # the inputs keep the height they need (the panel scrolls instead)
        assert groups[title].height() >= groups[title].minimumSizeHint().height(), title
    # the text wraps in the dock's width and is not cut off
    assert box.wordWrap()
    assert box.width() <= viewport.width()
    assert box.height() >= box.heightForWidth(box.width())


def test_the_count_warning_says_one_treatment_was_performed(
    qtbot: Any, performed: tuple[Any, int]
) -> None:
    panel = _panel(qtbot, *performed)
    texts = [banner.text() for banner in panel.banners]
    assert any(
        "This plan makes 3 treatments in the course (1 performed, 2 in this plan);" in text
        for text in texts
    ), texts


def test_the_first_session_is_dated_after_the_treatment_and_says_why(
    qtbot: Any, performed: tuple[Any, int]
) -> None:
    panel = _panel(qtbot, *performed)
    header = panel.sessions_grid.itemAtPosition(0, 1).widget()
    assert "day 0 · 2026-04-06" in header.text()
    assert "2026-03-16" not in header.text()
    tip = header.toolTip()
    assert "last treatment performed = 2026-03-16" in tip
    assert "first session ≥ last treatment performed + interval" in tip
    assert "Szemitko, J Clin Med 2021" in tip
    assert "day 21 · 2026-04-27" in panel.sessions_grid.itemAtPosition(0, 2).widget().text()


def test_save_draft_after_an_approval_stores_a_draft_of_its_inputs_once(
    qtbot: Any, planning_case: tuple[Any, int]
) -> None:
    planning, case_pk = planning_case
    panel = _panel(qtbot, planning, case_pk)
    approved = approve(planning, case_pk)
    panel.set_case(case_pk)
    version = approved.plan_version
    assert panel.save_draft_button.isEnabled()
    assert panel.save_draft_button.toolTip().startswith(
        f"Stores a new draft with the inputs of approved plan v{version};"
    )
    draft = panel.save_draft()
    assert draft is not None
    assert (draft.status, draft.plan_version) == ("draft", version + 1)
    assert not panel.save_draft_button.isEnabled()
    assert panel.save_draft_button.toolTip() == f"Nothing changed since v{version + 1} was saved."
    assert panel.save_draft() is None
    assert [p.plan_version for p in planning.list_plans(case_pk)] == [version, version + 1]
