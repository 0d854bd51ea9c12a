"""Results of a treatment plan: the planned sessions and the proposal that holds them."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tace_planner.domain.anatomy import lobe_of_segment
from tace_planner.domain.dosing_inputs import PlanOptions
from tace_planner.domain.dosing_parameters import Model
from tace_planner.domain.explanation import Advisory, Explanation


@dataclass(frozen=True)
class SessionPlan:
    """One planned TACE session.

    Parameters
    ----------
    number : int
        1, 2, … in order of treatment.
    territory : str
        Code: "right", "left", "caudate", "right+caudate", "right+left", or
        "segments:VI,VIII" for segmental delivery.
    territory_label : str
        For people, e.g. "right lobe (V–VIII) + caudate lobe (I)".
    segments : tuple of str
        The Couinaud segments whose foci the session treats.
    day : int
        Days after the first session.
    on : datetime.date or None
        Date of the session when the first session's date is known.
    tumour_volume_cm3 : float
        Tumour volume in the treated territory.
    beads_ml : float
        Planned injection volume of loaded beads.
    vials : int
        Whole vials prepared (``prepared_beads_ml = vials × vial_ml``).
    irinotecan_loaded_mg : float
        Irinotecan loaded into the prepared vials.
    vial_loads_mg : tuple of float
        Irinotecan per vial, in the order they are injected.
    irinotecan_expected_delivered_mg : float
        Expected delivered dose if ``beads_ml`` is injected (vials in the order prepared,
        :func:`~tace_planner.domain.dosing_kernel.delivered_from_fraction_mg`).
    limited_by : tuple of str
        Limits that changed the numbers: "min_beads", "max_beads", "capacity",
        "session_cap".
    explanations : mapping of str to Explanation
        Keys: tumour_volume_cm3, beads_ml, vials, irinotecan_loaded_mg,
        irinotecan_expected_delivered_mg, day.
    """

    number: int
    territory: str
    territory_label: str
    segments: tuple[str, ...]
    day: int
    on: dt.date | None
    tumour_volume_cm3: float
    beads_ml: float
    vials: int
    prepared_beads_ml: float
    irinotecan_loaded_mg: float
    vial_loads_mg: tuple[float, ...]
    irinotecan_expected_delivered_mg: float
    limited_by: tuple[str, ...] = ()
    explanations: Mapping[str, Explanation] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the CLI's session entry)."""
        return {
            "number": self.number,
            "territory": self.territory,
            "territory_label": self.territory_label,
            "segments": list(self.segments),
            "day": self.day,
            "on": self.on.isoformat() if self.on else None,
            "tumour_volume_cm3": self.tumour_volume_cm3,
            "beads_ml": self.beads_ml,
            "vials": self.vials,
            "prepared_beads_ml": self.prepared_beads_ml,
            "irinotecan_loaded_mg": self.irinotecan_loaded_mg,
            "vial_loads_mg": list(self.vial_loads_mg),
            "irinotecan_expected_delivered_mg": self.irinotecan_expected_delivered_mg,
            "limited_by": list(self.limited_by),
            "explanations": {k: e.to_json() for k, e in self.explanations.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionPlan:
        """Inverse of :meth:`to_json`."""
        on = data.get("on")
        return cls(
            number=int(data["number"]),
            territory=str(data["territory"]),
            territory_label=str(data["territory_label"]),
            segments=tuple(data.get("segments", ())),
            day=int(data["day"]),
            on=dt.date.fromisoformat(on) if on else None,
            tumour_volume_cm3=float(data["tumour_volume_cm3"]),
            beads_ml=float(data["beads_ml"]),
            vials=int(data["vials"]),
            prepared_beads_ml=float(data["prepared_beads_ml"]),
            irinotecan_loaded_mg=float(data["irinotecan_loaded_mg"]),
            vial_loads_mg=tuple(float(v) for v in data.get("vial_loads_mg", ())),
            irinotecan_expected_delivered_mg=float(data["irinotecan_expected_delivered_mg"]),
            limited_by=tuple(data.get("limited_by", ())),
            explanations={
                k: Explanation.from_json(v) for k, v in data.get("explanations", {}).items()
            },
        )


@dataclass(frozen=True)
class PlanResult:
    """The proposed plan: sessions, derived figures, advisories and explanations.

    ``figures`` holds the derived inputs (bsa_m2, standard_liver_volume_cm3,
    liver_volume_cm3, tumour_volume_cm3, burden_percent, …; None when not
    computable); ``explanations`` explains each of them. ``blocked`` is True
    when a ``block`` advisory stops the dose (then ``sessions`` is empty).
    """

    model: Model
    options: PlanOptions
    sessions: tuple[SessionPlan, ...]
    advisories: tuple[Advisory, ...]
    figures: Mapping[str, float | None]
    explanations: Mapping[str, Explanation]

    @property
    def blocked(self) -> bool:
        """True when a block advisory prevents a dose."""
        return any(a.severity == "block" for a in self.advisories)

    @property
    def total_loaded_mg(self) -> float:
        """Irinotecan loaded over the plan's sessions."""
        return total_loaded_mg(self.sessions)

    @property
    def total_expected_delivered_mg(self) -> float:
        """Expected delivered irinotecan over the plan's sessions."""
        return total_expected_delivered_mg(self.sessions)


def total_loaded_mg(sessions: Iterable[SessionPlan]) -> float:
    """Irinotecan loaded over ``sessions``."""
    return math.fsum(s.irinotecan_loaded_mg for s in sessions)


def total_expected_delivered_mg(sessions: Iterable[SessionPlan]) -> float:
    """Expected delivered irinotecan over ``sessions``."""
    return math.fsum(s.irinotecan_expected_delivered_mg for s in sessions)


LOBE_FIGURES = ("tumour_volume_cm3.right", "tumour_volume_cm3.left", "tumour_volume_cm3.caudate")
"""The per-lobe tumour volumes of :attr:`PlanResult.figures`."""


def foci_without_lobe(foci: Iterable[tuple[str, str | None]]) -> tuple[str, ...]:
    """Names of the foci, given as (name, Couinaud segment), whose segment names no lobe
    (not assigned yet, or not a segment), in the order given."""
    return tuple(name for name, segment in foci if lobe_of_segment(segment) is None)


def lobe_volume_cm3(volume_cm3: float | None, unplaced: Sequence[str]) -> tuple[float | None, bool]:
    """A lobe's tumour volume as it can be stated while the foci ``unplaced`` have no segment.

    Returns (value, at_least): (None, False) when the lobe holds no placed focus but
    unplaced foci may lie in it — 0 cm³ would read as "no tumour there"; (value, True)
    when unplaced foci may add to it; (value, False) when every focus is placed.
    """
    if not unplaced or volume_cm3 is None:
        return volume_cm3, False
    if volume_cm3 <= 0:
        return None, False
    return volume_cm3, True
