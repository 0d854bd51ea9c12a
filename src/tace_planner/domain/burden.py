"""Tumour burden F = V_mts / V_liv × 100 %, per lobe and per Couinaud segment — the only F.

V_mts is the sum of the foci's volumes and V_liv the volume of the whole liver
*including* the tumour, as contoured; F is also shown against the non-tumour
liver, ``V_mts / (V_liv − V_mts)``, because published series define the
denominator differently. Lobes and segments come from :mod:`tace_planner.domain.anatomy`
(right = V–VIII, left = II–IV, caudate = I). :func:`burden_percent` is the one
formula; the burden panel (:func:`tumour_burden`) and the planner
(``BurdenInputs``) both call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from tace_planner.domain import anatomy
from tace_planner.domain.anatomy import (
    COUINAUD_SOURCE,
    SEGMENTS,
    UNASSIGNED,
    lobe_of_segment,
    segment_of,
)
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Advisory, Explanation
from tace_planner.domain.measurements_base import Trust

LOBES = (*anatomy.LOBES, UNASSIGNED)
F_DEFINITION_SOURCE = (
    "institutional default, no published source: F = V_mts / V_liv × 100 % with V_liv the "
    "whole liver including the tumour, shown also against the non-tumour liver because "
    "published series define the denominator differently"
)
"""No publication defines F for DEB-TACE planning (the series reviewed state burden as a
share of the liver without one denominator), so the definition is the institution's."""


def burden_percent(tumour_volume_cm3: float, liver_volume_cm3: float | None) -> float | None:
    """F = V_mts / V_liv × 100 %, or None without a (positive) liver volume."""
    if not liver_volume_cm3 or liver_volume_cm3 <= 0:
        return None
    return 100.0 * tumour_volume_cm3 / liver_volume_cm3


def burden_vs_non_tumour_percent(
    tumour_volume_cm3: float, liver_volume_cm3: float | None
) -> float | None:
    """V_mts / (V_liv − V_mts) × 100 %, or None when no non-tumour liver remains."""
    if not liver_volume_cm3 or liver_volume_cm3 <= tumour_volume_cm3:
        return None
    return 100.0 * tumour_volume_cm3 / (liver_volume_cm3 - tumour_volume_cm3)


FOCUS_OUTSIDE_LIVER_FRACTION = 0.05
"""A focus with more than this share of its volume outside the liver contour is flagged
(institutional default: a one-voxel disagreement at the capsule stays below it)."""


def fraction_outside_liver(
    focus_mask: npt.NDArray[np.bool_], liver_mask: npt.NDArray[np.bool_]
) -> float | None:
    """Share of a focus's voxels that lie outside the liver contour (same grid), or None.

    None when the focus mask is empty; 1.0 when the liver mask is empty.

    Raises
    ------
    InvalidInputError
        The two masks are not on the same grid.
    """
    if focus_mask.shape != liver_mask.shape:
        raise InvalidInputError(
            "liver contour",
            f"grid {liver_mask.shape} differs from the focus's grid {focus_mask.shape}",
        )
    inside_focus = int(np.count_nonzero(focus_mask))
    if inside_focus == 0:
        return None
    outside = int(np.count_nonzero(focus_mask & ~liver_mask))
    return outside / inside_focus


def outside_liver_advisories(
    fractions: Mapping[str, float | None], *, limit: float = FOCUS_OUTSIDE_LIVER_FRACTION
) -> tuple[Advisory, ...]:
    """A warning for each focus lying partly outside the liver contour, naming it.

    The liver volume of F includes every focus; a focus outside the contour means
    the contour cut it off (F too high, no Couinaud segment) or the focus is not a
    liver focus.

    Parameters
    ----------
    fractions : mapping of focus name to fraction outside (0–1) or None (unknown)
    limit : float
        Fractions above it are flagged.
    """
    out = []
    for name, fraction in fractions.items():
        if fraction is None or fraction <= limit:
            continue
        share = f"{100.0 * fraction:.0f} %" if fraction < 0.995 else "all"
        out.append(
            Advisory(
                f"burden.focus_outside_liver.{name}",
                "warning",
                f"{name}: {share} of the focus lies outside the liver contour — check the "
                "liver contour (it must hold every focus: F = V_mts / V_liv counts the whole "
                "liver, tumour included) and the focus itself.",
                "liver volume including the tumour, as in the SLIVER07 reference "
                "(Heimann, IEEE Trans Med Imaging 2009); flagged above "
                f"{100.0 * limit:.0f} % outside, institutional default",
            )
        )
    return tuple(out)


