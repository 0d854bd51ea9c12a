"""What each planning parameter is called, its unit and the values an institution may set.

One :class:`ParameterSpec` per entry of ``planning.json``: the name a clinician reads
("Bead volume per cm³ of tumour", never the file's key), the unit, and for numbers
the allowed range with the reason for its bounds. The ranges are safety bounds
on what an institution may save (a slip such as 50 mL/cm³, 1,000 × the default,
is refused); they are not clinical thresholds, and they live here, once, rather
than in the editable file, so that editing the file cannot widen them. The
dosing kernel itself stays safe for any value (its property tests explore
beyond these bounds).

:func:`planning_problems` checks a whole set of values (ranges, then the pairs
that must stay ordered) and names each parameter for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tace_planner.domain.body import BSA_FORMULAS, SLV_FORMULAS

Kind = Literal["number", "integer", "choice", "product"]


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """How one planning parameter is named, measured and bounded.

    Parameters
    ----------
    name : str
        The key in ``planning.json``.
    label : str
        The name shown to people.
    unit : str
        Unit shown beside the value ("" for a count or a choice).
    kind : {"number", "integer", "choice", "product"}
        "product" is a code of the bead catalogue.
    minimum, maximum : float, optional
        The allowed range (inclusive) of a number.
    reason : str
        Why the bounds (or the choices) are what they are.
    choices : tuple of (value, label)
        The allowed values of a choice.
    """

    name: str
    label: str
    unit: str
    kind: Kind
    minimum: float | None = None
    maximum: float | None = None
    reason: str = ""
    choices: tuple[tuple[str, str], ...] = ()

    def range_text(self) -> str:
        """The allowed range as people read it ("0.005–0.2 mL/cm³")."""
        if self.minimum is None or self.maximum is None:
            return ", ".join(label for _, label in self.choices)
        unit = f" {self.unit}" if self.unit else ""
        if self.minimum < 0:
            return f"{self.minimum:g} to {self.maximum:+g}{unit}".replace("-", "−")
        return f"{self.minimum:g}–{self.maximum:g}{unit}"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be saved ("" reasons are never returned), or None."""
        if self.kind in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return "must be a number"
            if not math.isfinite(value):
                return "must be a finite number"
            if self.kind == "integer" and float(value) != int(value):
                return "must be a whole number"
            assert self.minimum is not None
            assert self.maximum is not None
            if not self.minimum <= value <= self.maximum:
                return f"{value:g} is outside the allowed {self.range_text()} ({self.reason})"
            return None
        if self.kind == "choice" and value not in {v for v, _ in self.choices}:
            return f"{value!r} is not one of {self.range_text()}"
        if self.kind == "product" and (not isinstance(value, str) or not value.strip()):
            return "choose a bead product"
        return None


_VIAL = "one 2 mL vial (DC Bead IFU)"
_SESSION_MG = (
    "safety bound, institutional default: at most twice the 100 mg per session of common "
    "practice (McGill, Gastroenterol Res Pract 2015; Martin, World J Surg Oncol 2009), "
    "at least a quarter vial's load"
)

