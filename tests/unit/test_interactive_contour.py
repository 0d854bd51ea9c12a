"""Interactive refinement: clicks are hard constraints, corrections stay local.

Cases come from the realistic phantom battery (imaging.phantom_realistic), whose
truth is analytic; the simulated user clicks at the deepest point of the largest
error region, as benchmarks/interactive.py does.
"""

from __future__ import annotations

import itertools

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


def _largest_error_click(
    seg: np.ndarray, truth: np.ndarray, spacing: tuple[float, ...] = SPACING_MM
) -> tuple[tuple[int, ...], bool]:
    from scipy import ndimage

    best = (0, (0, 0, 0), True)
    for error, include in ((truth & ~seg, True), (seg & ~truth, False)):
        labels, _ = ndimage.label(error)
        if labels.max() == 0:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        largest = labels == int(np.argmax(sizes)) + 1
        depth = ndimage.distance_transform_edt(largest, sampling=spacing)
        if sizes.max() > best[0]:
            best = (int(sizes.max()), np.unravel_index(int(np.argmax(depth)), depth.shape), include)
    return tuple(int(v) for v in best[1]), best[2]


def _whole_liver_focus(seed: int, name: str):
    """The realistic whole-liver phantom, one focus's truth and its deepest voxel."""
    from scipy import ndimage

    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(seed)
    truth = phantom.tumour_masks[name]
    depth = ndimage.distance_transform_edt(truth, sampling=phantom.volume.spacing_mm)
    deepest = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    return phantom, truth, deepest


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


def _angle_from(center, point, shape) -> np.ndarray:
    """Angle (radians) at ``center`` between every voxel and ``point`` (in mm)."""
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    vectors = [(g - c) * s for g, c, s in zip(grids, center, SPACING_MM, strict=True)]
    target = np.array([(p - c) * s for p, c, s in zip(point, center, SPACING_MM, strict=True)])
    target /= np.linalg.norm(target)
    norm = np.sqrt(sum(v**2 for v in vectors))
    cosine = sum(v * t for v, t in zip(vectors, target, strict=True)) / np.maximum(norm, 1e-9)
    return np.arccos(np.clip(cosine, -1.0, 1.0))


# The rays a click moves lie within 60° of it, seen from the first click; a voxel's
# radius is interpolated from its nearest rays (800 rays: ~0.1 rad apart).
_REACH = np.pi / 3 + 0.2


def test_an_exclude_click_never_adds_and_changes_nothing_away_from_it() -> None:
    from scipy import ndimage

    case = _case("hyper_8")
    contour = InteractiveContour(case.volume)
    seg = contour.click(case.seed_index).copy()
    leak = seg & ~case.lesion_mask
    assert leak.any()
    depth = ndimage.distance_transform_edt(leak, sampling=SPACING_MM)
    point = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    after = contour.click(point, include=False)
    changed = seg != after
    assert changed.any()
    assert not (after & ~seg).any()  # an exclude click never adds
    far = _angle_from(case.seed_index, point, seg.shape) > _REACH
    assert not (changed & far).any()


def test_an_include_click_never_removes_and_changes_nothing_away_from_it() -> None:
    from scipy import ndimage

    case = _case("hypo_25_noisy")  # under-segmented by the first click
    contour = InteractiveContour(case.volume)
    seg = contour.click(case.seed_index).copy()
    missed = case.lesion_mask & ~seg
    depth = ndimage.distance_transform_edt(missed, sampling=SPACING_MM)
    point = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    classes = len(contour._model.focus)
    after = contour.click(point, include=True)
    assert len(contour._model.focus) == classes  # no new tissue class: a local change
    changed = seg != after
    assert changed.any()
    assert not (seg & ~after).any()  # an include click never removes
    far = _angle_from(case.seed_index, point, seg.shape) > _REACH
    assert not (changed & far).any()


@pytest.mark.parametrize(
    ("name", "clicks", "floor"),
    [("hypo_15", 6, 0.84), ("necrotic_core", 2, 0.9), ("hypo_10_small", 8, 0.75)],
)
def test_corrective_clicks_converge_without_undoing_what_is_right(
    name: str, clicks: int, floor: float
) -> None:
    """A low-contrast focus, a necrotic one (the first click lands in the necrosis), a
    small 10 HU focus the image alone cannot place: each reaches the Dice floor within
    the clicks, and no click lowers the Dice by more than 0.03."""
    case = _case(name)
    contour = InteractiveContour(case.volume)
    seg = contour.click(case.seed_index)
    dices = [_dice(seg, case.lesion_mask)]
    for _ in range(clicks - 1):
        point, include = _largest_error_click(seg, case.lesion_mask)
        seg = contour.click(point, include)
        dices.append(_dice(seg, case.lesion_mask))
    assert max(dices) >= floor, dices
    assert all(b >= a - 0.03 for a, b in itertools.pairwise(dices)), dices


