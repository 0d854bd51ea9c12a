"""GUI composition root: checks the Qt binding, builds services, opens the main window."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tace_planner import cli
from tace_planner.domain.progress import Progress

if TYPE_CHECKING:
    from collections.abc import Callable

    from tace_planner.domain.progress import Task
    from tace_planner.services.bootstrap import Services

WINDOW_CHECK_TIMEOUT_S = 60.0
"""How long ``gui --check-window`` waits for the main window to be shown."""


def run_gui(
    services: Services | Callable[[], Services],
    case_pk: int | None = None,
    *,
    check_window: bool = False,
    demo_size: str | None = None,
) -> int:
    """Open the main window on ``services`` (and ``case_pk`` if given) and run the event loop.

    ``services`` may be a function that opens them (the command line passes one): the
    window is then painted first, empty, while a worker thread opens the database and
    imports the window's parts (pyqtgraph, numpy, pydicom, SQLAlchemy); its content is
    built when they are ready, and the services are closed when the window is.
    The window opens at its saved geometry, docks and workspace, or maximised.
    With ``check_window``, return 0 as soon as the window is shown on the screen
    (exposed) with its content, or 1 after :data:`WINDOW_CHECK_TIMEOUT_S`: a start-up
    check for CI. With ``demo_size`` ("small" or "full"), the demo case is prepared in
    the window's task runner, with progress and *Cancel*, and opened when ready.

    Raises
    ------
    Exception
        Whatever opening the services raised (the command line says it in one line).
    """
    from tace_planner.compat import check_qt_binding, xcb_platform_problem

    problem = check_qt_binding()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 3
    platform_problem = xcb_platform_problem()
    if platform_problem is not None:
        print(f"error: {platform_problem}", file=sys.stderr)
        return 3
    from PySide6.QtWidgets import QApplication

    from tace_planner.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TACE Planner")
    from tace_planner.ui.gc_guard import GuiThreadCollector

    # Reference cycles of Qt objects are freed on the GUI thread only (a collection on
    # a worker thread can deadlock against it; see ui/gc_guard.py).
    app._tace_gc_collector = GuiThreadCollector(app)  # type: ignore[attr-defined]
    app.setOrganizationName("tace-planner")
    window = MainWindow(None)
    opened: list[Services] = []
    failures: list[BaseException] = []

    def on_ready(ready: Services) -> None:
        from tace_planner.services.export.cohort_plots import registry_plots

        opened.append(ready)
        try:
            window.attach(
                ready,
                demo=functools.partial(demo_task, ready),
                cohort=functools.partial(registry_plots, ready),
                export=functools.partial(window_export_task, ready),
            )
        except Exception as error:  # noqa: BLE001 - said in one line by the command line
            on_failed(error)
            return
        if case_pk is not None:
            window.select_case(case_pk)
        if demo_size is not None:
            window.load_demo(demo_size)

    def on_failed(error: BaseException) -> None:
        failures.append(error)
        if not check_window:
            from PySide6.QtWidgets import QMessageBox

            from tace_planner.ui.errors import message_for

            QMessageBox.critical(window, "TACE Planner cannot start", message_for(error))
        app.exit(1)

    window.show_on_screen()
    if callable(services):
        # Painted first, then the worker starts: it would compete for the interpreter.
        app.processEvents()
        window.start_in_background(_opening(services), on_ready, on_failed)
    else:
        on_ready(services)
    if check_window:
        _exit_when_shown(app, window)
    try:
        code = int(app.exec())
    finally:
        if window.isVisible():  # check-window or a failure: closing cancels running tasks
            window.close()
        if callable(services):
            for each in opened:
                each.close()
    if failures:
        raise failures[0]
    return code


def _opening(open_services: Callable[[], Services]) -> Task[Services]:
    """Open the services, then import the window's parts: on a worker, after the first paint."""
    import importlib

    yield Progress(0, 2, "Opening the database")
    services = open_services()
    yield Progress(1, 2, "Preparing the window")
    importlib.import_module("tace_planner.ui.main_window_parts")
    importlib.import_module("tace_planner.services.export.cohort_plots")
    return services


