"""Is a contour click, or the contour it produced, plausible for a liver focus?

A misclick on abdominal-wall fat once silently created an 81 cm³ "tumour" at
−42 HU outside the liver. These rules turn such a click into a refusal or a
question, and a contour that spills out of the liver into a message that says
where and how to fix it. They are pure: the caller measures the HU at the click
and says whether the click lies inside the liver contour (when there is one).

Rules for a click (CT values in Hounsfield units), first match wins
-------------------------------------------------------------------
========== ======================== ============================================
refuse     HU < −190                air or lung: there is no tissue to contour
confirm    −190 ≤ HU < −30          fat (adipose tissue is −190 to −30 HU, Kvist,
                                    Am J Clin Nutr 1988)
confirm    HU > 300, not inside     bone or a contrast-filled vessel (institutional
           the liver contour        default); inside the liver a focus may be
                                    calcified or hold lipiodol, so it is accepted
confirm    outside the liver        the liver contour exists and the click is not
           contour                  in it
ok         anything else
========== ======================== ============================================

Without HU (MR), only the liver-contour rule applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.geometry import lps_to_index

AIR_MAX_HU = -190.0
"""Below this a click is air or lung (the lower end of the fat range, Kvist 1988)."""

FAT_MAX_HU = -30.0
"""Adipose tissue: −190 to −30 HU (Kvist, Am J Clin Nutr 1988)."""

BONE_MIN_HU = 300.0
"""Above this outside the liver a click is bone or a contrast-filled vessel
(institutional default)."""

CLICK_RADIUS_MM = 2.0
"""The HU of a click is the median in a ball of this radius (CT noise is 7–19 HU per voxel)."""

LEAK_FRACTION = 0.05
"""A contour with more than this share of its volume outside the liver contour leaks."""

Status = Literal["ok", "confirm", "refuse"]


@dataclass(frozen=True, slots=True)
class ClickVerdict:
    """What to do with a contour click.

    Attributes
    ----------
    status : {"ok", "confirm", "refuse"}
        Contour it; ask the user first; do not contour.
    reason : str
        One sentence for the user ("" when ok), e.g. "−42 HU: fat, not a liver focus".
    hu : float or None
        The HU measured at the click (None for MR).
    inside_liver : bool or None
        Whether the click lies in the liver contour (None: no liver contour).
    """

    status: Status
    reason: str = ""
    hu: float | None = None
    inside_liver: bool | None = None

    @property
    def question(self) -> str:
        """The confirmation asked of the user."""
        return f"{self.reason} — contour anyway?"


class ImplausibleClickError(InvalidInputError):
    """A contour click was refused, or needs the user's confirmation (``needs_confirmation``)."""

    def __init__(self, verdict: ClickVerdict) -> None:
        advice = (
            "confirm to contour anyway"
            if verdict.status == "confirm"
            else "click on the tissue of the focus"
        )
        super().__init__("contour click", f"{verdict.reason}; {advice}")
        self.verdict = verdict

    @property
    def needs_confirmation(self) -> bool:
        """True when the user may still contour the click by confirming it."""
        return self.verdict.status == "confirm"


def judge_click(hu: float | None, inside_liver: bool | None) -> ClickVerdict:
    """Judge a contour click from its HU and whether it lies in the liver contour.

    Parameters
    ----------
    hu : float or None
        Median HU around the click (:func:`click_hu`); None when the series is
        not CT.
    inside_liver : bool or None
        True/False when a liver contour exists on the series; None otherwise.

    Returns
    -------
    ClickVerdict
        See the module's table of rules.
    """
    also = "; the click is also outside the liver contour" if inside_liver is False else ""
    if hu is not None:
        shown = f"{hu:.0f} HU".replace("-", "−")
        if hu < AIR_MAX_HU:
            return ClickVerdict(
                "refuse", f"{shown}: air, not tissue (below −190 HU)", hu, inside_liver
            )
        if hu < FAT_MAX_HU:
            return ClickVerdict(
                "confirm",
                f"{shown}: fat, not a liver focus (fat is −190 to −30 HU, Kvist, "
                f"Am J Clin Nutr 1988){also}",
                hu,
                inside_liver,
            )
        if hu > BONE_MIN_HU and inside_liver is not True:
            return ClickVerdict(
                "confirm",
                f"{shown}: bone or a contrast-filled vessel, not a liver focus (above "
                f"300 HU outside the liver, institutional default){also}",
                hu,
                inside_liver,
            )
    if inside_liver is False:
        shown = "The click" if hu is None else f"{hu:.0f} HU".replace("-", "−")
        return ClickVerdict(
            "confirm", f"{shown} outside the liver contour: not a liver focus", hu, inside_liver
        )
    return ClickVerdict("ok", "", hu, inside_liver)


