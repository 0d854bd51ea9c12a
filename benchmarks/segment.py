"""Contouring speed on a 300 × 512 × 512 phantom; prints one JSON line.

Usage: python benchmarks/segment.py [--clicks 21] [--repeats 5] [--slices 300]

The demo phantom's portal-venous CT is painted in memory on a 300 × 512 × 512
grid (0.78 mm pixels, 1.0 mm slices, noise SD 11 HU) and timed, all on the
calling thread:

- ``click_*``: the 3D auto contour of a 3 cm focus (F2, 36 × 24 × 28 mm,
  equivalent-sphere diameter 2.9 cm) per click, at the centre and at random
  points within 4 mm of it, with the liver mask (as after "liver from one
  click") and without it. Goal: median ≤ 50 ms.
- ``flood_*``: a whole-volume HU-range flood fill (liver band 80–140 HU from a
  click in the liver; it leaks along vessel walls through the whole volume, a
  realistic worst case) against SimpleITK's ``ConnectedThreshold`` on the same
  volume in the same run (face connectivity, inclusive bounds: the same
  definition; ``flood_equal`` checks the masks are identical). The SimpleITK
  time covers the filter only, not the numpy -> SimpleITK copy
  (``simpleitk_copy_s``). Goal: ratio ≤ 1.0.
- ``liver_s``: liver segmentation from one click. Goal ≤ 3 s.

Accuracy on the same volume is reported next to the times (focus volume vs
analytic, liver Dice and volume vs the analytic truth).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)
FLOOD_RANGE_HU = (80.0, 140.0)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from tace_planner.domain.measurements import measure_volume
    from tace_planner.domain.progress import run_sync
    from tace_planner.imaging.phantom_model import SamplingGrid
    from tace_planner.imaging.phantom_truth import foci_at
    from tace_planner.imaging.phantom_variants import axial_grid, render_phantom_ct
    from tace_planner.imaging.segmentation import auto_contour, flood_fill_index, segment_liver
    from tace_planner.imaging.segmentation.common import seeds_to_index

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=21)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slices", type=int, default=300)
    args = parser.parse_args(argv)

    grid = axial_grid((args.slices, 512, 512), 0.78125, 1.0, -args.slices / 2.0)
    started = time.perf_counter()
    volume = render_phantom_ct(grid, phase="venous", seed=0, frame_of_reference_uid="1.2.3")
    render_s = time.perf_counter() - started

    # Liver from one click (also gives the liver mask for the clicks).
    liver_times = []
    for _ in range(max(1, args.repeats // 2)):
        started = time.perf_counter()
        liver = run_sync(segment_liver(volume, LIVER_SEED_LPS))
        liver_times.append(time.perf_counter() - started)
    from tace_planner.imaging.phantom_model import LIVER

    liver_truth = _sample(LIVER, SamplingGrid(volume.index_to_lps, volume.shape))
    liver_dice = (
        2 * float((liver.mask & liver_truth).sum()) / float(liver.mask.sum() + liver_truth.sum())
    )
    liver_cm3 = measure_volume(liver.mask, volume).volume_cm3

    # Clicks on the 3 cm focus.
    focus = next(f for f in foci_at("baseline") if f.name == "F2")
    rng = np.random.default_rng(0)
    seeds = [np.asarray(focus.center_lps_mm)]
    while len(seeds) < args.clicks:
        offset = rng.uniform(-4.0, 4.0, 3)
        if np.linalg.norm(offset) <= 4.0:
            seeds.append(np.asarray(focus.center_lps_mm) + offset)
    auto_contour(volume, [seeds[0]], liver_mask=liver.mask)  # warm-up (imports, caches)
    timings: dict[str, list[float]] = {"liver": [], "none": []}
    volumes = []
    for seed in seeds:
        for key, mask in (("liver", liver.mask), ("none", None)):
            started = time.perf_counter()
            result = auto_contour(volume, [tuple(seed)], liver_mask=mask)
            timings[key].append((time.perf_counter() - started) * 1000.0)
            if key == "liver":
                volumes.append(result.voxel_count * volume.voxel_volume_cm3)

    # Whole-volume flood fill, ours and SimpleITK's.
    import SimpleITK as sitk

    seed_index = seeds_to_index(volume, [LIVER_SEED_LPS])[0]
    ours = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        box, region = flood_fill_index(volume.voxels, seed_index, *FLOOD_RANGE_HU)
        ours.append(time.perf_counter() - started)
    started = time.perf_counter()
    image = sitk.GetImageFromArray(volume.voxels)
    copy_s = time.perf_counter() - started
    flt = sitk.ConnectedThresholdImageFilter()
    flt.SetLower(FLOOD_RANGE_HU[0])
    flt.SetUpper(FLOOD_RANGE_HU[1])
    flt.SetSeedList([tuple(int(v) for v in seed_index[::-1])])  # SimpleITK seeds are (x, y, z)
    flt.SetConnectivity(sitk.ConnectedThresholdImageFilter.FaceConnectivity)
    theirs = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        output = flt.Execute(image)
        theirs.append(time.perf_counter() - started)
    full = np.zeros(volume.shape, dtype=bool)
    full[box] = region
    equal = bool(np.array_equal(sitk.GetArrayViewFromImage(output).astype(bool), full))

    flood_s, sitk_s = statistics.median(ours), statistics.median(theirs)
    record = {
        "benchmark": "segment",
        "shape_zyx": list(volume.shape),
        "spacing_mm": [round(s, 5) for s in volume.spacing_mm],
        "click_median_ms": round(statistics.median(timings["liver"]), 1),
        "click_p95_ms": round(_percentile(timings["liver"], 95), 1),
        "click_no_liver_mask_median_ms": round(statistics.median(timings["none"]), 1),
        "click_focus": "F2 36x24x28 mm",
        "click_volume_error_percent_median": round(
            100 * (statistics.median(volumes) / focus.volume_cm3 - 1), 2
        ),
        "clicks": len(seeds),
        "flood_wall_s": round(flood_s, 4),
        "simpleitk_flood_wall_s": round(sitk_s, 4),
        "flood_ratio": round(flood_s / sitk_s, 3),
        "flood_equal": equal,
        "flood_voxels": int(region.sum()),
        "simpleitk_copy_s": round(copy_s, 4),
        "liver_s": round(statistics.median(liver_times), 3),
        "liver_dice": round(liver_dice, 4),
        "liver_volume_error_percent": round(100 * (liver_cm3 / _liver_truth_cm3() - 1), 2),
        "goals": {"click_median_ms": 50, "flood_ratio": 1.0, "liver_s": 3.0},
        "render_s": round(render_s, 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpleitk": sitk.Version_VersionString(),
    }
    print(json.dumps(record))
    return 0


def _sample(solid, grid):
    from tace_planner.imaging.phantom_model import sample_solid

    return sample_solid(solid, grid)


def _liver_truth_cm3() -> float:
    from tace_planner.imaging.phantom_model import liver_volume_cm3

    return liver_volume_cm3()


if __name__ == "__main__":
    sys.exit(main())
