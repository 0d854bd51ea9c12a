"""Render the viewer's 2×2 layout on the demo case to a PNG (for the README).

Baseline arterial and portal-venous CT side by side (linked by patient
position), the venous phase again as coronal and sagittal reformats, with
reference lines and a ruler across the largest focus.

Usage: python scripts/screenshot_viewer.py [OUT.png] [--data-dir DIR] [--phantom-size full]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MAX_BYTES = 300 * 1024


def main() -> int:
    """Prepare the demo, open the 2×2 layout, wait for the volumes, save the picture."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/viewer-2x2.png"))
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "tace-screenshot"
    )
    parser.add_argument("--phantom-size", choices=["small", "full"], default="full")
    parser.add_argument("--width", type=int, default=900, help="width of the saved picture")
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
            services.studies, services.cases, services.settings.demo_dir, size=args.phantom_size
        )
    )
    truth = json.loads((demo.phantom_dir / "truth.json").read_text(encoding="utf-8"))
    baseline = next(t for t in truth["timepoints"] if t["label"] == "baseline")
    uids = {s["folder"]: s["series_uid"] for s in baseline["series"]}
    largest = max(baseline["foci"], key=lambda f: f["longest_axial_diameter_mm"])

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(services)
    window.resize(1500, 1000)
    window.show()
    window.select_case(demo.case.pk)
    viewer = window.viewer
    viewer.set_layout("2x2")
    arterial, venous, coronal, sagittal = viewer.views
    viewer.open_series(uids["CT_arterial"], view=arterial, title="Baseline CT arterial")
    viewer.open_series(uids["CT_venous"], view=venous, title="Baseline CT portal venous")
    viewer.open_series(uids["CT_venous"], view=coronal, orientation="coronal",
                       title="Baseline CT portal venous")  # fmt: skip
    viewer.open_series(uids["CT_venous"], view=sagittal, orientation="sagittal",
                       title="Baseline CT portal venous")  # fmt: skip
    timer = QElapsedTimer()
    timer.start()
    while timer.elapsed() < 120_000 and (
        viewer.provider.busy or any(v.volume is None for v in viewer.views)
    ):
        app.processEvents()
    # Go to the largest focus: every linked view follows the same patient point.
    centre = [float(c) for c in largest["center_lps_mm"]]
    viewer.set_active_view(arterial)
    viewer.linker.set_cursor(arterial.state, centre)
    viewer.set_crosshair(True)
    viewer.set_tool("ruler")
    radius = float(largest["longest_axial_diameter_mm"]) / 2
    start = [centre[0] - radius, centre[1], centre[2]]
    end = [centre[0] + radius, centre[1], centre[2]]
    viewer.annotations.measure(arterial, "ruler", [start, end])
    viewer.set_tool("window")
    arterial.show_hover(arterial.hover_info(*arterial.geometry.lps_to_screen(centre)[:2]))
    for _ in range(30):
        app.processEvents()
    grabbed = viewer.grab()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    width = args.width
    while True:  # keep the repository small: fewer pixels until the file fits
        grabbed.scaledToWidth(width, Qt.SmoothTransformation).save(str(args.out), "PNG")
        if args.out.stat().st_size <= MAX_BYTES or width < 500:
            break
        width -= 20
    print(f"saved {args.out} ({args.out.stat().st_size // 1024} KiB)")
    window.close()
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
