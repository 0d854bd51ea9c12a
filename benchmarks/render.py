"""Slice-change latency of the viewer, paint included; prints one JSON line.

Usage: python benchmarks/render.py [--changes 200] [--size 512] [--slices 400] [--view-px 700]

Offscreen Qt. One ``SliceView`` of ``--view-px`` square pixels shows a
synthetic CT volume (float32 HU, ``--slices`` × ``--size`` × ``--size``, 0.78 ×
0.78 × 1.0 mm) with a lesion mask overlay (a filled sphere, outlined in the
coronal run). Each of ``--changes`` slice changes is timed from the state change
(as the mouse wheel makes it) to the end of a synchronous repaint of the
viewport, so the numbers include numpy windowing, the mask, the corner text
and Qt's painting. Axial: stepping through the (z) slices; coronal: stepping
through the rows of the same volume (a ``voxels[:, row, :]`` view, no copy).
Goals: axial p95 ≤ 16 ms; coronal of a 400-slice volume p95 ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _run(view, app, indices: list[int]) -> list[float]:
    viewport = view.graphics.viewport()
    times_ms = []
    for index in indices:
        start = time.perf_counter()
        view.show_slice(index)
        viewport.repaint()  # synchronous paint of the scene: render + draw
        times_ms.append((time.perf_counter() - start) * 1000.0)
    app.processEvents()
    return times_ms


def main() -> int:
    """Build the volume, time the slice changes, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--view-px", type=int, default=700)
    args = parser.parse_args()

    import numpy as np
    from PySide6.QtWidgets import QApplication

    from tace_planner.domain.geometry import affine_from_dicom_geometry
    from tace_planner.domain.volume import ImageVolume
    from tace_planner.ui.viewer.slice_view import SliceView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    rng = np.random.default_rng(0)
    n, z = args.size, args.slices
    voxels = rng.normal(60.0, 12.0, size=(z, n, n)).astype(np.float32)
    zz, yy, xx = np.ogrid[:z, :n, :n]
    sphere = (zz - z / 2) ** 2 + ((yy - n / 2) * 0.78) ** 2 + ((xx - n / 2) * 0.78) ** 2 <= 40.0**2
    voxels[sphere] += 100.0
    affine = affine_from_dicom_geometry(
        (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), (0.78, 0.78), (-200.0, -200.0, -200.0), (0.0, 0.0, 1.0)
    )
    volume = ImageVolume(voxels, affine, "1.2.3")

    view = SliceView()
    view.resize(args.view_px, args.view_px)
    view.show()
    app.processEvents()

    view.set_volume(volume, title="benchmark", modality="CT")
    view.overlays.set_mask("F1", sphere, "#ff5050", 0.4, outline=False)
    middle = z // 2
    axial = [middle - 100 + (k % 200) for k in range(args.changes)]  # through the lesion
    _run(view, app, axial[:10])  # warm-up (first render allocates buffers)
    axial_ms = _run(view, app, axial)

    view.set_orientation("coronal")
    view.overlays.set_mask("F1", sphere, "#ff5050", 0.9, outline=True)
    coronal = [n // 2 - 100 + (k % 200) for k in range(args.changes)]
    _run(view, app, coronal[:10])
    coronal_ms = _run(view, app, coronal)

    result = {
        "benchmark": "render",
        "changes": args.changes,
        "volume_zyx": [z, n, n],
        "view_px": args.view_px,
        "mask_overlay": True,
        "p50_ms": round(statistics.median(axial_ms), 2),
        "p95_ms": round(_percentile(axial_ms, 95), 2),
        "max_ms": round(max(axial_ms), 2),
        "coronal_p50_ms": round(statistics.median(coronal_ms), 2),
        "coronal_p95_ms": round(_percentile(coronal_ms, 95), 2),
        "goal_p95_ms": 16,
        "goal_coronal_p95_ms": 30,
        "python": platform.python_version(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
    }
    print(json.dumps(result))
    view.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