def test_flat_contouring_stays_on_the_first_slice() -> None:
    case = _case("hypo_40")
    contour = InteractiveContour(case.volume, flat=True)
    seg = contour.click(case.seed_index)
    z = case.seed_index[0]
    assert seg[z].any()
    assert not np.delete(seg, z, axis=0).any()
    truth = case.lesion_mask[z]
    assert _dice(seg[z], truth) >= 0.9
    # A later click on another slice acts on the first one.
    point = (z + 3, *case.seed_index[1:])
    seg = contour.click(point, include=False)
    assert not np.delete(seg, z, axis=0).any()


def test_clicks_outside_the_volume_and_a_first_exclude_are_refused() -> None:
    case = _case("hypo_40")
    contour = InteractiveContour(case.volume)
    with pytest.raises(ValueError, match="first click"):
        contour.click(case.seed_index, include=False)
    with pytest.raises(ValueError, match="outside the volume"):
        contour.click((999, 0, 0))


def _click_on_calcification(case) -> tuple[int, int, int]:
    """The brightest voxel of the calcification nearest the lesion's deepest point."""
    from scipy import ndimage

    image = case.volume.voxels
    labels, count = ndimage.label((image > 300.0) & case.lesion_mask)
    centres = ndimage.center_of_mass(labels > 0, labels, range(1, count + 1))
    distance = [np.linalg.norm((np.subtract(c, case.seed_index)) * SPACING_MM) for c in centres]
    nearest = labels == int(np.argmin(distance)) + 1
    return tuple(int(v) for v in np.unravel_index(np.argmax(np.where(nearest, image, -1e9)),
                                                  image.shape))  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1])
def test_a_first_click_on_a_calcification_contours_the_tumour(seed: int) -> None:
    # The clicked speck (300–450 HU) used to be taken for the focus level: Dice 0.02.
    case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == "calcified"), seed)
    point = _click_on_calcification(case)
    assert case.volume.voxels[point] > 300.0
    mask = InteractiveContour(case.volume).click(point)
    assert _dice(mask, case.lesion_mask) >= 0.75


@pytest.mark.parametrize("name", ["rim_enhancing", "mixed_necrosis_calc"])
def test_a_three_tissue_tumour_is_modelled_from_the_first_click(name: str) -> None:
    # A hypodense centre inside an enhancing rim, and a necrotic core inside a
    # hyper-attenuating tumour: the first click used to stop at the inner edge
    # (Dice 0.38 and 0.16).
    case = _case(name)
    mask = InteractiveContour(case.volume).click(case.seed_index)
    assert _dice(mask, case.lesion_mask) >= 0.75


def test_corrections_never_go_against_their_sign() -> None:
    # With the three-tissue model and without the guard, an include click here took
    # 5,000 voxels out (a re-solve with a wider pooling moved rays in): Dice -0.06.
    case = make_realistic_case(
        next(s for s in REALISTIC_SPECS if s.name == "mixed_necrosis_calc"), 1
    )
    contour = InteractiveContour(case.volume)
    point, include = case.seed_index, True
    previous = None
    for _ in range(7):
        mask = contour.click(point, include).copy()
        if previous is not None:
            if include:
                assert not (previous & ~mask).any(), "an include click removed voxels"
            else:
                assert not (mask & ~previous).any(), "an exclude click added voxels"
        previous = mask
        point, include = _largest_error_click(mask, case.lesion_mask)


def test_the_2d_tool_uses_the_star_on_the_clicked_slice() -> None:
    # The 2D auto contour (viewer tool "auto2d") ran the one-click region grower:
    # slice Dice 0.08–0.35 on these cases, where the star on the slice reaches 0.69–0.94.
    from tace_planner.domain.geometry import index_to_lps
    from tace_planner.imaging.segmentation.interactive import contour_from_clicks

    scores = []
    for name in ("hypo_25_noisy", "hyper_15", "calcified", "rim_enhancing", "dome"):
        case = _case(name)
        k = case.seed_index[0]
        point = index_to_lps(case.volume.index_to_lps, np.asarray([case.seed_index]))[0]
        mask, _ = contour_from_clicks(case.volume, [point], flat=True)
        assert not np.delete(mask, k, axis=0).any(), "the 2D contour left its slice"
        scores.append(_dice(mask[k], case.lesion_mask[k]))
    assert float(np.mean(scores)) >= 0.75


@pytest.mark.parametrize("name", ["mixed_necrosis_calc", "calcified", "lobulated_hyper"])
def test_no_click_lowers_the_dice_by_more_than_two_hundredths(name: str) -> None:
    """Issue 12's goal, on seed-1 lesions that missed it.

    An exclude click on a bright patch of a hyper-attenuating tumour's own layer (14 HU
    from it, under 10 HU of spread) made that tissue a surrounding-tissue class, and
    the next click's re-solve took a cap of the tumour out: Dice −0.059. An include
    click in a hole of the first contour (one ray at 1 mm among rays of 13 mm) carried
    every neighbouring ray as far past its own edge as the hole was deep: −0.028. An
    include click next to an earlier exclude measured its shortfall where the
    exclude's shift held and added it on every neighbouring ray: −0.054.
    """
    case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == name), 1)
    contour = InteractiveContour(case.volume)
    point, include = case.seed_index, True
    dices = []
    for _ in range(8):
        mask = contour.click(point, include)
        dices.append(_dice(mask, case.lesion_mask))
        point, include = _largest_error_click(mask, case.lesion_mask)
    assert all(b >= a - 0.02 for a, b in itertools.pairwise(dices)), dices


