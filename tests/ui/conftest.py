"""Shared set-up for the Qt tests: headless platform, the ``ui`` marker, skip without Qt."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
def errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Errors the main window and the procedure panel show, recorded as "title: error"
    instead of a modal message box. A module that wants it for every test says
    ``pytestmark = pytest.mark.usefixtures("errors")``."""
    shown: list[str] = []
    record = lambda parent, title, error: shown.append(f"{title}: {error}")  # noqa: E731
    for module in ("tace_planner.ui.main_window", "tace_planner.ui.panels.procedure_panel"):
        monkeypatch.setattr(f"{module}.show_error", record)
    return shown


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


# --------------------------------------------------------------------------- the demo window
#: The window size of the demo-window fixtures (the issue's smallest laptop screen is 1400 × 860).
DEMO_WINDOW_SIZE = (1400, 900)


@pytest.fixture
def demo_copy(tmp_path: Path, demo_data_dir: Path) -> Path:
    """A private copy of the demo data folder (database and images): the test may write to it."""
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    return data_dir


@pytest.fixture
def contoured_demo_copy(demo_copy: Path) -> Path:
    """The private demo copy with the demo's liver and foci contoured (as File → Open the demo)."""
    from tace_planner.domain.progress import run_sync
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.settings import AppSettings

    services = open_services(AppSettings(data_dir=demo_copy, db_url=None, user="radiologist"))
    try:
        run_sync(
            prepare_demo(
                services.studies,
                services.cases,
                services.settings.demo_dir,
                size="small",
                contouring=services.contouring,
            )
        )
    finally:
        services.close()
    return demo_copy


@pytest.fixture
def open_window(qtbot: QtBot) -> Iterator[Any]:
    """Open main windows on a data folder; each is closed with its services at tear-down.

    ``open_window(data_dir, user="radiologist")`` returns the shown window, with
    ``_test_services`` and ``_test_data_dir`` set; no case is selected yet.
    """
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings
    from tace_planner.ui.main_window import MainWindow

    opened: list[MainWindow] = []

    def open_(data_dir: Path, *, user: str = "radiologist") -> MainWindow:
        services = open_services(AppSettings(data_dir=data_dir, db_url=None, user=user))
        window = MainWindow(services)
        opened.append(window)
        qtbot.addWidget(window)
        window.resize(*DEMO_WINDOW_SIZE)
        window.show()
        window._test_services = services  # type: ignore[attr-defined]
        window._test_data_dir = data_dir  # type: ignore[attr-defined]
        return window

    yield open_
    for window in reversed(opened):
        window.close()
        window._test_services.close()  # type: ignore[attr-defined]


@pytest.fixture
def case_window(open_window: Any, demo_copy: Path) -> Any:
    """The main window on a private demo copy, the demo case selected.

    ``_test_phantom`` holds the phantom's truth (every timepoint, its series and foci).
    """
    import json

    window = open_window(demo_copy)
    window.select_case(window._test_services.cases.list_cases()[0].pk)
    window._test_phantom = json.loads((demo_copy / "demo-phantom" / "truth.json").read_text())
    return window


@pytest.fixture
def window(qtbot: QtBot, case_window: Any) -> Any:
    """:func:`case_window` with the baseline portal-venous CT loaded in the active view.

    ``_test_truth`` holds the baseline timepoint of the phantom's truth. Test files
    whose window differs define a ``window`` fixture of their own.
    """
    baseline = case_window._test_phantom["timepoints"][0]
    venous = next(s["series_uid"] for s in baseline["series"] if s["folder"] == "CT_venous")
    assert case_window.study_tree.select_series(venous)
    view = case_window.slice_view
    qtbot.waitUntil(lambda: view.volume is not None and view.slice_count > 3, timeout=20_000)
    qtbot.waitUntil(lambda: not case_window.progress_bar.isVisible(), timeout=20_000)
    case_window._test_truth = baseline
    return case_window
