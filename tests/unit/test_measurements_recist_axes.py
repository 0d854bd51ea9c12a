"""RECIST axes in the patient's axial plane, against analytic shapes computed here.

- ellipses at several angles: long = 2a, short = 2b;
- a concave C-shaped ring (outer radius 25 mm, inner 20 mm, a 40° gap): its
  long axis is an outer diameter (50 mm) and the longest chord perpendicular
  to it *inside* the ring is tangent to the inner circle, 2·√(25² − 20²) =
  30 mm; a caliper across the ring would measure 50 mm;
- an ellipsoid acquired on coronal slices (semi-axes 15 mm left–right, 10 mm
  antero-posterior, 25 mm cranio-caudal): the axial long and short axes are
  30 and 20 mm, while the coronal plane would give 50 mm.
Tolerances: two pixels of 0.5 mm (the outline is digitised on the grid and
smoothed, which shortens the pointed ends of an elongated ellipse slightly).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tace_planner.domain.measurements import (
    acquisition_plane,
    axial_reformat,
    measure_axial_diameters,
    measure_enhancement,
    measure_recist_axes,
)

PIXEL = 0.5


def _axial_affine(pixel=PIXEL, dz=2.5, origin=(-40.0, -40.0, -5.0)) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, 0] = (0.0, 0.0, dz)
    affine[:3, 1] = (0.0, pixel, 0.0)
    affine[:3, 2] = (pixel, 0.0, 0.0)
    affine[:3, 3] = origin
    return affine


def _points(affine: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k, j, i = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    index = np.stack([k, j, i], axis=-1)
    lps = index @ affine[:3, :3].T + affine[:3, 3]
    return lps[..., 0], lps[..., 1], lps[..., 2]


def _ring(shape=(5, 161, 161)) -> tuple[np.ndarray, np.ndarray]:
    affine = _axial_affine()
    x, y, z = _points(affine, shape)
    r = np.hypot(x, y)
    angle = np.degrees(np.arctan2(y, x))
    mask = (r <= 25.0) & (r >= 20.0) & (np.abs(angle) > 20.0) & (np.abs(z) <= 3.0)
    return mask, affine


@pytest.mark.parametrize("angle_deg", [0.0, 17.0, 45.0, 71.0, 120.0])
def test_ellipse_at_an_angle(angle_deg: float) -> None:
    affine = _axial_affine()
    x, y, z = _points(affine, (5, 161, 161))
    t = math.radians(angle_deg)
    p = x * math.cos(t) + y * math.sin(t)
    q = -x * math.sin(t) + y * math.cos(t)
    mask = ((p / 22.0) ** 2 + (q / 9.0) ** 2 <= 1.0) & (np.abs(z) <= 3.0)
    result = measure_recist_axes(mask, affine)
    assert abs(result.long_axis_mm - 44.0) <= 2 * PIXEL
    assert abs(result.short_axis_mm - 18.0) <= 2 * PIXEL
    assert result.plane == "acquired"
    (a, b), (c, d) = (
        (np.asarray(e)[:2] for e in result.long_axis_lps),
        (np.asarray(e)[:2] for e in result.short_axis_lps),
    )
    cosine = abs(float(np.dot(b - a, d - c))) / (np.linalg.norm(b - a) * np.linalg.norm(d - c))
    assert cosine < 0.05  # perpendicular


def test_concave_ring_short_axis_is_the_chord_inside_not_the_caliper() -> None:
    mask, affine = _ring()
    result = measure_axial_diameters(mask, affine)
    assert abs(result.long_axis_mm - 50.0) <= PIXEL
    assert abs(result.short_axis_mm - 30.0) <= 2 * PIXEL
    # the chord's mid-point lies in the ring, not in its hole
    s, t = (np.asarray(e)[:2] for e in result.short_axis_lps)
    assert np.hypot(*((s + t) / 2)) > 19.0


def test_ellipsoid_acquired_coronally_is_measured_on_axial_planes() -> None:
    # Coronal grid: z index -> posterior (slices 3 mm apart), rows -> inferior, columns -> left.
    affine = np.eye(4)
    affine[:3, 0] = (0.0, 3.0, 0.0)
    affine[:3, 1] = (0.0, 0.0, -0.6)
    affine[:3, 2] = (0.6, 0.0, 0.0)
    affine[:3, 3] = (-30.0, -21.0, 40.0)
    shape = (15, 134, 101)
    x, y, z = _points(affine, shape)
    mask = (x / 15.0) ** 2 + (y / 10.0) ** 2 + (z / 25.0) ** 2 <= 1.0
    assert acquisition_plane(affine) == "coronal"
    in_plane = measure_axial_diameters(mask, affine)  # the coronal slices' own plane
    assert in_plane.long_axis_mm > 45.0  # what measuring in the acquisition plane gives
    result = measure_recist_axes(mask, affine)
    assert result.plane == "reformatted axial"
    assert abs(result.long_axis_mm - 30.0) <= 0.6 + 0.6
    assert abs(result.short_axis_mm - 20.0) <= 3.0  # 3 mm slices across the short axis
    a, b = (np.asarray(e) for e in result.long_axis_lps)
    assert a[2] == pytest.approx(b[2])  # both ends on one axial plane
    assert "coronal" in result.explanation.summary


def test_axial_reformat_keeps_the_volume() -> None:
    affine = np.eye(4)
    affine[:3, 0] = (3.0, 0.0, 0.0)  # sagittal slices
    affine[:3, 1] = (0.0, 0.0, -0.8)
    affine[:3, 2] = (0.0, 0.8, 0.0)
    affine[:3, 3] = (-24.0, -24.0, 24.0)
    x, y, z = _points(affine, (17, 61, 61))
    mask = x**2 + y**2 + z**2 <= 15.0**2
    reformatted, new_affine = axial_reformat(mask, affine)
    volume = reformatted.sum() * abs(np.linalg.det(new_affine[:3, :3])) / 1000
    assert volume == pytest.approx(4 / 3 * math.pi * 15.0**3 / 1000, rel=0.05)
    assert np.allclose(new_affine[:3, 0], (0, 0, new_affine[2, 0]))


def test_enhancement_explanation_says_institutional_default_not_mrecist() -> None:
    mask = np.ones((2, 2, 2), dtype=bool)
    result = measure_enhancement(np.full((2, 2, 2), 80.0), mask)
    text = result.explanation.source
    assert text.startswith("institutional default")
    assert "mRECIST" not in text
    assert "§" not in text


# ---------------------------------------------------------------------------
# The long axis checked against the contour (issue 12: a 97.9 mm axis on a 47 mm lesion)
# ---------------------------------------------------------------------------


def _focus_and_leak(shape=(5, 161, 161)) -> tuple[np.ndarray, np.ndarray]:
    """A 47 mm disc and, on its middle slice only, a separate 12 mm blob 20 mm beyond it."""
    affine = _axial_affine(origin=(-40.0, -40.0, -5.0))
    x, y, z = _points(affine, shape)
    focus = (np.hypot(x + 10.0, y) <= 23.5) & (np.abs(z) <= 3.0)
    leak = (np.hypot(x - 27.5, y) <= 6.0) & (np.abs(z) < 1.0)  # the IVC, say
    return focus | leak, affine


def test_the_long_axis_never_spans_two_separate_parts_of_a_slice() -> None:
    mask, affine = _focus_and_leak()
    axes = measure_axial_diameters(mask, affine)
    # across both parts it would be 10 + 23.5 + 27.5 + 6 = 67 mm; the focus is 47 mm
    assert axes.long_axis_mm == pytest.approx(47.0, abs=2 * PIXEL)
    assert axes.axis_consistent
    assert axes.explanation.inputs["long axis inside the contour"] == "100 %"
    p, q = (np.asarray(point) for point in axes.long_axis_lps)
    for point in (p, q):  # both end points on the focus's outline, not on the leak
        assert np.hypot(point[0] + 10.0, point[1]) == pytest.approx(23.5, abs=2 * PIXEL)


def test_a_long_axis_crossing_outside_the_contour_is_flagged() -> None:
    mask, affine = _ring()  # the C shape above: its 50 mm axis crosses the hole
    axes = measure_recist_axes(mask, affine)
    assert axes.long_axis_mm == pytest.approx(50.0, abs=2 * PIXEL)
    assert not axes.axis_consistent
    assert "outside the contour" in axes.axis_check
    assert "measure the lesion with a ruler" in axes.axis_check


def test_a_convex_lesion_passes_the_axis_check() -> None:
    affine = _axial_affine()
    x, y, z = _points(affine, (5, 161, 161))
    ellipse = ((x / 30.0) ** 2 + (y / 12.0) ** 2 <= 1.0) & (np.abs(z) <= 3.0)
    axes = measure_recist_axes(ellipse, affine)
    assert axes.axis_consistent
    assert axes.axis_check == ""