def test_an_exclude_click_on_tissue_within_the_focus_noise_keeps_the_model() -> None:
    """The clicked tissue becomes a surrounding-tissue class only when it stands apart
    from every focus level; near one, the click acts by its upper-bound cone alone."""
    case = make_realistic_case(
        next(s for s in REALISTIC_SPECS if s.name == "mixed_necrosis_calc"), 1
    )
    contour = InteractiveContour(case.volume)
    contour.click(case.seed_index)
    model = contour._model
    assert model is not None
    sd = model.spread_hu
    layer = max(f for f, _ in model.focus)
    assert model.new_class(layer + 1.6 * sd)  # beyond both first levels, yet near the layer
    assert model.near_focus(layer + 1.6 * sd)
    assert not model.near_focus(layer + 3.0 * sd)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_necrotic_core_a_viable_layer_and_a_rim_join_from_the_first_click(seed: int) -> None:
    """Four tissues (the whole-liver phantom's F4): a click in the necrotic core found
    the core's edge only (Dice 0.28 and 0.27): the viable layer around it, 25 HU below
    the liver under 10–18 HU of noise, lies less than two spreads from the liver, and
    the enhancing rim beyond it was taken for the first layer instead of the one met
    first. The layers now join inside out."""
    from scipy import ndimage

    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(seed)
    truth = phantom.tumour_masks["F4"]
    depth = ndimage.distance_transform_edt(truth, sampling=phantom.volume.spacing_mm)
    deepest = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    mask = contour.click(deepest)
    assert _dice(mask, truth) >= 0.8


def test_an_exclude_click_on_focus_like_tissue_trims_the_leak_around_it() -> None:
    """A small hyper-attenuating focus (the whole-liver phantom's F7, seed 1: +12 HU, 8 mm)
    whose first contour leaks all round into tissue the model cannot tell from it: the
    exclude clicks acted by their narrow cones alone (Dice 0.71 to 0.73 over five
    clicks). The click now shifts the evidence beyond its own depth on the rays near
    it, never deeper than the click."""
    phantom, truth, point = _whole_liver_focus(1, "F7")
    spacing = phantom.volume.spacing_mm
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    include, dices = True, []
    for _ in range(5):
        mask = contour.click(point, include)
        dices.append(_dice(mask, truth))
        both = np.argwhere(mask | truth)
        box = tuple(
            slice(int(a), int(b) + 1) for a, b in zip(both.min(0), both.max(0), strict=True)
        )
        local, include = _largest_error_click(mask[box], truth[box], spacing)
        point = tuple(p + b.start for p, b in zip(local, box, strict=True))
    assert max(dices) >= 0.85, dices
    assert all(b >= a - 0.02 for a, b in itertools.pairwise(dices)), dices


def test_a_click_on_a_calcification_seeks_the_edge_past_its_halo() -> None:
    """The whole-liver phantom's F5 (seed 1): the deepest point of the tumour lies on a
    calcification. Every ray started in the speck's blurred halo (150–300 HU, like
    neither the focus nor the liver), whose negative evidence most rays never made up
    within the tumour: Dice 0.43 (volume −65 %)."""
    from scipy import ndimage

    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(1)
    truth = phantom.tumour_masks["F5"]
    depth = ndimage.distance_transform_edt(truth, sampling=phantom.volume.spacing_mm)
    deepest = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    assert phantom.volume.voxels[deepest] > 250.0
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    mask = contour.click(deepest)
    assert _dice(mask, truth) >= 0.55


@pytest.mark.parametrize(("name", "seed"), [("hypo_5", 2), ("hypo_10_small", 1)])
def test_a_low_contrast_focus_is_drawn_from_the_pooled_profile(name: str, seed: int) -> None:
    """A focus 5–10 HU from the parenchyma, clicked on a blob of texture at its centre.

    The level within 4 mm of the click read as the parenchyma's (or beyond it), and
    the first click drew a 5 mm ball: Dice 0.10 (hypo_5, seed 2) and 0.32
    (hypo_10_small, seed 1). The rays' median profile keeps the focus's mean step.
    """
    case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == name), seed)
    contour = InteractiveContour(case.volume)
    mask = contour.click(case.seed_index)
    assert _dice(mask, case.lesion_mask) >= 0.75
    assert any("Low contrast" in m for m in contour.messages)


@pytest.mark.parametrize(("name", "seed"), [("hyper_8", 0), ("hypo_25_noisy", 0)])
def test_a_first_contour_on_a_faint_edge_says_so(name: str, seed: int) -> None:
    """8 HU over 8 HU of noise, 25 HU under 20 HU: the first contours lay 20–33 %
    short of the focus's volume with no message; the user is now told to check."""
    case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == name), seed)
    contour = InteractiveContour(case.volume)
    contour.click(case.seed_index)
    faint = [m for m in contour.messages if m.startswith("Faint edge")]
    assert len(faint) == 1
    assert "HU against" in faint[0]
    assert "include or exclude clicks" in faint[0]


