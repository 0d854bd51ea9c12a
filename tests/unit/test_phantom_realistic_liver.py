"""The whole-liver phantom: truth that holds together, images that look like portal-venous CT."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.imaging.phantom_realistic_liver import (
    SPACING_MM,
    TUMOURS,
    LiverPhantom,
    make_liver_phantom,
    truth_liver_mask,
    tumour_volume_cm3,
)

VOXEL_CM3 = float(np.prod(SPACING_MM)) / 1000.0


@pytest.fixture(scope="module")
def phantom() -> LiverPhantom:
    return make_liver_phantom(0)


def test_liver_truth_is_the_analytic_organ_holding_every_tumour(phantom: LiverPhantom) -> None:
    liver_cm3 = float(phantom.liver_mask.sum()) * VOXEL_CM3
    assert 1200.0 < liver_cm3 < 2000.0  # an adult liver (Feng, World J Gastroenterol 2017)
    assert np.array_equal(phantom.liver_mask, truth_liver_mask(phantom))
    assert [t.name for t in TUMOURS] == list(phantom.tumour_masks)
    for name, mask in phantom.tumour_masks.items():
        assert mask.sum() > 200, name  # ≥ 1.1 cm³: big enough to score
        assert not (mask & ~phantom.liver_mask).any(), name  # inside the liver
        assert 1.5 < tumour_volume_cm3(phantom, name) < 60.0, name
    names = list(phantom.tumour_masks)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not (phantom.tumour_masks[a] & phantom.tumour_masks[b]).any(), (a, b)


def test_tumours_sit_where_they_are_said_to(phantom: LiverPhantom) -> None:
    from scipy import ndimage

    outside = ~phantom.liver_mask
    near_surface = ndimage.binary_dilation(outside, iterations=2) & phantom.liver_mask
    for name in ("F1", "F2", "F3"):  # dome, subcapsular, against the IVC: touch the surface
        assert (phantom.tumour_masks[name] & near_surface).any(), name
    top = np.flatnonzero(phantom.liver_mask.any(axis=(1, 2)))[-1]
    f1_top = np.flatnonzero(phantom.tumour_masks["F1"].any(axis=(1, 2)))[-1]
    assert top - f1_top <= 1  # F1 reaches the dome


def test_hu_noise_and_contrasts_are_those_of_real_portal_venous_ct(phantom) -> None:
    from scipy import ndimage

    image = phantom.volume.voxels
    tumours = np.any(list(phantom.tumour_masks.values()), axis=0)
    deep = ndimage.binary_erosion(phantom.liver_mask, iterations=3) & ~ndimage.binary_dilation(
        tumours, iterations=2
    )
    parenchyma = image[deep]
    assert abs(float(np.median(parenchyma)) - phantom.liver_hu) < 8.0
    assert 10.0 <= float(parenchyma.std()) <= 30.0  # noise 10-18 HU plus texture
    assert 10.0 <= phantom.noise_sd_hu <= 18.0
    for spec in TUMOURS:
        core = ndimage.binary_erosion(phantom.tumour_masks[spec.name], iterations=1)
        measured = float(np.median(image[core])) - float(np.median(parenchyma))
        if not spec.features:
            assert measured == pytest.approx(spec.contrast_hu, abs=8.0), spec.name
    assert {np.sign(t.contrast_hu) for t in TUMOURS} == {-1.0, 1.0}
    # The lung base above the dome, -500 to -850 HU, behind a diaphragm.
    top = np.flatnonzero(phantom.liver_mask.any(axis=(1, 2)))[-1]
    above = image[top + 3][phantom.liver_mask[top - 4]]
    assert -850.0 < float(np.median(above)) < -500.0


def test_deterministic_per_seed() -> None:
    a, b = make_liver_phantom(5), make_liver_phantom(5)
    assert np.array_equal(a.volume.voxels, b.volume.voxels)
    assert np.array_equal(a.liver_mask, b.liver_mask)
    c = make_liver_phantom(6)
    assert not np.array_equal(a.liver_mask, c.liver_mask)
