"""Picture the spider plot of the demo phantom with its stored RECIST 1.1 labels.

Usage: python scripts/screenshot_spider.py [OUT.png] [--responses OUT.png] [--data-dir DIR]

Builds the small demo case in a temporary data folder, contours the baseline foci from
the phantom's truth (the two largest as targets, the others non-targets), proposes and
confirms the contours of every follow-up, assesses each follow-up (stored), prints the
RECIST 1.1 overall responses and saves the Follow-up page's spider plot (and, with
``--responses``, its table of stored responses).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/spider-plot.png"))
    parser.add_argument("--responses", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from tace_planner.domain.progress import run_sync
    from tace_planner.imaging.phantom import write_phantom
    from tace_planner.imaging.phantom_truth import PhantomTruth, truth_masks
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.contouring import ContourWrite
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.settings import AppSettings
    from tace_planner.ui.followup_review import FollowupReviewPage

    app = QApplication.instance() or QApplication(sys.argv)
    work = Path(tempfile.mkdtemp(prefix="tace-spider-"))
    data_dir = args.data_dir or work / "data"
    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="radiologist"))
    try:
        demo = services.settings.demo_dir
        if not (demo / "truth.json").is_file():
            shutil.rmtree(demo, ignore_errors=True)
            write_phantom(demo, size="small", seed=0)
            (demo / "phantom-parameters.json").write_text(
                '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
            )
        run_sync(prepare_demo(services.studies, services.cases, demo, size="small", seed=0))
        truth = PhantomTruth.from_json(json.loads((demo / "truth.json").read_text("utf-8")))
        baseline = truth.timepoint("baseline")
        venous = baseline.series_by_folder("CT_venous")
        case_pk, timepoint_pk, _ = services.contouring.series_context(venous.series_uid)
        masks = truth_masks(truth, services.contouring.volume(venous.series_uid), "baseline")
        # Measurable foci only (RECIST 1.1: at least 10 mm); the 7 mm one is left out.
        foci = [f.name for f in baseline.foci if 2 * max(f.semi_axes_mm) >= 10.0]
        writes = [ContourWrite("Liver", "liver", masks["liver"], "manual")]
        writes += [ContourWrite(name, "focus", masks[name], "manual") for name in foci]
        services.contouring.write_contours(case_pk, timepoint_pk, venous.series_uid, None, writes)
        largest = sorted(foci, key=lambda name: -int(masks[name].sum()))[:2]
        for name in largest:
            lesion = services.contouring.lesions.find(case_pk, name)
            services.contouring.lesions.update_lesion(
                lesion.pk, is_target=True, override_reason="demo targets"
            )
        propagation = services.propagation
        labels = [c.label for c in propagation.timepoints(case_pk) if c.kind != "baseline"]
        assessments = services.assessments
        for label in labels:
            propagation.confirm(propagation.propose(case_pk, label))
            result = assessments.assess(case_pk, label)
            overall, target = result["recist"]["overall"], result["recist"]["target"]
            print(f"{label}: RECIST 1.1 {overall['category']} ({target['rule']})")
        page = FollowupReviewPage(propagation, None, assessments=assessments)
        page.set_case(case_pk)
        page.spider.resize(900, 560)
        page.spider.grab().save(str(args.out), "PNG")
        print(f"targets {', '.join(largest)}; wrote {args.out}")
        if args.responses is not None:
            page.responses.resize(760, 260)
            page.responses.grab().save(str(args.responses), "PNG")
            print(f"wrote {args.responses}")
        page.close()
        app.processEvents()
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
