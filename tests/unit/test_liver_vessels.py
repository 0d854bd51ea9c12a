"""The vena cava rule of the one-click liver, probed where real CT differs from the phantom.

Synthetic scenes (numpy only): an ellipsoidal liver (100 HU) in fat (-80 HU), noise
10 HU, 1.5 mm pixels, with the inferior vena cava (IVC, 150 HU, 20 mm across) in a
groove at its back, running free below and above it. Each scene is segmented with
the rule and without it (``vessel_above_hu`` out of reach), so that what the rule
removes is measured on its own: the IVC the filling took in must go, and the liver,
a tumour against the IVC, a portal vein and the aorta must stay.

Not tested, a limit of principle: an IVC no brighter than the liver (early phase,
or unopacified blood over its whole cross-section) is grown as parenchyma, and
nothing tells it from the liver on intensity
(``test_no_vessel_is_found_where_none_is_brighter_than_the_liver``).
Not reached yet: the +35 HU focus against an IVC tilted by 25 degrees keeps 91 %
of its voxels inside (82 % before): the followed cross-sections lean into a focus
above the vessel threshold. Averaging the centres of the paths that follow the same
vessel brought it to 97.5 % but left a rim of IVC beside F3 of the whole-liver
phantom, into which its one-click contour leaked (+26 %), and was not kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tace_planner.domain.progress import run_sync
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation import segment_liver
from tace_planner.imaging.segmentation.liver import LiverParameters

LIVER_HU, VESSEL_HU, FAT_HU = 100.0, 150.0, -80.0
IVC_RADIUS_MM = 10.0


@dataclass
class Scene:
    volume: ImageVolume
    seed_lps: tuple[float, float, float]
    liver: np.ndarray
    ivc: np.ndarray
    extra: np.ndarray  # the tumour, portal vein or aorta of the scene (or nothing)


def _scene(
    dz: float = 3.0,
    *,
    tilt_deg: float = 0.0,
    ivc: bool = True,
    mixing: bool = False,
    tumour: bool = False,
    portal: bool = False,
    aorta_gap_mm: float | None = None,
    z_extent_mm: float = 150.0,
) -> Scene:
    """The liver: an ellipsoid centred at (z, y, x) = (75, 75, 90) mm, semi-axes
    45, 55, 70 mm (about 725 cm³). The IVC's axis passes (75, 105, 90) mm, tilted by
    ``tilt_deg`` towards +x; it lies wholly inside the ellipsoid over the middle 60 mm
    and against its flank for 12 mm either side."""
    shape = (round(z_extent_mm / dz), 100, 120)
    z = (np.arange(shape[0]) + 0.5)[:, None, None] * dz
    y = np.arange(shape[1])[None, :, None] * 1.5
    x = np.arange(shape[2])[None, None, :] * 1.5
    liver = ((z - 75) / 45) ** 2 + ((y - 75) / 55) ** 2 + ((x - 90) / 70) ** 2 <= 1
    image = np.where(liver, LIVER_HU, FAT_HU)
    tilt = np.radians(tilt_deg)
    axis_x = 90.0 + np.tan(tilt) * (z - 75)
    tube = np.broadcast_to(
        (y - 105) ** 2 + ((x - axis_x) * np.cos(tilt)) ** 2 <= IVC_RADIUS_MM**2, shape
    ).copy()
    tube &= ivc
    image[tube] = VESSEL_HU
    if mixing:  # unopacified blood over half the lumen for 9 mm (liver-like: 95 HU)
        image[tube & (abs(z - 75) <= 4.5) & (x < axis_x)] = 95.0
    extra = np.zeros(shape, dtype=bool)
    if tumour:  # a hyper-attenuating focus (+35 HU) against the IVC, inside the liver
        centre_x = 90.0 - IVC_RADIUS_MM / np.cos(tilt) - 11.0
        extra = ((z - 75) ** 2 + (y - 105) ** 2 + (x - centre_x) ** 2 <= 11.0**2) & ~tube
        image[extra] = 135.0
    if portal:  # from below and in front, oblique, into the liver; it branches and ends
        segments = [((10, 60, 150), (60, 60, 110), 6.0)]
        segments += [((60, 60, 110), end, 4.0) for end in ((85, 50, 80), (80, 75, 125))]
        for a, b, radius in segments:
            for s in np.linspace(0.0, 1.0, 120):
                pz, py, px = (ai + (bi - ai) * s for ai, bi in zip(a, b, strict=True))
                extra |= (z - pz) ** 2 + (y - py) ** 2 + (x - px) ** 2 <= radius**2
        image[extra] = VESSEL_HU
    if aorta_gap_mm is not None:  # beside the liver, never inside it, all the way down
        edge_x = 90.0 + 70.0 * np.sqrt(1.0 - (25.0 / 55.0) ** 2)  # the liver at y = 100
        centre_x = edge_x + aorta_gap_mm + 11.0
        extra = np.broadcast_to((y - 100) ** 2 + (x - centre_x) ** 2 <= 11.0**2, shape) & ~liver
        image[extra] = 200.0
    image = image + np.random.default_rng(0).normal(0.0, 10.0, shape)
    affine = np.array([[0, 0, 1.5, 0], [0, 1.5, 0, 0], [dz, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
    volume = ImageVolume(image.astype(np.float32), affine)
    return Scene(volume, (60.0, 60.0, 75.0), liver & ~tube & ~extra, tube, extra)


def _with_and_without(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """The liver with the vessel rule, and without it (no vessel is bright enough)."""
    with_rule = run_sync(segment_liver(scene.volume, scene.seed_lps)).mask
    off = LiverParameters(vessel_above_hu=1e6)
    without = run_sync(segment_liver(scene.volume, scene.seed_lps, parameters=off)).mask
    return with_rule, without


def _ivc_kept(scene: Scene, with_rule: np.ndarray, without: np.ndarray) -> float:
    """Share of the IVC the filling took in that stays in the liver."""
    return float((with_rule & scene.ivc).sum()) / float((without & scene.ivc).sum())


def _liver_removed(scene: Scene, with_rule: np.ndarray, without: np.ndarray) -> float:
    """Share of the true liver that the rule removed."""
    return float((without & ~with_rule & scene.liver).sum()) / float(scene.liver.sum())


@pytest.mark.parametrize("dz", [1.0, 3.0, 5.0])
def test_the_ivc_in_its_groove_is_left_out_on_thin_and_thick_slices(dz: float) -> None:
    """Slices of 1 mm (working-grid z factor 3), 3 mm and 5 mm (working voxels of 5 mm).

    Before, the IVC's calibre was taken on the slice below the liver where it already
    ran against the liver's flank, less a pixel's rim: 40 % of the IVC the filling took
    in stayed on 3 mm slices; and on the slice either side of its path, where the liver
    wraps round it but the working region had not yet taken it in, the later hole
    filling took in its whole cross-section.
    """
    scene = _scene(dz)
    with_rule, without = _with_and_without(scene)
    assert (without & scene.ivc).sum() > 0.3 * scene.ivc.sum()  # the filling takes it in
    assert _ivc_kept(scene, with_rule, without) <= 0.2
    per_slice_taken = (without & scene.ivc).sum(axis=(1, 2))
    per_slice_kept = (with_rule & scene.ivc).sum(axis=(1, 2))
    full = per_slice_taken >= 0.9 * scene.ivc.sum(axis=(1, 2))
    assert (per_slice_kept[full] <= 0.5 * per_slice_taken[full]).all(), "a whole ring kept"
    assert _liver_removed(scene, with_rule, without) <= 0.005


@pytest.mark.parametrize(("dz", "tilt_deg"), [(3.0, 25.0), (1.0, 25.0), (5.0, 30.0)])
def test_a_tilted_ivc_is_still_found_and_left_out(dz: float, tilt_deg: float) -> None:
    """Near the diaphragm the IVC runs 20-30 degrees off the slice normal."""
    scene = _scene(dz, tilt_deg=tilt_deg)
    with_rule, without = _with_and_without(scene)
    assert _ivc_kept(scene, with_rule, without) <= 0.2
    assert _liver_removed(scene, with_rule, without) <= 0.005


def test_unopacified_blood_in_part_of_the_ivc_neither_stops_it_nor_removes_liver() -> None:
    """Mixing artefact: half the lumen at 95 HU (liver-like) over 9 mm."""
    scene = _scene(mixing=True)
    with_rule, without = _with_and_without(scene)
    kept = _ivc_kept(scene, with_rule, without)
    assert kept <= 0.2 or (with_rule == without).all()
    assert _liver_removed(scene, with_rule, without) <= 0.005


def test_a_hyper_attenuating_tumour_against_the_ivc_stays_inside() -> None:
    """A focus at +35 HU against the IVC, above the vessel threshold (+20 HU)."""
    scene = _scene(tumour=True)
    with_rule, without = _with_and_without(scene)
    assert _ivc_kept(scene, with_rule, without) <= 0.2
    inside = float((with_rule & scene.extra).sum()) / float(scene.extra.sum())
    assert inside >= 0.99, f"{inside:.3f} of the tumour inside the liver"


def test_a_portal_vein_entering_obliquely_and_branching_is_not_removed() -> None:
    scene = _scene(portal=True)
    with_rule, without = _with_and_without(scene)
    assert (without & scene.extra).sum() > 0.3 * scene.extra.sum()  # the filling takes it in
    assert not (without & ~with_rule & scene.extra).any()


@pytest.mark.parametrize("gap_mm", [0.0, 5.0])
def test_the_aorta_beside_the_liver_removes_nothing(gap_mm: float) -> None:
    scene = _scene(ivc=False, aorta_gap_mm=gap_mm)
    with_rule, without = _with_and_without(scene)
    assert (with_rule == without).all()
    assert (with_rule & scene.extra).sum() <= 0.02 * scene.extra.sum()  # its edge, if touching


@pytest.mark.parametrize("dz", [3.0, 5.0])
def test_an_ivc_leaving_the_scan_inside_the_liver_is_left_out(dz: float) -> None:
    """The scan range ends 20 mm below the dome, the IVC still inside the liver.

    Before, a vessel had to come out of the liver on the far side within the scan,
    and the whole IVC (58-68 % of it in the scan) stayed in the liver.
    """
    scene = _scene(dz, z_extent_mm=95.0)
    with_rule, without = _with_and_without(scene)
    assert _ivc_kept(scene, with_rule, without) <= 0.2
    assert _liver_removed(scene, with_rule, without) <= 0.005