def lobe_of(segment: str | None) -> str:
    """ "right", "left", "caudate" or "unassigned" for a Couinaud segment text."""
    return lobe_of_segment(segment) or UNASSIGNED


def volumes_by_lobe(items: Iterable[tuple[str | None, float]]) -> dict[str, float]:
    """Σ volume per lobe (every lobe and "unassigned" present) of (segment, cm³) pairs."""
    totals = dict.fromkeys(LOBES, 0.0)
    for segment, volume in items:
        totals[lobe_of(segment)] += volume
    return totals


def volumes_by_segment(items: Iterable[tuple[str | None, float]]) -> dict[str, float]:
    """Σ volume per Couinaud segment ("IVa"/"IVb" count in IV), segments with foci only."""
    totals: dict[str, float] = {}
    for segment, volume in items:
        key = segment_of(segment) or UNASSIGNED
        totals[key] = totals.get(key, 0.0) + volume
    return {key: totals[key] for key in (*SEGMENTS, UNASSIGNED) if key in totals}


@dataclass(frozen=True)
class FocusVolume:
    """One focus's contribution: its name, volume and Couinaud segment.

    Attributes
    ----------
    name : str
        Lesion name ("F1").
    volume_cm3 : float
        Its contoured volume (≥ 0).
    couinaud_segment : str or None
        "I" … "VIII" (also "IVa"/"IVb", or 1–8); None when not assigned.
    """

    name: str
    volume_cm3: float
    couinaud_segment: str | None = None


@dataclass(frozen=True)
class BurdenResult:
    """Tumour burden of one timepoint.

    Attributes
    ----------
    tumour_volume_cm3 : float
        V_mts, the sum of the foci.
    liver_volume_cm3 : float
        V_liv, the whole liver including the tumour.
    burden_percent : float
        F = V_mts / V_liv × 100.
    non_tumour_liver_cm3 : float
        V_liv − V_mts.
    burden_vs_non_tumour_percent : float
        V_mts / (V_liv − V_mts) × 100 (infinite when no non-tumour liver remains).
    lobe_volumes_cm3 : Mapping[str, float]
        Tumour volume per lobe: "right", "left", "caudate", "unassigned".
    segment_volumes_cm3 : Mapping[str, float]
        Tumour volume per Couinaud segment ("unassigned" for foci without one).
    focus_count : int
    trust : str
        The worst geometry status of the volumes' series.
    advisories : tuple of Advisory
        Plausibility notes on the inputs (liver volume range, series geometry);
        eligibility warnings on F itself belong to the planner.
    explanation : Explanation
    """

    tumour_volume_cm3: float
    liver_volume_cm3: float
    burden_percent: float
    non_tumour_liver_cm3: float
    burden_vs_non_tumour_percent: float
    lobe_volumes_cm3: Mapping[str, float]
    segment_volumes_cm3: Mapping[str, float]
    focus_count: int
    trust: Trust
    method: str = "F = V_mts / V_liv × 100 %"
    advisories: tuple[Advisory, ...] = ()
    explanation: Explanation = field(
        default_factory=lambda: Explanation("Tumour burden", "F = V_mts / V_liv × 100 %")
    )