def demo_task(services: Services, size: str = "full") -> Any:
    """The task preparing the demo case (``services.demo.prepare_demo``) for the main window.

    Built here, in the composition root, because the window reaches no service
    module beyond the services it is given.
    """
    from tace_planner.services.demo import prepare_demo

    return prepare_demo(
        services.studies,
        services.cases,
        services.settings.demo_dir,
        size=size,  # type: ignore[arg-type]
        contouring=services.contouring,
    )


def window_export_task(
    services: Services,
    out: Path,
    fmt: str,
    case: int | None,
    deidentify: bool,
    mapping: Path | None,
) -> Any:
    """The export task of File → Export case… / Export cohort… (``export_task`` with the
    PDF case report renderer), built here for the same reason as :func:`demo_task`."""
    from tace_planner.services.export.runner import export_task

    return export_task(
        services, out, fmt, case=case, deidentify=deidentify, mapping=mapping,
        render_pdf=render_plan_sheet,
    )  # fmt: skip


def _exit_when_shown(app: Any, window: Any) -> None:
    """Quit with 0 once ``window`` is exposed on the screen, with 1 after the timeout."""
    import time

    from PySide6.QtCore import QTimer

    deadline = time.monotonic() + WINDOW_CHECK_TIMEOUT_S
    timer = QTimer(window)

    painted: list[bool] = []

    def check() -> None:
        handle = window.windowHandle()
        exposed = window.isVisible() and handle is not None and handle.isExposed()
        if exposed and not painted:
            painted.append(True)
            print("main window painted", flush=True)  # perhaps still opening the database
        if exposed and window.ready:
            timer.stop()
            print(f"main window shown on the {app.platformName()} platform")
            app.exit(0)
        elif time.monotonic() > deadline:
            timer.stop()
            print(
                f"error: the main window was not shown within {WINDOW_CHECK_TIMEOUT_S:.0f} s",
                file=sys.stderr,
            )
            app.exit(1)

    timer.timeout.connect(check)
    timer.start(100)


def render_plan_sheet(plan: Any, path: Path, key_image: Any = None) -> None:
    """Write the one-page PDF plan sheet of ``plan`` (the CLI's ``plan --pdf``), or the
    procedure note when ``plan`` is a ``ProcedureItem`` (``procedure show --pdf``), or the
    case report when it is a ``CaseReport`` (``export --format pdf``), or the cohort plots
    as PNG files into the folder ``path`` when it is ``CohortPlots`` (``cohort tables --png``),
    or as one PDF when that ``path`` ends in ``.pdf`` (``cohort tables --pdf``).

    Qt needs an application object for fonts; without one (the command line), an
    offscreen QApplication is created for the rendering.

    Raises
    ------
    TacePlannerError
        The installed Qt binding is known to crash (docs/adr/0003).
    """
    import os

    from tace_planner.compat import check_qt_binding
    from tace_planner.domain.errors import TacePlannerError

    problem = check_qt_binding()
    if problem is not None:
        raise TacePlannerError(problem)
    from PySide6.QtGui import QGuiApplication

    from tace_planner.services.export.case_report import CaseReport
    from tace_planner.services.export.cohort_plots import CohortPlots
    from tace_planner.services.procedure_dto import ProcedureItem
    from tace_planner.ui.case_report import render_case_report_pdf
    from tace_planner.ui.plan_sheet import render_plan_pdf
    from tace_planner.ui.procedure_note import render_procedure_pdf

    app = QGuiApplication.instance()
    if app is None:
        # A QApplication, not a bare QGuiApplication: plots are widgets, and a process
        # that renders a sheet and later opens a window (or a test run) needs one.
        from PySide6.QtWidgets import QApplication

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
    if isinstance(plan, CohortPlots):
        from tace_planner.ui.workspaces.cohort_page import render_cohort_plots

        render_cohort_plots(plan, path)
    elif isinstance(plan, CaseReport):  # ``export --format pdf``: the case report
        render_case_report_pdf(plan, path)
    elif isinstance(plan, ProcedureItem):  # ``procedure show --pdf``: the procedure note
        render_procedure_pdf(plan, path, key_image)
    else:
        render_plan_pdf(plan, path, key_image)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tace-planner`` and ``python -m tace_planner``."""
    return cli.main(argv, launch_gui=run_gui, render_pdf=render_plan_sheet)
