"""Contour the realistic whole-liver phantom as a user would, then picture the window.

Usage: python scripts/screenshot_realistic.py [OUT.png] [--data-dir DIR] [--seed N] [--focus NAME]

Writes the realistic phantom (``tace-planner phantom --size realistic``), imports it,
opens a case, contours the liver from one click and every tumour from one click at
its centre plus up to three corrective clicks of a simulated user (the deepest point
of the largest error against the phantom's truth: Ctrl-click where tumour is missed,
Shift-click where the contour leaks), prints each tumour's Dice and volume error,
and saves a picture of the main window on the tumour with the most clicks (or on the
slice of ``--focus``, e.g. F3 against the IVC).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def _cli(data_dir: Path, *args: str) -> dict:
    import contextlib
    import io

    from tace_planner.cli import main as cli_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["--data-dir", str(data_dir), *args])
    if code != 0:
        raise SystemExit(f"tace-planner {' '.join(args)} failed ({code})")
    text = out.getvalue().strip()
    return json.loads(text) if text.startswith("{") else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/realistic-contours.png"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--focus", default=None, help="picture this tumour's slice (e.g. F3)")
    args = parser.parse_args()

    from interactive import _next_click

    from tace_planner.imaging.phantom_realistic_dicom import write_realistic_phantom
    from tace_planner.imaging.phantom_realistic_liver import SPACING_MM, make_liver_phantom

    work = Path(tempfile.mkdtemp(prefix="tace-realistic-"))
    data_dir = args.data_dir or work / "data"
    truth = write_realistic_phantom(work / "phantom", args.seed)
    phantom = make_liver_phantom(args.seed)
    imported = _cli(data_dir, "import", str(work / "phantom"), "--json")
    (volume,) = imported["volumes"]
    case = _cli(data_dir, "case", "new", "--patient-id", str(truth["patient_id"]),
                "--title", "Realistic phantom", "--json")  # fmt: skip
    _cli(data_dir, "case", "link", "--case", str(case["pk"]), "--study", volume["study_uid"],
         "--timepoint", "baseline")  # fmt: skip
    series = volume["series_uid"]
    seed = ",".join(str(v) for v in truth["liver_seed_lps_mm"])
    _cli(data_dir, "contour", "liver", "--series", series, f"--seed={seed}", "--json")

    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.contouring import contouring_service
    from tace_planner.services.settings import AppSettings

    services = open_services(AppSettings(data_dir, None, "screenshot"))
    contouring = contouring_service(services)
    affine = phantom.volume.index_to_lps
    most: tuple[int, str] = (0, "")
    for item in truth["tumours"]:
        name = str(item["name"])
        mask_truth = phantom.tumour_masks[name]
        first = tuple(float(v) for v in item["centroid_lps_mm"])
        include: list[tuple[float, ...]] = []
        exclude: list[tuple[float, ...]] = []
        for clicks in range(1, 5):
            result = contouring.auto_contour(
                case["pk"], series, first, lesion=name, include=include, exclude=exclude,
                confirmed=True,
            )  # fmt: skip
            stored = contouring.load_mask(result.lesion.pk, result.segmentation.timepoint_pk)
            seg = np.asarray(stored.mask, dtype=bool)
            dice = 2.0 * float((seg & mask_truth).sum()) / float(seg.sum() + mask_truth.sum())
            if dice >= 0.9 or clicks == 4:
                break
            index, inside = _next_click(seg, mask_truth, SPACING_MM)
            point = tuple(float(v) for v in (affine @ np.array([*index, 1.0]))[:3])
            (include if inside else exclude).append(point)
        error = 100.0 * (float(seg.sum()) / float(mask_truth.sum()) - 1.0)
        print(
            f"{name} ({item['where']}): {clicks} click(s), Dice {dice:.3f}, volume {error:+.1f} %"
        )
        most = max(most, (clicks, name))
    services.close()

    from PySide6.QtCore import QElapsedTimer, Qt
    from PySide6.QtWidgets import QApplication

    from tace_planner.ui.main_window import MainWindow

    services = open_services(AppSettings(data_dir, None, "screenshot"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(services)
    window.resize(1600, 900)
    window.show()
    window.select_case(case["pk"])
    window.study_tree.select_series(series)
    timer = QElapsedTimer()
    timer.start()
    while timer.elapsed() < 60_000 and (
        window.slice_view.slice_count <= 3 or window.progress_bar.isVisible()
    ):
        app.processEvents()
    shown = args.focus or most[1]
    target = next(t for t in truth["tumours"] if t["name"] == shown)
    centre = np.asarray(target["centroid_lps_mm"], dtype=float)
    k = round(float(np.linalg.solve(affine, np.append(centre, 1.0))[0]))
    window.slice_view.show_slice(k)
    for _ in range(30):
        app.processEvents()
    picture = window.grab().scaledToWidth(1200, Qt.SmoothTransformation)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(str(args.out), "PNG")
    print(f"saved {args.out} ({args.out.stat().st_size // 1024} KiB), slice of {shown}")
    window.close()
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
