"""The liver from one click on the whole-liver phantom: the whole organ, every tumour inside.

Seeds 0-2 of :mod:`tace_planner.imaging.phantom_realistic_liver` (noise 10-18 HU,
texture, lung over a diaphragm at the dome, IVC, portal vein, gallbladder,
kidney, stomach; eight tumours of both attenuations at the dome, the capsule and
the IVC). The old one-band growing leaked into the diaphragm and the IVC (liver
+10 to +14 %) and left 2.5 % of the subcapsular tumour out.
"""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.progress import run_sync
from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom
from tace_planner.imaging.segmentation import segment_liver
from tace_planner.imaging.segmentation.liver_surface import closing_mm


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whole_liver_with_its_tumours(seed: int) -> None:
    phantom = make_liver_phantom(seed)
    result = run_sync(segment_liver(phantom.volume, phantom.seed_lps_mm))
    assert result.warnings == ()
    assert _dice(result.mask, phantom.liver_mask) >= 0.92
    truth_cm3 = float(phantom.liver_mask.sum())
    assert float(result.mask.sum()) == pytest.approx(truth_cm3, rel=0.05)
    for name, tumour in phantom.tumour_masks.items():
        inside = float((result.mask & tumour).sum()) / float(tumour.sum())
        assert inside >= 0.99, f"seed {seed}: {inside:.3f} of {name} inside the liver"


def test_rolling_ball_closes_what_it_cannot_reach_and_nothing_beyond_flat_faces() -> None:
    spacing = np.array([3.0, 3.0, 3.0])
    zz, yy, xx = np.mgrid[0:30, 0:30, 0:30]
    block = (abs(zz - 15) <= 10) & (abs(yy - 15) <= 10) & (abs(xx - 15) <= 10)
    notch = (zz - 15) ** 2 + (yy - 15) ** 2 + (xx - 25) ** 2 <= 5**2  # a cup in one face
    closed = closing_mm(block & ~notch, 30.0, spacing)
    assert closed[15, 15, 21]  # the ball cannot reach the cup's bottom ...
    assert not closed[15, 15, 25]  # ... but sinks into its mouth
    assert not (closed & ~block).any()  # nothing beyond the flat faces or the edges
    assert (closed & notch).sum() > 0.5 * (notch & block).sum()
