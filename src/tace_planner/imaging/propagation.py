"""Carry a baseline lesion to a registered follow-up and contour it there again.

Each baseline mask is carried through the registration
(:func:`~tace_planner.imaging.registration.carry_mask_registered`); its deepest
point (the centre of the voxels farthest from the mask's edge — the centre of a
round focus, and inside the focus whatever its shape) is carried too, and the
interactive contour
(:func:`~tace_planner.imaging.segmentation.interactive.contour_from_clicks`) is
started there on the follow-up CT, as if the user had clicked it. Focus tissue left
just outside that contour but inside the carried one (a viable rim around a necrotic
centre) gets further include clicks. Extra include clicks may be given (carried
interior points the user trusts).

The contour is drawn on a grid about 1 mm fine laid over the carried contour's box
(:mod:`~tace_planner.imaging.local_grid`): on 5 mm slices the carried point then
starts the contour where it lies, not on the nearest slice's centre. Taken back to the
follow-up grid, the contour keeps its shape and its surface is moved in or out to
where the edge voxels' partial volume puts it
(:func:`~tace_planner.imaging.edge_fit.fit_edge_offset`): one voxel layer is a third
of a 15 mm focus's volume on such a grid.

A focus that is no longer there is said plainly: when the tissue at the carried
point cannot be told from the liver around the carried contour, the proposal is
"not found", 0 mm and 0 cm³, for the user to confirm or to contour by hand. The
tissue level is the median of the voxels within 0.35 (and 0.5) of the carried focus's
equivalent radius, around the carried point and around the most focus-like voxel next
to it (on thick slices the carried point may sit on the focus's faint edge slice); one
of them must differ from the liver's level by more than :data:`NOT_FOUND_ERRORS`
standard errors of that median, by :data:`MIN_CONTRAST_HU` and by half the liver's
voxel SD.
(Comparing a few voxels' median with the voxel SD itself took small foci on coarse
grids for gone: the median of 5 voxels under 11 HU of noise varies by ±6 HU.)

A proposal is never a decision: the service stores it only when the user confirms.
Arrays are (z, y, x); points are LPS mm. No Qt, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.registration import carry_mask_registered, carry_point

BoolArray = npt.NDArray[np.bool_]

__all__ = ["LesionProposal", "deepest_point_lps", "propagate_lesion"]

NOT_FOUND_SPREADS = 1.0
"""Tissue just outside a contour is focus-like when it differs from the surrounding liver
by this many robust SDs of that liver (institutional default)."""
NOT_FOUND_ERRORS = 3.0
"""The carried point's tissue level must differ from the surrounding liver's by this many
standard errors of that level to count as a focus: a focus that is gone passes with a
chance of about 0.3 % (institutional default)."""
MIN_CONTRAST_HU = 5.0
"""…and by at least this much (a difference the interactive contour can follow)."""
LEVEL_RADIUS_MM = 4.0
"""The tissue level at the carried point: median within half the focus's equivalent
radius, at most twice this."""
SHELL_MM = (4.0, 12.0)
"""The surroundings: between these distances outside the carried contour."""
MORE_CLICKS = 2
"""Include clicks added at most where focus tissue lies just outside the first contour."""
FINE_MM = 1.0
"""The local grid the follow-up contour is drawn on: about this fine."""
FINE_MARGIN_MM = 15.0
"""…over the carried contour's box grown by this much (a focus may have grown)."""
MUCH_LARGER = 1.5
"""A proposal over this multiple of the carried volume is flagged as a possible leak."""
MUCH_SMALLER = 0.35
"""A proposal under this fraction of the carried volume is flagged for checking
(a volume fall of 65 % is the volumetric response threshold; institutional default)."""


@dataclass(frozen=True, eq=False)
class LesionProposal:
    """One baseline lesion proposed at a follow-up.

    Attributes
    ----------
    name : str
        The lesion's name (its identity across timepoints).
    found : bool
        False: no focus at the carried point (proposed as disappeared, 0 mm).
    mask : numpy.ndarray of bool
        The proposed contour on the follow-up grid (empty when not found).
    carried : numpy.ndarray of bool
        The baseline contour carried through the registration (for review).
    point_lps : tuple of 3 float
        The carried deepest point: where the contour was started.
    volume_cm3, carried_volume_cm3 : float
        Volume of the proposal and of the carried baseline contour.
    messages : tuple of str
        What the user should check, in plain words.
    """

    name: str
    found: bool
    mask: BoolArray
    carried: BoolArray
    point_lps: tuple[float, float, float]
    volume_cm3: float
    carried_volume_cm3: float
    messages: tuple[str, ...] = ()


