"""Analytic geometry of the demo phantom: solids, liver volume, foci and truth masks.

Nothing here writes files; the full-size CT grid is sampled in memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date

import numpy as np
import pytest

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.phantom import phantom_truth
from tace_planner.imaging.phantom_model import (
    CT_HU,
    LIVER,
    MR_SIGNAL,
    TIMEPOINT_LABELS,
    Capsule,
    Ellipsoid,
    LiverModel,
    add_months,
    liver_volume_cm3,
    sample_solid,
)
from tace_planner.imaging.phantom_truth import FocusTruth, PhantomTruth, foci_at, truth_masks

RIGHT_LOBE = {"V", "VI", "VII", "VIII"}
LEFT_LOBE = {"II", "III", "IV"}


def _surface_points(solid: Ellipsoid, inflate_mm: float, n: int = 4000) -> tuple[np.ndarray, ...]:
    """Fibonacci points on the surface of ``solid`` grown by ``inflate_mm`` per semi-axis."""
    i = np.arange(n) + 0.5
    polar = np.arccos(1 - 2 * i / n)
    azimuth = np.pi * (1 + 5**0.5) * i
    a, b, c = (s + inflate_mm for s in solid.semi_axes_mm)
    p = a * np.cos(azimuth) * np.sin(polar)
    r = b * np.sin(azimuth) * np.sin(polar)
    w = c * np.cos(polar)
    angle = math.radians(solid.rotation_deg)
    cx, cy, cz = solid.center_lps_mm
    x = cx + p * math.cos(angle) - r * math.sin(angle)
    y = cy + p * math.sin(angle) + r * math.cos(angle)
    return x, y, cz + w


@pytest.fixture(scope="module")
def full_truth() -> PhantomTruth:
    return phantom_truth("full", seed=0)


@pytest.fixture(scope="module")
def small_truth() -> PhantomTruth:
    return phantom_truth("small", seed=0)


# --- solids -----------------------------------------------------------------


def test_ellipsoid_volume_is_four_thirds_pi_abc() -> None:
    solid = Ellipsoid((0.0, 0.0, 0.0), (3.0, 4.0, 5.0), 30.0)
    assert solid.volume_mm3 == pytest.approx(4 / 3 * math.pi * 60)


def test_ellipsoid_rotation_turns_from_left_towards_posterior() -> None:
    solid = Ellipsoid((0.0, 0.0, 0.0), (10.0, 2.0, 2.0), 90.0)  # long axis along +y
    assert solid.contains(np.array(0.0), np.array(9.0), np.array(0.0))
    assert not solid.contains(np.array(9.0), np.array(0.0), np.array(0.0))


def test_ellipsoid_bounds_hold_its_surface() -> None:
    solid = Ellipsoid((5.0, -3.0, 2.0), (14.0, 6.0, 9.0), 35.0)
    x, y, z = _surface_points(solid, 0.0)
    (x0, y0, z0), (x1, y1, z1) = solid.bounds_lps_mm()
    tol = 1e-9
    assert x.min() >= x0 - tol
    assert x.max() <= x1 + tol
    assert y.min() >= y0 - tol
    assert y.max() <= y1 + tol
    assert z.min() >= z0 - tol
    assert z.max() <= z1 + tol
    assert x.max() == pytest.approx(x1, abs=0.05)  # and the box is tight


def test_ellipsoid_x_chord_matches_the_inside_test() -> None:
    solid = Ellipsoid((2.0, 1.0, -1.0), (20.0, 9.0, 12.0), -25.0)
    rng = np.random.default_rng(1)
    y, z = rng.uniform(-20, 20, 200), rng.uniform(-14, 14, 200)
    low, high = solid.x_chord(y, z)
    for yi, zi, lo, hi in zip(y, z, low, high, strict=True):
        xs = np.linspace(-40, 40, 8001)
        inside = xs[solid.contains(xs, np.full_like(xs, yi), np.full_like(xs, zi))]
        if inside.size == 0:
            assert not hi > lo
        else:
            assert lo == pytest.approx(inside.min(), abs=0.011)
            assert hi == pytest.approx(inside.max(), abs=0.011)


def test_occupancy_is_one_half_on_the_surface() -> None:
    solid = Ellipsoid((0.0, 0.0, 0.0), (10.0, 6.0, 8.0), 20.0)
    x, y, z = _surface_points(solid, 0.0, n=200)
    np.testing.assert_allclose(solid.occupancy(x, y, z, 1.0), 0.5, atol=1e-4)
    assert solid.occupancy(np.array(0.0), np.array(0.0), np.array(0.0), 1.0) == 1.0


def test_capsule_signed_distance() -> None:
    vessel = Capsule((0.0, 0.0, 0.0), (0.0, 0.0, 10.0), 2.0)
    x, y, z = np.array([5.0, 0.0, 0.0]), np.zeros(3), np.array([5.0, 5.0, 15.0])
    distance = vessel.signed_distance_mm(x, y, z)
    np.testing.assert_allclose(distance, [3.0, -2.0, 3.0])


# --- liver volume -------------------------------------------------------------


def test_chord_integration_matches_a_single_ellipsoid() -> None:
    solid = Ellipsoid((1.3, 2.1, 0.4), (58.0, 76.0, 66.0), -10.0)
    assert LiverModel((solid,)).volume_mm3() == pytest.approx(solid.volume_mm3, rel=1e-5)


def test_chord_integration_matches_two_overlapping_spheres() -> None:
    radius, distance = 30.0, 40.0  # union = 2 spheres - lens
    lens = math.pi * (4 * radius + distance) * (2 * radius - distance) ** 2 / 12
    union = 2 * 4 / 3 * math.pi * radius**3 - lens
    model = LiverModel(
        (
            Ellipsoid((0.0, 0.0, 0.0), (radius,) * 3),
            Ellipsoid((distance * 0.6, distance * 0.8, 0.0), (radius,) * 3),
        )
    )
    assert model.volume_mm3() == pytest.approx(union, rel=1e-5)


def test_chord_integration_subtracts_a_cylinder() -> None:
    # A sphere with a cylindrical hole through its centre: 4/3 π (R² - r²)^(3/2).
    big, hole = 40.0, 15.0
    model = LiverModel(
        (Ellipsoid((0.0, 0.0, 0.0), (big,) * 3),),
        (Ellipsoid((0.0, 0.0, 0.0), (hole, hole, math.inf)),),
    )
    expected = 4 / 3 * math.pi * (big**2 - hole**2) ** 1.5
    assert model.volume_mm3() == pytest.approx(expected, rel=5e-5)


def test_liver_volume_is_realistic() -> None:
    assert 1300 <= liver_volume_cm3() <= 1700
    assert LIVER.volume_mm3(step_mm=0.05) / 1000 == pytest.approx(liver_volume_cm3(), rel=2e-5)


def test_liver_sits_in_the_patients_right_upper_abdomen() -> None:
    (x0, _, _), (x1, _, _) = LIVER.bounds_lps_mm()
    assert x0 < -120
    assert x1 < 60
    right_lobe = LIVER.lobes[0]
    assert right_lobe.center_lps_mm[0] < -50


# --- foci and the course --------------------------------------------------------


def test_baseline_foci_follow_the_brief() -> None:
    foci = foci_at("baseline")
    assert 5 <= len(foci) <= 8
    segments = {f.couinaud_segment for f in foci}
    assert "I" in segments
    assert segments & RIGHT_LOBE
    assert segments & LEFT_LOBE
    diameters = [f.longest_axial_diameter_mm for f in foci]
    assert min(diameters) >= 6
    assert max(diameters) <= 60
    assert {f.shape for f in foci} == {"sphere", "ellipsoid"}
    assert all(f.rotation_deg == 0 or f.shape == "ellipsoid" for f in foci)
    necrotic = [f for f in foci if f.necrotic_semi_axes_mm is not None]
    assert any(f.longest_axial_diameter_mm >= 45 for f in necrotic)
    assert any(f.hypervascular for f in foci)
    assert not all(f.hypervascular for f in foci)


def test_necrotic_focus_enhancing_fraction_is_one_minus_radius_ratio_cubed() -> None:
    big = next(f for f in foci_at("baseline") if f.necrotic_semi_axes_mm is not None)
    assert big.shape == "sphere"
    r, r_n = big.semi_axes_mm[0], big.necrotic_semi_axes_mm[0]  # type: ignore[index]
    assert 0 < r_n < r
    assert big.enhancing_fraction == pytest.approx(1 - (r_n / r) ** 3, rel=1e-12)


def test_analytic_measures() -> None:
    for label in TIMEPOINT_LABELS:
        for focus in foci_at(label):
            a, b, c = focus.semi_axes_mm
            assert focus.volume_cm3 == pytest.approx(4 / 3 * math.pi * a * b * c / 1000)
            assert focus.longest_axial_diameter_mm == pytest.approx(2 * max(a, b))
            assert 0 < focus.enhancing_fraction <= 1


def test_axial_diameter_is_the_longest_in_plane_chord() -> None:
    focus = next(f for f in foci_at("baseline") if f.shape == "ellipsoid" and f.rotation_deg)
    solid = focus.solid
    angle = np.linspace(0, np.pi, 721)
    cx, cy, cz = focus.center_lps_mm
    longest = 0.0
    for theta in angle:  # chords through the centre of the widest (central) section
        t = np.linspace(-40, 40, 16001)
        x, y = cx + t * np.cos(theta), cy + t * np.sin(theta)
        inside = t[solid.contains(x, y, np.full_like(t, cz))]
        longest = max(longest, inside.max() - inside.min())
    assert longest == pytest.approx(focus.longest_axial_diameter_mm, abs=0.02)


@pytest.mark.parametrize("label", TIMEPOINT_LABELS)
def test_foci_lie_inside_the_liver_with_a_margin(label: str) -> None:
    offset = phantom_truth("small").timepoint(label).patient_offset_lps_mm
    liver = LIVER.translated(offset)
    foci = foci_at(label)
    for focus in foci:
        assert liver.contains(*_surface_points(focus.solid, inflate_mm=3.0)).all(), focus.name
    for n, focus in enumerate(foci):  # and do not touch each other
        for other in foci[n + 1 :]:
            x, y, z = _surface_points(focus.solid, inflate_mm=1.0)
            assert not other.solid.contains(x, y, z).any(), (focus.name, other.name)


def test_course_shrinks_then_partly_regrows_and_adds_one_focus() -> None:
    volumes = {label: {f.name: f.volume_cm3 for f in foci_at(label)} for label in TIMEPOINT_LABELS}
    baseline, first, last = volumes["baseline"], volumes["follow_up_1"], volumes["follow_up_3"]
    shrunk = [n for n in baseline if 0.4 <= first[n] / baseline[n] <= 0.7]
    assert len(shrunk) >= len(baseline) // 2
    assert any(last[n] > volumes["follow_up_2"][n] for n in baseline)  # regrowth
    assert set(last) - set(baseline) == {"F8"}
    assert set(volumes["follow_up_2"]) == set(baseline)


def test_focus_names_keep_their_segment() -> None:
    segments: dict[str, str] = {}
    for label in TIMEPOINT_LABELS:
        for focus in foci_at(label):
            assert segments.setdefault(focus.name, focus.couinaud_segment) == focus.couinaud_segment


def test_unknown_timepoint_raises() -> None:
    with pytest.raises(KeyError, match="follow_up_9"):
        foci_at("follow_up_9")


# --- dates ------------------------------------------------------------------------


def test_add_months_uses_calendar_months() -> None:
    assert add_months(date(2026, 3, 16), 5) == date(2026, 8, 16)
    assert add_months(date(2026, 3, 16), 11) == date(2027, 2, 16)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_timepoint_dates(full_truth: PhantomTruth) -> None:
    assert full_truth.tace_date == date(2026, 3, 16)
    dates = [t.date for t in full_truth.timepoints]
    assert dates == [date(2026, 3, 2), date(2026, 5, 11), date(2026, 8, 16), date(2026, 11, 16)]
    mri = [s for s in full_truth.timepoint("baseline").studies if s.modality == "MR"]
    assert [s.date for s in mri] == [date(2026, 3, 4)]


# --- intensities --------------------------------------------------------------------


def test_ct_enhancement_pattern() -> None:
    assert CT_HU["aorta"]["arterial"] > CT_HU["aorta"]["venous"] > CT_HU["aorta"]["native"]
    assert CT_HU["portal_vein"]["venous"] > CT_HU["portal_vein"]["arterial"]
    hyper, hypo, liver = CT_HU["focus_hypervascular"], CT_HU["focus_hypovascular"], CT_HU["liver"]
    assert hyper["arterial"] - liver["arterial"] >= 60
    assert hyper["venous"] < liver["venous"]
    assert hyper["delayed"] < liver["delayed"]
    assert all(hypo[phase] < liver[phase] for phase in liver)
    assert all(15 <= v <= 25 for v in CT_HU["necrosis"].values())
    assert all(400 <= v <= 700 for v in CT_HU["bone"].values())


def test_mr_contrast_pattern() -> None:
    focus, liver = MR_SIGNAL["focus_hypervascular"], MR_SIGNAL["liver"]
    assert focus["T2"] > liver["T2"]
    assert focus["ADC"] < liver["ADC"]

    def b800(tissue: Mapping[str, float]) -> float:
        return tissue["S0"] * math.exp(-800e-6 * tissue["ADC"])

    assert b800(focus) > b800(liver)


# --- truth and masks ------------------------------------------------------------------


def test_truth_json_round_trip(small_truth: PhantomTruth) -> None:
    data = small_truth.to_json()
    assert PhantomTruth.from_json(data).to_json() == data
    assert {"tace_date", "patient_id", "liver_volume_cm3", "timepoints"} <= data.keys()
    focus_keys = {
        "name",
        "couinaud_segment",
        "volume_cm3",
        "longest_axial_diameter_mm",
        "center_lps_mm",
        "enhancing_fraction",
        "shape",
        "semi_axes_mm",
        "rotation_deg",
        "hypervascular",
    }
    for timepoint in data["timepoints"]:
        assert {"label", "date", "study_uid", "series", "foci"} <= timepoint.keys()
        for focus in timepoint["foci"]:
            assert focus_keys <= focus.keys()
            assert FocusTruth.from_json(focus).to_json() == focus
        for series in timepoint["series"]:
            assert {"series_uid", "description", "modality", "plane"} <= series.keys()


@pytest.mark.parametrize("label", TIMEPOINT_LABELS)
def test_voxel_counts_on_the_full_ct_grid_match_analytic_volumes(
    full_truth: PhantomTruth, label: str
) -> None:
    timepoint = full_truth.timepoint(label)
    grid = timepoint.series_by_folder("CT_venous").grid
    assert grid.shape == (69, 512, 512)
    voxel_mm3 = abs(np.linalg.det(grid.index_to_lps[:3, :3]))
    masks = truth_masks(full_truth, grid, label)
    liver_cm3 = np.count_nonzero(masks["liver"]) * voxel_mm3 / 1000
    assert liver_cm3 == pytest.approx(full_truth.liver_volume_cm3, rel=0.002)
    for focus in timepoint.foci:
        counted_cm3 = np.count_nonzero(masks[focus.name]) * voxel_mm3 / 1000
        assert np.all(masks["liver"][masks[focus.name]]), focus.name
        if focus.longest_axial_diameter_mm >= 10:
            assert counted_cm3 == pytest.approx(focus.volume_cm3, rel=0.02), focus.name


def test_only_one_small_focus_is_exempt(full_truth: PhantomTruth) -> None:
    small = {
        f.name for t in full_truth.timepoints for f in t.foci if f.longest_axial_diameter_mm < 10
    }
    assert len(small) == 1


def test_large_foci_on_the_small_grid(small_truth: PhantomTruth) -> None:
    grid = small_truth.timepoint("baseline").series_by_folder("CT_arterial").grid
    voxel_mm3 = abs(np.linalg.det(grid.index_to_lps[:3, :3]))
    masks = truth_masks(small_truth, grid, "baseline")
    for focus in small_truth.timepoint("baseline").foci:
        if focus.longest_axial_diameter_mm >= 30:
            counted_cm3 = np.count_nonzero(masks[focus.name]) * voxel_mm3 / 1000
            assert counted_cm3 == pytest.approx(focus.volume_cm3, rel=0.08), focus.name


def test_truth_masks_accept_json_and_image_volumes(small_truth: PhantomTruth) -> None:
    series = small_truth.timepoint("follow_up_1").series_by_folder("CT_arterial")
    volume = ImageVolume(np.zeros(series.shape_zyx, np.float32), series.grid.index_to_lps)
    from_truth = truth_masks(small_truth, series.grid, "follow_up_1", include_necrosis=True)
    from_json = truth_masks(small_truth.to_json(), volume, "follow_up_1", include_necrosis=True)
    assert from_truth.keys() == from_json.keys()
    assert "F1/necrosis" in from_truth
    for name, mask in from_truth.items():
        assert mask.dtype == np.bool_
        assert mask.shape == series.shape_zyx
        np.testing.assert_array_equal(mask, from_json[name])
    assert np.all(from_truth["F1"][from_truth["F1/necrosis"]])


def test_truth_masks_follow_the_patient_offset(small_truth: PhantomTruth) -> None:
    timepoint = small_truth.timepoint("follow_up_3")
    assert any(timepoint.patient_offset_lps_mm)
    grid = timepoint.series_by_folder("CT_venous").grid
    masks = truth_masks(small_truth, grid, "follow_up_3")
    for focus in timepoint.foci:
        if focus.longest_axial_diameter_mm >= 10:
            centroid_index = np.argwhere(masks[focus.name]).mean(axis=0)
            centroid_lps = grid.index_to_lps[:3, :3] @ centroid_index + grid.index_to_lps[:3, 3]
            assert np.linalg.norm(centroid_lps - focus.center_lps_mm) < 2.0, focus.name


def test_sample_solid_outside_the_grid_is_empty(small_truth: PhantomTruth) -> None:
    grid = small_truth.timepoint("baseline").series_by_folder("CT_native").grid
    far = Ellipsoid((0.0, 0.0, 900.0), (5.0, 5.0, 5.0))
    assert not sample_solid(far, grid).any()
