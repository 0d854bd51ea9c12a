"""Include and exclude clicks on an interactive contour: cones, shifts, new stars.

A correction bounds the rays around the click by a cone (the click's distance less,
or more, the arc to it), shifts the evidence locally so that the clicked tissue
scores on its side, and re-solves only the rays within an arc around the click; an
include click that cannot be reached through focus-like tissue starts a star of its
own (Boykov & Jolly, ICCV 2001; Gulshan et al., CVPR 2010). See
:mod:`tace_planner.imaging.segmentation.interactive` and ADR 0007.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from tace_planner.imaging.segmentation.interactive_first import FirstClick
from tace_planner.imaging.segmentation.interactive_model import (
    CLIP_SCORE,
    CONE_SLOPE,
    EXCLUDE_SLOPE,
    INCLUDE_BEYOND_MM,
    MARGIN_SCORE,
    MAX_REACH_MM,
    MIN_ARC_MM,
    RAYS_2D,
    RAYS_SECONDARY,
    SEED_RADIUS_MM,
    Index,
)
from tace_planner.imaging.segmentation.interactive_profiles import _exploded, _has_barrier
from tace_planner.imaging.segmentation.radial import STEP_MM, Star


class Corrections(FirstClick):
    """The include and exclude clicks' steps, after the first click."""

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