PLANNING_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "default_model",
        "Default planning model",
        "",
        "choice",
        reason="the two models the planner computes",
        choices=(("burden", "burden-scaled"), ("fixed", "fixed dose per session")),
    ),
    ParameterSpec(
        "default_product",
        "Default bead product",
        "",
        "product",
        reason="a product of the bead catalogue",
    ),
    ParameterSpec(
        "embolic_capacity_ml_per_cm3",
        "Bead volume per cm³ of tumour",
        "mL/cm³",
        "number",
        0.005,
        0.2,
        "safety bound, institutional default: the default 0.05 mL/cm³ maps 40 cm³ of tumour "
        f"to {_VIAL}; above 0.2 (4 × the default) 20 cm³ of tumour would already fill two "
        "vials, below 0.005 even 100 cm³ of tumour stays at a 0.5 mL minimum",
    ),
    ParameterSpec(
        "min_beads_per_session_ml",
        "Smallest bead volume per session",
        "mL",
        "number",
        0.1,
        4.0,
        "safety bound, institutional default: at most two 2 mL vials, at least 0.1 mL",
    ),
    ParameterSpec(
        "max_beads_per_session_ml",
        "Largest bead volume per session",
        "mL",
        "number",
        0.5,
        8.0,
        "safety bound, institutional default: from a quarter vial to four 2 mL vials, twice "
        "the default 4 mL; one 2 mL vial per session is the common practice (McGill, "
        "Gastroenterol Res Pract 2015)",
    ),
    ParameterSpec(
        "loading_mg_per_ml",
        "Irinotecan loading concentration",
        "mg/mL",
        "number",
        5.0,
        100.0,
        "safety bound: up to 50 mg/mL on DC Bead (Taylor, Eur J Pharm Sci 2007); 100 mg/mL "
        "is the highest concentration given in a phase I study (BMC Cancer 2019)",
    ),
    ParameterSpec(
        "per_session_warning_mg",
        "Irinotecan per session: warning above",
        "mg",
        "number",
        25.0,
        200.0,
        _SESSION_MG,
    ),
    ParameterSpec(
        "per_session_cap_mg",
        "Irinotecan per session: limit",
        "mg",
        "number",
        25.0,
        200.0,
        _SESSION_MG,
    ),
    ParameterSpec(
        "fixed_dose_mg",
        "Fixed model: irinotecan per session",
        "mg",
        "number",
        25.0,
        200.0,
        _SESSION_MG,
    ),
    ParameterSpec(
        "fixed_beads_ml",
        "Fixed model: bead volume per session",
        "mL",
        "number",
        0.5,
        8.0,
        "safety bound, institutional default: from a quarter vial to four 2 mL vials",
    ),
    ParameterSpec(
        "course_warning_mg",
        "Irinotecan per course: warning above",
        "mg",
        "number",
        100.0,
        1200.0,
        "safety bound, institutional default: from one 100 mg session to three times the "
        "400 mg default; no published cumulative limit for a DEBIRI course was found",
    ),
    ParameterSpec(
        "sessions_warning_count",
        "Treatments per course: warning from",
        "treatments",
        "integer",
        1,
        10,
        "safety bound: ≥ 3 treatments predicted adverse events (Martin, Cardiovasc Intervent "
        "Radiol 2010); 1–10",
    ),
    ParameterSpec(
        "burden_warning_percent",
        "Liver involvement: warning above",
        "%",
        "number",
        5.0,
        100.0,
        "a share of the liver; DEBIRI studies included patients below 50 % (Ranieri, "
        "OncoTargets Ther 2016)",
    ),
    ParameterSpec(
        "burden_strong_warning_percent",
        "Liver involvement: contraindication above",
        "%",
        "number",
        5.0,
        100.0,
        "a share of the liver; the consensus limit is 60 % (Lencioni, J Vasc Interv Radiol 2014)",
    ),
    ParameterSpec(
        "bilirubin_warning_mg_dl",
        "Bilirubin: warning above",
        "mg/dL",
        "number",
        0.5,
        10.0,
        "safety bound: a quarter to five times the 2.0 mg/dL that predicted adverse events "
        "with > 50 % involvement (Martin, Cardiovasc Intervent Radiol 2010)",
    ),
    ParameterSpec(
        "ecog_max",
        "Highest ECOG performance status treated",
        "",
        "integer",
        0,
        4,
        "the ECOG scale runs from 0 to 4 (5 = dead)",
    ),
    ParameterSpec(
        "lobar_interval_days",
        "Interval between lobar sessions",
        "days",
        "integer",
        7,
        90,
        "safety bound: 21 days in Szemitko, J Clin Med 2021; at least a week, at most the "
        "3 months between follow-up scans",
    ),
    ParameterSpec(
        "liver_volume_min_cm3",
        "Liver volume: review below",
        "cm³",
        "number",
        200.0,
        2000.0,
        "measured CT liver volumes 594–2,250 cm³ in adults (Feng, World J Gastroenterol 2017)",
    ),
    ParameterSpec(
        "liver_volume_max_cm3",
        "Liver volume: review above",
        "cm³",
        "number",
        1000.0,
        5000.0,
        "measured CT liver volumes 594–2,250 cm³ in adults (Feng, World J Gastroenterol 2017)",
    ),
    ParameterSpec(
        "slv_deviation_warning_fraction",
        "Measured vs standard liver volume: warning beyond",
        "fraction",
        "number",
        0.1,
        1.0,
        "institutional default: published standard-liver-volume formulae differ by up to 28 % "
        "for one body surface area, so a bound below 0.1 would flag most livers",
    ),
    ParameterSpec(
        "bsa_formula",
        "Body surface area formula",
        "",
        "choice",
        reason="the formulae the planner computes",
        choices=tuple((f, f.capitalize() if f != "dubois" else "DuBois") for f in BSA_FORMULAS),
    ),
    ParameterSpec(
        "slv_formula",
        "Standard liver volume formula",
        "",
        "choice",
        reason="the formulae the planner computes",
        choices=tuple((f, f.capitalize()) for f in SLV_FORMULAS),
    ),
)
"""Every planning parameter, in the order the form shows them."""

