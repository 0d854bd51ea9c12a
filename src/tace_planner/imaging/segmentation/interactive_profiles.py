"""Statistics of ray samples for interactive contouring.

Plain functions on the samples of a :class:`~tace_planner.imaging.segmentation.radial.Star`
and on intensity histograms: the pooled profile's change point (Hinkley, Biometrika
1970), the thin structures enclosed by a focus, the barrier between two clicks, a
contour that ran away, a click's ball, and robust levels and spreads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tace_planner.imaging.segmentation.interactive_model import (
    CLIP_SCORE,
    EXCURSION_CONTRAST_SPREADS,
    EXCURSION_FLANK_MM,
    EXCURSION_FOCUS_FRACTION,
    EXCURSION_MAX_MM,
    EXCURSION_SPREADS,
    PROFILE_MAX_MM,
    PROFILE_MIN_MM,
    BoolArray,
)
from tace_planner.imaging.segmentation.radial import STEP_MM, Star


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
