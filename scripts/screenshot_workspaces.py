"""Render every workspace of the main window on the demo case at several screen sizes.

Usage: python scripts/screenshot_workspaces.py OUT_DIR [--sizes 1400x860 1600x1000 1920x1080]
       [--data-dir DIR] [--phantom-size full]

Run it under Xvfb on xcb to see what a real screen shows, e.g.
``xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb python scripts/...``.
Each picture is ``OUT_DIR/<workspace>-<width>x<height>.png``. The README's pictures:
``--sizes 1600x1000 --workspaces plan follow_up --propose --scale-width 1000`` (plan, the
main window) and ``--scale-width 1200`` (follow_up, the Follow-up page).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


DEMO_PATIENT_INPUTS = {
    "height_cm": 175,
    "weight_kg": 70,
    "bilirubin_mg_dl": 0.8,
    "ecog": 1,
    "ugt1a1_status": "normal",
    "extrahepatic_disease": False,
    "ia_lidocaine_planned": True,
}


def show_follow_up(window: Any, settle: Any, propose: bool) -> None:
    """Every follow-up in the worklist; with ``propose``, the first follow-up's proposals."""
    window.worklist_panel.set_category("all")
    review = window.followup_review
    if propose and review.review.item is None and review.propose_button.isEnabled():
        review.propose()
        for _ in range(1200):  # up to five minutes for the registration
            settle(250)
            if review.review.item is not None:
                break


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> int:
    """Prepare the demo, then for each size open a window, enter each workspace, save it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument(
        "--sizes", type=_size, nargs="+", default=[(1400, 860), (1600, 1000), (1920, 1080)]
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "tace-screenshot"
    )
    parser.add_argument("--phantom-size", choices=["small", "full"], default="full")
    parser.add_argument("--workspaces", nargs="+", default=None)
    parser.add_argument(
        "--scale-width", type=int, default=0, help="save pictures this wide (0: as on screen)"
    )
    parser.add_argument(
        "--propose",
        action="store_true",
        help="register the first follow-up and show its proposals (minutes on a busy machine)",
    )
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, QSettings, Qt
    from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea

    from tace_planner.domain.progress import run_sync
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.export.cohort_plots import registry_plots
    from tace_planner.services.settings import AppSettings
    from tace_planner.ui.main_window import MainWindow
    from tace_planner.ui.workspaces import WORKSPACES

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
    # The patient inputs a clinician enters before planning: the plan then proposes sessions.
    services.planning.set_clinical_inputs(demo.case.pk, **DEMO_PATIENT_INPUTS)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from tace_planner.ui.gc_guard import GuiThreadCollector

    # As the application does: cycles of Qt objects are freed on the GUI thread only.
    collector = GuiThreadCollector(app)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    keys = args.workspaces or [w.key for w in WORKSPACES]

    def settle(ms: int) -> None:
        timer = QElapsedTimer()
        timer.start()
        while timer.elapsed() < ms:
            app.processEvents()

    for width, height in args.sizes:
        layout = QSettings(str(args.out_dir / "window.ini"), QSettings.Format.IniFormat)
        layout.clear()  # a first start: no saved layout
        window = MainWindow(
            services,
            layout_settings=layout,
            cohort=functools.partial(registry_plots, services),
        )
        window.resize(width, height)
        window.show()
        settle(400)
        window._fit_first_start()
        window.select_case(demo.case.pk)
        timer = QElapsedTimer()
        timer.start()
        # Wait for the whole series, not only the preview slices shown first.
        while timer.elapsed() < 60_000 and (
            window.slice_view.slice_count <= 3 or window.progress_bar.isVisible()
        ):
            app.processEvents()
        window.slice_view.show_slice(window.slice_view.slice_count // 2)
        for key in keys:
            window.enter_workspace(key)
            if key == "follow_up":
                show_follow_up(window, settle, args.propose)
            while key == "cohort" and window.cohort_page.busy:  # computed on a worker
                app.processEvents()
            settle(1500)
            out = args.out_dir / f"{key}-{width}x{height}.png"
            picture = window.grab()
            if args.scale_width:
                picture = picture.scaledToWidth(args.scale_width, Qt.SmoothTransformation)
            picture.save(str(out), "PNG")
            print(f"saved {out} ({window.width()} x {window.height()})")
            if key == "plan":  # the whole plan panel, scrolled or not; the Lesions tab
                content = window.plan_panel.findChild(QScrollArea).widget()
                content.grab().save(str(args.out_dir / f"plan-panel-{width}x{height}.png"))
                window.findChild(QDockWidget, "lesion_dock").raise_()
                settle(500)
                window.grab().save(str(args.out_dir / f"lesions-{width}x{height}.png"))
                window.findChild(QDockWidget, "plan_dock").raise_()
        window.close()
        settle(200)
    services.close()
    del collector
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