@pytest.mark.parametrize(("name", "seed"), [("hyper_30", 0), ("hypo_40", 0), ("hypo_5", 2)])
def test_a_clear_edge_or_an_already_flagged_contour_gets_no_faint_edge_message(
    name: str, seed: int
) -> None:
    """A 30–40 HU focus under 12–15 HU has a clear edge; hypo_5 (seed 2) is drawn from
    the pooled profile, whose own message already says the contour is uncertain."""
    case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == name), seed)
    contour = InteractiveContour(case.volume)
    contour.click(case.seed_index)
    assert not any(m.startswith("Faint edge") for m in contour.messages)


def test_the_faint_edge_message_is_said_once_not_after_every_click() -> None:
    case = _case("hyper_8")
    contour = InteractiveContour(case.volume)
    mask = contour.click(case.seed_index)
    point, include = _largest_error_click(mask, case.lesion_mask)
    contour.click(point, include)
    assert not any(m.startswith("Faint edge") for m in contour.messages)


def test_clicks_on_a_low_contrast_focus_converge_without_a_drop() -> None:
    """hypo_10_small, seed 1: 10 clicks to Dice 0.85 from the 5 mm ball; on hypo_5,
    an include click on a blob of texture 14 HU above the parenchyma became a tissue
    class of its own and every ray grew (Dice −0.074): on a profile-fitted model a
    click acts locally."""
    for name, needed in (("hypo_10_small", 3), ("hypo_5", 8)):
        case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == name), 1)
        contour = InteractiveContour(case.volume)
        point, include = case.seed_index, True
        dices = []
        for _ in range(needed):
            mask = contour.click(point, include)
            dices.append(_dice(mask, case.lesion_mask))
            point, include = _largest_error_click(mask, case.lesion_mask)
        assert max(dices) >= 0.85, (name, dices)
        assert all(b >= a - 0.02 for a, b in itertools.pairwise(dices)), (name, dices)


def test_a_click_on_plain_parenchyma_stays_bounded() -> None:
    """The pooled profile never draws a low-contrast focus beyond 1.2 × 30 mm."""
    case = _case("hypo_5")
    shape = case.volume.voxels.shape
    contour = InteractiveContour(case.volume)
    mask = contour.click((shape[0] // 2, 12, 12))
    volume_ml = float(mask.sum()) * float(np.prod(SPACING_MM)) / 1000.0
    assert volume_ml <= 4.0 / 3.0 * np.pi * 36.0**3 / 1000.0


def test_a_texture_step_in_plain_parenchyma_is_not_taken_for_a_focus() -> None:
    """A click on plain liver whose pooled profile shows a texture step as strong as a
    faint focus's: the steps at control points around it in the liver are as strong, so
    the small contour is kept (without the liver contour the step cannot be compared)."""
    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(0)
    click = (25, 86, 76)  # 25+ mm from every tumour, 15+ mm inside the liver
    for masks in phantom.tumour_masks.values():
        assert not masks[click]
    cm3 = float(np.prod(phantom.volume.spacing_mm)) / 1000.0
    checked = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    mask = checked.click(click)
    assert float(mask.sum()) * cm3 < 2.0
    assert not any(m.startswith("Low contrast") for m in checked.messages)
    unchecked = InteractiveContour(phantom.volume)
    mask = unchecked.click(click)
    assert any(m.startswith("Low contrast") for m in unchecked.messages)
    assert float(mask.sum()) * cm3 > 10.0


def test_a_click_on_parenchyma_does_not_take_in_the_liver() -> None:
    """A click on plain liver whose rays meet a darker structure (57 HU) took that for the
    surroundings and the parenchyma for the focus: 1,103 cm³ of liver. With the liver
    contour, tissue at the parenchyma's own level is the parenchyma: a small contour and
    a message."""
    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(0)
    click = (45, 123, 54)
    assert not any(mask[click] for mask in phantom.tumour_masks.values())
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    mask = contour.click(click)
    cm3 = float(mask.sum()) * float(np.prod(phantom.volume.spacing_mm)) / 1000.0
    assert cm3 < 2.0
    assert any("looks like the tissue around it" in m for m in contour.messages)


@pytest.mark.parametrize(
    ("seed", "click"),
    [(0, (18, 87, 63)), (1, (18, 86, 66)), (1, (44, 118, 46)), (1, (37, 71, 101))],
)
def test_a_first_contour_holding_parenchyma_is_kept_small(
    seed: int, click: tuple[int, int, int]
) -> None:
    """Clicks on plain liver (25+ mm from every tumour, 15+ mm inside the liver) whose
    first contours grew to 62–171 cm³ of liver (the click's own few voxels read a few HU
    off the parenchyma's level; the rays' edge was a darker structure or a texture step):
    the contour's inside lies at the parenchyma's level, so the small contour is drawn
    and the user told, and no "Low contrast" fit is claimed."""
    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(seed)
    assert not any(mask[click] for mask in phantom.tumour_masks.values())
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    mask = contour.click(click)
    cm3 = float(mask.sum()) * float(np.prod(phantom.volume.spacing_mm)) / 1000.0
    assert cm3 < 2.0
    assert contour.messages
    assert not any(m.startswith("Low contrast") for m in contour.messages)


@pytest.mark.parametrize("seed", [0, 1])
def test_foci_a_few_hu_from_the_liver_are_not_taken_for_parenchyma(seed: int) -> None:
    """The parenchyma rule leaves every focus of the whole-liver phantom to its first
    contour (the faintest, F8, lies 5–11 HU below the liver's median): none of them is
    cut to the small contour by it."""
    from scipy import ndimage

    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(seed)
    spacing = phantom.volume.spacing_mm
    for name, truth in phantom.tumour_masks.items():
        depth = ndimage.distance_transform_edt(truth, sampling=spacing)
        click = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), truth.shape))
        contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
        contour.click(click)
        star = contour._stars[0]
        assert not contour._holds_parenchyma(star), name


