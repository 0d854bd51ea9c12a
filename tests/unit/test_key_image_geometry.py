"""Key image geometry: radiological orientation from the affine, and a round scale bar."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.services.plan_key_image import display_orientation, hex_to_rgb, scale_bar


def _affine(row: tuple[float, float, float], col: tuple[float, float, float]) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, 0] = (0.0, 0.0, 2.5)  # slice step along +S
    affine[:3, 1] = row
    affine[:3, 2] = col
    return affine


def test_standard_axial_slice_is_shown_as_stored_with_r_left_a_top() -> None:
    flip_rows, flip_cols, edges = display_orientation(_affine((0, 0.7, 0), (0.7, 0, 0)))
    assert (flip_rows, flip_cols) == (False, False)
    assert edges == {"left": "R", "right": "L", "top": "A", "bottom": "P"}


def test_mirrored_axial_slice_is_turned_to_the_radiological_convention() -> None:
    flip_rows, flip_cols, edges = display_orientation(_affine((0, -0.7, 0), (-0.7, 0, 0)))
    assert (flip_rows, flip_cols) == (True, True)
    assert edges == {"left": "R", "right": "L", "top": "A", "bottom": "P"}


def test_coronal_slice_keeps_its_letters_from_the_geometry() -> None:
    affine = np.eye(4)
    affine[:3, 0] = (0.0, 1.0, 0.0)
    affine[:3, 1] = (0.0, 0.0, -1.0)
    affine[:3, 2] = (1.0, 0.0, 0.0)
    flip_rows, flip_cols, edges = display_orientation(affine)
    assert (flip_rows, flip_cols) == (False, False)
    assert edges == {"left": "R", "right": "L", "top": "S", "bottom": "I"}


@pytest.mark.parametrize(
    ("spacing_mm", "width_px", "expected_mm"),
    [(0.74, 512, 100.0), (3.125, 128, 100.0), (0.5, 256, 20.0), (0.0, 512, 0.0)],
)
def test_scale_bar_is_round_and_at_most_a_third_of_the_width(
    spacing_mm: float, width_px: int, expected_mm: float
) -> None:
    mm, px = scale_bar(spacing_mm, width_px)
    assert mm == expected_mm
    if mm:
        assert px == pytest.approx(mm / spacing_mm)
        assert px <= 0.3 * width_px


def test_hex_colours() -> None:
    assert hex_to_rgb("#ff4646") == (255, 70, 70)
