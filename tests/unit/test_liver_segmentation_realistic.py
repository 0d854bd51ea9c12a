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


@pytest.mark.parametrize("seed", [0, 1])
def test_the_vena_cava_is_left_out_and_a_focus_against_it_does_not_leak_into_it(seed: int) -> None:
    """The IVC runs through the liver's groove at +40 HU, within the hyper-tumour band.

    Before, the one-click liver held 35-42 % of the IVC (seeds 0, 1), and the
    one-click contour of F3 (+30 HU, against the IVC) leaked into it: 18.1 cm³ for
    7.1 (seed 0), 18.9 for 6.8 (seed 1), with no message.
    """
    from scipy import ndimage

    from tace_planner.imaging.phantom_realistic_liver import _mask, liver_grid
    from tace_planner.imaging.segmentation.interactive import InteractiveContour

    phantom = make_liver_phantom(seed)
    result = run_sync(segment_liver(phantom.volume, phantom.seed_lps_mm))
    ivc = _mask(phantom.liver.excluded[0].contains, liver_grid())
    share = float((result.mask & ivc).sum()) / float(ivc.sum())
    assert share <= 0.12, f"{share:.0%} of the IVC inside the liver"
    assert "vena cava" in result.explanation.summary
    assert len(result.notes) == 1
    assert "inferior vena cava" in result.notes[0]
    # the "why?" says how much: the IVC's share the filling took in, as measured here
    left_out = float(result.explanation.inputs["inferior vena cava left out"].split()[0])
    voxel_cm3 = phantom.volume.voxel_volume_cm3
    assert 0.15 * float(ivc.sum()) * voxel_cm3 <= left_out <= float(ivc.sum()) * voxel_cm3
    truth = phantom.tumour_masks["F3"]
    assert float((result.mask & truth).sum()) >= 0.99 * float(truth.sum())
    depth = ndimage.distance_transform_edt(truth, sampling=phantom.volume.spacing_mm)
    click = np.unravel_index(int(np.argmax(depth)), depth.shape)
    contour = InteractiveContour(phantom.volume, liver_mask=result.mask).click(click)
    assert float(contour.sum()) == pytest.approx(float(truth.sum()), rel=0.15)
    assert _dice(contour, truth) >= 0.85


def _through_vessel_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A liver block (100 HU) on a 3 mm grid, a 150 HU tube running through it from
    below to above, a 135 HU tumour against the tube, and a 150 HU vessel that
    enters from below and ends inside (as a portal vein does)."""
    zz, yy, xx = np.mgrid[0:40, 0:40, 0:60].astype(float)
    image = np.full(zz.shape, -80.0, dtype=np.float32)  # fat
    region = (zz >= 8) & (zz < 32) & (abs(yy - 20) <= 15) & (abs(xx - 30) <= 26)
    image[region] = 100.0
    tube = (yy - 20) ** 2 + (xx - 15) ** 2 <= 3.2**2
    image[tube] = 150.0
    tumour = ((zz - 20) ** 2 + (yy - 20) ** 2 + (xx - 21) ** 2 <= 3.5**2) & ~tube
    image[tumour] = 135.0
    branch = ((yy - 20) ** 2 + (xx - 45) ** 2 <= 2.5**2) & (zz < 20)
    image[branch] = 150.0
    return image, region, tube, tumour, branch


def test_a_vessel_running_through_is_found_and_neither_a_tumour_nor_a_branch_is() -> None:
    from tace_planner.imaging.segmentation.liver_surface import through_vessels, vessel_sections

    image, region, tube, tumour, branch = _through_vessel_scene()
    spacing = np.array([3.0, 3.0, 3.0])
    taken = region  # the filling took in the tube, the branch and the tumour
    paths = through_vessels(image, taken, 100.0, spacing, above_hu=20.0, area_mm2=(50.0, 1000.0))
    assert paths
    found = np.zeros_like(taken)
    for path in paths:
        found |= path.mask(taken.shape)
    inside = tube & taken
    assert (found & inside).sum() >= 0.9 * inside.sum()
    assert not (found & tumour).any()  # followed at its own calibre, not into the tumour
    assert not (found & branch).any()  # it ends inside: not a vessel running through
    drawn = vessel_sections(paths, np.array([1, 1, 1]), taken.shape, spacing)
    assert not (drawn & tumour).any()
    assert (drawn & inside).sum() >= 0.85 * inside.sum()


def test_no_vessel_is_found_where_none_is_brighter_than_the_liver() -> None:
    from tace_planner.imaging.segmentation.liver_surface import through_vessels

    image, region, tube, _, branch = _through_vessel_scene()
    image[tube | branch] = 110.0  # as bright as the parenchyma band: grown as liver
    paths = through_vessels(image, region, 100.0, np.array([3.0, 3.0, 3.0]),
                            above_hu=20.0, area_mm2=(50.0, 1000.0))  # fmt: skip
    assert paths == []


def test_the_sliver_beyond_a_removed_vessel_goes_and_a_lobe_tip_stays() -> None:
    from tace_planner.imaging.segmentation.liver_surface import drop_vessel_rims

    yy, xx = np.mgrid[0:80, 0:80].astype(float)
    distance = np.hypot(yy - 40, xx - 50)
    vessel = distance <= 8
    body = (abs(yy - 40) <= 25) & (xx >= 10) & (xx <= 41)  # the liver beside the vessel
    sliver = (distance <= 10) & ~vessel & (xx >= 55)  # left beyond it, cut off in the slice
    tip = (yy - 10) ** 2 + (xx - 70) ** 2 <= 3**2  # a lobe's tip, cut by the slice
    mask = np.stack([body | sliver | tip] * 3)
    sections = np.stack([vessel] * 3)
    sections[2] = False  # a slice the vessel does not cross keeps everything
    out = drop_vessel_rims(mask, sections, np.array([2.0, 1.0, 1.0]))
    assert sliver.sum() > 10
    assert not (out[0] & sliver).any()
    assert (out[0] & tip).sum() == tip.sum()
    assert (out[0] & body).sum() == body.sum()
    assert (out[2] == mask[2]).all()
