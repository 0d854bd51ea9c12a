"""GUI composition root: checks the Qt binding, builds services, opens the main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from tace_planner import cli


def run_gui(services: Any, case_pk: int | None = None) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tace-planner`` and ``python -m tace_planner``."""
    return cli.main(argv, launch_gui=run_gui)