def deepest_point_lps(mask: npt.ArrayLike, volume: ImageVolume) -> tuple[float, float, float]:
    """The LPS point deepest inside the mask (farthest from its edge, mm-weighted).

    On a coarse grid many voxels tie for the deepest (a 15 mm focus on 3 mm pixels):
    the point is the centre of those within half a voxel of the greatest depth, so that
    it does not jump a whole voxel off the focus's centre, unless that centre falls
    outside the mask (a bent focus), where the deepest voxel itself is taken.
    """
    from scipy import ndimage

    from tace_planner.imaging.segmentation.common import mask_box

    array = np.asarray(mask, dtype=bool)
    box = mask_box(array)
    if box is None:
        raise ValueError("the mask is empty")
    padded = np.pad(array[box], 1)
    distance = ndimage.distance_transform_edt(padded, sampling=volume.spacing_mm)
    deepest = distance >= distance.max() - 0.5 * max(volume.spacing_mm)
    local = np.argwhere(deepest).mean(axis=0)
    if not padded[tuple(np.round(local).astype(int))]:
        local = np.asarray(np.unravel_index(int(np.argmax(distance)), distance.shape), float)
    index = [float(i) - 1 + s.start for i, s in zip(local, box, strict=True)]
    point = np.asarray(volume.index_to_lps, dtype=float) @ np.array([*index, 1.0])
    return float(point[0]), float(point[1]), float(point[2])


def _index(volume: ImageVolume, point_lps: Sequence[float]) -> tuple[int, int, int] | None:
    index = np.linalg.solve(
        np.asarray(volume.index_to_lps, dtype=float), np.append(np.asarray(point_lps), 1.0)
    )[:3]
    rounded = tuple(round(float(v)) for v in index)
    if not all(0 <= v < n for v, n in zip(rounded, volume.shape, strict=True)):
        return None
    return rounded  # type: ignore[return-value]


def _surroundings(
    volume: ImageVolume,
    point: tuple[int, int, int],
    carried: BoolArray,
    liver: BoolArray | None,
) -> tuple[float, float]:
    """(level, robust SD) of the liver around the carried contour, HU."""
    from scipy import ndimage

    from tace_planner.imaging.segmentation.common import box_around, grow_box, mask_box

    spacing = np.asarray(volume.spacing_mm, dtype=float)
    box = mask_box(carried)
    if box is None:
        box = box_around(point, LEVEL_RADIUS_MM, spacing, volume.shape)
    margin = [int(np.ceil(SHELL_MM[1] / d)) + 1 for d in spacing]
    box = grow_box(box, margin, volume.shape)
    outside = ndimage.distance_transform_edt(~carried[box], sampling=spacing)
    shell = (outside > SHELL_MM[0]) & (outside <= SHELL_MM[1])
    if liver is not None and (shell & liver[box]).sum() > 20:
        shell &= liver[box]
    values = np.asarray(volume.voxels)[box][shell]
    if values.size < 5:
        return float(volume.voxels[point]), 0.0
    around = float(np.median(values))
    return around, 1.4826 * float(np.median(np.abs(values - around)))


def _snap(
    volume: ImageVolume, point: tuple[int, int, int], carried: BoolArray, around: float
) -> tuple[int, int, int]:
    """The voxel next to ``point`` (one step along each axis) that looks most unlike the
    surroundings: the mean of its 3 × 3 in-plane neighbourhood farthest from ``around``.

    On slices as thick as a small focus's radius the carried point may fall on the
    focus's edge slice, where partial volume makes it look like liver; a reader looks
    at the slice where the focus shows. Voxels of the carried contour are preferred.
    """
    voxels = np.asarray(volume.voxels)
    shape = voxels.shape
    best, best_score = point, -1.0
    for dz in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                z, y, x = point[0] + dz, point[1] + dy, point[2] + dx
                if not (0 <= z < shape[0] and 0 <= y < shape[1] and 0 <= x < shape[2]):
                    continue
                patch = voxels[z, max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2]
                score = abs(float(patch.mean()) - around) + (1e6 if carried[z, y, x] else 0.0)
                if score > best_score:
                    best, best_score = (z, y, x), score
    return best


