"""The window asks the Follow-up page before it closes or shows another case, as it asks the
plan and procedure panels: proposals left unconfirmed were lost without a question
(reviewer, Xvfb). The page's own question is tested in ``test_followup_unconfirmed``; this
checks the window as put together (pytest-qt, offscreen)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")


def test_closing_with_unconfirmed_proposals_asks_and_cancel_keeps_the_window(
    qtbot: Any, open_window: Any, demo_copy: Any
) -> None:
    window = open_window(demo_copy)
    case = window._test_services.cases.list_cases()[0].pk
    window.select_case(case)
    page = window.followup_review
    asked: list[str] = []
    page.unconfirmed_question = lambda: "7 contour proposals at follow-up 1 are not confirmed."
    page.ask_unconfirmed = lambda question: asked.append(question) or "cancel"
    window.close()
    assert asked == ["7 contour proposals at follow-up 1 are not confirmed."]
    assert window.isVisible()
    # with nothing left unconfirmed the window closes without a question
    page.ask_unconfirmed = lambda question: "discard"
    page.unconfirmed_question = lambda: ""
    window.close()
    assert not window.isVisible()
