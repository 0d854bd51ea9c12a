"""Follow-up contours proposed from the baseline on the phantom; prints one JSON line.

Usage: python benchmarks/propagate.py [--size small|full] [--seed 0]

Writes the phantom to a temporary folder (``small``: 3.125 mm pixels, 5 mm slices;
``full`` is painted in memory on the 512 × 512 CT grid instead), takes the baseline
truth masks as the baseline contours, registers each follow-up's portal-venous CT to
the baseline (:func:`~tace_planner.imaging.registration.register_follow_up`) and
proposes every focus there (:func:`~tace_planner.imaging.propagation.propagate_lesion`),
as ``followup propagate`` does without a database. Prints the registration time and
error against the phantom's patient offset (mm), the liver Dice after registration
(the follow-up's truth liver), the time per lesion (median and
maximum, s), and per focus-visit the true and proposed volume (cm³).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.series import load_volume
from tace_planner.imaging.phantom import phantom_truth, write_phantom
from tace_planner.imaging.phantom_truth import PhantomTruth, truth_masks
from tace_planner.imaging.phantom_variants import render_phantom_ct
from tace_planner.imaging.propagation import propagate_lesion
from tace_planner.imaging.registration import carry_mask_registered, register_follow_up

FOLLOW_UPS = ("follow_up_1", "follow_up_2", "follow_up_3")


def _volumes(size: str, seed: int):
    """(truth, {label: venous volume}) of the phantom."""
    if size == "full":
        truth = phantom_truth("full", seed=seed)
        grid = truth.timepoint("baseline").series_by_folder("CT_venous").grid
        return truth, {
            label: render_phantom_ct(grid, timepoint=label, seed=seed + n)
            for n, label in enumerate(("baseline", *FOLLOW_UPS))
        }
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_phantom(root, size="small", seed=seed)
        truth = PhantomTruth.from_json(json.loads((root / "truth.json").read_text()))
        return truth, {
            label: run_sync(load_volume(sorted((root / label / "CT_venous").iterdir())))
            for label in ("baseline", *FOLLOW_UPS)
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("small", "full"), default="small")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    truth, volumes = _volumes(args.size, args.seed)
    baseline = volumes["baseline"]
    masks = truth_masks(truth, baseline, "baseline")
    registrations, lesion_seconds, foci = [], [], []
    for label in FOLLOW_UPS:
        follow_up = volumes[label]
        follow_liver = truth_masks(truth, follow_up, label)["liver"]
        started, cpu = time.perf_counter(), time.process_time()
        result = register_follow_up(
            baseline, follow_up, baseline_liver=masks["liver"], follow_up_liver=follow_liver
        )
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        offset = np.asarray(truth.timepoint(label).patient_offset_lps_mm)
        error = float(np.linalg.norm(np.asarray(result.translation_mm) - offset))
        registrations.append(
            {"timepoint": label, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
             "offset_error_mm": round(error, 2), "ok": result.ok, "kind": result.kind,
             "correlation": round(result.correlation, 3),
             "liver_dice": round(result.liver_dice or 0.0, 3)}
        )  # fmt: skip
        guard = carry_mask_registered(
            masks["liver"], baseline.index_to_lps, result.baseline_to_follow_up, follow_up
        )
        present = {f.name: f for f in truth.timepoint(label).foci}
        for focus in truth.timepoint("baseline").foci:
            started = time.perf_counter()
            proposal = propagate_lesion(
                focus.name, masks[focus.name], baseline, result.baseline_to_follow_up,
                follow_up, follow_up_liver=guard,
            )  # fmt: skip
            lesion_seconds.append(time.perf_counter() - started)
            true_cm3 = present[focus.name].volume_cm3 if focus.name in present else 0.0
            foci.append(
                {"timepoint": label, "name": focus.name, "found": proposal.found,
                 "true_cm3": round(true_cm3, 3), "proposed_cm3": round(proposal.volume_cm3, 3)}
            )  # fmt: skip
    measurable = [
        f
        for f in foci
        if f["true_cm3"] > 0.6  # ≥ 10 mm foci (F5 is 7 mm at baseline)
    ]
    within = sum(abs(f["proposed_cm3"] / f["true_cm3"] - 1) <= 0.15 for f in measurable)
    print(
        json.dumps(
            {
                "benchmark": "propagate",
                "size": args.size,
                "registration": registrations,
                "seconds_per_lesion_median": round(statistics.median(lesion_seconds), 3),
                "seconds_per_lesion_max": round(max(lesion_seconds), 3),
                "within_15_percent": f"{within}/{len(measurable)}",
                "foci": foci,
            }
        )
    )


if __name__ == "__main__":
    main()