def _levels(
    volume: ImageVolume, point: tuple[int, int, int], carried: BoolArray, spread: float
) -> list[tuple[float, float]]:
    """(level, standard error of the level) of the tissue at ``point``, HU, at two radii.

    The median within 0.35 and 0.5 of the carried focus's equivalent radius (at most
    twice :data:`LEVEL_RADIUS_MM`, at least one in-plane voxel): the inner one stays
    inside a focus that shrank to a third of its volume (the volumetric response
    threshold is -65 %), the outer one has more voxels. The median of n samples varies
    about 1.25 SD / sqrt(n) under normal noise.
    """
    from tace_planner.imaging.segmentation.common import box_around

    spacing = np.asarray(volume.spacing_mm, dtype=float)
    equivalent_mm = (3.0 * carried.sum() * float(np.prod(spacing)) / (4.0 * np.pi)) ** (1 / 3)
    out = []
    for fraction in (0.35, 0.5):
        radius_mm = min(
            2.0 * LEVEL_RADIUS_MM, max(fraction * equivalent_mm, float(spacing[1:].max()))
        )
        near_box = box_around(point, radius_mm, spacing, volume.shape)
        grids = np.meshgrid(*[np.arange(s.start, s.stop) for s in near_box], indexing="ij")
        distance = np.sqrt(
            sum(((g - p) * d) ** 2 for g, p, d in zip(grids, point, spacing, strict=True))
        )
        near = np.asarray(volume.voxels)[near_box][distance <= radius_mm]
        out.append((float(np.median(near)), 1.25 * spread / float(np.sqrt(max(near.size, 1)))))
    return out


def _is_focus(level: float, around: float, spread: float, error: float) -> bool:
    """Whether the tissue level differs from the surroundings beyond chance (see module)."""
    return abs(level - around) > max(NOT_FOUND_ERRORS * error, MIN_CONTRAST_HU, 0.5 * spread)


def _missed_tissue(
    volume: ImageVolume,
    mask: BoolArray,
    carried: BoolArray,
    around: float,
    spread: float,
) -> tuple[float, float, float] | None:
    """An LPS point of focus-like tissue just outside the contour, or None.

    The ring two voxels wide around the contour, within the carried contour: when its
    median is unlike the surrounding liver, the deepest ring voxel (in the carried
    contour) whose value is nearest that median.
    """
    from scipy import ndimage

    from tace_planner.imaging.segmentation.common import grow_box, mask_box

    box = mask_box(mask)
    if box is None:
        return None
    box = grow_box(box, (3, 3, 3), volume.shape)
    ring = ndimage.binary_dilation(mask[box], iterations=2) & ~mask[box] & carried[box]
    if ring.sum() < 10:
        return None
    values = np.asarray(volume.voxels)[box][ring]
    level = float(np.median(values))
    if abs(level - around) <= NOT_FOUND_SPREADS * max(spread, 1.0):
        return None
    depth = ndimage.distance_transform_edt(carried[box], sampling=volume.spacing_mm)[ring]
    score = depth - np.abs(values - level) / max(spread, 1.0)
    local = np.argwhere(ring)[int(np.argmax(score))]
    index = [int(v) + s.start for v, s in zip(local, box, strict=True)]
    lps = np.asarray(volume.index_to_lps, dtype=float) @ np.array([*index, 1.0])
    return float(lps[0]), float(lps[1]), float(lps[2])


def _contour(
    follow_up: ImageVolume,
    carried: BoolArray,
    index: tuple[int, int, int],
    clicks: list[Sequence[float]],
    liver: BoolArray | None,
    around: float,
    spread: float,
) -> tuple[BoolArray, list[str]]:
    """The interactive contour from the clicks, on a finer local grid, its edge fitted.

    The box of the carried contour (grown by :data:`FINE_MARGIN_MM`) is resampled to
    about :data:`FINE_MM` (:func:`~tace_planner.imaging.local_grid.local_grid`), so that
    the clicks land where they were meant rather than on the nearest coarse voxel; the
    contour is then taken back to the follow-up grid with its surface moved to where the
    edge voxels' partial volume puts it
    (:func:`~tace_planner.imaging.edge_fit.fit_edge_offset`).
    """
    from tace_planner.imaging.edge_fit import fit_edge_offset
    from tace_planner.imaging.local_grid import local_grid
    from tace_planner.imaging.segmentation.common import box_around, grow_box, mask_box
    from tace_planner.imaging.segmentation.interactive import contour_from_clicks

    spacing = follow_up.spacing_mm
    # The carried contour and every click inside the finer grid.
    near = [index, *(i for c in clicks[1:] if (i := _index(follow_up, c)) is not None)]
    box = box_around(near, 0.0, spacing, follow_up.shape)
    carried_box = mask_box(carried)
    if carried_box is not None:
        box = tuple(
            slice(min(a.start, b.start), max(a.stop, b.stop))
            for a, b in zip(box, carried_box, strict=True)
        )  # type: ignore[assignment]
    margin = [int(np.ceil(FINE_MARGIN_MM / d)) for d in spacing]
    grid = local_grid(follow_up, grow_box(box, margin, follow_up.shape), FINE_MM)
    fine_liver = None if liver is None else grid.refine(liver)
    fine_carried = grid.refine(carried)
    mask, messages = contour_from_clicks(grid.fine, clicks, liver_mask=fine_liver)
    for _ in range(MORE_CLICKS):
        # Focus tissue unlike the liver just outside the contour, inside the carried
        # contour (a viable rim around a necrotic centre): click it, as a user would.
        extra = _missed_tissue(grid.fine, mask, fine_carried, around, spread)
        if extra is None:
            break
        clicks.append(extra)
        mask, messages = contour_from_clicks(grid.fine, clicks, liver_mask=fine_liver)
    fit = fit_edge_offset(follow_up, grid, mask, around, allowed=liver)
    return fit.mask, messages