def judge_parenchyma(tissue_hu: float, parenchyma_hu: float) -> ClickVerdict:
    """A click whose tissue reads as the liver parenchyma (the median inside the liver
    contour): a misclick in healthy liver until the user confirms it.

    The contour engine says when (its first contour was the small one drawn because the
    clicked tissue, or the contour grown from it, lay at the parenchyma's level); this
    rule words the question. Without HU (MR) it does not arise.
    """
    shown = f"{tissue_hu:.0f} HU".replace("-", "−")
    liver = f"{parenchyma_hu:.0f} HU".replace("-", "−")
    return ClickVerdict(
        "confirm",
        f"{shown}: the level of the liver parenchyma (median {liver} inside the liver contour), "
        "not a visible focus",
        tissue_hu,
        True,
    )


def _ball_offsets(spacing_mm: Sequence[float], radius_mm: float) -> npt.NDArray[np.intp]:
    reach = [max(0, int(np.floor(radius_mm / s))) for s in spacing_mm]
    grid = np.mgrid[tuple(slice(-r, r + 1) for r in reach)].reshape(3, -1).T
    distance = np.sqrt(((grid * np.asarray(spacing_mm)) ** 2).sum(axis=1))
    return grid[distance <= radius_mm + 1e-9].astype(np.intp)


def click_index(
    shape: Sequence[int], index_to_lps: npt.ArrayLike, point_lps: Sequence[float]
) -> tuple[int, int, int]:
    """The voxel (z, y, x) nearest to a click in LPS mm.

    Raises
    ------
    InvalidInputError
        The click lies outside the volume.
    """
    index = np.rint(lps_to_index(np.asarray(index_to_lps, dtype=float), point_lps)).astype(int)
    if np.any(index < 0) or np.any(index >= np.asarray(shape)):
        x, y, z = (float(v) for v in point_lps[:3])
        raise InvalidInputError(
            "contour click", f"({x:.1f}, {y:.1f}, {z:.1f}) mm LPS lies outside the volume"
        )
    return int(index[0]), int(index[1]), int(index[2])


def click_hu(
    voxels: npt.NDArray[np.floating],
    index_to_lps: npt.ArrayLike,
    point_lps: Sequence[float],
    radius_mm: float = CLICK_RADIUS_MM,
) -> float:
    """Median value in a ball of ``radius_mm`` around a click (the voxel itself at least)."""
    affine = np.asarray(index_to_lps, dtype=float)
    centre = np.asarray(click_index(voxels.shape, affine, point_lps))
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    points = centre + _ball_offsets(spacing, radius_mm)
    inside = np.all((points >= 0) & (points < np.asarray(voxels.shape)), axis=1)
    points = points[inside]
    return float(np.median(voxels[points[:, 0], points[:, 1], points[:, 2]]))


# ---------------------------------------------------------------------------
# Leaks
# ---------------------------------------------------------------------------

_DIRECTIONS = (("the patient's right", "the patient's left"),
               ("the front", "the back"),
               ("the feet", "the head"))  # fmt: skip


def _direction(offset_lps: npt.NDArray[np.float64]) -> str:
    """Words for an LPS offset: its components of at least half the largest one."""
    size = float(np.abs(offset_lps).max())
    if size == 0.0:
        return "its surroundings"
    words = [
        _DIRECTIONS[axis][int(offset_lps[axis] > 0)]
        for axis in np.argsort(-np.abs(offset_lps))
        if abs(offset_lps[axis]) >= 0.5 * size
    ]
    return " and ".join(words)