def _whole_liver_f8(seed: int):
    from scipy import ndimage

    from tace_planner.imaging.phantom_realistic_liver import make_liver_phantom

    phantom = make_liver_phantom(seed)
    truth = phantom.tumour_masks["F8"]
    depth = ndimage.distance_transform_edt(truth, sampling=phantom.volume.spacing_mm)
    deepest = tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))
    return phantom, truth, deepest


def test_an_include_click_outside_the_small_contour_confirms_a_faint_focus() -> None:
    """The whole-liver phantom's −8 HU F8 (seed 1): its pooled profile's step is no
    stronger than the liver texture's around it, so the first click draws the small
    contour. The user's second include click outside it confirms the focus: the profile
    is fitted again beyond the click (Dice 0.38 after it when the click only added its
    cone, 0.80 now), and an undo takes the refit back with the click."""
    phantom, truth, deepest = _whole_liver_f8(1)
    spacing = phantom.volume.spacing_mm
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    first = contour.click(deepest).copy()
    assert _dice(first, truth) < 0.4
    assert not any(m.startswith("Low contrast") for m in contour.messages)
    point, include = _largest_error_click(first, truth, spacing)
    assert include
    second = contour.click(point, include)
    assert _dice(second, truth) >= 0.7
    assert not (first & ~second).any()  # an include click never removes a voxel
    assert any(m.startswith("Low contrast") for m in contour.messages)
    assert np.array_equal(contour.undo(), first)
    assert _dice(contour.click(point, include), truth) >= 0.7


def test_an_exclude_click_on_focus_like_tissue_trims_the_leak_to_its_base() -> None:
    """The whole-liver phantom's small +12 HU F7 (seed 1) leaks upwards into a patch of
    liver as bright as it. The exclude click's tissue is like the focus's, so the image
    cannot say where the leak starts; the shift used to start at the click's own depth,
    the contour retreated just to the click and the next clicks found the rest of the
    leak inside it (Dice 0.712 → 0.809). The leak's inner end lies no deeper than the
    contour's typical radius (its base) nor than the click is from the leak's outer end."""
    phantom, truth, deepest = _whole_liver_focus(1, "F7")
    spacing = phantom.volume.spacing_mm
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    first = contour.click(deepest).copy()
    point, include = _largest_error_click(first, truth, spacing)
    assert not include
    assert contour._model is not None
    assert contour._model.focus_like(contour._value_at(point))
    second = contour.click(point, include)
    assert not (second & ~first).any()  # an exclude click never adds a voxel
    assert _dice(second, truth) >= 0.84


def _focus_and_vessel(offset_mm: float, seed: int, noise_sd: float = 10.0):
    """A 13 mm focus 25 HU below the liver and a 170 HU vessel of 2 mm radius crossing
    the slices (2.5 mm thick), ``offset_mm`` from the focus's centre; blurred, noisy.

    Returns the volume, the focus (the truth: the vessel's part inside it belongs to
    the focus), the focus beyond the vessel as seen from the centre, and the centre.
    """
    from scipy import ndimage

    from tace_planner.domain.volume import ImageVolume

    spacing, shape = (2.5, 0.8, 0.8), (20, 80, 80)
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[tuple(slice(0, n) for n in shape)]
    centre = tuple(n // 2 for n in shape)
    zz, yy, xx = ((g - c) * s for g, c, s in zip((z, y, x), centre, spacing, strict=True))
    focus = np.broadcast_to(zz**2 + yy**2 + xx**2 <= 13.0**2, shape)
    along = (xx + zz) / np.sqrt(2.0)
    across = (xx - along / np.sqrt(2.0)) ** 2 + (yy - offset_mm) ** 2
    vessel = across + (zz - along / np.sqrt(2.0)) ** 2 <= 2.0**2
    image = np.full(shape, 110.0, np.float32)
    image[focus] = 85.0
    image[vessel] = 170.0
    image = ndimage.gaussian_filter(image, [1.0 / s for s in spacing])
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), (0.0, 0.7, 0.7))
    image += (noise * noise_sd / noise.std()).astype(np.float32)
    volume = ImageVolume(image, np.diag([*spacing, 1.0]), "1.2.3")
    beyond = focus & np.broadcast_to(yy > offset_mm + 2.0, shape)
    return volume, focus, beyond, centre


