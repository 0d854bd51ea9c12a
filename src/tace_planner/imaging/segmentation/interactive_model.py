"""The tissue model and tuning constants of interactive contouring.

The intensity model of :mod:`tace_planner.imaging.segmentation.interactive`: the
focus's levels, the surrounding tissue's, and the spread of a sample around its
level, with the tests that tell a clicked tissue's class; and one click. The
constants are the engine's tuning, each with the reason for its value (ADR 0007).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.imaging.segmentation.radial import STEP_MM

BoolArray = npt.NDArray[np.bool_]
Index = tuple[int, int, int]

SEED_RADIUS_MM = 1.0
"""Radius of the ball a click forces in (include) or out (exclude)."""
INCLUDE_BEYOND_MM = 2.0
"""An include click's surface passes at least this far beyond it (the user clicked
the middle of a missed part, whose far edge lies beyond the click)."""
MAX_ARC_MM = 8.0
MIN_ARC_MM = 6.0
"""The least arc around a click within which its correction acts."""
LEVEL_RADIUS_MM = 4.0
"""The focus level is the median of the samples this close to the first click."""
OUTLIER_RADIUS_MM = 6.0
"""The neighbourhood against which the click's level is checked for a speck."""
SOFT_TISSUE_HU = 100.0
"""The surrounding tissue is sought within this many HU of the focus level first."""
FIRST_REACH_MM = 45.0
"""How far the first click's rays look; extended when the focus reaches it."""
MAX_REACH_MM = 100.0
RAYS_3D, RAYS_2D, RAYS_SECONDARY = 800, 256, 400
TUMOUR_LIVER_HU = 60.0
"""The largest contrast of viable tumour against liver on contrast CT (3–40 HU measured,
issue 12): a focus level further from the surroundings is a necrotic core or a cyst."""
OTHER_SCORE = -0.5
"""Evidence of a sample like neither focus nor surrounding tissue (fat, lung, vessel)."""
CLIP_SCORE = 3.0
NEW_CLASS_SPREADS = 2.5
"""How far beyond the focus and surrounding-tissue levels a clicked tissue is a class of its own."""
FALLBACK_RADIUS_MM = 5.0
"""The first contour's radius when the image cannot place the focus's edge."""
PROFILE_MIN_MM = 5.0
"""The least radius a low-contrast focus's profile step is sought at (the small
contour's: a smaller focus gains nothing from the profile)."""
PROFILE_BAND = (0.75, 1.2)
"""The bounds of a ray, as fractions of the profile's edge, on a low-contrast focus."""
CONTROL_COUNT = 8
"""Control points in the parenchyma a low-contrast step is compared with."""
CONTROL_RAYS = 200
CONTROL_DISTANCE_MM = 20.0
"""Controls lie this far beyond the candidate focus's largest radius."""
LIVER_LEVEL_SPREADS = 0.5
"""A first click whose level lies within this many spreads of the parenchyma's level
(median inside the liver contour) is taken for parenchyma (see ``_fit_model``)."""
PARENCHYMA_MATCH_SPREADS = 0.25
"""A first contour whose inside (its volume-weighted median) lies within this many
spreads of the parenchyma's level holds parenchyma (see ``_holds_parenchyma``)."""
COLLAPSED_MM = 3.0
"""A first contour this small (typical radius) is checked against the pooled profile."""
PROFILE_MAX_MM = 30.0
"""The largest such radius (a larger low-contrast focus needs clicks to be drawn)."""
PROFILE_MIN_HU = 3.0
PROFILE_SCATTERS = 3.0
"""A profile step is a focus when it exceeds 3 HU and three times the profile's scatter."""
MARGIN_SCORE = 1.0
"""How clearly a clicked tissue must score on its side after the click."""
CONE_SLOPE = 0.5
"""How fast an include click's bound relaxes with the arc distance from it (mm per mm)."""
EXCLUDE_SLOPE = 2.0
"""The same for an exclude click: faster, a leak is narrower than a missed part."""
FAINT_EDGE_SPREADS = 2.0
"""A first contour whose focus and surroundings lie fewer spreads apart is said to
follow a faint edge (see ``InteractiveContour._say_if_faint``)."""
EXCURSION_SPREADS = 2.0
"""A thin structure inside the focus (a vessel, a calcification), whose blurred profile
along a ray passes through the surroundings' level, peaks this many spreads beyond that
level on the far side from the focus (see ``_enclosed_excursions``)."""
EXCURSION_MAX_MM = 12.0
"""Its longest run along a ray: a vessel a few mm across, crossed obliquely, with its
blurred flanks."""
EXCURSION_FLANK_MM = 2.0
"""The least stretch of focus after it (past the blur of the image and the ray)."""
EXCURSION_FOCUS_FRACTION = 0.3
"""That stretch's mean lies within this fraction of the contrast from the focus level."""
EXCURSION_CONTRAST_SPREADS = 2.0
"""The rule holds when the focus and the surroundings lie this many spreads apart."""
MARGIN_LIMIT_MM = 5.0
"""The largest margin the user may move the whole contour by, in or out."""
REALIGN_MM = STEP_MM
"""How far the first contour's realignment may move a ray's edge, in or out: one
sampling step (see ``Star.realign``)."""


