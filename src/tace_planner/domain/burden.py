"""Tumour burden F = V_mts / V_liv × 100 %, per lobe and per Couinaud segment.

Definition (clinical-reference §9.1, "Definition of F"): V_mts is the sum of
the foci's volumes and V_liv the volume of the whole liver *including* the
tumour, as contoured; F is also shown against the non-tumour liver,
``V_mts / (V_liv − V_mts)``, because sources differ. Lobes follow Couinaud
(clinical-reference §7): right = V–VIII, left = II–IV (IVa, IVb), caudate = I.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Advisory, Explanation
from tace_planner.domain.measurements import Trust

LOBE_OF_SEGMENT: Mapping[str, str] = MappingProxyType(
    {
        "I": "caudate",
        "II": "left",
        "III": "left",
        "IV": "left",
        "IVA": "left",
        "IVB": "left",
        "V": "right",
        "VI": "right",
        "VII": "right",
        "VIII": "right",
    }
)
"""Couinaud segment (upper-case Roman numeral) -> lobe."""

LOBES = ("right", "left", "caudate", "unassigned")

PLAUSIBLE_LIVER_CM3 = (600.0, 2300.0)
"""Measured CT liver volumes of adults, 594–2,250 cm³ (Feng, WJG 2017; clinical-reference §7)."""

_ARABIC = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI", "7": "VII", "8": "VIII"}


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


def lobe_of(segment: str | None) -> str:
    """Return "right", "left", "caudate" or "unassigned" for a Couinaud segment label."""
    if segment is None:
        return "unassigned"
    key = segment.strip().upper()
    key = _ARABIC.get(key, key)
    return LOBE_OF_SEGMENT.get(key, "unassigned")


def normalise_segment(segment: str | None) -> str:
    """Return the segment as an upper-case Roman numeral ("IVa" -> "IVA"), or "unassigned"."""
    if segment is None:
        return "unassigned"
    key = _ARABIC.get(segment.strip().upper(), segment.strip().upper())
    return key if key in LOBE_OF_SEGMENT else "unassigned"


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
    foci: Sequence[FocusVolume], liver_volume_cm3: float, *, trust: Trust = "ok"
) -> BurdenResult:
    """Return F = V_mts / V_liv × 100 % with per-lobe and per-segment tumour volumes.

    Parameters
    ----------
    foci : sequence of FocusVolume
        Every contoured focus of the timepoint (may be empty: F = 0).
    liver_volume_cm3 : float
        The whole liver, tumour included (> 0).
    trust : {"ok", "warning"}
        Worst geometry status of the series the volumes come from.

    Returns
    -------
    BurdenResult

    Raises
    ------
    InvalidInputError
        A non-positive liver volume, a negative focus volume, duplicate focus
        names, or foci larger in total than the liver (they lie inside it).

    Notes
    -----
    F as defined in clinical-reference §9.1; lobes from Couinaud segments, §7.
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
    lobes = dict.fromkeys(LOBES, 0.0)
    segments: dict[str, float] = {}
    for focus in foci:
        lobes[lobe_of(focus.couinaud_segment)] += focus.volume_cm3
        key = normalise_segment(focus.couinaud_segment)
        segments[key] = segments.get(key, 0.0) + focus.volume_cm3
    burden = 100.0 * tumour / liver_volume_cm3
    remaining = liver_volume_cm3 - tumour
    versus_rest = 100.0 * tumour / remaining if remaining > 0 else float("inf")
    advisories = _advisories(liver_volume_cm3, trust)
    explanation = Explanation(
        summary="Tumour burden F (share of the liver occupied by metastases)",
        formula="F = V_mts / V_liv × 100 %, V_mts = Σ V_focus; also V_mts / (V_liv − V_mts)",
        inputs={
            **{
                f"V {f.name} ({normalise_segment(f.couinaud_segment)})": f"{f.volume_cm3:.2f} cm³"
                for f in foci
            },
            "V_mts": f"{tumour:.2f} cm³",
            "V_liv (tumour included)": f"{liver_volume_cm3:.2f} cm³",
        },
        result=f"F = {burden:.2f} % (vs non-tumour liver {versus_rest:.2f} %)",
        source="clinical-reference §9.1 (definition of F), §7 (Couinaud lobes)",
    )
    return BurdenResult(
        tumour_volume_cm3=tumour,
        liver_volume_cm3=float(liver_volume_cm3),
        burden_percent=burden,
        non_tumour_liver_cm3=remaining,
        burden_vs_non_tumour_percent=versus_rest,
        lobe_volumes_cm3=MappingProxyType(lobes),
        segment_volumes_cm3=MappingProxyType(dict(sorted(segments.items()))),
        focus_count=len(foci),
        trust=trust,
        advisories=advisories,
        explanation=explanation,
    )


def _advisories(liver_cm3: float, trust: str) -> tuple[Advisory, ...]:
    """Plausibility notes on the inputs (eligibility thresholds on F are the planner's)."""
    notes = []
    low, high = PLAUSIBLE_LIVER_CM3
    if not low <= liver_cm3 <= high:
        notes.append(
            Advisory(
                "burden.liver_volume_implausible",
                "warning",
                f"The liver measures {liver_cm3:.0f} cm³, outside the adult range "
                f"{low:.0f}–{high:.0f} cm³: check the liver contour.",
                "Feng, WJG 2017 (clinical-reference §7, §9.2 item 11)",
            )
        )
    if trust != "ok":
        notes.append(
            Advisory(
                "burden.geometry_" + trust,
                "warning" if trust == "warning" else "block",
                "A volume comes from a series whose slice geometry is "
                + ("questionable." if trust == "warning" else "unmeasurable."),
            )
        )
    return tuple(notes)