def test_a_thin_vessel_through_a_focus_does_not_stop_its_rays() -> None:
    # The vessel's blurred profile passes through the liver's level on the way in and
    # out: scored as the liver, it ended every ray that crosses it (main: 70 % of the
    # focus beyond the vessel in the contour, volume -8 % on average; now 85 %, -4 %).
    covered, errors = [], []
    for seed in range(4):
        volume, focus, beyond, centre = _focus_and_vessel(4.5, seed)
        mask = InteractiveContour(volume).click(centre)
        covered.append(float((mask & beyond).sum()) / float(beyond.sum()))
        errors.append(100.0 * (float(mask.sum()) / float(focus.sum()) - 1.0))
    assert np.mean(covered) >= 0.8, covered
    assert abs(float(np.mean(errors))) <= 6.0, errors


def test_a_vessel_touching_a_focus_from_outside_stays_out() -> None:
    for seed in range(2):
        volume, focus, _, centre = _focus_and_vessel(13.0 + 2.5, seed)
        mask = InteractiveContour(volume).click(centre)
        assert float(mask.sum()) / float(focus.sum()) <= 1.03
        assert _dice(mask, focus) >= 0.95


def test_only_a_short_bright_run_enclosed_by_focus_is_a_structure_inside_it() -> None:
    from tace_planner.imaging.segmentation.interactive import _enclosed_excursions

    radii = np.arange(0.0, 30.0, 0.5)
    focus, liver, spread = 85.0, 110.0, 10.0

    def profile(*parts: tuple[float, float]) -> np.ndarray:
        """Levels (HU) up to radii (mm), in order."""
        values = np.full(radii.shape, liver)
        start = 0.0
        for level, end in parts:
            values[(radii >= start) & (radii < end)] = level
            start = end
        return values

    rows = np.stack(
        [
            profile((focus, 4.0), (140.0, 9.0), (focus, 14.0)),  # a vessel inside
            profile((focus, 4.0), (140.0, 9.0)),  # a vessel at the edge: liver beyond
            profile((focus, 4.0), (140.0, 20.0), (focus, 26.0)),  # too long to be thin
            profile((focus, 4.0), (118.0, 9.0), (focus, 14.0)),  # parenchyma-like, not beyond
            profile((focus, 14.0), (140.0, 17.0), (102.0, 22.0)),  # texture dip beyond it
        ]
    )
    found = _enclosed_excursions(rows, focus, liver, spread)
    assert found[0][(radii >= 4.0) & (radii < 9.0)].all()
    assert not found[1:].any()
    # Levels closer than two spreads: the half-way level cannot tell the tissues apart.
    assert not _enclosed_excursions(rows, focus, liver, 15.0).any()


def _clean_ball_volume(radius_mm: float):
    """A ball 50 HU below the liver, blurred by 1 mm, on the battery's spacing (no noise)."""
    from scipy import ndimage

    from tace_planner.domain.volume import ImageVolume

    shape = (16, 48, 48)
    centre = tuple(n // 2 for n in shape)
    fine = 4  # partial volume from a 4 × finer grid along each axis
    grids = np.ogrid[tuple(slice(0, n * fine) for n in shape)]
    d2 = sum((((g + 0.5) / fine - 0.5 - c) * s) ** 2
             for g, c, s in zip(grids, centre, SPACING_MM, strict=True))  # fmt: skip
    occupancy = (d2 <= radius_mm**2).reshape(shape[0], fine, shape[1], fine, shape[2], fine)
    image = 110.0 - 50.0 * occupancy.mean(axis=(1, 3, 5))
    image = ndimage.gaussian_filter(image, [1.0 / s for s in SPACING_MM]).astype(np.float32)
    index_to_lps = np.eye(4)
    index_to_lps[:3, :3] = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]]) * np.array(SPACING_MM)
    return ImageVolume(image, index_to_lps, "1.2.826.0.1.3680043.10.1161.9"), centre


def test_a_margin_moves_the_whole_surface_by_its_millimetres() -> None:
    """Analytic: on a clean 12 mm ball, a margin of ±1 mm scales the volume by
    (13/12)³ and (11/12)³ (the ratio cancels the contour's own error on voxels)."""
    radius = 12.0
    volume, centre = _clean_ball_volume(radius)
    contour = InteractiveContour(volume)
    drawn = int(contour.click(centre).sum())
    ball_mm3 = 4.0 / 3.0 * np.pi * radius**3
    assert drawn * float(np.prod(SPACING_MM)) == pytest.approx(ball_mm3, rel=0.05)
    for margin in (1.0, -1.0, 2.0):
        moved = int(contour.set_margin(margin).sum())
        assert moved / drawn == pytest.approx(((radius + margin) / radius) ** 3, rel=0.04)
    assert int(contour.set_margin(0.0).sum()) == drawn