@dataclass(frozen=True, slots=True)
class LeakReport:
    """How far a focus contour spills outside the liver contour or reaches its size limit.

    Attributes
    ----------
    outside_fraction : float or None
        Share of the contour's voxels outside the liver contour (None: no liver contour).
    outside_cm3 : float
        Their volume.
    direction : str
        Where the outside part lies from the inside part ("the patient's right and the back").
    reaches_limit : bool
        The contour reaches the size limit of the auto contour around the click.
    message : str
        "" when neither; else one sentence naming the leak and the exclude gesture.
    """

    outside_fraction: float | None
    outside_cm3: float
    direction: str
    reaches_limit: bool
    message: str


def describe_leak(
    focus: npt.NDArray[np.bool_],
    liver: npt.NDArray[np.bool_] | None,
    index_to_lps: npt.ArrayLike,
    *,
    reaches_limit: bool = False,
    limit_mm: float | None = None,
) -> LeakReport:
    """Say whether an auto contour leaks outside the liver (or to its size limit), and where.

    Parameters
    ----------
    focus : numpy.ndarray of bool, shape (z, y, x)
        The focus contour.
    liver : numpy.ndarray of bool or None
        The liver contour on the same grid; None when there is none.
    index_to_lps : array (4, 4)
        The grid.
    reaches_limit : bool
        The contour touches the auto contour's maximum distance from the click.
    limit_mm : float, optional
        That distance, for the message.
    """
    affine = np.asarray(index_to_lps, dtype=float)
    voxel_cm3 = abs(float(np.linalg.det(affine[:3, :3]))) / 1000.0
    fraction: float | None = None
    outside_cm3 = 0.0
    direction = ""
    sentences: list[str] = []
    total = int(np.count_nonzero(focus))
    if liver is not None and liver.shape == focus.shape and liver.any() and total:
        outside = focus & ~liver
        count = int(np.count_nonzero(outside))
        fraction = count / total
        outside_cm3 = count * voxel_cm3
        inside = focus & liver
        if count == total:
            sentences.append(
                f"the contour lies entirely outside the liver contour ({outside_cm3:.1f} cm³): "
                "not a liver focus, unless the liver contour misses it"
            )
        elif fraction > LEAK_FRACTION:
            toward = np.argwhere(outside).mean(axis=0)
            origin = np.argwhere(inside).mean(axis=0)
            direction = _direction(affine[:3, :3] @ (toward - origin))
            sentences.append(
                f"the contour leaks outside the liver towards {direction} "
                f"({100 * fraction:.0f} % of it, {outside_cm3:.1f} cm³)"
            )
    if reaches_limit:
        limit = f" ({limit_mm:g} mm from the click)" if limit_mm else ""
        sentences.append(f"the contour reaches the size limit{limit} and may have leaked")
    message = ""
    if sentences:
        text = "; ".join(sentences)
        fix = (
            "undo it, or correct the liver contour"
            if fraction == 1.0 and not reaches_limit
            else "Shift-click in the leak to exclude it"
        )
        message = f"{text[0].upper()}{text[1:]} — {fix}."
    return LeakReport(fraction, outside_cm3, direction, reaches_limit, message)


def reaches_distance(
    focus: npt.NDArray[np.bool_],
    index_to_lps: npt.ArrayLike,
    point_lps: Sequence[float],
    limit_mm: float,
) -> bool:
    """True when some voxel of ``focus`` lies within one voxel of ``limit_mm`` from a click."""
    affine = np.asarray(index_to_lps, dtype=float)
    where = np.argwhere(focus)
    if where.size == 0:
        return False
    lps = where @ affine[:3, :3].T + affine[:3, 3]
    farthest = float(np.sqrt(((lps - np.asarray(point_lps[:3])) ** 2).sum(axis=1)).max())
    step = float(np.linalg.norm(affine[:3, :3], axis=0).max())
    return farthest >= limit_mm - step
