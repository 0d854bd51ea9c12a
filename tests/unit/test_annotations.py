"""Measurement math: ruler, angle, ellipse ROI statistics, and the annotation record."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tace_planner.domain.annotations import (
    Annotation,
    RoiStatistics,
    angle_deg,
    ellipse_area_mm2,
    inside_ellipse,
    measure_angle,
    measure_ellipse,
    measure_ruler,
    roi_statistics,
    ruler_length_mm,
)

PLANE = {"orientation": "axial", "plane_normal_lps": (0, 0, 1), "plane_position_mm": 12.5}


def test_ruler_is_euclidean_in_millimetres() -> None:
    assert ruler_length_mm((0, 0, 0), (3, 4, 0)) == pytest.approx(5.0)
    assert ruler_length_mm((1, 1, 1), (1, 1, 1)) == 0.0
    # Anisotropic pixels do not matter: the points are already in mm.
    start = np.array([10 * 0.7, 4 * 2.0, 0.0])  # column 10 of 0.7 mm, row 4 of 2 mm
    end = np.array([40 * 0.7, 4 * 2.0, 0.0])
    assert ruler_length_mm(start, end) == pytest.approx(30 * 0.7)


def test_ruler_refuses_bad_points() -> None:
    with pytest.raises(ValueError, match="3 finite"):
        ruler_length_mm((0, 0), (1, 1, 1))
    with pytest.raises(ValueError, match="3 finite"):
        ruler_length_mm((0, 0, float("nan")), (1, 1, 1))


@pytest.mark.parametrize(
    ("second", "expected"),
    [((1, 0, 0), 0.0), ((0, 1, 0), 90.0), ((-1, 0, 0), 180.0), ((1, 1, 0), 45.0)],
)
def test_angle_at_the_vertex(second, expected: float) -> None:
    assert angle_deg((5, 0, 0), (0, 0, 0), second) == pytest.approx(expected)


def test_angle_needs_two_arms() -> None:
    with pytest.raises(ValueError, match="arms"):
        angle_deg((0, 0, 0), (0, 0, 0), (1, 0, 0))


def test_ellipse_inside_and_area() -> None:
    centre, a_end, b_end = (0, 0, 0), (10, 0, 0), (0, 5, 0)
    points = np.array([[0, 0, 0], [9.9, 0, 0], [10.1, 0, 0], [0, 4.9, 0], [0, 5.1, 0], [7, 3, 0]])
    np.testing.assert_array_equal(
        inside_ellipse(points, centre, a_end, b_end), [True, True, False, True, False, True]
    )
    assert ellipse_area_mm2(centre, a_end, b_end) == pytest.approx(math.pi * 50)
    with pytest.raises(ValueError, match="perpendicular"):
        inside_ellipse(points, centre, a_end, (3, 3, 0))
    with pytest.raises(ValueError, match="non-zero"):
        inside_ellipse(points, centre, centre, b_end)


def test_roi_statistics_against_numpy() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(60, 10, size=(30, 30))
    inside = np.zeros((30, 30), dtype=bool)
    inside[5:15, 10:20] = True
    stats = roi_statistics(values, inside, area_mm2=100.0)
    chosen = values[inside]
    assert stats == RoiStatistics(
        mean=pytest.approx(chosen.mean()),
        sd=pytest.approx(chosen.std(ddof=1)),
        minimum=pytest.approx(chosen.min()),
        maximum=pytest.approx(chosen.max()),
        pixel_count=100,
        area_mm2=100.0,
    )
    with pytest.raises(ValueError, match="no pixel"):
        roi_statistics(values, np.zeros_like(inside), area_mm2=1.0)
    with pytest.raises(ValueError, match="shape"):
        roi_statistics(values, inside[:3], area_mm2=1.0)


def test_annotations_round_trip_through_json() -> None:
    ruler = measure_ruler((0, 0, 12.5), (30, 40, 12.5), label="F1 long axis", **PLANE)
    assert ruler.values["length_mm"] == pytest.approx(50.0)
    assert ruler.summary() == "Ruler 50.0 mm"
    angle = measure_angle((1, 0, 12.5), (0, 0, 12.5), (0, 1, 12.5), **PLANE)
    assert angle.summary() == "Angle 90.0°"
    stats = RoiStatistics(45.0, 11.0, 10.0, 80.0, 120, 314.159)
    ellipse = measure_ellipse((0, 0, 12.5), (10, 0, 12.5), (0, 10, 12.5), stats, unit="HU", **PLANE)
    assert ellipse.summary() == "Ellipse 45.0 ± 11.0 HU, 3.14 cm²"
    assert "120 pixels" in ellipse.details()
    for item in (ruler, angle, ellipse):
        again = Annotation.from_json(item.kind, item.geometry_json(), item.values, item.label)
        assert again == item


def test_annotation_validates_kind_and_points() -> None:
    with pytest.raises(ValueError, match="kind"):
        Annotation("arrow", ((0, 0, 0),), "axial", (0, 0, 1), 0.0)
    with pytest.raises(ValueError, match="needs 2 points"):
        Annotation("ruler", ((0, 0, 0),), "axial", (0, 0, 1), 0.0)
