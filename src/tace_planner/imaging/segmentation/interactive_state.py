"""The state of an interactive contour and the evidence its rays are solved with.

The fields :class:`~tace_planner.imaging.segmentation.interactive.InteractiveContour`
keeps between clicks (the stars, the intensity model and the history that undo
restores), the rays' sampling, and the per-sample evidence: the log-likelihood ratio
of focus against surrounding tissue (Boykov & Jolly, ICCV 2001) that every star is
solved with, pooled over an arc that widens as the contrast falls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.interactive_model import (
    CLIP_SCORE,
    MAX_ARC_MM,
    OTHER_SCORE,
    TUMOUR_LIVER_HU,
    BoolArray,
    Click,
    Index,
    IntensityModel,
)
from tace_planner.imaging.segmentation.interactive_profiles import _ball_box, _enclosed_excursions
from tace_planner.imaging.segmentation.radial import POOL_ARC_MM, Star


@dataclass
class ContourState:
    """What an interactive contour keeps between clicks (see
    :class:`~tace_planner.imaging.segmentation.interactive.InteractiveContour`, which
    documents the parameters), and the evidence its rays are solved with."""

    volume: ImageVolume
    liver_mask: BoolArray | None = None
    flat: bool = False
    clicks: list[Click] = field(default_factory=list)
    mask: BoolArray | None = None
    messages: list[str] = field(default_factory=list)
    _stars: list[Star] = field(default_factory=list)
    _model: IntensityModel | None = None
    _history: list[tuple[list[tuple[Star, tuple[np.ndarray, ...]]], IntensityModel | None]] = field(
        default_factory=list
    )
    _painted: list[tuple[slice, ...]] = field(default_factory=list)
    _peaks: list[float] = field(default_factory=list)
    _looks_like_surroundings: bool = False
    _parenchyma_reading: tuple[float, float] | None = None
    """The clicked tissue's level and the parenchyma's, when the first click read as it."""
    _parenchyma_hu: float | None = None
    _layered: bool = False
    _halo_mm: float = 0.0
    """The blurred halo of a speck the first click landed on (see ``_fit_model``)."""
    _pooled_message: str = ""
    margin_mm: float = 0.0
    """The user's margin: the whole surface moved out (positive) or in along the rays
    (see ``InteractiveContour.set_margin``)."""

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel spacing (dz, dy, dx) in mm."""
        columns = np.asarray(self.volume.index_to_lps, dtype=float)[:3, :3]
        return tuple(float(np.linalg.norm(columns[:, a])) for a in range(3))  # type: ignore[return-value]

    @property
    def _pooled(self) -> bool:
        """The model came from the rays' pooled profile (see ``_pooled_first``)."""
        return self._model is not None and self._model.pooled

    @_pooled.setter
    def _pooled(self, value: bool) -> None:
        assert self._model is not None
        self._model.pooled = value

    @property
    def _small(self) -> bool:
        """The first click drew the small contour: the image could not place the edge."""
        return self._model is not None and self._model.small

    @_small.setter
    def _small(self, value: bool) -> None:
        assert self._model is not None
        self._model.small = value

    def _sample(self, center: Sequence[float], reach_mm: float, count: int) -> Star:
        return Star.sample(
            self.volume.voxels,
            np.asarray(self.spacing_mm),
            np.asarray(center, dtype=float),
            reach_mm,
            count,
            self.flat,
        )

    def _liver_level(self) -> float | None:
        """The parenchyma's level: the median HU inside the liver contour (cached)."""
        if self._parenchyma_hu is None and self.liver_mask is not None:
            inside = self.volume.voxels[self.liver_mask]
            if inside.size:
                self._parenchyma_hu = float(np.median(inside[:: max(1, inside.size // 200_000)]))
        return self._parenchyma_hu

    def _arc_mm(self) -> float:
        """The pooling arc: wider where noise is large against the contrast.

        Ten times the spread-to-contrast ratio, between 3.5 and 8 mm: a 40 HU focus
        under 9 HU of spread keeps its detail, a 10 HU one under 10 HU is smoothed over
        an arc of 8 mm, where no voxel-scale detail can be told from noise anyway.
        """
        model = self._model
        assert model is not None
        contrast = abs(model.focus[0][0] - model.background[0])
        ratio = model.spread_hu / max(contrast, 1e-6)
        return float(np.clip(10.0 * ratio, POOL_ARC_MM, MAX_ARC_MM))

    def _evidence(self, star: Star, main_center: np.ndarray | None = None) -> np.ndarray:
        """Log-likelihood ratio of focus against surrounding tissue, per ray sample."""
        model = self._model
        assert model is not None
        values = star.values
        sd = model.spread_hu
        # Radius of each sample from the first click (where a focus class holds).
        if main_center is None or np.allclose(main_center, star.center):
            from_main = np.broadcast_to(star.radii[None, :], values.shape)
        else:
            offset = (star.center - main_center) * star.spacing
            from_main = np.linalg.norm(
                offset[None, None, :] + star.dirs[:, None, :] * star.radii[None, :, None], axis=2
            )
        focus = np.full(values.shape, np.inf)
        bias = star.bias
        for level, limit in model.focus:
            z = np.abs(values - level) / sd
            focus = np.minimum(focus, np.where(from_main <= limit, z, np.inf))
        background = np.min([np.abs(values - b) / sd for b in model.background], axis=0)
        score = np.clip(0.5 * (background**2 - np.minimum(focus, 1e3) ** 2), -CLIP_SCORE,
                        CLIP_SCORE)  # fmt: skip
        other = (focus > 3.0) & (background > 3.0)
        level = model.focus[0][0]
        if not self._layered and abs(level - model.background[0]) <= TUMOUR_LIVER_HU:
            # A sample between the focus level and the surrounding tissue's is the
            # partial volume of the edge, not a third tissue: it keeps its ratio.
            # (Marked "other" when three spreads from both, the blurred edge scored
            # against the focus from where it left the focus's level: a 10 mm focus
            # 50 HU from the liver on a clean image lost 31 % of its volume.) Not
            # for a necrotic core (further from the liver; its blur into the viable
            # tissue around it passes the same values) nor with a layer joined.
            low, high = sorted((level, model.background[0]))
            other &= (values <= low) | (values >= high)
            # A thin vessel or calcification crossing the focus: its blurred profile
            # passes through the surroundings' level on the way in and out, and each
            # of those samples scored as the surroundings ended the rays that cross
            # it, although the focus goes on beyond (lesion battery, vessel_through:
            # volume -12 %). A short run beyond the surroundings, with focus on both
            # sides, is "other" tissue as a whole (not on a model from the pooled
            # profile, whose levels a few HU apart cannot tell a sample's side).
            if not model.pooled:
                other |= _enclosed_excursions(values, level, model.background[0], sd)
        score[other] = OTHER_SCORE
        score = score + bias
        if self.liver_mask is not None:
            score = np.where(self._liver_along(star), score, np.minimum(score, -1.0))
        return score

    def _liver_along(self, star: Star) -> BoolArray:
        from scipy import ndimage

        assert self.liver_mask is not None
        points = star.center[None, None, :] + star.dirs[:, None, :] * (
            star.radii[None, :, None] / star.spacing
        )
        inside = ndimage.map_coordinates(
            self.liver_mask.astype(np.uint8), points.reshape(-1, 3).T, order=0, mode="constant"
        )
        return inside.reshape(star.values.shape).astype(bool)

    def _value_at(self, point: Index) -> float:
        """Median HU within 1.5 mm of a voxel."""
        region, inside = _ball_box(point, self.spacing_mm, 1.5, self.volume.voxels.shape,
                                   self.flat)  # fmt: skip
        return float(np.median(self.volume.voxels[region][inside]))
