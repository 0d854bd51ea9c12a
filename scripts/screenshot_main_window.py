"""Render the main window on the demo case to a PNG (for the README).

Usage: python scripts/screenshot_main_window.py [OUT.png] [--data-dir DIR] [--phantom-size full]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    """Prepare the demo, open the window, wait for the first CT, save the picture."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/main-window.png"))
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "tace-screenshot"
    )
    parser.add_argument("--phantom-size", choices=["small", "full"], default="full")
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, Qt
    from PySide6.QtWidgets import QApplication

    from tace_planner.domain.progress import run_sync
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.settings import AppSettings
    from tace_planner.ui.main_window import MainWindow

    services = open_services(AppSettings(args.data_dir, None, "screenshot"))
    demo = run_sync(
        prepare_demo(
            services.studies,
            services.cases,
            services.settings.demo_dir,
            size=args.phantom_size,
            contouring=services.contouring,
        )
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(services)
    window.resize(1600, 900)
    window.show()
    window.select_case(demo.case.pk)
    timer = QElapsedTimer()
    timer.start()
    # Wait for the whole series, not only the preview slices shown first.
    while timer.elapsed() < 60_000 and (
        window.slice_view.slice_count <= 3 or window.progress_bar.isVisible()
    ):
        app.processEvents()
    window.slice_view.show_slice(window.slice_view.slice_count // 2)
    for _ in range(20):
        app.processEvents()
    picture = window.grab().scaledToWidth(1000, Qt.SmoothTransformation)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(str(args.out), "PNG")
    print(f"saved {args.out} ({args.out.stat().st_size // 1024} KiB)")
    window.close()
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
