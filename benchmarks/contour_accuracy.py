"""Auto contour of every focus of the small phantom against its truth; prints one JSON line.

Usage: python benchmarks/contour_accuracy.py [--seed 0]

Writes the small phantom (3.125 mm pixels, 5 mm slices) to a temporary
folder, contours the liver from one click and every baseline focus from a
click at its centre, on the venous CT, as ``contour liver`` and ``contour
auto`` do (without a database), and measures each mask. Per focus: true and
measured volume (cm³), the error (%), the half-voxel-shell tolerance the
accuracy test allows for foci under 4.5 cm³, and the true and measured RECIST
long axis (mm).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from tace_planner.domain.measurements import measure_recist_axes, measure_volume
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.series import load_volume
from tace_planner.imaging.phantom import write_phantom
from tace_planner.imaging.phantom_truth import PhantomTruth
from tace_planner.imaging.segmentation import segment_liver
from tace_planner.imaging.segmentation.interactive import contour_from_clicks

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)


def _shell_cm3(volume_cm3: float, spacing_mm: tuple[float, ...]) -> float:
    radius = (3 * volume_cm3 * 1000 / (4 * np.pi)) ** (1 / 3)
    return 4 * np.pi * radius**2 * (sum(spacing_mm) / 3) / 2 / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_phantom(root, size="small", seed=args.seed)
        truth = PhantomTruth.from_json(json.loads((root / "truth.json").read_text()))
        venous = run_sync(load_volume(sorted((root / "baseline" / "CT_venous").iterdir())))
    liver = run_sync(segment_liver(venous, LIVER_SEED_LPS)).mask
    foci = []
    for focus in truth.timepoint("baseline").foci:
        mask, _ = contour_from_clicks(venous, [focus.center_lps_mm], liver_mask=liver)
        volume = measure_volume(mask, venous).volume_cm3
        axes = measure_recist_axes(mask, venous)
        foci.append(
            {
                "name": focus.name,
                "true_cm3": round(focus.volume_cm3, 3),
                "measured_cm3": round(volume, 3),
                "error_percent": round(100 * (volume / focus.volume_cm3 - 1), 1),
                "shell_tolerance_cm3": round(_shell_cm3(focus.volume_cm3, venous.spacing_mm), 3),
                "true_long_axis_mm": focus.longest_axial_diameter_mm,
                "long_axis_mm": round(axes.long_axis_mm, 1),
            }
        )
    print(json.dumps({"benchmark": "contour_accuracy", "seed": args.seed, "foci": foci}))


if __name__ == "__main__":
    main()
