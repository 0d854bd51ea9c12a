"""The approved plan's session a procedure records: prefill from it, and the differences from it."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tace_planner.domain.procedure_dose import loaded_dose_mg
from tace_planner.domain.procedure_fields import field_label
from tace_planner.domain.procedure_record import ProcedureRecord, record_from_json


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """The session of an approved plan a procedure records (its effective values)."""

    plan_pk: int
    plan_version: int
    number: int
    territory_label: str
    segments: tuple[str, ...]
    product_code: str
    product_name: str
    vials: int
    vial_loads_mg: tuple[float, ...]
    loaded_mg: float
    expected_delivered_mg: float
    planned_on: dt.date | None = None
    interval_days: int | None = None
    beads_ml: float | None = None
    """Bead volume planned for injection (mL); None in records made before it was kept."""
    prepared_beads_ml: float | None = None
    """Bead volume prepared (vials × bead volume per vial, mL); None as ``beads_ml``."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the bead volumes only when known)."""
        volumes = {
            key: value
            for key, value in (
                ("beads_ml", self.beads_ml),
                ("prepared_beads_ml", self.prepared_beads_ml),
            )
            if value is not None
        }
        return {
            **volumes,
            "plan_pk": self.plan_pk,
            "plan_version": self.plan_version,
            "number": self.number,
            "territory_label": self.territory_label,
            "segments": list(self.segments),
            "product_code": self.product_code,
            "product_name": self.product_name,
            "vials": self.vials,
            "vial_loads_mg": list(self.vial_loads_mg),
            "loaded_mg": self.loaded_mg,
            "expected_delivered_mg": self.expected_delivered_mg,
            "planned_on": self.planned_on.isoformat() if self.planned_on else None,
            "interval_days": self.interval_days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedSession:
        """Inverse of :meth:`to_json`."""
        on = data.get("planned_on")
        return cls(
            plan_pk=int(data["plan_pk"]),
            plan_version=int(data["plan_version"]),
            number=int(data["number"]),
            territory_label=str(data["territory_label"]),
            segments=tuple(data.get("segments", ())),
            product_code=str(data["product_code"]),
            product_name=str(data.get("product_name", "")),
            vials=int(data["vials"]),
            vial_loads_mg=tuple(float(v) for v in data.get("vial_loads_mg", ())),
            loaded_mg=float(data["loaded_mg"]),
            expected_delivered_mg=float(data["expected_delivered_mg"]),
            planned_on=dt.date.fromisoformat(on) if on else None,
            interval_days=data.get("interval_days"),
            beads_ml=_optional_float(data.get("beads_ml")),
            prepared_beads_ml=_optional_float(data.get("prepared_beads_ml")),
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def prefill_from_session(session: PlannedSession, **values: Any) -> ProcedureRecord:
    """A record prefilled from an approved plan's session: territory, product, vials, loads.

    ``values`` (e.g. the date, the delivered fraction) are laid over the prefill.
    """
    artery = "right hepatic artery" if set(session.segments) <= {"V", "VI", "VII", "VIII"} else ""
    if set(session.segments) <= {"II", "III", "IV"}:
        artery = "left hepatic artery"
    data: dict[str, Any] = {
        "product_code": session.product_code,
        "product_name": session.product_name,
        "vials": session.vials,
        "loaded_per_vial_mg": list(session.vial_loads_mg),
        "loaded_mg": session.loaded_mg,
        "vessels": [{"artery": artery or "hepatic artery", "segments": list(session.segments)}],
    }
    record = record_from_json(data)
    if values:
        record = record.changed(**values)
    return record


@dataclass(frozen=True, slots=True)
class Difference:
    """A value of the record that differs from the plan's session, with its reason."""

    key: str
    planned: str
    actual: str
    reason: str = ""

    @property
    def label(self) -> str:
        """The field's name for people."""
        return field_label(self.key)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the CLI's ``differences`` entries)."""
        return {
            "field": self.key,
            "label": self.label,
            "planned": self.planned,
            "actual": self.actual,
            "reason": self.reason,
        }


def plan_differences(
    record: ProcedureRecord, session: PlannedSession | None
) -> tuple[Difference, ...]:
    """What the record does differently from the plan's session (with the reasons given).

    Compared: product, treated segments, vials and the loaded dose. The delivered
    dose is not a difference needing a reason: the end point decides how much is
    injected (near-stasis, Martin 2010); it is shown against the plan's expected
    delivered dose by :func:`delivery_against_plan` instead.
    An unplanned procedure (no session) has one difference, ``plan``.
    """
    reasons = record.difference_reasons
    if session is None:
        return (
            Difference("plan", "no approved plan", "unplanned procedure", reasons.get("plan", "")),
        )
    out = []
    if record.product_code and record.product_code != session.product_code:
        out.append(
            Difference("product_code", session.product_code, record.product_code,
                       reasons.get("product_code", ""))
        )  # fmt: skip
    if record.vessels and record.segments != tuple(session.segments):
        out.append(
            Difference("vessels", ", ".join(session.segments) or "—",
                       ", ".join(record.segments) or "—", reasons.get("vessels", ""))
        )  # fmt: skip
    if record.vials is not None and record.vials != session.vials:
        out.append(
            Difference("vials", str(session.vials), str(record.vials), reasons.get("vials", ""))
        )
    loaded = loaded_dose_mg(record)
    if loaded is not None and not math.isclose(loaded, session.loaded_mg, abs_tol=0.05):
        out.append(
            Difference("loaded_mg", f"{session.loaded_mg:g} mg", f"{loaded:g} mg",
                       reasons.get("loaded_mg", ""))
        )  # fmt: skip
    return tuple(out)


MATERIAL_DELIVERY_SHARE = 0.05
"""Delivered and expected doses differ materially beyond this share of the expected dose
(institutional default; about the 4–6 % beads lose at once in contrast, Pereira,
Anti-Cancer Drugs 2016)."""
MATERIAL_DELIVERY_MIN_MG = 0.5
"""… and by more than this many mg (rounding of the doses shown)."""
MATERIAL_BEADS_SHARE = 0.05
"""Injected and planned bead volumes differ materially beyond this share of the planned
volume (institutional default, the share used for the dose)."""
END_POINT_NOTE = (
    "the angiographic end point decides how much is injected (near-stasis rather than "
    "complete stasis, Martin, Cardiovasc Intervent Radiol 2010)"
)
"""Why the delivered dose against the plan is information, not a difference needing a reason."""


def _percent(share: float) -> str:
    """0.6 → ``60 %``."""
    return f"{share:.0%}".replace("%", " %")


def _amount(value: float) -> str:
    """2.4 → ``2.4``, 4.0 → ``4``, 1.25 → ``1.25``."""
    return f"{round(value, 2):g}"


@dataclass(frozen=True, slots=True)
class DeliveryAgainstPlan:
    """The delivered dose against the plan session's expected delivered dose (mg), and the
    beads injected against those planned (in ``beads_unit``: mL, or vials when the plan's
    bead volume was not kept)."""

    delivered_mg: float
    expected_mg: float
    beads_injected: float | None = None
    beads_planned: float | None = None
    beads_unit: str = "mL"

    @property
    def share(self) -> float | None:
        """Delivered / expected (None when nothing was expected)."""
        return self.delivered_mg / self.expected_mg if self.expected_mg > 0 else None

    @property
    def beads_share(self) -> float | None:
        """Beads injected / planned (None when not known)."""
        if self.beads_injected is None or not self.beads_planned:
            return None
        return self.beads_injected / self.beads_planned

    @property
    def dose_material(self) -> bool:
        """True when the doses differ by more than :data:`MATERIAL_DELIVERY_SHARE` of the
        expected dose and :data:`MATERIAL_DELIVERY_MIN_MG`."""
        gap = abs(self.delivered_mg - self.expected_mg)
        return gap > max(MATERIAL_DELIVERY_SHARE * self.expected_mg, MATERIAL_DELIVERY_MIN_MG)

    @property
    def beads_material(self) -> bool:
        """True when the bead volume differs from the plan's by more than
        :data:`MATERIAL_BEADS_SHARE` (a plan's unloaded beads carry no dose, so the
        dose alone can read as planned while beads were left)."""
        share = self.beads_share
        return share is not None and abs(share - 1.0) > MATERIAL_BEADS_SHARE

    @property
    def material(self) -> bool:
        """True when the dose or the bead volume differs materially: never "as planned"."""
        return self.dose_material or self.beads_material

    @property
    def beads_text(self) -> str:
        """``Beads injected 2.4 of 4 mL planned (60 %)`` ("" when not known)."""
        share = self.beads_share
        if share is None or self.beads_injected is None or self.beads_planned is None:
            return ""
        planned = "planned" if self.beads_unit == "mL" else "prepared"
        return (
            f"Beads injected {_amount(self.beads_injected)} of {_amount(self.beads_planned)} "
            f"{self.beads_unit} {planned} ({_percent(share)})"
        )

    @property
    def text(self) -> str:
        """``Delivered 100 mg of 100 mg expected (100 %)``, and ``; beads injected 2.4 of
        4 mL planned (60 %)`` when the bead volume differs materially."""
        share = "" if self.share is None else f" ({_percent(self.share)})"
        text = f"Delivered {self.delivered_mg:.0f} mg of {self.expected_mg:.0f} mg expected{share}"
        if self.beads_material:
            beads = self.beads_text
            text += f"; {beads[0].lower()}{beads[1:]}"
        return text


def delivery_against_plan(
    delivered_mg: float | None, session: PlannedSession | None, fraction: float | None = None
) -> DeliveryAgainstPlan | None:
    """The delivered dose against the plan's expected one (None: unplanned or not known),
    and, with the ``fraction`` of the prepared suspension injected, the beads against
    the plan's bead volume (mL; the plan's vials when its bead volume was not kept)."""
    if delivered_mg is None or session is None:
        return None
    against = DeliveryAgainstPlan(delivered_mg, session.expected_delivered_mg)
    if fraction is None or not 0.0 <= fraction <= 1.0:
        return against
    if session.beads_ml and session.prepared_beads_ml:
        injected, planned, unit = fraction * session.prepared_beads_ml, session.beads_ml, "mL"
    elif session.vials > 0:
        injected, planned, unit = fraction * session.vials, float(session.vials), "vials"
    else:
        return against
    return replace(against, beads_injected=injected, beads_planned=planned, beads_unit=unit)


def unexplained(differences: Sequence[Difference]) -> list[Difference]:
    """The differences still without a reason."""
    return [d for d in differences if not d.reason.strip()]


def with_reasons(record: ProcedureRecord, reasons: Mapping[str, str]) -> ProcedureRecord:
    """The record with more difference reasons (blank ones are dropped)."""
    merged = {**record.difference_reasons, **{k: v.strip() for k, v in reasons.items()}}
    return replace(record, difference_reasons={k: v for k, v in merged.items() if v})