@dataclass
class IntensityModel:
    """The tissue classes: focus levels (HU, with the radius up to which each holds),
    surrounding-tissue levels, and the spread of a sample around its level."""

    focus: list[tuple[float, float]]
    background: list[float]
    spread_hu: float
    pooled: bool = False
    """The levels came from the rays' pooled profile (see ``InteractiveContour._pooled_first``)."""
    small: bool = False
    """The image could not place the first edge: the small contour was drawn. (Both
    flags live with the model, which every click's history keeps, so that an undo
    restores them with it.)"""

    @property
    def separable(self) -> bool:
        """True when the first focus level stands out of the surrounding tissue's spread."""
        return abs(self.focus[0][0] - self.background[0]) >= max(1.0 * self.spread_hu, 3.0)

    @property
    def faint(self) -> bool:
        """True when the first focus level lies under :data:`FAINT_EDGE_SPREADS` spreads
        from the surrounding tissue's (the edge it sets is faint)."""
        return abs(self.focus[0][0] - self.background[0]) < FAINT_EDGE_SPREADS * self.spread_hu

    def focus_like(self, value: float) -> bool:
        """True when ``value`` lies within 1.5 spreads of a focus level."""
        return min(abs(value - f) for f, _ in self.focus) <= 1.5 * self.spread_hu

    def new_class(self, value: float) -> bool:
        """True when ``value`` is like neither class and not between the first two levels.

        A value between the focus and the surrounding tissue, or beyond them by less
        than 2.5 spreads, is a partial-volume edge or noise, not a tissue of its own
        (necrosis, calcification, an enhancing rim).
        """
        if self.focus_like(value) or self.background_like(value):
            return False
        low, high = sorted((self.focus[0][0], self.background[0]))
        margin = NEW_CLASS_SPREADS * self.spread_hu
        return value < low - margin or value > high + margin

    def near_focus(self, value: float) -> bool:
        """True when ``value`` lies within 2.5 spreads of a focus level.

        Such a tissue cannot be told from the focus sample by sample (its own layer's
        noise and texture reach it): an exclude click on it says where the edge is,
        not which tissue is outside.
        """
        return min(abs(value - f) for f, _ in self.focus) < NEW_CLASS_SPREADS * self.spread_hu

    def background_like(self, value: float) -> bool:
        """True when ``value`` lies within 1.5 spreads of a surrounding-tissue level."""
        return min(abs(value - b) for b in self.background) <= 1.5 * self.spread_hu


@dataclass(frozen=True, slots=True)
class Click:
    """One click: voxel index (z, y, x) and whether it includes or excludes."""

    index: Index
    include: bool