def test_a_margin_keeps_the_clicks_and_stays_through_later_clicks() -> None:
    case = _case("hypo_25_noisy")
    truth = case.lesion_mask
    contour = InteractiveContour(case.volume)
    first = contour.click(case.seed_index).copy()
    grown = contour.set_margin(1.5).copy()
    assert (grown >= first).all()
    assert abs(grown.sum() / truth.sum() - 1.0) < abs(first.sum() / truth.sum() - 1.0)
    point, include = _largest_error_click(grown, truth)
    after = contour.click(point, include)
    assert contour.margin_mm == 1.5
    assert (after[_ball(after.shape, point, SEED_RADIUS_MM)] == include).all()
    # Shrunk hard, the include clicks' balls stay in.
    shrunk = contour.set_margin(-5.0)
    for click in contour.clicks:
        if click.include:
            assert shrunk[_ball(shrunk.shape, click.index, SEED_RADIUS_MM)].all()


def test_a_grown_contour_stays_within_the_liver_contour() -> None:
    case = _case("subcapsular")
    contour = InteractiveContour(case.volume, liver_mask=case.liver_mask)
    drawn = contour.click(case.seed_index).copy()
    grown = contour.set_margin(4.0)
    assert grown.sum() > drawn.sum()
    assert not (grown & ~drawn & ~case.liver_mask).any()


def test_a_margin_before_a_click_or_beyond_5_mm_is_refused() -> None:
    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.imaging.segmentation.interactive import click_contour

    case = _case("hypo_40")
    contour = InteractiveContour(case.volume)
    with pytest.raises(ValueError, match="click inside the focus first"):
        contour.set_margin(1.0)
    contour.click(case.seed_index)
    for bad in (5.5, -6.0, float("nan")):
        with pytest.raises(ValueError, match="outside -5 to 5 mm"):
            contour.set_margin(bad)
    assert contour.margin_mm == 0.0
    seed_lps = case.volume.index_to_lps @ np.append(np.asarray(case.seed_index, float), 1.0)
    with pytest.raises(InvalidInputError, match="contour margin"):
        click_contour(case.volume, [tuple(seed_lps[:3])], margin_mm=7.0)


def test_voxels_edited_by_hand_are_kept_as_painted_by_a_replay_of_the_clicks() -> None:
    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.imaging.segmentation.interactive import click_contour

    case = _case("hypo_40")
    affine = case.volume.index_to_lps
    seed = tuple((affine @ np.append(np.asarray(case.seed_index, float), 1.0))[:3])
    drawn = click_contour(case.volume, [seed]).mask
    keep_in = np.zeros_like(drawn)
    keep_out = np.zeros_like(drawn)
    k, j, i = case.seed_index
    keep_in[k, j + 30 : j + 34, i : i + 4] = True  # beyond the focus
    keep_out[k, j : j + 3, i : i + 3] = True  # at the click itself
    assert not drawn[keep_in].any()
    kept = click_contour(case.volume, [seed], keep_in=keep_in, keep_out=keep_out).mask
    assert kept[keep_in].all()
    assert not kept[keep_out].any()
    assert np.array_equal(kept & ~keep_in & ~keep_out, drawn & ~keep_in & ~keep_out)
    with pytest.raises(InvalidInputError, match="hand-edited voxels"):
        click_contour(case.volume, [seed], keep_in=keep_in[:-1])


def test_a_click_acts_on_the_contour_shown_with_its_margin() -> None:
    """An include click beyond a grown contour passes the shown edge by the include's
    2 mm, not by 2 mm plus the margin: the click's depth is read against the edge shown
    (the rays' edges moved by the margin), not against the rays' own edges."""
    volume, centre = _clean_ball_volume(12.0)
    contour = InteractiveContour(volume)
    contour.click(centre)
    grown = contour.set_margin(2.0).copy()
    click = (centre[0], centre[1], centre[2] + round(15.2 / SPACING_MM[2]))  # 15.2 mm out in x
    assert not grown[click]
    after = contour.click(click, include=True)
    assert after[click]
    star = contour._stars[0]
    distance, direction = star.polar(np.asarray(click))
    ray = int(np.argmax(star.dirs @ direction))
    shown = star.edge_radius()[ray] + contour.margin_mm
    assert distance + 1.0 < shown < distance + 3.5  # 2 mm beyond, with a ray's spacing
    assert (after >= grown).all()


def test_a_second_click_on_a_small_focus_at_the_liver_edge_does_not_take_the_liver() -> None:
    """The whole-liver phantom's small hyper-attenuating F7 (seed 4) lies near the
    capsule: the first click draws the small contour, the second include click
    confirms the focus and the pooled profile is tried again. Its step was the liver
    against the fat around it (109 HU against 22 HU): the contour grew over the liver,
    Dice 0.50 → 0.03. A step of more than 60 HU is not a focus against the liver."""
    phantom, truth, deepest = _whole_liver_focus(4, "F7")
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    first = _dice(contour.click(deepest), truth)
    assert contour._small  # the situation under test: the small contour first
    # The simulated user's second click (benchmarks/interactive.py): the deepest point
    # of the part missed, recorded.
    second = contour.click((42, 61, 135), True)
    assert truth[42, 61, 135]
    assert _dice(second, truth) >= first - 0.02
    assert second.sum() < 2 * truth.sum()
    assert not any("Low contrast (109" in m for m in contour.messages)


