"""The first click of an interactive contour: the intensity model and the first edge.

The model is fitted from the first click's rays (the focus level at the click, the
surrounding tissue as the nearest intensity peak beyond the edge), refitted from the
first edge, and extended by a tissue that wraps it (a viable layer around a necrotic
core, an enhancing rim). When the click's neighbourhood cannot place the edge, the
levels and a typical radius come from a change-point fit (Hinkley, Biometrika 1970)
of the rays' pooled radial profile, checked against control points in the liver.
See :mod:`tace_planner.imaging.segmentation.interactive` and ADR 0007.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from tace_planner.imaging.segmentation.interactive_model import (
    COLLAPSED_MM,
    CONTROL_COUNT,
    CONTROL_DISTANCE_MM,
    CONTROL_RAYS,
    FALLBACK_RADIUS_MM,
    FIRST_REACH_MM,
    LEVEL_RADIUS_MM,
    LIVER_LEVEL_SPREADS,
    MAX_ARC_MM,
    MAX_REACH_MM,
    OUTLIER_RADIUS_MM,
    PARENCHYMA_MATCH_SPREADS,
    PROFILE_BAND,
    PROFILE_MIN_HU,
    PROFILE_SCATTERS,
    RAYS_2D,
    RAYS_3D,
    REALIGN_MM,
    SEED_RADIUS_MM,
    SOFT_TISSUE_HU,
    TUMOUR_LIVER_HU,
    BoolArray,
    Index,
    IntensityModel,
)
from tace_planner.imaging.segmentation.interactive_profiles import (
    _exploded,
    _mode,
    _peaks,
    _profile_step,
    _robust_sd,
    _weighted_median,
    _weighted_mode,
    _wraps,
)
from tace_planner.imaging.segmentation.interactive_state import ContourState
from tace_planner.imaging.segmentation.radial import STEP_MM, Star


class FirstClick(ContourState):
    """The first click's steps: the model, the first edge, the pooled profile."""

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