def tumour_burden(
    foci: Sequence[FocusVolume],
    liver_volume_cm3: float,
    *,
    trust: Trust = "ok",
    liver_range_cm3: tuple[float, float] | None = None,
) -> BurdenResult:
    """Return F = V_mts / V_liv × 100 % with per-lobe and per-segment tumour volumes.

    Parameters
    ----------
    foci : sequence of FocusVolume
        Every contoured focus of the timepoint (may be empty: F = 0).
    liver_volume_cm3 : float
        The whole liver, tumour included (> 0).
    trust : {"ok", "warning", "unmeasurable"}
        Worst geometry status of the series the volumes come from.
    liver_range_cm3 : (low, high), optional
        Plausible adult liver volumes (the planning parameters
        ``liver_volume_min_cm3`` / ``liver_volume_max_cm3``); a liver outside it
        gets an advisory. Without it no range is checked.

    Returns
    -------
    BurdenResult

    Raises
    ------
    InvalidInputError
        A non-positive liver volume, a negative focus volume, duplicate focus
        names, or foci larger in total than the liver (they lie inside it).
    """
    if trust not in ("ok", "warning", "unmeasurable"):
        raise ValueError(f"trust must be ok, warning or unmeasurable, got {trust!r}")
    if not liver_volume_cm3 > 0:
        raise InvalidInputError("liver volume", f"must be positive, got {liver_volume_cm3:g} cm³")
    names = [f.name for f in foci]
    if len(set(names)) != len(names):
        raise InvalidInputError("foci", "two foci share a name")
    for focus in foci:
        if focus.volume_cm3 < 0:
            raise InvalidInputError(f"volume of {focus.name}", "must not be negative")
    tumour = float(sum(f.volume_cm3 for f in foci))
    if tumour > liver_volume_cm3:
        raise InvalidInputError(
            "tumour volume",
            f"{tumour:.1f} cm³ of foci exceed the {liver_volume_cm3:.1f} cm³ liver that holds "
            "them: is the liver contoured completely (foci included)?",
        )
    pairs = [(f.couinaud_segment, f.volume_cm3) for f in foci]
    burden = burden_percent(tumour, liver_volume_cm3)
    assert burden is not None  # the liver volume is positive
    remaining = liver_volume_cm3 - tumour
    versus_rest = burden_vs_non_tumour_percent(tumour, liver_volume_cm3)
    versus_rest = float("inf") if versus_rest is None else versus_rest
    advisories = _advisories(liver_volume_cm3, trust, liver_range_cm3)
    explanation = Explanation(
        summary="Tumour burden F (share of the liver occupied by metastases)",
        formula="F = V_mts / V_liv × 100 %, V_mts = Σ V_focus; also V_mts / (V_liv − V_mts)",
        inputs={
            **{
                f"V {f.name} ({segment_of(f.couinaud_segment) or UNASSIGNED})": (
                    f"{f.volume_cm3:.2f} cm³"
                )
                for f in foci
            },
            "V_mts": f"{tumour:.2f} cm³",
            "V_liv (tumour included)": f"{liver_volume_cm3:.2f} cm³",
        },
        result=f"F = {burden:.2f} % (vs non-tumour liver {versus_rest:.2f} %)",
        source=f"{F_DEFINITION_SOURCE}; {COUINAUD_SOURCE}",
    )
    return BurdenResult(
        tumour_volume_cm3=tumour,
        liver_volume_cm3=float(liver_volume_cm3),
        burden_percent=burden,
        non_tumour_liver_cm3=remaining,
        burden_vs_non_tumour_percent=versus_rest,
        lobe_volumes_cm3=MappingProxyType(volumes_by_lobe(pairs)),
        segment_volumes_cm3=MappingProxyType(volumes_by_segment(pairs)),
        focus_count=len(foci),
        trust=trust,
        advisories=advisories,
        explanation=explanation,
    )


def _advisories(
    liver_cm3: float, trust: str, liver_range_cm3: tuple[float, float] | None
) -> tuple[Advisory, ...]:
    """Plausibility notes on the inputs (eligibility thresholds on F are the planner's)."""
    notes = []
    if liver_range_cm3 is not None:
        low, high = liver_range_cm3
        if not low <= liver_cm3 <= high:
            notes.append(
                Advisory(
                    "burden.liver_volume_implausible",
                    "warning",
                    f"The liver measures {liver_cm3:.0f} cm³, outside the adult range "
                    f"{low:.0f}–{high:.0f} cm³: check the liver contour.",
                    "measured CT liver volume 594–2,250 cm³ in adults (Feng, World J "
                    "Gastroenterol 2017)",
                )
            )
    if trust != "ok":
        notes.append(
            Advisory(
                "burden.geometry_" + trust,
                "warning" if trust == "warning" else "block",
                "A volume comes from a series whose slice geometry is "
                + (
                    "questionable (tilt, gaps or uneven spacing): review it before relying on "
                    "the volumes."
                    if trust == "warning"
                    else "unmeasurable: volumes from it cannot be trusted — contour on a "
                    "series with regular slices."
                ),
            )
        )
    return tuple(notes)