def test_an_include_click_the_model_reads_as_surroundings_does_not_run_away() -> None:
    """hypo_5 of the lesion battery, seed 3: 5 HU below the liver under its texture,
    the first contour took the focus's own level for the surroundings'. The fourth
    include click, on tissue that model reads as the surroundings, was placed by its
    geometry alone with no bound beyond it, and the rays near it ran through the
    parenchyma (which the model reads as focus) to their ends: +146 %, Dice 0.34 →
    0.26. The rays near such a click now go about as far beyond it as it lies beyond
    the contour. Clicks recorded from the simulated user of benchmarks/interactive.py."""
    case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == "hypo_5"), 3)
    truth = case.lesion_mask
    contour = InteractiveContour(case.volume)
    clicks = [case.seed_index, (23, 68, 74), (15, 71, 75), (23, 71, 86)]
    dices = []
    for point in clicks:
        assert truth[point]
        dices.append(_dice(contour.click(point, True), truth))
    assert contour._model is not None
    assert contour._model.background_like(contour._value_at(clicks[-1]))
    assert min(b - a for a, b in itertools.pairwise(dices)) >= -0.02, dices
    assert contour.mask is not None
    assert contour.mask.sum() < 1.5 * truth.sum()


def test_an_include_click_that_adds_only_its_spot_says_why() -> None:
    """The whole-liver phantom's calcified F5, seed 5: the deepest point lies on a
    cluster of calcifications, which the first contour takes for the focus (the tumour
    around it for the surroundings). Include clicks on the darker tumour start stars of
    their own that find nothing like the focus: each added a millimetre, silently."""
    phantom, truth, deepest = _whole_liver_focus(5, "F5")
    contour = InteractiveContour(phantom.volume, liver_mask=phantom.liver_mask)
    first = contour.click(deepest).copy()
    assert contour.messages == []  # the situation under test: a speck taken for the focus
    point = (48, 60, 116)  # the simulated user's next click (benchmarks/interactive.py)
    assert truth[point]
    second = contour.click(point, True)
    assert (second & ~first).sum() < 50
    assert any(m.startswith("Only the clicked spot was added") for m in contour.messages)
    assert any("calcification" in m and "brush" in m for m in contour.messages)


def test_an_include_click_on_a_second_lobe_grows_it_without_that_message() -> None:
    """A click in a separate part of the focus, past a gap of parenchyma, starts a star
    of its own that grows over that part (the message above is for a star that does
    not)."""
    from scipy import ndimage

    from tace_planner.domain.volume import ImageVolume

    spacing, shape = (2.5, 0.8, 0.8), (16, 60, 90)
    z, y, x = np.ogrid[tuple(slice(0, n) for n in shape)]
    zz, yy = (z - 8) * 2.5, (y - 30) * 0.8
    parts = [zz**2 + yy**2 + ((x - cx) * 0.8) ** 2 <= 8.0**2 for cx in (22, 68)]
    image = np.full(shape, 110.0, np.float32)
    for part in parts:
        image[part] = 80.0
    image = ndimage.gaussian_filter(image, [1.0 / s for s in spacing])
    image += ndimage.gaussian_filter(np.random.default_rng(3).standard_normal(shape), 0.7) * 6.0
    contour = InteractiveContour(
        ImageVolume(image.astype(np.float32), np.diag([*spacing, 1.0]), "1.2.3")
    )
    contour.click((8, 30, 22))
    mask = contour.click((8, 30, 68), True)
    assert len(contour._stars) == 2  # the second part has a star of its own
    assert _dice(mask & parts[1], parts[1]) >= 0.8
    assert not any(m.startswith("Only the clicked spot") for m in contour.messages)


def test_a_click_on_a_texture_patch_of_a_faint_focus_acts_locally() -> None:
    """hypo_5 of the lesion battery, seed 4: 101 HU against 109 HU around it. The
    eighth include click lands on a 123 HU patch of the tumour's texture, 2.9 spreads
    from the surroundings: it was taken for a tissue of its own, every ray grew (volume
    −20 → +43 %, Dice 0.832 → 0.801). Within a tumour's contrast of the levels of a
    faint focus, a clicked value is texture: the click acts locally. Clicks recorded
    from the simulated user of benchmarks/interactive.py."""
    case = make_realistic_case(next(s for s in REALISTIC_SPECS if s.name == "hypo_5"), 4)
    truth = case.lesion_mask
    contour = InteractiveContour(case.volume)
    clicks = [case.seed_index, (21, 64, 72), (18, 84, 83), (19, 61, 67), (26, 76, 78),
              (18, 76, 91), (18, 61, 80), (19, 56, 74)]  # fmt: skip
    dices = []
    for point in clicks:
        assert truth[point]
        dices.append(_dice(contour.click(point, True), truth))
    assert contour._model is not None
    assert contour._model.new_class(contour._value_at(clicks[-1]))  # the case under test
    assert len(contour._model.focus) == 1  # no class of its own
    assert min(b - a for a, b in itertools.pairwise(dices)) >= -0.02, dices
    assert contour.mask is not None
    assert contour.mask.sum() < 1.1 * truth.sum()
