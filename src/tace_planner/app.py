"""GUI composition root: checks the Qt binding, builds services, opens the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tace_planner import cli

if TYPE_CHECKING:
    from tace_planner.services.bootstrap import Services


def run_gui(services: Services, case_pk: int | None = None) -> int:
    """Open the main window on ``services`` (and ``case_pk`` if given) and run the event loop."""
    from tace_planner.compat import check_qt_binding

    problem = check_qt_binding()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 3
    from PySide6.QtWidgets import QApplication

    from tace_planner.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TACE Planner")
    app.setOrganizationName("tace-planner")
    window = MainWindow(services)
    window.show()
    if case_pk is not None:
        window.select_case(case_pk)
    return int(app.exec())


def render_plan_sheet(plan: Any, path: Path, key_image: Any = None) -> None:
    """Write the one-page PDF plan sheet of ``plan`` (the CLI's ``plan --pdf``), or the
    procedure note when ``plan`` is a ``ProcedureItem`` (``procedure show --pdf``).

    Qt needs a QGuiApplication for fonts; without one (the command line), an
    offscreen one is created for the rendering.

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

    from tace_planner.services.procedure_dto import ProcedureItem
    from tace_planner.ui.plan_sheet import render_plan_pdf
    from tace_planner.ui.procedure_note import render_procedure_pdf

    app = QGuiApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(sys.argv[:1])
    if isinstance(plan, ProcedureItem):  # ``procedure show --pdf``: the procedure note
        render_procedure_pdf(plan, path, key_image)
    else:
        render_plan_pdf(plan, path, key_image)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tace-planner`` and ``python -m tace_planner``."""
    return cli.main(argv, launch_gui=run_gui, render_pdf=render_plan_sheet)
