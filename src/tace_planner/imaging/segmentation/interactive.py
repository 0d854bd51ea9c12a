"""Interactive contour refinement: include and exclude clicks as hard, local constraints.

The contour is a star-shaped surface around the first click, one radius per direction
(:mod:`tace_planner.imaging.segmentation.radial`): each radius is the edge that the
image evidence along its ray and its neighbours' rays supports best (a pooled
change-point of the log-likelihood ratio of focus against surrounding tissue). The
shape prior makes the contour robust where voxels alone cannot be told apart: on
portal-venous CT, liver and tumour differ by 3–40 HU under 7–19 HU of voxel noise.

The clicks (Boykov & Jolly, ICCV 2001, for seeds as hard constraints; Gulshan et al.,
CVPR 2010, for star shapes around several seeds):

* **first include** — the intensity model is fitted from the rays: the focus level at
  the click, the surrounding tissue as the intensity peak nearest to it beyond the
  edge (fat, lung, vessels and bone are a third class, "other", never focus), then
  refitted once from the first edge. When that model cannot place the edge (levels
  closer than the spread, the click's tissue reading as the surroundings', or a
  contour collapsed onto a blob of texture at the click), the levels and a typical
  radius come from a change-point fit (Hinkley, Biometrika 1970) of the rays' median
  radial profile: averaged over a shell around the click, the noise falls while a
  3–10 HU mean step remains. The star is then solved with those levels, every ray
  bounded to 0.75–1.2 times that radius until the clicks move the bounds. The pooling
  rounds lobes off (each edge lies at its arc's mean distance); one realigned pass,
  the neighbours' evidence read relative to their own edges, moves each ray by up to
  one sampling step towards its own. A first contour whose levels lie fewer than two
  spreads apart follows a faint edge, and the user is told to check it.
* **include** outside the contour — the surface must pass beyond the click: the rays
  around it get a lower bound shaped as a cone (the click's distance less the arc to
  it), and the click's tissue joins the focus model when it differs from it
  (necrosis, calcification, an enhancing rim; on a faint focus, not a value within a
  tumour's contrast of its levels, which is texture). Only the rays near the click
  move; a new tissue class may also make the other rays grow, never shrink. On tissue the
  model reads as the surroundings, the click's geometry alone decides: the rays near
  it go about as far beyond it as it lies beyond the contour. A click that cannot be
  reached from the first click through focus-like tissue (another lobe) starts a star
  of its own, united with the first; when that star finds nothing like the focus, the
  user is told that only the clicked spot was added.
* **exclude** inside the contour — the surface must stay short of the click: an upper
  bound cone on the rays around it, and a local shift of the evidence so that the
  click's tissue scores as outside; the tissue joins the surrounding-tissue model only
  when it stands apart from every focus level. Only the rays near the click move.

Hard constraints: a ball around every include click is always inside the result, a
ball around every exclude click never is (a later click wins where two meet). Every
correction changes only the rays within an arc around the click (a few times the
click's distance to the contour): distant correct parts stay as they were.

Arrays are (z, y, x), spacing in mm; clicks are voxel indices.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.radial import POOL_ARC_MM, STEP_MM, Star

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


@dataclass
class InteractiveContour:
    """The contour of one focus under construction, refined click by click.

    Parameters
    ----------
    volume : ImageVolume
        CT in HU.
    liver_mask : numpy.ndarray of bool, optional
        When given, samples outside the liver count against the focus.
    flat : bool
        Work on the first click's axial slice only (2D contouring).
    """

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
    (see :meth:`set_margin`)."""

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

    @property
    def parenchyma_reading(self) -> tuple[float, float] | None:
        """(clicked tissue HU, parenchyma HU) when the contour is the small one drawn
        because the first click read as the liver parenchyma (a liver contour was
        given); None otherwise, and once an include click found the focus."""
        if self._parenchyma_reading is None or not self._small or len(self._stars) != 1:
            return None
        return self._parenchyma_reading

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel spacing (dz, dy, dx) in mm."""
        columns = np.asarray(self.volume.index_to_lps, dtype=float)[:3, :3]
        return tuple(float(np.linalg.norm(columns[:, a])) for a in range(3))  # type: ignore[return-value]

    # -- the user's gestures ---------------------------------------------------------

    def click(
        self, index: Sequence[int], include: bool = True, *, start: BoolArray | None = None
    ) -> BoolArray:
        """Add one click and return the new contour (a mask of the whole volume).

        The first click must include. A click outside the volume is refused. The
        mask returned is the live contour, changed in place by later clicks: copy it
        to keep a version. ``start`` (first click only) is a contour already drawn
        from that click (the one-click contour the user sees): it becomes the star
        that later clicks correct, instead of a contour fitted anew.
        """
        shape = self.volume.voxels.shape
        point = tuple(int(v) for v in index)
        if len(point) != 3 or not all(0 <= p < n for p, n in zip(point, shape, strict=True)):
            raise ValueError(f"click {index!r} lies outside the volume {shape}")
        if self.flat and self.clicks:
            point = (self.clicks[0].index[0], point[1], point[2])
        if self.mask is None and not include:
            raise ValueError("the first click must be inside the focus (include)")
        # The stars' samples never change: keep their bounds, radii and biases only.
        snapshot = [(star, (star.radius, star.low, star.high, star.bias)) for star in self._stars]
        self._history.append((snapshot, copy.deepcopy(self._model)))
        self.clicks.append(Click(point, include))  # type: ignore[arg-type]
        self.messages = []
        if self.mask is None:
            self.mask = np.zeros(shape, dtype=bool)
            if start is not None and start.shape == shape and start[point]:
                self._adopt(point, start)  # type: ignore[arg-type]
            else:
                self._first(point)  # type: ignore[arg-type]
        else:
            stars, radii = list(self._stars), [star.radius.copy() for star in self._stars]
            if include:
                self._include(point)  # type: ignore[arg-type]
            else:
                self._exclude(point)  # type: ignore[arg-type]
            self._keep_monotone(stars, radii, include)
        self._paint()
        return self.mask

    def set_margin(self, margin_mm: float) -> BoolArray:
        """Move the whole contour's surface out (positive) or in by ``margin_mm``.

        The gesture for an edge that the contour follows a little inside or outside
        all round: on a faint edge, the first contour lies a millimetre or two inside
        it more often than outside (ADR 0007), and one margin corrects what would
        take a click per side. Every ray's edge moves by the margin, so the shape is
        kept and thick slices are treated exactly (not a voxel dilation); later
        clicks keep it. The clicks stay hard constraints, and a grown contour does
        not leave the liver contour (when one was given). Not a click: ``undo``
        takes back clicks, the margin is set again by the caller.

        Raises
        ------
        ValueError
            Before the first click, or a margin that is not finite or lies beyond
            :data:`MARGIN_LIMIT_MM`.
        """
        if self.mask is None:
            raise ValueError("a margin needs a contour: click inside the focus first")
        margin = float(margin_mm)
        if not math.isfinite(margin) or abs(margin) > MARGIN_LIMIT_MM + 1e-9:
            raise ValueError(
                f"{margin_mm!r} mm lies outside -{MARGIN_LIMIT_MM:g} to {MARGIN_LIMIT_MM:g} mm"
            )
        self.margin_mm = margin
        self._paint()
        return self.mask

    def _keep_monotone(self, stars: list[Star], radii: list[np.ndarray], include: bool) -> None:
        """An include click never takes a ray in, an exclude click never takes one out.

        The guarantee the user relies on (a correction adds what was missed or removes
        a leak, nothing else), made to hold by construction: a re-solve with a model
        changed by the click, or with a pooling width that followed the new typical
        radius, may otherwise move a ray the other way. A star lengthened for the
        click replaces the old one at its place in the list.
        """
        for i, (old, radius) in enumerate(zip(stars, radii, strict=True)):
            if include and i < len(self._stars):
                star = self._stars[i]
                if star.radius.shape == radius.shape:
                    star.radius = np.maximum(star.radius, np.minimum(radius, star.high))
            elif not include and any(star is old for star in self._stars):
                old.radius = np.minimum(old.radius, radius)

    def undo(self) -> BoolArray | None:
        """Take the last click back; return the contour before it (None before any)."""
        if not self.clicks:
            return self.mask
        self.clicks.pop()
        snapshot, self._model = self._history.pop()
        self._stars = []
        for star, (radius, low, high, bias) in snapshot:
            star.radius, star.low, star.high, star.bias = radius, low, high, bias
            self._stars.append(star)
        if not self.clicks:
            self._clear()
            self.mask = None
            return None
        self._paint()
        return self.mask

    # -- steps -------------------------------------------------------------------------

    def _sample(self, center: Sequence[float], reach_mm: float, count: int) -> Star:
        return Star.sample(
            self.volume.voxels,
            np.asarray(self.spacing_mm),
            np.asarray(center, dtype=float),
            reach_mm,
            count,
            self.flat,
        )

    def _adopt(self, point: Index, start: BoolArray) -> None:
        """Take a drawn contour as the first star: each ray ends where it leaves it.

        The model is fitted as for a first click, then refitted from the contour's
        inside and outside; each radius is set so that the drawn edge is where the
        star puts it (less the half step and blur shrink the star adds).
        """
        from scipy import ndimage

        reach = FIRST_REACH_MM
        star = self._sample(point, reach, RAYS_2D if self.flat else RAYS_3D)
        points = star.center[None, None, :] + star.dirs[:, None, :] * (
            star.radii[None, :, None] / star.spacing
        )
        inside = ndimage.map_coordinates(
            start.astype(np.uint8), points.reshape(-1, 3).T, order=0, mode="constant"
        ).reshape(star.values.shape)
        outside = inside == 0
        outside[:, 0] = False
        first_out = np.where(outside.any(axis=1), outside.argmax(axis=1), len(star.radii) - 1)
        edge = star.radii[np.maximum(first_out - 1, 0)] + 0.5 * STEP_MM
        star.low[:] = SEED_RADIUS_MM
        star.radius = np.maximum(edge, SEED_RADIUS_MM)
        star.radius = np.maximum(star.radius - (star.edge_radius() - star.radius), STEP_MM)
        self._model = self._fit_model(star)
        self._refit(star)
        self._stars = [star]

    def _first(self, point: Index) -> None:
        """The first click: sample the rays, fit the model, find the edge, refit once."""
        star = self._sample(point, FIRST_REACH_MM, RAYS_2D if self.flat else RAYS_3D)
        star.low[:] = SEED_RADIUS_MM
        self._parenchyma_reading = None
        self._layered = False
        self._halo_mm = 0.0
        self._model = self._fit_model(star)
        # A click on a speck (a calcification): every ray starts in its blurred halo,
        # whose samples score against the focus; the edge is sought beyond it, so that
        # the evidence of the focus past the halo alone places it.
        star.low[:] = max(SEED_RADIUS_MM, self._halo_mm)
        star.solve(self._evidence(star), arc_mm=self._arc_mm())
        # Up to two layers, inside out: the viable tumour around a necrotic core, then
        # an enhancing rim around it (four tissues with the surroundings).
        for _ in range(2):
            if not self._add_enclosing_layer(star):
                break
        for _ in range(2):
            if (star.radius >= star.reach_mm - 2.0).mean() > 0.2 and star.reach_mm < MAX_REACH_MM:
                grown = self._sample(point, min(star.reach_mm * 1.6, MAX_REACH_MM), len(star.dirs))
                grown.low[:] = max(SEED_RADIUS_MM, self._halo_mm)
                star = grown
                star.solve(self._evidence(star), arc_mm=self._arc_mm())
            self._refit(star)
            star.solve(self._evidence(star), arc_mm=self._arc_mm())
        # Texture at the click can make its level read as the surroundings', on
        # either side: the pooled profile of every ray decides then.
        self._pooled = False
        if self._no_edge(star) or float(np.median(star.radius)) < COLLAPSED_MM:
            self._pooled_first(star)
        if not self._no_edge(star) and self._holds_parenchyma(star):
            self._looks_like_surroundings = True
            self._pooled = False
        if self._pooled:
            self.messages.append(self._pooled_message)
        if self._no_edge(star):
            # The image cannot place the edge: a small ball, for the clicks to shape.
            star.radius = np.minimum(star.radius, FALLBACK_RADIUS_MM)
            star.high[:] = FALLBACK_RADIUS_MM
            self._small = True
            if self._model.separable:
                self.messages.append(
                    "The clicked tissue looks like the tissue around it: a small contour "
                    "was drawn; add include clicks where the focus extends."
                )
        if not (self._layered or self._pooled or self._small):
            # The pooling drew each ray's edge at the mean over its arc: lobes flattened,
            # the volume short (it grows as r³). One realigned pass restores part of
            # the shape from the evidence itself (see ``Star.realign``). Not on a
            # layered focus (its layers' edges are not one surface), nor on a model
            # from the pooled profile or the small contour (no edge of their own).
            star.realign(self._evidence(star), REALIGN_MM, arc_mm=self._arc_mm())
        self._stars = [star]
        self._say_if_faint()
        if not (self._model.separable or self._pooled):
            self.messages.append(
                f"The clicked tissue ({self._model.focus[0][0]:.0f} HU) is hard to tell from "
                f"its surroundings ({self._model.background[0]:.0f} ± "
                f"{self._model.spread_hu:.0f} HU): check the contour and add include or "
                "exclude clicks."
            )

    def _texture_of_faint_focus(self, value: float) -> bool:
        """True when the levels lie under two spreads apart and ``value`` lies within
        a tumour's contrast (:data:`TUMOUR_LIVER_HU`) of one of them.

        On such a focus the texture of the tumour and the liver (6–20 HU on contrast
        CT) reaches the 2.5 spreads that make a value a tissue of its own: a clicked
        patch of it is no necrosis, calcification or enhancing rim, which differ from
        both levels by more.
        """
        model = self._model
        assert model is not None
        if not model.faint:
            return False
        levels = [level for level, _ in model.focus] + list(model.background)
        return min(abs(value - level) for level in levels) < TUMOUR_LIVER_HU

    def _say_if_faint(self) -> None:
        """Tell the user when the edge the first contour followed is faint.

        Below :data:`FAINT_EDGE_SPREADS` spreads of contrast, one sample in six or more
        of either tissue lies beyond the half-way level, and patches of texture inside
        the focus read as the surroundings: on the lesion battery, seeds 0-2, the
        first contour's volume was off by more than 10 % in 13 of the 25 such foci (12
        short of the edge, one beyond), against 7 of the 28 single-tissue foci above it
        that no other message flagged; on the whole-liver phantom, seed 0, it flags F5
        (calcified, -57 %, at the threshold) and F8 (-8 HU, +91 %) and none of the six
        others (ADR 0007).
        Not when another message already says the contour is uncertain (the pooled
        profile, the small contour, levels closer than one spread), nor on a layered
        focus, whose layers differ by more.
        """
        model = self._model
        assert model is not None
        if self._pooled or self._small or self._layered or not model.separable:
            return
        if not model.faint:
            return
        focus, background = model.focus[0][0], model.background[0]
        self.messages.append(
            f"Faint edge ({focus:.0f} HU against {background:.0f} ± {model.spread_hu:.0f} HU "
            "around it): the contour may miss part of the focus or take in tissue around "
            "it; check it all round and correct it with include or exclude clicks, or "
            "move the whole contour out or in by a margin."
        )

    def _holds_parenchyma(self, star: Star) -> bool:
        """True when the first contour's inside reads as the liver parenchyma's level.

        A click on plain parenchyma whose rays meet a darker or brighter structure
        (a vessel, the liver's edge, a patch of texture) can grow a contour of tens of
        cubic centimetres of liver, with its edge at that structure. The click's own
        level is a few voxels' median and may miss the parenchyma's by the texture
        there; the whole contour's inside (thousands of voxels) does not. With a liver
        contour, an inside within :data:`PARENCHYMA_MATCH_SPREADS` spreads of the
        median inside the liver is the parenchyma: the small contour is drawn and the
        user is told. (A focus 3–40 HU from the liver on contrast CT differs from it by
        more than a quarter of the liver's 15–29 HU spread in all but the faintest
        cases, which the user then shapes with include clicks.)
        """
        if self.liver_mask is None or self._model is None:
            return False
        parenchyma = self._liver_level()
        if parenchyma is None:
            return False
        inside = star.radii[None, :] <= star.radius[:, None]
        if int(inside.sum()) < 50:
            return False
        weight = np.broadcast_to(star.radii[None, :] ** 2, star.values.shape)[inside]
        level = _weighted_median(star.values[inside], weight)
        if abs(level - parenchyma) < PARENCHYMA_MATCH_SPREADS * self._model.spread_hu:
            self._parenchyma_reading = (level, parenchyma)
            return True
        return False

    def _no_edge(self, star: Star) -> bool:
        """True when the image cannot place the first edge (the small contour is drawn)."""
        assert self._model is not None
        return (
            not (self._model.separable or self._pooled)
            or self._looks_like_surroundings
            or bool((star.radius >= star.reach_mm - 2.0).mean() > 0.3)
        )

    def _pooled_first(self, star: Star, least_mm: float = 0.0) -> None:
        """Refit a model the click's neighbourhood could not separate from the whole focus.

        A focus 3–10 HU from the parenchyma under 5–20 HU of noise and texture: the
        level within 4 mm of the click is off by the texture there, and no sample can
        be told apart. The rays' median profile (the median over some 800 rays at each
        radius, an average over a shell around the click) keeps the focus's mean step
        while the noise falls with the shell's area: a two-segment fit of that profile
        (the change point of Hinkley, Biometrika 1970) gives the focus's level inside,
        the parenchyma's beyond, and a typical radius. When that step stands out of
        the profile's own scatter, the star is solved with those levels and the
        widest pooling; the result is kept if its typical radius agrees with the
        profile's (a click on plain parenchyma finds no such step, or one the rays do
        not confirm, and keeps the small contour).

        ``least_mm`` > 0: an include click that far from the first click, outside the
        small contour, confirmed the focus (see ``_include``): the step is sought at
        least that far out (over :data:`PROFILE_BAND`'s upper end) and is not compared
        with the parenchyma's (the comparison guards against a click on parenchyma,
        which the user's second click rules out).
        """
        model = self._model
        assert model is not None
        fit = _profile_step(
            star.radii, np.median(star.values, axis=0), star.reach_mm, least_mm / PROFILE_BAND[1]
        )
        if fit is None:
            return
        inner, outer, edge_mm, scatter = fit
        if abs(inner - outer) < max(PROFILE_MIN_HU, PROFILE_SCATTERS * scatter):
            return
        if abs(inner - outer) > TUMOUR_LIVER_HU:
            # Not a focus against the liver (3-40 HU) but the liver against fat, lung
            # or a vessel: the profile reached the liver's edge (the whole-liver
            # phantom's small F7, seed 4: a focus near the capsule confirmed by a
            # second click grew over the liver, 109 HU against 22 HU, Dice 0.50 → 0.03).
            return
        strength = abs(inner - outer) / max(scatter, 1e-6)
        if least_mm <= 0.0 and not self._stands_out(star, strength, edge_mm):
            return
        before = (copy.deepcopy(model), star.radius.copy(), star.low.copy(), star.high.copy())
        self._model = IntensityModel([(inner, math.inf)], [outer], model.spread_hu)
        # The profile's edge bounds every ray (a texture blob or a vessel on one ray
        # cannot take it far from the focus's typical radius); clicks move the bounds.
        star.low[:] = np.maximum(star.low, PROFILE_BAND[0] * edge_mm)
        star.high[:] = np.minimum(star.high, PROFILE_BAND[1] * edge_mm)
        star.solve(self._evidence(star), arc_mm=MAX_ARC_MM)
        star.low[:] = before[2]
        typical = float(np.median(star.radius))
        if not 0.75 * edge_mm <= typical <= 1.33 * edge_mm:
            self._model, star.radius, star.low, star.high = before
            return
        self._pooled = True
        # The step is the focus's: the clicked tissue was a blob of texture at its level.
        self._looks_like_surroundings = False
        self._pooled_message = (
            f"Low contrast ({inner:.0f} HU against {outer:.0f} HU around it): the contour "
            "was fitted from the average intensity around the click; check it and add "
            "include or exclude clicks."
        )

    def _stands_out(self, star: Star, strength: float, edge_mm: float) -> bool:
        """True unless the parenchyma around the click shows as strong a profile step.

        Liver texture (15-29 HU SD on contrast CT, correlated over millimetres) makes
        steps of a few HU in any pooled profile: a click on plain parenchyma finds one
        too. The same fit is run at :data:`CONTROL_COUNT` control points in the liver
        around the click (beyond the candidate focus, whose samples are left out of
        their profiles); the click's step must be stronger than every one of theirs
        (a rank test: by chance one time in ``CONTROL_COUNT + 1``). Without a liver
        contour, or with fewer than half the controls inside it, nothing can be
        compared and the step is kept.
        """
        if self.liver_mask is None:
            return True
        spacing = np.asarray(self.spacing_mm, dtype=float)
        distance = CONTROL_DISTANCE_MM + PROFILE_BAND[1] * edge_mm
        shape = np.asarray(self.liver_mask.shape)
        strengths = []
        for angle in np.linspace(0.0, 2.0 * math.pi, CONTROL_COUNT, endpoint=False):
            offset_mm = np.array([0.0, math.sin(angle), math.cos(angle)]) * distance
            centre = star.center + offset_mm / spacing
            index = tuple(round(v) for v in centre)
            if not all(0 <= i < n for i, n in zip(index, shape, strict=True)):
                continue
            if not self.liver_mask[index]:
                continue
            control = self._sample(centre, FIRST_REACH_MM, CONTROL_RAYS)
            values = control.values.copy()
            points_mm = (control.center - star.center) * spacing
            positions = (
                points_mm[None, None, :] + control.dirs[:, None, :] * control.radii[None, :, None]
            )
            near = np.linalg.norm(positions, axis=2) < PROFILE_BAND[1] * edge_mm + 5.0
            values[near | ~self._liver_along(control)] = np.nan
            counted = np.isfinite(values).sum(axis=0) >= CONTROL_RAYS // 4
            if counted.sum() < len(control.radii) // 2:
                continue
            profile = np.where(counted, np.nanmedian(np.where(counted, values, 0.0), axis=0), 0.0)
            fit = _profile_step(control.radii[counted], profile[counted], control.reach_mm)
            if fit is not None:
                strengths.append(abs(fit[0] - fit[1]) / max(fit[3], 1e-6))
        if len(strengths) < CONTROL_COUNT // 2:
            return True
        return strength > max(strengths)

    def _add_enclosing_layer(self, star: Star) -> bool:
        """A tissue that wraps the first edge, between it and the surroundings.

        A click in a necrotic core finds the core's edge; the viable tumour around it
        lies beyond. When the samples just outside the edge (1–5 mm) have a level like
        neither class, that layer joins the focus as a class of its own and the edge is
        found again:

        * a level between the focus and the surroundings (2 spreads from each): the
          viable tumour around a necrotic core of a hypo-attenuating focus;
        * a level beyond the surroundings, on the far side from the focus (by half a
          spread: the level is the mode of thousands of samples), 2–6 mm out: the
          enhancing rim (thin: its level is its blurred profile's peak, and it holds
          only up to 6 mm past the first edge) around a
          necrotic centre, or the viable tissue of a hyper-attenuating focus around its
          necrotic core. A vessel or the IVC touching the focus also lies beyond the
          surroundings, but along a few rays only: the layer must be what most rays
          (60 %) meet first beyond the edge.

        The new edge is kept unless it runs away (:func:`_exploded`).
        """
        model = self._model
        assert model is not None
        radii = star.radii[None, :]
        edge = star.radius[:, None]
        in_band = (radii >= edge + 1.0) & (radii <= edge + 5.0)
        band = star.values[in_band]
        if band.size < 100:
            return False
        level = _mode(band)
        focus, background = model.focus[0][0], model.background[0]
        low, high = sorted((focus, background))
        sd = model.spread_hu
        between = low + 1.5 * sd < level < high - 1.5 * sd
        # Beyond the surroundings: sampled 2–6 mm out, past the blurred edge's partial
        # volume (image blur and ray smoothing, ~1.5 mm together), which lies between
        # the focus and the surroundings and would dilute a thin rim.
        out_band = (radii >= edge + 2.0) & (radii <= edge + 6.0)
        outer = _mode(star.values[out_band]) if out_band.sum() >= 100 else background
        beyond = (
            abs(outer - background) >= max(0.5 * sd, 3.0)
            and (outer - background) * (background - focus) > 0
        )
        reach = math.inf
        if beyond and not between:
            # (A layer between the focus and the surroundings is met first: it joins
            # now, and a rim beyond it on the next call, from the new edge.)
            beyond = _wraps(star, out_band, outer, background)
            if beyond and not _wraps(star, (radii >= edge + 6.0) & (radii <= edge + 12.0),
                                     outer, background):  # fmt: skip
                # A thin layer (a rim), blurred: the band's mode lies between it and the
                # surroundings. Its own level is where its profile peaks (the median
                # over the rays of each ray's extreme in the band), and it holds only
                # where it was seen, up to 6 mm past the first edge, so that a patch of
                # surrounding tissue as bright or dark as it further out stays out.
                side = 1.0 if outer > background else -1.0
                extreme = side * np.nanmax(np.where(out_band, side * star.values, np.nan), axis=1)
                outer = float(np.nanmedian(extreme))
                reach = float(np.percentile(star.radius, 90)) + 6.0
            level = outer
        else:
            beyond = False
        if not (between or beyond):
            return False
        before = star.radius.copy()
        model.focus.append((level, reach))
        star.solve(self._evidence(star), arc_mm=self._arc_mm())
        if _exploded(star, before):
            model.focus.pop()
            star.radius = before
            return False
        self._layered = True
        return True

    def _fit_model(self, star: Star) -> IntensityModel:
        """Focus level at the click; surrounding tissue as the nearest intensity peak.

        The focus level is the median of the samples within 4 mm of the click, or,
        when the click landed on a speck (a calcification), the most frequent level
        of its 6 mm neighbourhood. The surrounding tissue is the largest intensity
        peak of the samples 25–45 mm out that lies more than 4 HU and at most 100 HU
        from the focus level: the
        parenchyma around a focus outweighs it there, and differs from it by 3–40 HU
        on contrast CT (up to ~80 HU for a necrotic core); fat, lung, bone and enhanced
        vessels that differ from both are scored as "other".
        """
        values = star.values
        level = float(np.median(values[:, star.radii <= LEVEL_RADIUS_MM]))
        # Every ray passes through the click, so the median is the clicked tissue's:
        # when the clicked voxel stands out of its 6 mm neighbourhood's most
        # frequent level by more than soft tissue differs (tumour and liver differ by
        # 3–40 HU on contrast CT, a necrotic core by up to ~80 HU) and by three spreads
        # of that level's tissue, the click landed on a speck of the focus, and that
        # level is the focus's. (A small focus differs from the parenchyma around it
        # by a soft-tissue contrast: it is never taken for a speck.)
        wide = star.radii <= OUTLIER_RADIUS_MM
        around = values[:, wide].ravel()
        around_weight = np.broadcast_to(star.radii[wide] ** 2, values[:, wide].shape).ravel()
        common = _weighted_mode(around, around_weight)
        spread = _robust_sd(around[np.abs(around - common) <= 50.0])
        speck: tuple[float, float] | None = None
        clicked = float(np.median(values[:, star.radii <= SEED_RADIUS_MM]))
        if abs(clicked - common) > max(3.0 * spread, SOFT_TISSUE_HU):
            # The speck is part of what was clicked: a class of its own up to where
            # the rays' median profile leaves it (half-way to the tissue around it).
            profile = np.median(values, axis=0)
            half = 0.5 * (float(profile[0]) + common)
            past = (profile - half) * (float(profile[0]) - common) <= 0
            speck_mm = float(star.radii[int(np.argmax(past))]) if past.any() else 0.0
            speck = (float(profile[0]), min(speck_mm, OUTLIER_RADIUS_MM))
            # Its blurred halo (between the speck's level and the focus's, like
            # neither) ends where the profile comes back to the focus level; the
            # first edge lies beyond it (see ``_first``).
            back = np.abs(profile - common) <= 1.5 * max(spread, 3.0)
            back &= star.radii >= speck_mm
            halo = float(star.radii[int(np.argmax(back))]) if back.any() else speck_mm
            self._halo_mm = min(halo, speck[1] + 3.0)
            level = common
        far = values[:, (star.radii >= 25.0) & (star.radii <= 45.0)].ravel()
        peaks = _peaks(far)
        candidates = [p for p in peaks if abs(p - level) > 4.0]
        soft = [p for p in candidates if abs(p - level) <= SOFT_TISSUE_HU]
        background = (soft or candidates or peaks)[0]
        near = far[np.abs(far - background) <= 30.0]
        spread = max(_robust_sd(near) if near.size > 20 else 10.0, 3.0)
        self._peaks = [p for p in peaks if abs(p - level) > 4.0]
        # The clicked tissue is the surroundings' own (a peak at its level) and the only
        # other candidate is not parenchyma (fat, lung): the focus is not visible here.
        self._looks_like_surroundings = len(candidates) < len(peaks) and (
            abs(background - level) > 60.0
        )
        # With a liver contour the parenchyma's own level is known: a click on tissue at
        # that level is the parenchyma, whatever edge its rays meet (a vessel, the
        # gallbladder), and a contour grown from it would take in the liver around it.
        if self.liver_mask is not None and speck is None:
            parenchyma = self._liver_level()
            if parenchyma is not None and abs(level - parenchyma) < LIVER_LEVEL_SPREADS * spread:
                self._looks_like_surroundings = True
                self._parenchyma_reading = (level, parenchyma)
        focus = [(level, math.inf)] + ([speck] if speck is not None else [])
        return IntensityModel(focus, [background], spread)

    def _liver_level(self) -> float | None:
        """The parenchyma's level: the median HU inside the liver contour (cached)."""
        if self._parenchyma_hu is None and self.liver_mask is not None:
            inside = self.volume.voxels[self.liver_mask]
            if inside.size:
                self._parenchyma_hu = float(np.median(inside[:: max(1, inside.size // 200_000)]))
        return self._parenchyma_hu

    def _refit(self, star: Star) -> None:
        """Refit the surrounding tissue from just outside the edge, the focus from inside."""
        assert self._model is not None
        radii = star.radii[None, :]
        edge = star.radius[:, None]
        band = star.values[(radii >= edge + 2.0) & (radii <= edge + 10.0)]
        old = self._model.background[0]
        band = band[np.abs(band - old) <= max(3.0 * self._model.spread_hu, 15.0)]
        if band.size > 200:
            background = _mode(band)
            spread = max(_robust_sd(band), 3.0)
        else:
            background, spread = old, self._model.spread_hu
        focus = list(self._model.focus)
        if float(np.median(star.radius)) > 5.0 and not self._layered:
            # (With a layer joined to the focus the inside mixes both tissues: the
            # first level, fitted around the click, stands.)
            # Volume-weighted (r²): every ray passes through the click, whose
            # neighbourhood would otherwise outweigh the rest of the focus.
            within = (radii <= 0.8 * edge) & (radii >= 1.0)
            inside = star.values[within]
            weight = np.broadcast_to(radii**2, star.values.shape)[within]
            level = focus[0][0]
            keep = np.abs(inside - level) <= max(3.0 * spread, 15.0)
            if keep.sum() > 200:
                focus[0] = (_weighted_median(inside[keep], weight[keep]), math.inf)
        self._model = IntensityModel(focus, [background, *self._model.background[1:]], spread)

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

    def _neighbourhood(self, star: Star, direction: np.ndarray, distance: float,
                       miss_mm: float) -> np.ndarray:  # fmt: skip
        """The rays a click may move: within an arc of a few times the miss's depth."""
        arc = max(4.0 * miss_mm, MIN_ARC_MM)
        angle = min(arc / max(distance, 1.0), math.pi / 3)
        return star.angles_to(direction) <= angle

    def _star_radius_at(self, star: Star, direction: np.ndarray) -> float:
        return float(star.radius[int(np.argmax(star.dirs @ direction))])

    def _include(self, point: Index) -> None:
        assert self.mask is not None
        assert self._model is not None
        if self.mask[point]:
            return
        main = self._stars[0]
        value = self._value_at(point)
        if self._small and len(self._stars) == 1:
            self._confirmed(main, main.polar(np.asarray(point))[0])
        self._reconsider_background(value, self._stars[0].polar(np.asarray(point))[0])
        # On a focus whose model came from the pooled profile, levels a few HU apart
        # under a larger texture, a clicked blob of texture reaches 2.5 spreads: the
        # click then acts locally (its cone and shift), never as a class of its own
        # that lets every ray grow (lesion battery, hypo_5 seed 1: Dice −0.074). The
        # same on a faint focus for a value within a tumour's contrast of its levels
        # (hypo_5 seed 4, 101 HU against 109 HU: a click on a 123 HU patch of its
        # texture let every ray grow, −20 → +43 % and Dice −0.031).
        added = (
            self._model.new_class(value)
            and not self._pooled
            and not self._texture_of_faint_focus(value)
        )
        distance, direction = main.polar(np.asarray(point))
        if added:
            self._model.focus.append((value, 1.3 * distance + 5.0))
        if distance + SEED_RADIUS_MM + 2.0 > main.reach_mm and main.reach_mm < MAX_REACH_MM:
            main = self._resample(main, min(max(distance * 1.5, main.reach_mm), MAX_REACH_MM))
        if self._model.background_like(value) and distance <= main.reach_mm:
            target: Star | None = main  # the image cannot tell: the click's geometry decides
        else:
            target = self._star_for_include(point, main, distance, direction)
        if target is None:
            self._add_secondary(point, value)
            return
        star = target
        distance, direction = star.polar(np.asarray(point))
        current = self._star_radius_at(star, direction)
        # The user clicks what is shown: the rays' edges moved by the margin. The bounds
        # hold the rays' own edges, so the click's depth is taken less the margin.
        shown = distance - self.margin_mm
        miss = max(shown - current, 1.0)
        angles = star.angles_to(direction)
        cone = shown + INCLUDE_BEYOND_MM - CONE_SLOPE * distance * angles
        star.low = np.maximum(star.low, np.where(cone > 0, cone, 0.0))
        star.low = np.minimum(star.low, star.reach_mm)
        star.high = np.maximum(star.high, star.low)
        near = self._neighbourhood(star, direction, distance, miss)
        if not self._model.background_like(value):
            self._shift(star, near, direction, distance, miss, +1.0)
        evidence = self._evidence(star, self._stars[0].center)
        if added:
            # A new tissue class may let every ray grow, never shrink, away from the click.
            keep, radius = star.low.copy(), star.radius
            star.low = np.where(near, star.low, np.maximum(star.low, star.radius))
            star.solve(evidence, arc_mm=self._arc_mm())
            star.low = keep
            if _exploded(star, radius, distance):
                # The tissue is everywhere around (not a part of the focus): local only.
                self._model.focus.pop()
                star.radius = radius
                star.solve(self._evidence(star, self._stars[0].center), near,
                           arc_mm=self._arc_mm())  # fmt: skip
        elif self._model.background_like(value):
            # The image cannot tell the clicked tissue from the surroundings: the
            # click's geometry decides how far the rays near it go, out to the click
            # and about as far beyond it as it lies beyond the contour (the user
            # clicked the middle of the missed part), relaxing with the arc as the
            # cone. Beyond that the model reads the surroundings, which here it cannot
            # tell from the focus: lesion battery, hypo_5 seed 3, whose first contour
            # took the focus for the surroundings, ran to the rays' ends (+146 %,
            # Dice 0.34 → 0.26).
            keep = star.high.copy()
            ceiling = shown + miss + INCLUDE_BEYOND_MM + CONE_SLOPE * distance * angles
            star.high = np.where(near, np.maximum(np.minimum(star.high, ceiling), star.low),
                                 star.high)  # fmt: skip
            star.solve(evidence, near, arc_mm=self._arc_mm())
            star.high = keep
        else:
            star.solve(evidence, near, arc_mm=self._arc_mm())

    def _confirmed(self, star: Star, distance: float) -> None:
        """An include click outside the small contour: try the pooled profile again.

        The small contour is drawn when neither the click's neighbourhood nor the
        pooled profile could be trusted, the latter because a step of a few HU is
        also what liver texture shows around a click on plain parenchyma (see
        ``_stands_out``). A second include click outside it says the focus exists
        and reaches at least that far: the profile's step beyond the click is the
        focus's, and the star is solved from it (see ``_pooled_first``); the
        click's own cone then follows. Otherwise each include click could only add
        its cone to a 5 mm ball (the whole-liver phantom's −8 HU F8, seed 1: ten
        clicks to Dice 0.85, 0.38 after the second; now 0.80 after it, five clicks).
        Tried again at each include click while the contour is the small one.
        """
        before = (star.high.copy(), self._looks_like_surroundings)
        star.high[:] = star.reach_mm
        self._pooled_first(star, least_mm=distance)
        if self._pooled:
            self._small = False
            self.messages.append(self._pooled_message)
        else:
            star.high, self._looks_like_surroundings = before

    def _reconsider_background(self, value: float, click_mm: float) -> None:
        """An include click on what the model calls surrounding tissue: trust the click.

        When the clicked tissue matches the surrounding-tissue level but differs from
        the focus, and another intensity peak of the first click's surroundings lies
        within 60 HU of it (soft tissue, not fat or lung), the surrounding tissue is
        that other peak (a viable rim around a necrotic core was taken for liver).
        """
        model = self._model
        assert model is not None
        sd = model.spread_hu
        if model.focus_like(value) or abs(value - model.background[0]) > 1.5 * sd:
            return
        if self._pooled:
            # Levels a few HU apart under a larger texture: the click's tissue is
            # focus-like and surroundings-like at once; the click acts locally.
            return
        others = [p for p in self._peaks if abs(p - value) > 2.0 * sd and abs(p - value) <= 60.0]
        if not others:
            return
        before = copy.deepcopy(model)
        radii = [star.radius for star in self._stars]
        model.background[0] = others[0]
        model.focus.append((value, math.inf))
        for star in self._stars:
            star.solve(self._evidence(star, self._stars[0].center), arc_mm=self._arc_mm())
        if any(_exploded(s, r, click_mm) for s, r in zip(self._stars, radii, strict=True)):
            # The other peak was not the parenchyma (a vessel): keep the model.
            self._model = before
            for star, r in zip(self._stars, radii, strict=True):
                star.radius = r

    def _shift(
        self,
        star: Star,
        near: np.ndarray,
        direction: np.ndarray,
        distance: float,
        miss: float,
        sign: float,
        *,
        from_click: bool = False,
    ) -> None:
        """Correct the model locally so that the clicked tissue scores on its side.

        The score of the samples around the click (±1 mm along its ray) must be at least
        ``MARGIN_SCORE`` on the clicked side; the shortfall (at most the clip of a
        score) is added to the evidence of the samples near the click: on the rays
        around it, between the contour and the click — a local threshold moved to the
        click.
        """
        ray = int(np.argmax(star.dirs @ direction))
        window = np.abs(star.radii - distance) <= 1.0
        if not window.any():
            return
        radii = star.radii[None, :]
        edge = star.radius[:, None]
        # Each ray's own edge, moved by the depth of the miss at the click, but never
        # past the click's own depth: a click in a hole of the contour (one short ray
        # among long ones) must not carry its neighbours as far beyond their edges.
        if sign > 0:
            reach = np.minimum(edge + miss, distance + INCLUDE_BEYOND_MM)
            span = (radii >= edge - 2.0) & (radii <= reach + 1.0)
        else:
            if from_click:
                # Tissue like the focus's: the image cannot say where the leak's inner
                # end lies. A leak sticks out of the focus: its inner end lies no deeper
                # than the base it grew from, the contour's typical radius, nor deeper
                # than the middle of the leak (the click) is from its outer end. From
                # the click's own depth only, the contour retreated to the click and the
                # next click found the rest of the leak just inside it (the small
                # hyper-attenuating F7 of the whole-liver phantom, seed 1: three exclude
                # clicks of +0.00–0.02 Dice each). Not on a layered focus (a necrotic
                # core, a viable layer, a rim): the clicked tissue may be one of its
                # layers, whose edge the typical radius does not mark; the shift then
                # starts at the click (mixed_necrosis_calc of the lesion battery: clicks
                # to Dice 0.85 7 → 10 otherwise). Nor on a model from the pooled profile,
                # whose rays are bounded around the profile's edge: its overshoot is a
                # shell over the whole focus, not a leak standing on a base.
                inner = distance
                if not (self._layered or self._pooled):
                    typical = float(np.median(star.radius))
                    inner = max(distance - miss, min(distance, typical))
                depth = np.maximum(edge - miss, inner)
            else:
                depth = np.maximum(edge - miss, distance - miss) - 1.0
            span = (radii >= depth) & (radii <= edge + 2.0)
        region = span & near[:, None]
        # A later click wins: an earlier click's shift of the other sign is lifted where
        # this one acts. Otherwise the shortfall measured on the click's ray (where the
        # earlier shift holds) would be added on every neighbouring ray (where it does
        # not): an include next to an exclude grew a fifth of the focus past its edge.
        keep = np.maximum if sign > 0 else np.minimum
        star.bias = np.where(region, keep(star.bias, 0.0), star.bias)
        evidence = self._evidence(star, self._stars[0].center)[ray][window]
        shortfall = min(MARGIN_SCORE - sign * float(np.median(evidence)), CLIP_SCORE)
        if shortfall <= 0:
            return
        star.bias = star.bias + sign * shortfall * region

    def _star_for_include(
        self, point: Index, main: Star, distance: float, direction: np.ndarray
    ) -> Star | None:
        """The star that can reach the click through focus-like tissue, if any."""
        for star in self._stars:
            d, u = star.polar(np.asarray(point))
            if d > star.reach_mm:
                continue
            ray = int(np.argmax(star.dirs @ u))
            evidence = self._evidence(star, self._stars[0].center)[ray]
            start = self._star_radius_at(star, u)
            segment = evidence[(star.radii > start) & (star.radii < d)]
            if segment.size == 0 or not _has_barrier(segment):
                return star
        return None

    def _add_secondary(self, point: Index, value: float) -> None:
        assert self.mask is not None
        from scipy import ndimage

        depth = float(
            ndimage.distance_transform_edt(~self.mask[self._box_of(point, 30.0)],
                                           sampling=self.spacing_mm)[self._local(point, 30.0)]
        )  # fmt: skip
        reach = min(max(3.0 * depth, 20.0), 60.0)
        star = self._sample(point, reach, RAYS_2D if self.flat else RAYS_SECONDARY)
        star.low[:] = SEED_RADIUS_MM
        model = self._model
        assert model is not None
        if model.new_class(value):
            model.focus.append((value, math.inf))
        star.solve(self._evidence(star, self._stars[0].center), arc_mm=self._arc_mm())
        self._stars.append(star)
        if float(np.median(star.radius)) <= SEED_RADIUS_MM + STEP_MM:
            # The new star found nothing like the focus around the click: only the
            # click's own spot joins. Said, not left silent (the whole-liver phantom's
            # calcified F5, seed 5: a first click on a cluster of calcifications, then
            # two include clicks on the tumour that each added a millimetre; its
            # necrotic F4: a first click in the core, a click on the viable tissue).
            # (Short: the status bar cuts a long line at its end.)
            self.messages.append(
                f"Only the clicked spot was added: {value:.0f} HU is like neither the contour "
                f"({model.focus[0][0]:.0f} HU) nor its surroundings "
                f"({model.background[0]:.0f} HU). If the first click hit a calcification or "
                "necrosis, undo and click typical tumour; else use the brush."
            )

    def _exclude(self, point: Index) -> None:
        assert self.mask is not None
        assert self._model is not None
        if not self.mask[point]:
            return
        value = self._value_at(point)
        # The clicked tissue joins the surrounding tissue only when it stands apart from
        # every focus level: a tissue within the focus's own noise (a bright patch of a
        # hyper-attenuating tumour's layer) would take the focus's samples out on every
        # ray that a later click re-solves. The click then acts by its cone alone.
        if self._model.new_class(value) and not self._model.near_focus(value):
            self._model.background.append(value)
        for i, star in enumerate(list(self._stars)):
            distance, direction = star.polar(np.asarray(point))
            current = self._star_radius_at(star, direction)
            shown = distance - self.margin_mm  # the click's depth less the margin (see _include)
            if shown > current + 1.0:
                continue
            if i > 0 and distance <= SEED_RADIUS_MM + 1.0:
                self._stars.remove(star)
                continue
            miss = max(current - shown, 1.0)
            angles = star.angles_to(direction)
            near = self._neighbourhood(star, direction, distance, miss)
            # The rays near the click end short of it; the bound relaxes fast with the
            # arc (a neighbour's edge may lie well beyond the clicked one's).
            cone = shown - SEED_RADIUS_MM + EXCLUDE_SLOPE * distance * angles
            star.high = np.minimum(star.high, np.where(cone < star.reach_mm, cone, star.high))
            star.high = np.maximum(star.high, 0.0)
            star.low = np.minimum(star.low, star.high)
            if not self._model.focus_like(value):
                self._shift(star, near, direction, distance, miss, -1.0)
            else:
                # A tissue like the focus's: the image cannot say where the leak's inner
                # end lies; the geometry bounds it (see ``_shift``).
                self._shift(star, near, direction, distance, miss, -1.0, from_click=True)
            # The user clicked the middle of the leak: its inner end lies about as far
            # inside the click as its outer end lies outside. The rays near the click
            # go no further in than that (relaxing with the arc as the bound above),
            # so that an exclude click trims the leak, not the focus behind it.
            keep = star.low.copy()
            floor = shown - miss - SEED_RADIUS_MM - CONE_SLOPE * distance * angles
            floor = np.minimum(np.maximum(floor, 0.0), star.radius)
            star.low = np.where(near, np.maximum(star.low, np.minimum(floor, star.high)), star.low)
            star.solve(self._evidence(star, self._stars[0].center), near, arc_mm=self._arc_mm())
            star.low = keep

    def _resample(self, star: Star, reach_mm: float) -> Star:
        """The same star with longer rays (bounds and radii kept)."""
        grown = self._sample(star.center, reach_mm, len(star.dirs))
        grown.radius, grown.low = star.radius.copy(), star.low.copy()
        grown.bias[:, : star.bias.shape[1]] = star.bias
        grown.high = np.where(star.high >= star.reach_mm - 1e-9, grown.reach_mm, star.high)
        self._stars[self._stars.index(star)] = grown
        return grown

    # -- the mask ----------------------------------------------------------------------

    def _clear(self) -> None:
        if self.mask is not None:
            for box in self._painted:
                self.mask[box] = False
        self._painted = []

    def _paint(self) -> None:
        """Draw every star, then force every click's ball in or out, in click order."""
        assert self.mask is not None
        self._clear()
        shape = self.mask.shape
        for star in self._stars:
            box, inside = star.raster(shape, self.margin_mm)
            if self.margin_mm > 0.0 and self.liver_mask is not None:
                # What the margin adds stays within the liver contour.
                _, drawn = star.raster(shape)
                inside &= drawn | self.liver_mask[box]
            self.mask[box] |= inside
            self._painted.append(box)
        for click in self.clicks:
            region, inside = _ball_box(click.index, self.spacing_mm, SEED_RADIUS_MM, shape,
                                       self.flat)  # fmt: skip
            self.mask[region] = np.where(inside, click.include, self.mask[region])
            self._painted.append(region)

    def _box_of(self, point: Index, reach_mm: float) -> tuple[slice, ...]:
        shape = self.volume.voxels.shape
        reach = [0 if (self.flat and a == 0) else math.ceil(reach_mm / s)
                 for a, s in enumerate(self.spacing_mm)]  # fmt: skip
        return tuple(
            slice(max(p - r, 0), min(p + r + 1, n))
            for p, r, n in zip(point, reach, shape, strict=True)
        )

    def _local(self, point: Index, reach_mm: float) -> tuple[int, ...]:
        return tuple(p - b.start for p, b in zip(point, self._box_of(point, reach_mm), strict=True))


def _exploded(star: Star, before: np.ndarray, click_mm: float = 0.0) -> bool:
    """True when a model change made the contour run away.

    Run away: a fifth of the rays now reach their ends, or the typical radius
    tripled, or it grew past 1.5 times the click's distance from the centre (the
    click that changed the model lies inside the focus: the focus does not reach
    much beyond it in every direction).
    """
    ends = (
        (star.radius >= star.reach_mm - 2.0).mean() > 0.2 > (before >= star.reach_mm - 2.0).mean()
    )
    typical, previous = float(np.median(star.radius)), float(np.median(before))
    grown = typical > 3.0 * max(previous, 3.0)
    past_click = click_mm > 0 and typical > max(1.5 * click_mm, previous + 2.0)
    return bool(ends or grown or past_click)


def _profile_step(
    radii: np.ndarray, profile: np.ndarray, reach_mm: float, least_mm: float = 0.0
) -> tuple[float, float, float, float] | None:
    """Two-segment fit of a radial profile: (inner level, outer level, edge mm, scatter).

    The change point minimises the squared residuals of a step, each radius weighted
    by the shell's area (r: the rays' samples thin out as 1/r² while the shell grows);
    the inner segment is read from a third of the edge out, the outer one up to 12 mm
    past the edge, beyond a 2 mm blurred band.
    The scatter is the residuals' SD about the step, per radius.
    """
    weight = np.maximum(radii, STEP_MM)
    best: tuple[float, float, float, float, float] | None = None
    top = min(reach_mm - 14.0, PROFILE_MAX_MM)
    for k in np.flatnonzero((radii >= max(PROFILE_MIN_MM, least_mm)) & (radii <= top)):
        edge = float(radii[k])
        # The inner level from a third of the edge out: the click may sit on a blob of
        # texture a few mm across, which the shells nearest it are made of.
        inner_band = (radii >= edge / 3.0) & (radii <= edge)
        outer_band = (radii >= edge + 2.0) & (radii <= edge + 12.0)
        inner = float(np.average(profile[inner_band], weights=weight[inner_band]))
        outer = float(np.average(profile[outer_band], weights=weight[outer_band]))
        window = inner_band | outer_band
        fitted = np.where(inner_band, inner, outer)
        residual = float(np.average((profile - fitted)[window] ** 2, weights=weight[window]))
        scatter = math.sqrt(residual)
        # The step's strength against its scatter (a t-like statistic): comparable
        # across candidate edges, whose windows differ.
        strength = abs(inner - outer) / max(scatter, 1e-6)
        if best is None or strength > best[0]:
            # The level returned skips the 2 mm inside the edge, as the outer one
            # skips the 2 mm outside it: blurred, between both.
            level_band = (radii >= edge / 3.0) & (radii <= edge - 2.0)
            if level_band.any():
                inner = float(np.average(profile[level_band], weights=weight[level_band]))
            best = (strength, inner, outer, edge, scatter)
    if best is None:
        return None
    return best[1], best[2], best[3], best[4]


def _wraps(star: Star, band: BoolArray, level: float, background: float) -> bool:
    """True when most rays (60 %) are nearer ``level`` than ``background`` in ``band``."""
    samples = np.where(band, star.values, np.nan)
    seen = band.any(axis=1)
    if not seen.any():
        return False
    per_ray = np.nanmedian(samples[seen], axis=1)
    nearer = np.abs(per_ray - level) < np.abs(per_ray - background)
    return bool(nearer.sum() >= 0.6 * len(star.radius))


def _runs(flags: BoolArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True along each row: (row, first column, column past the last)."""
    padded = np.zeros((flags.shape[0], flags.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = flags
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, ends = np.nonzero(step == -1)
    return rows, starts, ends


def _enclosed_excursions(
    values: np.ndarray, focus: float, background: float, spread: float
) -> BoolArray:
    """Samples of a thin structure inside the focus that the blur brought to the
    surroundings' level (see ``InteractiveContour._evidence``).

    A run of samples on the surroundings' side of the half-way level between the
    focus and the surroundings is such a structure when, all together:

    * it reaches beyond the surroundings' level, on the far side from the focus, by
      :data:`EXCURSION_SPREADS` spreads (brighter than the liver around a
      hypo-attenuating focus: a vessel or a calcification, not the parenchyma);
    * it is short (:data:`EXCURSION_MAX_MM`: the structure and its blurred flanks);
    * the focus lies on both sides: before it the click's own stretch or at least
      :data:`EXCURSION_FLANK_MM` of samples, after it at least that much, each with
      a mean within :data:`EXCURSION_FOCUS_FRACTION` of the contrast from the focus
      level (a dip of texture in the parenchyma beyond the edge barely crosses the
      half-way level).

    Only when the two levels lie :data:`EXCURSION_CONTRAST_SPREADS` spreads apart:
    closer, the half-way level does not tell the two tissues apart sample by sample.
    """
    out = np.zeros(values.shape, dtype=bool)
    if abs(background - focus) < EXCURSION_CONTRAST_SPREADS * spread:
        return out
    side = 1.0 if background > focus else -1.0
    beyond = side * (values - 0.5 * (focus + background)) > 0.0
    rows, starts, ends = _runs(beyond)
    if rows.size == 0:
        return out
    f_rows, f_starts, f_ends = _runs(~beyond)
    if f_rows.size == 0:
        return out
    # Every row padded by one column, flattened: a run [start, end) of row r is the
    # segment [r (W + 1) + start, r (W + 1) + end), read with one reduceat.
    width = values.shape[1]
    pad = np.zeros((values.shape[0], 1))
    keys, f_keys = rows * (width + 1), f_rows * (width + 1)
    excess = np.concatenate([side * (values - background), pad - np.inf], axis=1).ravel()
    peak = np.maximum.reduceat(excess, np.stack([keys + starts, keys + ends], 1).ravel())[::2]
    flat = np.concatenate([values, pad], axis=1).ravel()
    f_start_key, f_end_key = f_keys + f_starts, f_keys + f_ends
    f_sum = np.add.reduceat(flat, np.stack([f_start_key, f_end_key], 1).ravel())[::2]
    f_len = f_ends - f_starts
    focus_like = side * (f_sum / f_len - focus) <= EXCURSION_FOCUS_FRACTION * abs(
        background - focus
    )
    long_enough = f_len * STEP_MM >= EXCURSION_FLANK_MM
    # The focus stretch after a run starts where it ends; the one before ends where it
    # starts (or the run starts at the click).
    after = np.searchsorted(f_start_key, keys + ends).clip(0, f_rows.size - 1)
    before = np.searchsorted(f_end_key, keys + starts).clip(0, f_rows.size - 1)
    has_after = (ends < width) & (f_start_key[after] == keys + ends)
    has_before = (starts > 0) & (f_end_key[before] == keys + starts)
    after_ok = has_after & long_enough[after] & focus_like[after]
    before_ok = (starts == 0) | (has_before & (long_enough[before] | (f_starts[before] == 0)))
    keep = (
        after_ok
        & before_ok
        & (peak >= EXCURSION_SPREADS * spread)
        & ((ends - starts) * STEP_MM <= EXCURSION_MAX_MM)
    )
    for row, start, end in zip(rows[keep], starts[keep], ends[keep], strict=True):
        out[row, start:end] = True
    return out


def _has_barrier(evidence: np.ndarray) -> bool:
    """True when a run of at least 3 mm of clearly surrounding tissue lies on the way."""
    run = math.ceil(3.0 / STEP_MM)
    clear = (evidence <= -0.8 * CLIP_SCORE).astype(int)
    if clear.size < run:
        return False
    window = np.convolve(clear, np.ones(run, dtype=int), mode="valid")
    return bool((window >= run).any())


def _ball_box(
    center: Sequence[int],
    spacing: Sequence[float],
    radius_mm: float,
    shape: Sequence[int],
    flat: bool,
) -> tuple[tuple[slice, slice, slice], BoolArray]:
    reach = [0 if (flat and a == 0) else math.floor(radius_mm / s) for a, s in enumerate(spacing)]
    region = tuple(
        slice(max(c - r, 0), min(c + r + 1, n))
        for c, r, n in zip(center, reach, shape, strict=True)
    )
    grids = np.ogrid[
        tuple(slice(s.start - c, s.stop - c) for s, c in zip(region, center, strict=True))
    ]
    distance = sum((g * s) ** 2 for g, s in zip(grids, spacing, strict=True))
    return region, np.asarray(distance <= radius_mm**2)  # type: ignore[return-value]


def _histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from scipy import ndimage

    low, high = np.percentile(values, [0.5, 99.5])
    bins = max(int((high - low) / 2.0), 4)
    counts, edges = np.histogram(values, bins=bins, range=(low, high + 1e-3))
    counts = ndimage.gaussian_filter1d(counts.astype(float), 2.0)
    return counts, 0.5 * (edges[:-1] + edges[1:])


def _peaks(values: np.ndarray) -> list[float]:
    """Intensity peaks holding at least a twentieth of the samples, largest first."""
    if values.size == 0 or float(np.ptp(values)) < 2.0:
        return [float(np.median(values)) if values.size else 0.0]
    counts, centres = _histogram(values)
    total = counts.sum()
    found = []
    for k in range(len(counts)):
        left = counts[k - 1] if k > 0 else -1.0
        right = counts[k + 1] if k + 1 < len(counts) else -1.0
        if counts[k] >= left and counts[k] > right:
            window = np.abs(centres - centres[k]) <= 15.0
            mass = counts[window].sum() / total
            if mass >= 0.05:
                found.append((mass, float(centres[k])))
    if not found:
        return [float(centres[int(np.argmax(counts))])]
    return [c for _, c in sorted(found, reverse=True)]


def _mode(values: np.ndarray) -> float:
    """The most frequent value (histogram of 2 HU bins, lightly smoothed)."""
    if float(np.ptp(values)) < 2.0:
        return float(np.median(values))
    counts, centres = _histogram(values)
    return float(centres[int(np.argmax(counts))])


def _weighted_mode(values: np.ndarray, weight: np.ndarray) -> float:
    """The most frequent value, each sample counted with its weight (2 HU bins)."""
    from scipy import ndimage

    if values.size == 0 or float(np.ptp(values)) < 2.0:
        return float(np.median(values)) if values.size else 0.0
    low, high = np.percentile(values, [0.5, 99.5])
    bins = max(int((high - low) / 2.0), 4)
    counts, edges = np.histogram(values, bins=bins, range=(low, high + 1e-3), weights=weight)
    counts = ndimage.gaussian_filter1d(counts.astype(float), 2.0)
    return float(0.5 * (edges[:-1] + edges[1:])[int(np.argmax(counts))])


def _weighted_median(values: np.ndarray, weight: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weight[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def _robust_sd(values: np.ndarray) -> float:
    median = float(np.median(values))
    return 1.4826 * float(np.median(np.abs(values - median)))


@dataclass(frozen=True, eq=False)
class ClickContour:
    """A contour drawn from clicks (see :func:`click_contour`).

    Attributes
    ----------
    mask : numpy.ndarray of bool
        The contour over the whole volume.
    messages : list of str
        What the user should be told, in order, without repeats.
    parenchyma : tuple of (float, float) or None
        (clicked tissue HU, parenchyma HU) when the first click read as the liver
        parenchyma and only the small contour was drawn: a misclick to confirm.
    """

    mask: BoolArray
    messages: list[str]
    parenchyma: tuple[float, float] | None = None


def click_contour(
    volume: ImageVolume,
    include_lps: Sequence[Sequence[float]],
    exclude_lps: Sequence[Sequence[float]] = (),
    *,
    liver_mask: BoolArray | None = None,
    flat: bool = False,
    first_mask: BoolArray | None = None,
    margin_mm: float = 0.0,
    keep_in: BoolArray | None = None,
    keep_out: BoolArray | None = None,
) -> ClickContour:
    """Contour a focus from clicks given in LPS mm: the first include, then the other
    includes, then the excludes, in that order (the command line and a refinement of
    a stored contour give them as two lists).

    ``first_mask`` is the contour already drawn from the first click (the one-click
    contour the user sees): the corrections then refine it instead of a contour
    fitted anew from the first click. ``margin_mm`` then moves the whole surface out
    (positive) or in (:meth:`InteractiveContour.set_margin`). ``keep_in`` and
    ``keep_out`` (whole-volume masks) are the voxels the user painted in or erased by
    hand since the clicks: the result keeps them as painted, so that a later click
    does not undo a brush stroke.

    Raises
    ------
    InvalidInputError
        No include click, a click outside the volume, an exclude click on the
        voxel of an include click, or a liver mask of another shape
        (:func:`~tace_planner.imaging.segmentation.common.validate_clicks`), or a
        margin beyond :data:`MARGIN_LIMIT_MM`, or a kept mask of another shape.
    """
    from tace_planner.imaging.segmentation.common import validate_clicks

    include, exclude, liver_mask, warnings = validate_clicks(
        volume, include_lps, exclude_lps, liver_mask, flat=flat
    )
    contour = InteractiveContour(volume, liver_mask=liver_mask, flat=flat)
    messages: list[str] = list(warnings)
    for n, point in enumerate(include):
        start = first_mask if n == 0 else None
        contour.click(tuple(int(v) for v in point), include=True, start=start)
        messages += contour.messages
    for point in exclude:
        contour.click(tuple(int(v) for v in point), include=False)
        messages += contour.messages
    assert contour.mask is not None
    if margin_mm:
        try:
            contour.set_margin(margin_mm)
        except ValueError as error:
            raise InvalidInputError("contour margin", str(error)) from error
    mask = contour.mask
    for kept, inside in ((keep_in, True), (keep_out, False)):
        if kept is None:
            continue
        if kept.shape != mask.shape:
            raise InvalidInputError(
                "hand-edited voxels", f"shape {kept.shape} differs from the volume's {mask.shape}"
            )
        mask = mask | kept if inside else mask & ~kept
    return ClickContour(mask, list(dict.fromkeys(messages)), contour.parenchyma_reading)


def contour_from_clicks(
    volume: ImageVolume,
    include_lps: Sequence[Sequence[float]],
    exclude_lps: Sequence[Sequence[float]] = (),
    *,
    liver_mask: BoolArray | None = None,
    flat: bool = False,
    first_mask: BoolArray | None = None,
) -> tuple[BoolArray, list[str]]:
    """:func:`click_contour`'s mask and messages (for callers that need no more)."""
    result = click_contour(
        volume, include_lps, exclude_lps, liver_mask=liver_mask, flat=flat, first_mask=first_mask
    )
    return result.mask, result.messages
