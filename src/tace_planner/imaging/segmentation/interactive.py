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

The engine lives in modules of its own, each a step of the above:
:mod:`~tace_planner.imaging.segmentation.interactive_model` (the intensity model and
the constants), :mod:`~tace_planner.imaging.segmentation.interactive_profiles` (plain
statistics of the rays' samples), :mod:`~tace_planner.imaging.segmentation.interactive_state`
(what the contour keeps between clicks, and the evidence),
:mod:`~tace_planner.imaging.segmentation.interactive_first` (the first click) and
:mod:`~tace_planner.imaging.segmentation.interactive_clicks` (include and exclude
clicks). This module holds the public API and keeps their public names importable.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.segmentation.interactive_clicks import Corrections
from tace_planner.imaging.segmentation.interactive_model import (
    CLIP_SCORE,
    COLLAPSED_MM,
    CONE_SLOPE,
    CONTROL_COUNT,
    CONTROL_DISTANCE_MM,
    CONTROL_RAYS,
    EXCLUDE_SLOPE,
    EXCURSION_CONTRAST_SPREADS,
    EXCURSION_FLANK_MM,
    EXCURSION_FOCUS_FRACTION,
    EXCURSION_MAX_MM,
    EXCURSION_SPREADS,
    FAINT_EDGE_SPREADS,
    FALLBACK_RADIUS_MM,
    FIRST_REACH_MM,
    INCLUDE_BEYOND_MM,
    LEVEL_RADIUS_MM,
    LIVER_LEVEL_SPREADS,
    MARGIN_LIMIT_MM,
    MARGIN_SCORE,
    MAX_ARC_MM,
    MAX_REACH_MM,
    MIN_ARC_MM,
    NEW_CLASS_SPREADS,
    OTHER_SCORE,
    OUTLIER_RADIUS_MM,
    PARENCHYMA_MATCH_SPREADS,
    PROFILE_BAND,
    PROFILE_MAX_MM,
    PROFILE_MIN_HU,
    PROFILE_MIN_MM,
    PROFILE_SCATTERS,
    RAYS_2D,
    RAYS_3D,
    RAYS_SECONDARY,
    REALIGN_MM,
    SEED_RADIUS_MM,
    SOFT_TISSUE_HU,
    TUMOUR_LIVER_HU,
    BoolArray,
    Click,
    Index,
    IntensityModel,
)
from tace_planner.imaging.segmentation.interactive_profiles import (
    _ball_box,
    _enclosed_excursions,  # noqa: F401 (tests import it from here)
)
from tace_planner.imaging.segmentation.radial import Star

# The engine's names, importable from here as before the split into modules.
__all__ = [
    "CLIP_SCORE",
    "COLLAPSED_MM",
    "CONE_SLOPE",
    "CONTROL_COUNT",
    "CONTROL_DISTANCE_MM",
    "CONTROL_RAYS",
    "EXCLUDE_SLOPE",
    "EXCURSION_CONTRAST_SPREADS",
    "EXCURSION_FLANK_MM",
    "EXCURSION_FOCUS_FRACTION",
    "EXCURSION_MAX_MM",
    "EXCURSION_SPREADS",
    "FAINT_EDGE_SPREADS",
    "FALLBACK_RADIUS_MM",
    "FIRST_REACH_MM",
    "INCLUDE_BEYOND_MM",
    "LEVEL_RADIUS_MM",
    "LIVER_LEVEL_SPREADS",
    "MARGIN_LIMIT_MM",
    "MARGIN_SCORE",
    "MAX_ARC_MM",
    "MAX_REACH_MM",
    "MIN_ARC_MM",
    "NEW_CLASS_SPREADS",
    "OTHER_SCORE",
    "OUTLIER_RADIUS_MM",
    "PARENCHYMA_MATCH_SPREADS",
    "PROFILE_BAND",
    "PROFILE_MAX_MM",
    "PROFILE_MIN_HU",
    "PROFILE_MIN_MM",
    "PROFILE_SCATTERS",
    "RAYS_2D",
    "RAYS_3D",
    "RAYS_SECONDARY",
    "REALIGN_MM",
    "SEED_RADIUS_MM",
    "SOFT_TISSUE_HU",
    "TUMOUR_LIVER_HU",
    "BoolArray",
    "Click",
    "ClickContour",
    "Index",
    "IntensityModel",
    "InteractiveContour",
    "click_contour",
    "contour_from_clicks",
]


@dataclass
class InteractiveContour(Corrections):
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

    @property
    def parenchyma_reading(self) -> tuple[float, float] | None:
        """(clicked tissue HU, parenchyma HU) when the contour is the small one drawn
        because the first click read as the liver parenchyma (a liver contour was
        given); None otherwise, and once an include click found the focus."""
        if self._parenchyma_reading is None or not self._small or len(self._stars) != 1:
            return None
        return self._parenchyma_reading

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
