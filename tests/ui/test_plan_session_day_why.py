"""A session's day and date explain themselves: a *why?* on screen, a line on paper.

Plan v1 (2 lobar sessions) approved, session 1 signed as TACE 1 on 2026-03-16, the
case's planned TACE date: a new plan dates its first session one interval after it
(2026-04-06). The Plan panel's session header had no *why?* for that date (the other
session numbers have one), and the printed sheet's "Why these numbers" did not say why
the first session is not on the date planned. The day's *why?* opens the same box as
the others; the sheet lists the day's explanation when it rests on a treatment
performed, and only then (day = (session − 1) × interval says nothing the table does not).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from plan_panel_open import open_plan_panel
from plan_progress_seed import approve, log_session

pytestmark = [pytest.mark.ui, pytest.mark.db]

RULE = "first session ≥ last treatment performed + interval"


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The explanation boxes opened, as (title, text), instead of a modal box."""
    from tace_planner.ui.panels.plan_results import PlanResultsView

    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(
        PlanResultsView,
        "show_explanation_box",
        staticmethod(lambda parent, title, text: boxes.append((title, text))),
    )
    return boxes


@pytest.fixture
def performed(qtbot: Any, services: Any, planning_case: tuple[Any, int]) -> Any:
    """The Plan panel of the case whose plan v1 has session 1 performed."""
    planning, case_pk = planning_case
    log_session(services, approve(planning, case_pk), 1)
    return open_plan_panel(qtbot, planning, case_pk)


def _day_button(panel: Any, number: int) -> Any:
    from PySide6.QtWidgets import QToolButton

    buttons = [
        b for b in panel.findChildren(QToolButton) if b.objectName() == f"why:session{number}.day"
    ]
    assert len(buttons) == 1, [b.objectName() for b in panel.findChildren(QToolButton)]
    return buttons[0]


def test_the_first_session_date_has_a_why_button_after_a_treatment(
    qtbot: Any, performed: Any, shown: list[tuple[str, str]]
) -> None:
    from PySide6.QtCore import Qt

    panel = performed
    button = _day_button(panel, 1)
    # the same look as the other session numbers' buttons
    beads = panel.why_buttons["session1.beads_ml"]
    assert (button.text(), type(button)) == (beads.text(), type(beads))
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    ((title, text),) = shown
    assert title == "Why this number?"  # the box of every other number
    assert RULE in text
    assert "last treatment performed = 2026-03-16" in text
    assert "day 0 (2026-04-06)" in text
    assert "Szemitko, J Clin Med 2021" in text
    qtbot.mouseClick(_day_button(panel, 2), Qt.MouseButton.LeftButton)
    assert "day 21 (2026-04-27)" in shown[-1][1]


def test_the_day_button_sits_beside_the_day_in_the_session_header(
    qtbot: Any, performed: Any
) -> None:
    from PySide6.QtCore import QPoint, QRect

    panel = performed
    panel.resize(int(1366 * 0.36), 700)
    panel.show()
    qtbot.waitExposed(panel)
    content = panel._scroll.widget()  # laid out once the posted layout requests ran
    qtbot.waitUntil(lambda: content.height() >= content.heightForWidth(content.width()))
    for number, day in ((1, "day 0 · 2026-04-06"), (2, "day 21 · 2026-04-27")):
        header = panel.sessions_grid.itemAtPosition(0, number).widget()
        button = _day_button(panel, number)
        assert header.isVisible()
        assert button.isVisible()
        place = QRect(header.mapFromGlobal(button.mapToGlobal(QPoint(0, 0))), button.size())
        # inside the header, right of its text, on its last line: the day
        assert header.rect().contains(place), (place, header.rect())
        assert place.left() >= header.contentsRect().right(), (place, header.contentsRect())
        line = header.fontMetrics().height()
        assert header.rect().bottom() - place.bottom() <= line, (place, header.rect())
        assert header.text().endswith(day)


def test_without_a_treatment_the_day_explains_the_interval_only(
    qtbot: Any, planning_case: tuple[Any, int], shown: list[tuple[str, str]]
) -> None:
    from PySide6.QtCore import Qt

    from tace_planner.ui.plan_sheet import plan_sheet_html

    panel = open_plan_panel(qtbot, *planning_case)
    qtbot.mouseClick(_day_button(panel, 2), Qt.MouseButton.LeftButton)
    ((_, text),) = shown
    assert "day = (session − 1) × interval" in text
    assert RULE not in text
    # on paper: nothing the sessions table does not say already
    assert "Day of the session" not in plan_sheet_html(panel.proposal)


def test_the_sheet_prints_why_the_first_session_follows_the_treatment(
    services: Any, planning_case: tuple[Any, int]
) -> None:
    from PySide6.QtGui import QTextDocument

    from tace_planner.ui.plan_sheet import plan_sheet_html

    planning, case_pk = planning_case
    log_session(services, approve(planning, case_pk), 1)
    proposal = planning.propose(case_pk)
    document = QTextDocument()
    document.setHtml(plan_sheet_html(proposal))
    text = " ".join(document.toPlainText().split())
    why = text[text.index("Why these numbers") :]
    assert "S1 Day of the session" in why, why
    first = why[why.index("S1 Day of the session") :]
    assert first.startswith(
        "S1 Day of the session, counted from the first one; the first session follows the last "
        f"treatment performed: day = (session − 1) × interval; {RULE} with session = 1, "
        "last treatment performed = 2026-03-16"
    )
    assert "→ day 0 (2026-04-06) [" in first
    assert "→ day 21 (2026-04-27) [" in why  # session 2 rests on the same rule
    assert "Szemitko, J Clin Med 2021" in why[why.index("Sources:") :]
