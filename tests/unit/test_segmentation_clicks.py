"""One check of the clicks for every contour tool (2D grower, 3D star)."""

from __future__ import annotations

import numpy as np
import pytest

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.geometry import index_to_lps
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.common import validate_clicks
from tace_planner.imaging.segmentation.interactive import contour_from_clicks


def _volume() -> ImageVolume:
    rng = np.random.default_rng(0)
    voxels = (110.0 + 5.0 * rng.standard_normal((12, 60, 60))).astype(np.float32)
    zz, yy, xx = np.ogrid[:12, :60, :60]
    voxels[((zz - 6) * 2.5) ** 2 + ((yy - 30) * 0.8) ** 2 + ((xx - 30) * 0.8) ** 2 <= 64] = 60.0
    affine = np.diag([0.8, 0.8, 2.5, 1.0])[:, [2, 1, 0, 3]]
    return ImageVolume(voxels, affine, "1.2.3")


def _lps(volume: ImageVolume, index) -> list[float]:
    return [float(v) for v in index_to_lps(volume.index_to_lps, np.asarray([index]))[0]]


def test_flat_clicks_move_to_the_first_slice() -> None:
    volume = _volume()
    include, exclude, _, _ = validate_clicks(
        volume, [_lps(volume, (6, 30, 30)), _lps(volume, (8, 31, 30))],
        [_lps(volume, (2, 10, 10))], flat=True,
    )  # fmt: skip
    assert include[:, 0].tolist() == [6, 6]
    assert exclude[:, 0].tolist() == [6]


def test_bad_clicks_are_refused_by_name() -> None:
    volume = _volume()
    with pytest.raises(InvalidInputError, match="click at least once"):
        validate_clicks(volume, [])
    with pytest.raises(InvalidInputError, match="outside the volume"):
        validate_clicks(volume, [[500.0, 500.0, 500.0]])
    point = _lps(volume, (6, 30, 30))
    with pytest.raises(InvalidInputError, match="also an include click"):
        validate_clicks(volume, [point], [point])
    with pytest.raises(InvalidInputError, match="does not match the volume"):
        validate_clicks(volume, [point], liver_mask=np.ones((3, 3, 3), dtype=bool))


def test_the_star_says_when_it_drops_the_liver_mask() -> None:
    # The 3D contour used to drop a liver mask that missed the click silently, and to
    # index a mask of another shape; it now shares the 2D tool's check.
    volume = _volume()
    liver = np.zeros(volume.shape, dtype=bool)
    mask, messages = contour_from_clicks(volume, [_lps(volume, (6, 30, 30))], liver_mask=liver)
    assert mask[6, 30, 30]
    assert any("outside the liver mask" in m for m in messages)
    with pytest.raises(InvalidInputError, match="liver mask"):
        contour_from_clicks(
            volume, [_lps(volume, (6, 30, 30))], liver_mask=np.ones((2, 2, 2), dtype=bool)
        )
