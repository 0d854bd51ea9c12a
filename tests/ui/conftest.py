"""Shared set-up for the Qt tests: headless platform, the ``ui`` marker, skip without Qt."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Before Qt is loaded: the tests never open a window. Set QT_QPA_PLATFORM=xcb (or
# another platform) in the environment to watch them.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from tace_planner.ui.tasks import TaskRunner

_UI_TESTS = Path(__file__).resolve().parent
HAVE_QT = importlib.util.find_spec("PySide6") is not None

if not HAVE_QT:
    # Not pytest.importorskip: for `pytest tests/ui` this conftest is loaded before
    # collection, where a skip aborts the run. Ignoring the files works either way.
    collect_ignore_glob = ["*.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in tests/ui with ``ui`` (the hook sees the whole session)."""
    for item in items:
        if _UI_TESTS in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.ui)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say why the UI tests did not run, so a green run without them is not misread."""
    if not HAVE_QT:
        terminalreporter.write_line("tests/ui skipped: PySide6 is not installed (gui extra)")


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Cycles of Qt objects (a closed window's menus) are freed here, on the GUI thread.

    With automatic collection on, the collector can run on a task's worker thread and
    free them there, which deadlocks against the GUI thread (ui/gc_guard.py); the
    application does the same with a GUI-thread timer.
    """
    import gc

    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.fixture
def task_runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    """A TaskRunner that is shut down (all tasks cancelled and joined) at tear-down."""
    from tace_planner.ui.tasks import TaskRunner

    runner = TaskRunner()
    yield runner
    assert runner.shutdown(timeout_ms=5_000), "a task did not stop within 5 s"


@pytest.fixture
def planning_case(services: object) -> tuple[object, int]:
    """The real ``PlanningService`` on a temporary SQLite with the phantom's baseline case.

    The case holds the phantom's exact baseline truth (liver and seven foci) as
    measurement rows, and the patient inputs of the worked examples.
    """
    from planning_seed import PATIENT_INPUTS, seed_case
    from tace_planner.services.planning import PlanningService

    case_pk = seed_case(services)
    planning = PlanningService(
        services.session_factory,  # type: ignore[attr-defined]
        "dr ui",
        protocol=services.protocol,  # type: ignore[attr-defined]
    )
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    return planning, case_pk
