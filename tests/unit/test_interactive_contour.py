"""Interactive refinement: clicks are hard constraints, corrections stay local.

Cases come from the realistic phantom battery (imaging.phantom_realistic), whose
truth is analytic; the simulated user clicks at the deepest point of the largest
error region, as benchmarks/interactive.py does.
"""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.imaging.phantom_realistic import (
    REALISTIC_SPECS,
    SPACING_MM,
    make_realistic_case,
)
from tace_planner.imaging.segmentation.interactive import SEED_RADIUS_MM, InteractiveContour

_CACHE: dict[str, object] = {}


def _case(name: str):
    if name not in _CACHE:
        _CACHE[name] = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == name), 0)
    return _CACHE[name]


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def _ball(shape, center, radius_mm: float) -> np.ndarray:
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, center, SPACING_MM, strict=True))
    return d2 <= radius_mm**2


def _largest_error_click(seg: np.ndarray, truth: np.ndarray) -> tuple[tuple[int, ...], bool]:
    from scipy import ndimage

    best = (0, (0, 0, 0), True)
    for error, include in ((truth & ~seg, True), (seg & ~truth, False)):
        labels, _ = ndimage.label(error)
        if labels.max() == 0:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        largest = labels == int(np.argmax(sizes)) + 1
        depth = ndimage.distance_transform_edt(largest, sampling=SPACING_MM)
        if sizes.max() > best[0]:
            best = (int(sizes.max()), np.unravel_index(int(np.argmax(depth)), depth.shape), include)
    return tuple(int(v) for v in best[1]), best[2]


def test_the_battery_holds_twenty_lesions_of_every_kind() -> None:
    assert len(REALISTIC_SPECS) >= 20
    contrasts = [s.contrast_hu for s in REALISTIC_SPECS]
    assert min(contrasts) <= -40
    assert max(contrasts) >= 25
    assert any(abs(c) <= 5 for c in contrasts)
    features = {f for s in REALISTIC_SPECS for f in s.features}
    assert features >= {"necrosis", "calcification", "rim", "vessel_through"}
    assert {s.neighbour for s in REALISTIC_SPECS} >= {
        "ivc",
        "portal",
        "surface",
        "dome",
        "touching",
    }


def test_a_case_is_deterministic_and_its_truth_is_inside_the_liver() -> None:
    first, second = _case("against_ivc"), _case("against_ivc")
    assert np.array_equal(first.volume.voxels, second.volume.voxels)
    assert not (first.lesion_mask & ~first.liver_mask).any()
    assert first.lesion_mask[first.seed_index]
    # Parenchyma as measured on real contrast CT: 15–29 HU SD.
    assert 12.0 <= first.extras["liver_sd_hu"] <= 30.0


def test_one_click_contours_a_well_contrasted_focus() -> None:
    case = _case("hypo_40")
    contour = InteractiveContour(case.volume)
    assert _dice(contour.click(case.seed_index), case.lesion_mask) >= 0.9


def test_clicks_are_hard_constraints_and_undo_restores() -> None:
    case = _case("necrotic_core")
    truth = case.lesion_mask
    contour = InteractiveContour(case.volume)
    seg = contour.click(case.seed_index)
    history = [seg.copy()]
    for _ in range(3):
        point, include = _largest_error_click(seg, truth)
        seg = contour.click(point, include)
        history.append(seg.copy())
        # The last click's ball is always on its side; earlier ones unless a later
        # click overlapped them.
        ball = _ball(seg.shape, point, SEED_RADIUS_MM)
        assert (seg[ball] == include).all()
        for click in contour.clicks:
            others = [c for c in contour.clicks if c is not click]
            inside = _ball(seg.shape, click.index, SEED_RADIUS_MM)
            for later in others[contour.clicks.index(click) :]:
                inside &= ~_ball(seg.shape, later.index, SEED_RADIUS_MM)
            assert (seg[inside] == click.include).all()
    for expected in reversed(history[:-1]):
        assert np.array_equal(contour.undo(), expected)


def test_an_exclude_click_changes_nothing_outside_its_voronoi_cell() -> None:
    from scipy import ndimage

    case = _case("hyper_8")  # low contrast: the first contour leaks
    contour = InteractiveContour(case.volume)
    seg = contour.click(case.seed_index).copy()
    leak = seg & ~case.lesion_mask
    assert leak.any()
    point, include = _largest_error_click(seg, case.lesion_mask)
    if include:  # under-segmented instead: exclude at the deepest point of the leak
        depth = ndimage.distance_transform_edt(leak, sampling=SPACING_MM)
        point = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    after = contour.click(point, include=False)
    changed = seg != after
    assert not (after & ~seg).any()  # an exclude click never adds
    grids = np.ogrid[tuple(slice(0, n) for n in seg.shape)]

    def distance(center):
        return np.sqrt(
            sum(((g - c) * s) ** 2 for g, c, s in zip(grids, center, SPACING_MM, strict=True))
        )

    nearer_to_click = distance(point) < distance(case.seed_index)
    outside_cell = changed & ~nearer_to_click
    # Only voxels of the cell, and islands cut off from the include click, may go.
    labels, _ = ndimage.label(after)
    kept_component = labels == labels[case.seed_index]
    assert not (outside_cell & kept_component).any()


def test_an_include_click_changes_nothing_beyond_its_bound() -> None:
    from scipy import ndimage

    case = _case("necrotic_core")
    contour = InteractiveContour(case.volume)
    seg = contour.click(case.seed_index).copy()
    missed = case.lesion_mask & ~seg
    assert missed.any()
    depth_map = ndimage.distance_transform_edt(missed, sampling=SPACING_MM)
    point = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth_map)), depth_map.shape))
    depth = float(ndimage.distance_transform_edt(~seg, sampling=SPACING_MM)[point])
    after = contour.click(point, include=True)
    added = after & ~seg
    assert not (seg & ~after).any()  # an include click never removes
    grids = np.ogrid[tuple(slice(0, n) for n in seg.shape)]
    to_click = np.sqrt(
        sum(((g - c) * s) ** 2 for g, c, s in zip(grids, point, SPACING_MM, strict=True))
    )
    # Added voxels lie within the bound, or are holes the addition closed.
    beyond = added & (to_click > max(3.0 * depth, 6.0) + 1e-6)
    filled = ndimage.binary_fill_holes(seg | (added & ~beyond))
    assert not (beyond & ~filled).any()


def test_clicks_outside_the_volume_and_a_first_exclude_are_refused() -> None:
    case = _case("hypo_40")
    contour = InteractiveContour(case.volume)
    with pytest.raises(ValueError, match="first click"):
        contour.click(case.seed_index, include=False)
    with pytest.raises(ValueError, match="outside the volume"):
        contour.click((999, 0, 0))
