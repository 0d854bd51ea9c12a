"""The status bar's *Cancel* and *Case → New case…* with unsaved input (pytest-qt, offscreen).

The status bar's *Cancel* also stops the Follow-up page's "Propose contours"; it said
"Loading cancelled" over the viewer then, though no series was loading. A new case was
created before the unsaved-input question was asked (when it was selected), so *Cancel*
left a case that the window did not show. The question is answered by replacing the
panels' ``ask_unsaved`` and the New case dialog by patching its ``ask``, never by a modal.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from followup_seed import add_case

pytest.importorskip("PySide6")

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.usefixtures("errors")]

D = dt.date


def _slow_load(started: threading.Event, closed: threading.Event) -> Iterator[Any]:
    """A series load in many short steps; says when it started and when it was closed."""
    from tace_planner.domain.progress import Progress

    started.set()
    try:
        for n in range(500):
            yield Progress(n, 500, "Reading pixels")
            time.sleep(0.02)
    finally:
        closed.set()


@pytest.fixture
def window(qtbot: Any, services: Any, errors: list[str]) -> Iterator[Any]:
    from tace_planner.ui.main_window import MainWindow

    main = MainWindow(services)
    qtbot.addWidget(main)
    main.resize(1600, 1000)
    main.show()
    yield main
    assert errors == []
    main.close()


def test_cancelling_a_proposal_leaves_the_viewer_title_and_a_load_is_still_cancelled(
    qtbot: Any, window: Any
) -> None:
    from test_propose_cancel import READY, _SlowPropagation

    window.enter_workspace("follow_up")
    title = window.view_title.text()
    review = window.followup_page.review
    review._propagation = propagation = _SlowPropagation(steps=500, step_s=0.02)
    review._choices = lambda case_pk: [READY]
    review._contouring = None  # nothing stored to show
    review.set_case(7)
    review.propose()
    assert propagation.in_step.wait(5.0)  # a task cancelled before it starts is never closed
    assert window.cancel_button.isVisible()
    window.cancel_button.click()
    assert propagation.closed.wait(2.0)
    assert review.message.text() == "Cancelled: nothing was proposed."
    assert window.view_title.text() == title  # no series was loading
    assert window.view_title.text() != "Loading cancelled"

    # A series load running: the same Cancel stops it and says so over the viewer.
    started, closed = threading.Event(), threading.Event()
    provider = window.viewer.provider
    load_series = lambda uid, part: _slow_load(started, closed)  # noqa: E731
    provider._services = SimpleNamespace(studies=SimpleNamespace(load_series=load_series))
    window.enter_workspace("plan")
    provider.request("1.2.3", "", title="slow series")
    assert started.wait(5.0)
    assert provider.busy
    assert window.cancel_button.isVisible()
    window.cancel_button.click()
    assert not provider.busy
    assert window.view_title.text() == "Loading cancelled"
    assert closed.wait(2.0)
    assert not window.cancel_button.isVisible()


@pytest.fixture
def case_window(window: Any, services: Any) -> Any:
    """The window on patient N1's case, with patient inputs typed in the plan, not saved."""
    case_pk = add_case(services.session_factory, "N1", baseline_on=D(2026, 3, 2))
    window.refresh_cases()
    window.select_case(case_pk)
    assert window._case_pk == case_pk
    panel = window.plan_panel
    panel.field_edits["weight_kg"].setText("75")
    panel.field_edits["bilirubin_mg_dl"].setText("1.4")
    assert panel.inputs_unsaved()
    window._test_case = case_pk
    return window


def _record(window: Any, monkeypatch: pytest.MonkeyPatch, answer: str) -> list[str]:
    """What is asked, in order: the unsaved-input question (answered ``answer``) and the
    New case dialog (answered with a case titled "Second course")."""
    from tace_planner.ui.dialogs.new_case_dialog import NewCaseChoice, NewCaseDialog

    asked: list[str] = []
    window.plan_panel.ask_unsaved = lambda what: asked.append("unsaved") or answer
    choice = NewCaseChoice("Second course", None, "")

    def ask_new_case(cls: Any, *args: Any, **kwargs: Any) -> NewCaseChoice:
        asked.append("new case")
        return choice

    monkeypatch.setattr(NewCaseDialog, "ask", classmethod(ask_new_case))
    return asked


def test_cancel_on_unsaved_input_creates_no_new_case(
    case_window: Any, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = [case.pk for case in services.cases.list_cases()]
    asked = _record(case_window, monkeypatch, "cancel")
    case_window.new_case_action.trigger()
    assert asked == ["unsaved"]  # the New case dialog is not shown
    assert [case.pk for case in services.cases.list_cases()] == before
    assert case_window._case_pk == case_window._test_case
    assert case_window.plan_panel.field_edits["weight_kg"].text() == "75"


def test_discard_asks_once_before_the_dialog_then_shows_the_new_case(
    case_window: Any, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _record(case_window, monkeypatch, "discard")
    case_window.new_case_action.trigger()
    assert asked == ["unsaved", "new case"]  # asked first, and not again when it is selected
    created = [case for case in services.cases.list_cases() if case.title == "Second course"]
    assert len(created) == 1
    assert case_window._case_pk == created[0].pk
    assert case_window.context.case.pk == created[0].pk
    assert case_window.plan_panel._case_pk == created[0].pk
