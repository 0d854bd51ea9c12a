"""Corrective clicks on a whole-liver contour (imaging.segmentation.organ_refine).

On the realistic whole-liver phantom (analytic truth): a contour missing a cap of the
liver gets it back from one include click at the deepest point of the miss; a contour
that leaked into the IVC loses the leak from one exclude click in it. Each click is a
hard constraint, an include never removes and an exclude never adds, and nothing
changes beyond the click's reach.
"""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom, truth_liver_mask
from tace_planner.imaging.segmentation.organ_refine import MAX_REACH_MM, refine_organ


@pytest.fixture(scope="module")
def phantom():
    return make_liver_phantom(0)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def _distance_from(point, shape, spacing) -> np.ndarray:
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    return np.sqrt(sum(((g - c) * s) ** 2 for g, c, s in zip(grids, point, spacing, strict=True)))


def _deepest(region: np.ndarray, spacing) -> tuple[int, int, int]:
    from scipy import ndimage

    depth = ndimage.distance_transform_edt(region, sampling=spacing)
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))


def test_an_include_click_brings_back_part_of_a_missed_cap(phantom) -> None:
    """One click in a missed 17.5 mm cap of the liver adds liver around the click
    (a whole cap wider than the click's reach needs more clicks, or the brush)."""
    truth = truth_liver_mask(phantom)
    spacing = phantom.volume.spacing_mm
    z = np.flatnonzero(truth.any(axis=(1, 2)))
    cut = z[-1] - 6  # the last 7 slices (17.5 mm) are missed
    contour = truth.copy()
    contour[cut:] = False
    missed = truth & ~contour
    click = _deepest(missed, spacing)
    after = refine_organ(phantom.volume.voxels, spacing, contour, click, include=True)
    assert after[click]
    assert not (contour & ~after).any()  # never removes
    added = after & ~contour
    assert float((added & missed).sum()) >= 0.7 * float(added.sum())  # mostly liver
    assert float((added & missed).sum()) >= 0.1 * float(missed.sum())
    assert _dice(after, truth) > _dice(contour, truth)
    far = _distance_from(click, truth.shape, spacing) > MAX_REACH_MM + 1.0
    assert not ((after != contour) & far).any()


def test_an_exclude_click_removes_a_leak_into_a_vessel(phantom) -> None:
    from scipy import ndimage

    truth = truth_liver_mask(phantom)
    spacing = phantom.volume.spacing_mm
    image = phantom.volume.voxels
    # A leak: bright tissue (the IVC, ~150 HU+) touching the liver, added to the contour.
    near = ndimage.binary_dilation(truth, iterations=4) & ~truth
    vessel = near & (ndimage.gaussian_filter(image, 1.0) > phantom.liver_hu + 45.0)
    labels, _ = ndimage.label(vessel)
    assert labels.max() > 0
    leak = labels == (int(np.argmax(np.bincount(labels.ravel())[1:])) + 1)
    contour = truth | leak
    click = _deepest(leak, spacing)
    after = refine_organ(image, spacing, contour, click, include=False)
    assert not after[click]
    assert not (after & ~contour).any()  # never adds
    assert float((after & leak).sum()) <= 0.5 * float(leak.sum())
    assert _dice(after, truth) >= _dice(contour, truth)
    far = _distance_from(click, truth.shape, spacing) > MAX_REACH_MM + 1.0
    assert not ((after != contour) & far).any()


def test_a_click_outside_the_image_is_refused(phantom) -> None:
    truth = truth_liver_mask(phantom)
    with pytest.raises(ValueError, match="outside the image"):
        refine_organ(phantom.volume.voxels, (1.0, 1.0, 1.0), truth, (999, 0, 0), include=True)