SPECS_BY_NAME: Mapping[str, ParameterSpec] = {spec.name: spec for spec in PLANNING_SPECS}

ORDERED_PAIRS: tuple[tuple[str, str], ...] = (
    ("min_beads_per_session_ml", "max_beads_per_session_ml"),
    ("per_session_warning_mg", "per_session_cap_mg"),
    ("burden_warning_percent", "burden_strong_warning_percent"),
    ("liver_volume_min_cm3", "liver_volume_max_cm3"),
)
"""(lower, upper) parameters: the lower may not exceed the upper."""


def parameter_label(name: str) -> str:
    """The name people read for a planning parameter (the key itself if unknown)."""
    spec = SPECS_BY_NAME.get(name)
    return spec.label if spec is not None else name


def planning_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every reason a set of planning values cannot be saved, as (parameter key, message).

    Each message starts with the parameter's name for people, e.g. "Bead volume per
    cm³ of tumour: 50 is outside the allowed 0.005–0.2 mL/cm³ (…)". Values not in
    ``values`` are not checked.
    """
    problems: list[tuple[str, str]] = []
    for spec in PLANNING_SPECS:
        if spec.name not in values:
            continue
        problem = spec.problem(values[spec.name])
        if problem is not None:
            problems.append((spec.name, f"{spec.label}: {problem}"))
    bad = {name for name, _ in problems}
    for low, high in ORDERED_PAIRS:
        if low in bad or high in bad or low not in values or high not in values:
            continue
        if values[low] > values[high]:
            problems.append(
                (
                    low,
                    f"{parameter_label(low)}: {values[low]:g} is above "
                    f"“{parameter_label(high)}” ({values[high]:g})",
                )
            )
    return problems


CATALOGUE_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "vial_bead_volume_ml",
        "Bead volume per vial",
        "mL",
        "number",
        0.5,
        10.0,
        "safety bound: the DC Bead vial holds about 2 mL of beads (DC Bead IFU); 0.5–10 mL "
        "covers any vial a product might come in",
    ),
    ParameterSpec(
        "irinotecan_capacity_mg_per_ml",
        "Irinotecan capacity",
        "mg/mL",
        "number",
        5.0,
        100.0,
        "safety bound: up to 50 mg/mL on DC Bead (Taylor, Eur J Pharm Sci 2007); 100 mg/mL "
        "is the highest concentration given in a phase I study (BMC Cancer 2019)",
    ),
    ParameterSpec(
        "loading_time_min",
        "Loading time",
        "min",
        "number",
        5.0,
        480.0,
        "safety bound: minutes (LUMI) to the 2 h of pharmacy protocols (Mainz stability study "
        "2010), at most 8 h",
    ),
    ParameterSpec(
        "diameter_swelling_factor",
        "Swelling (hydrated ÷ dry diameter)",
        "×",
        "number",
        1.0,
        6.0,
        "safety bound: HepaSphere swells about 4 × in diameter (Merit IFU); products sold "
        "hydrated have none",
    ),
    ParameterSpec(
        "size_change_on_loading_percent",
        "Size change on loading",
        "%",
        "number",
        -50.0,
        50.0,
        "safety bound: DC Bead shrinks 18–30 % when loaded (Pereira, Anti-Cancer Drugs 2016; "
        "Taylor 2007)",
    ),
)
"""The numbers of each bead product the form edits, with their allowed ranges."""


def catalogue_problems(products: list[Any]) -> list[tuple[str, str]]:
    """Every reason a catalogue's product numbers cannot be saved, as ("<code>.<key>", message).

    A value that is not known (None) is not checked; the message names the product
    and the value for people ("DC Bead: Irinotecan capacity: 500 is outside …").
    """
    problems: list[tuple[str, str]] = []
    for product in products:
        if not isinstance(product, Mapping):
            continue
        name = str(product.get("name") or product.get("code") or "product")
        for spec in CATALOGUE_SPECS:
            entry = product.get(spec.name)
            value = entry.get("value") if isinstance(entry, Mapping) else None
            if value is None:
                continue
            problem = spec.problem(value)
            if problem is not None:
                key = f"{product.get('code')}.{spec.name}"
                problems.append((key, f"{name}: {spec.label}: {problem}"))
    return problems