def propagate_lesion(
    name: str,
    baseline_mask: npt.ArrayLike,
    baseline: ImageVolume,
    transform: npt.ArrayLike,
    follow_up: ImageVolume,
    *,
    follow_up_liver: BoolArray | None = None,
    include_lps: Sequence[Sequence[float]] = (),
) -> LesionProposal:
    """Propose the follow-up contour of one baseline lesion.

    Parameters
    ----------
    name : str
        The lesion's name.
    baseline_mask : numpy.ndarray of bool
        Its contour on the baseline grid.
    baseline, follow_up : ImageVolume
        The baseline volume (for its grid) and the follow-up CT.
    transform : numpy.ndarray, shape (4, 4)
        Baseline LPS to follow-up LPS (``RegistrationResult.baseline_to_follow_up``).
    follow_up_liver : numpy.ndarray of bool, optional
        The follow-up liver contour: guards the contour against leaks.
    include_lps : sequence of points, optional
        More include clicks (follow-up LPS mm), after the carried point.
    """
    source = np.asarray(baseline_mask, dtype=bool)
    carried = carry_mask_registered(source, baseline.index_to_lps, transform, follow_up)
    carried_cm3 = int(carried.sum()) * follow_up.voxel_volume_cm3
    point = carry_point(transform, deepest_point_lps(source, baseline))
    empty = np.zeros(follow_up.shape, dtype=bool)
    index = _index(follow_up, point)
    if index is None:
        return LesionProposal(
            name, False, empty, carried, point, 0.0, carried_cm3,
            (f"{name} lies outside the follow-up images: not found there.",),
        )  # fmt: skip
    around, spread = _surroundings(follow_up, index, carried, follow_up_liver)
    # The tissue at the carried point, and next to it where the focus shows best.
    levels = _levels(follow_up, index, carried, spread)
    levels += _levels(follow_up, _snap(follow_up, index, carried, around), carried, spread)
    level = max(levels, key=lambda pair: abs(pair[0] - around))[0]
    if not any(_is_focus(value, around, spread, error) for value, error in levels):
        return LesionProposal(
            name, False, empty, carried, point, 0.0, carried_cm3,
            (
                f"No focus found where {name} was: the tissue there ({level:.0f} HU) is like "
                f"the liver around it ({around:.0f} ± {spread:.0f} HU). Proposed as "
                "disappeared (0 mm); confirm, or contour it by hand.",
            ),
        )  # fmt: skip
    mask, messages = _contour(
        follow_up, carried, index, [point, *include_lps], follow_up_liver, around, spread
    )
    volume = int(mask.sum()) * follow_up.voxel_volume_cm3
    notes = list(messages)
    if carried_cm3 > 0 and volume < MUCH_SMALLER * carried_cm3:
        notes.append(
            f"{name} is {volume:.1f} cm³, under {MUCH_SMALLER:.0%} of its carried baseline "
            f"({carried_cm3:.1f} cm³): check that the whole focus is inside the contour "
            "(a necrotic centre can be taken for the focus); add include clicks if not."
        )
    if carried_cm3 > 0 and volume > MUCH_LARGER * carried_cm3:
        notes.append(
            f"{name} is {volume:.1f} cm³, over {MUCH_LARGER:.1f} times its carried baseline "
            f"({carried_cm3:.1f} cm³): check that the contour has not leaked into the tissue "
            "around it; Shift-click the leak if so."
        )
    return LesionProposal(
        name, True, mask.copy(), carried, point, volume, carried_cm3, tuple(notes)
    )
