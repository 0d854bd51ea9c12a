"""Patient inputs for planning: plausibility checks, body surface area, standard liver volume.

Formulas and their sources: Mosteller (N Engl J Med 1987) and DuBois (Arch Intern Med
1916) for BSA; Urata (Hepatology 1995) and Vauthey (Liver Transpl 2002) for the
standard liver volume (SLV); plausibility limits are institutional choices,
documented next to each limit below and in ``planning.json``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Explanation

BsaFormula = Literal["mosteller", "dubois"]
SlvFormula = Literal["urata", "vauthey"]
BSA_FORMULAS: tuple[BsaFormula, ...] = ("mosteller", "dubois")
SLV_FORMULAS: tuple[SlvFormula, ...] = ("urata", "vauthey")

FORMULA_NAMES: dict[str, str] = {
    "mosteller": "Mosteller",
    "dubois": "Du Bois",
    "urata": "Urata",
    "vauthey": "Vauthey",
}
"""How a BSA or SLV formula is named for people (its authors), by its key."""

UGT1A1_STATUSES = ("", "normal", "reduced")
"""UGT1A1 activity as documented: "" unknown, "normal", "reduced" (label dosing section, §1.6)."""

_BSA_TEXT: dict[str, tuple[str, str]] = {
    "mosteller": (
        "BSA = √(H × W / 3600)",
        "Mosteller, N Engl J Med 1987;317:1098",
    ),
    "dubois": (
        "BSA = 0.007184 × H^0.725 × W^0.425",
        "DuBois & DuBois, Arch Intern Med 1916;17:863–71",
    ),
}
_SLV_TEXT: dict[str, tuple[str, str]] = {
    "urata": (
        "SLV = 706.2 × BSA + 2.4",
        "Urata, Hepatology 1995 (Japanese), via J Surg Oncol 2019 Table 1",
    ),
    "vauthey": (
        "SLV = −794.41 + 1267.28 × BSA",
        "Vauthey, Liver Transpl 2002 (Western), via J Surg Oncol 2019 Table 1",
    ),
}


# ---------------------------------------------------------------------------
# Body surface area and standard liver volume
# ---------------------------------------------------------------------------


def body_surface_area_m2(
    height_cm: float, weight_kg: float, formula: BsaFormula = "mosteller"
) -> float:
    """Body surface area in m².

    Parameters
    ----------
    height_cm, weight_kg : float
        Height in cm and weight in kg, both positive.
    formula : {"mosteller", "dubois"}
        Mosteller (default) or DuBois & DuBois.

    Raises
    ------
    InvalidInputError
        A non-positive input or an unknown formula.

    Notes
    -----
    Mosteller: BSA = √(H × W / 3600); DuBois: 0.007184 × H^0.725 × W^0.425
    (Mosteller, N Engl J Med 1987). Worked example, by arithmetic: 175 cm, 70 kg →
    1.85 m² (Mosteller).
    """
    _require_positive(height_cm, "height_cm")
    _require_positive(weight_kg, "weight_kg")
    if formula == "mosteller":
        return math.sqrt(height_cm * weight_kg / 3600.0)
    if formula == "dubois":
        return 0.007184 * height_cm**0.725 * weight_kg**0.425
    raise InvalidInputError("bsa_formula", f"{formula!r} is not one of {list(BSA_FORMULAS)}")


def explain_bsa(height_cm: float, weight_kg: float, formula: BsaFormula) -> Explanation:
    """The explanation of :func:`body_surface_area_m2` with the values put in."""
    text, source = _BSA_TEXT[formula]
    problem = bsa_input_problem(height_cm, weight_kg)
    if problem is None:
        result = f"{body_surface_area_m2(height_cm, weight_kg, formula):.3f} m²"
    else:
        result = f"not computed — {PATIENT_FIELD_WORDS[problem.field]} {problem.message}"
    return Explanation(
        summary=f"Body surface area ({formula.capitalize()})",
        formula=text,
        inputs={"H": f"{height_cm:g} cm", "W": f"{weight_kg:g} kg"},
        result=result,
        source=source,
    )


def standard_liver_volume_cm3(bsa_m2: float, formula: SlvFormula = "urata") -> float:
    """Standard (expected healthy) liver volume in cm³ (= mL) from the BSA.

    Raises
    ------
    InvalidInputError
        A non-positive BSA, an unknown formula, or a BSA so small that the
        formula gives no positive volume (Vauthey below ~0.63 m²).

    Notes
    -----
    Urata: SLV = 706.2 × BSA + 2.4; Vauthey: SLV = −794.41 + 1267.28 × BSA
    (Urata, Hepatology 1995; Vauthey, Liver Transpl 2002). By arithmetic, for BSA
    1.85 m²: Urata 1,309 mL, Vauthey 1,550 mL.
    """
    _require_positive(bsa_m2, "bsa_m2")
    if formula == "urata":
        volume = 706.2 * bsa_m2 + 2.4
    elif formula == "vauthey":
        volume = -794.41 + 1267.28 * bsa_m2
    else:
        raise InvalidInputError("slv_formula", f"{formula!r} is not one of {list(SLV_FORMULAS)}")
    if volume <= 0:
        raise InvalidInputError(
            "slv_formula", f"{formula} gives no positive volume for BSA {bsa_m2:.2f} m²"
        )
    return volume


def explain_slv(bsa_m2: float, formula: SlvFormula) -> Explanation:
    """The explanation of :func:`standard_liver_volume_cm3` with the values put in."""
    value = standard_liver_volume_cm3(bsa_m2, formula)
    text, source = _SLV_TEXT[formula]
    return Explanation(
        summary=f"Standard liver volume ({formula.capitalize()}), a sanity check only",
        formula=text,
        inputs={"BSA": f"{bsa_m2:.3f} m²"},
        result=f"{value:.0f} cm³",
        source=source + "; published formulae differ by up to 28 % for one BSA",
    )


# ---------------------------------------------------------------------------
# Patient inputs and their plausibility
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatientInputs:
    """What the planner knows about the patient (all optional until entered).

    Parameters
    ----------
    height_cm, weight_kg : float or None
        For BSA and the standard liver volume.
    bilirubin_mg_dl : float or None
        Total serum bilirubin, mg/dL.
    ecog : int or None
        ECOG performance status, 0–4.
    ugt1a1_status : {"", "normal", "reduced"}
        "" when unknown.
    extrahepatic_disease, ia_lidocaine_planned : bool or None
        None when not recorded.
    measured_on : datetime.date or None
        When height, weight and labs were taken.
    """

    height_cm: float | None = None
    weight_kg: float | None = None
    bilirubin_mg_dl: float | None = None
    ecog: int | None = None
    ugt1a1_status: str = ""
    extrahepatic_disease: bool | None = None
    ia_lidocaine_planned: bool | None = None
    measured_on: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings)."""
        return {
            "height_cm": self.height_cm,
            "weight_kg": self.weight_kg,
            "bilirubin_mg_dl": self.bilirubin_mg_dl,
            "ecog": self.ecog,
            "ugt1a1_status": self.ugt1a1_status,
            "extrahepatic_disease": self.extrahepatic_disease,
            "ia_lidocaine_planned": self.ia_lidocaine_planned,
            "measured_on": self.measured_on.isoformat() if self.measured_on else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PatientInputs:
        """Inverse of :meth:`to_json` (no validation; use :func:`check_patient_inputs`)."""
        measured = data.get("measured_on")
        return cls(
            height_cm=data.get("height_cm"),
            weight_kg=data.get("weight_kg"),
            bilirubin_mg_dl=data.get("bilirubin_mg_dl"),
            ecog=data.get("ecog"),
            ugt1a1_status=str(data.get("ugt1a1_status") or ""),
            extrahepatic_disease=data.get("extrahepatic_disease"),
            ia_lidocaine_planned=data.get("ia_lidocaine_planned"),
            measured_on=dt.date.fromisoformat(measured) if measured else None,
        )


PATIENT_FIELDS = tuple(PatientInputs.__dataclass_fields__)

PATIENT_FIELD_WORDS = {
    "height_cm": "height",
    "weight_kg": "weight",
    "bilirubin_mg_dl": "bilirubin",
    "ecog": "ECOG performance status",
    "ugt1a1_status": "UGT1A1 status",
    "extrahepatic_disease": "extrahepatic disease",
    "ia_lidocaine_planned": "intra-arterial lidocaine",
    "measured_on": "date measured",
}
"""Each patient input as a sentence names it ("bilirubin", not ``bilirubin_mg_dl``)."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why one entered value cannot be used.

    ``kind`` is "impossible" (can never be right: negative weight, ECOG 7) or
    "implausible" (possible but probably a typo or a wrong unit; the user may
    confirm it).
    """

    field: str
    message: str
    kind: Literal["impossible", "implausible"]

    def to_error(self) -> InvalidInputError:
        """The typed error naming the field."""
        return InvalidInputError(self.field, self.message)


# (impossible below/at, implausible below, implausible above, impossible above)
# Institutional plausibility limits for adults; not clinical thresholds. Heights and
# weights outside them are usually a unit slip (inches, pounds, metres).
_NUMERIC_LIMITS: dict[str, tuple[float, float, float, float, str]] = {
    "height_cm": (0.0, 120.0, 230.0, 275.0, "cm"),
    "weight_kg": (0.0, 30.0, 250.0, 650.0, "kg"),
}
BILIRUBIN_IMPLAUSIBLE_ABOVE_MG_DL = 30.0
"""Institutional: above this a value in µmol/L was probably typed (1 mg/dL ≈ 17.1 µmol/L)."""
ECOG_RANGE = (0, 4)
"""ECOG 0–4 (5 = dead): values outside cannot be planned for."""


def check_patient_field(
    name: str, value: Any, *, today: dt.date | None = None
) -> FieldProblem | None:
    """Check one field as the user types it; None when it is acceptable (or empty).

    Parameters
    ----------
    name : str
        One of :data:`PATIENT_FIELDS`.
    value : Any
        The value entered (None = not entered).
    today : datetime.date, optional
        For ``measured_on``; default today.

    Raises
    ------
    InvalidInputError
        ``name`` is not a patient field.
    """
    if name not in PATIENT_FIELDS:
        raise InvalidInputError(name, f"is not a patient input (expected one of {PATIENT_FIELDS})")
    if value is None:
        return None
    if name in _NUMERIC_LIMITS:
        return _check_numeric(name, value)
    if name == "bilirubin_mg_dl":
        number = _number(name, value)
        if isinstance(number, FieldProblem):
            return number
        if number < 0:
            return FieldProblem(
                name, f"{number:g} mg/dL: bilirubin cannot be negative", "impossible"
            )
        if number > BILIRUBIN_IMPLAUSIBLE_ABOVE_MG_DL:
            return FieldProblem(
                name,
                f"{number:g} mg/dL is implausibly high — was it entered in µmol/L? "
                "(1 mg/dL ≈ 17.1 µmol/L)",
                "implausible",
            )
        return None
    if name == "ecog":
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            return FieldProblem(name, f"{value!r}: ECOG is a whole number 0–4", "impossible")
        low, high = ECOG_RANGE
        if not low <= int(value) <= high:
            return FieldProblem(name, f"{value!r}: ECOG must be 0–4", "impossible")
        return None
    if name == "ugt1a1_status":
        if value not in UGT1A1_STATUSES:
            return FieldProblem(
                name, f"{value!r}: choose normal, reduced or leave empty (unknown)", "impossible"
            )
        return None
    if name in ("extrahepatic_disease", "ia_lidocaine_planned"):
        if not isinstance(value, bool):
            return FieldProblem(name, f"{value!r}: answer yes, no or leave empty", "impossible")
        return None
    # measured_on
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        return FieldProblem(name, f"{value!r} is not a date (YYYY-MM-DD)", "impossible")
    if value > (today or dt.date.today()):
        return FieldProblem(name, f"{value.isoformat()} is in the future", "impossible")
    return None


def check_patient_inputs(
    inputs: PatientInputs, *, today: dt.date | None = None
) -> list[FieldProblem]:
    """Every field's problem (impossible first), in field order."""
    problems = [
        problem
        for name in PATIENT_FIELDS
        if (problem := check_patient_field(name, getattr(inputs, name), today=today)) is not None
    ]
    return sorted(problems, key=lambda p: p.kind != "impossible")


def _number(name: str, value: Any) -> float | FieldProblem:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return FieldProblem(name, f"{value!r} is not a number", "impossible")
    number = float(value)
    if not math.isfinite(number):
        return FieldProblem(name, f"{value!r} is not a finite number", "impossible")
    return number


def _check_numeric(name: str, value: Any) -> FieldProblem | None:
    number = _number(name, value)
    if isinstance(number, FieldProblem):
        return number
    floor, low, high, ceiling, unit = _NUMERIC_LIMITS[name]
    what = name.split("_")[0]
    if number <= floor:
        return FieldProblem(name, f"{number:g} {unit}: {what} must be positive", "impossible")
    if number > ceiling:
        return FieldProblem(
            name, f"{number:g} {unit}: no adult {what} exceeds {ceiling:g} {unit}", "impossible"
        )
    if not low <= number <= high:
        return FieldProblem(
            name,
            f"{number:g} {unit} is outside the plausible adult range {low:g}–{high:g} {unit} "
            f"— check the unit{_unit_slip_hint(name, number)}",
            "implausible",
        )
    return None


# Units a height or weight is often typed in by mistake: (factor to the field's unit, unit).
_UNIT_SLIPS: dict[str, tuple[tuple[float, str], ...]] = {
    "height_cm": ((100.0, "m"), (2.54, "in")),
    "weight_kg": ((0.45359237, "lb"),),
}


def _unit_slip_hint(name: str, number: float) -> str:
    """ ": 1.72 m = 172 cm?" when the value read in a usual wrong unit is plausible, else ""."""
    _, low, high, _, unit = _NUMERIC_LIMITS[name]
    for factor, slip in _UNIT_SLIPS.get(name, ()):
        if low <= number * factor <= high:
            return f": {number:g} {slip} = {number * factor:.0f} {unit}?"
    return ""


def bsa_input_problem(height_cm: float | None, weight_kg: float | None) -> FieldProblem | None:
    """Why a height and weight give no body surface area (None when they give one).

    A BSA is computed only from a height and a weight both entered and within the
    plausible adult range (institutional limits above): "1,72" read as 1.72 cm gave
    0.18 m², a number that looks computed but rests on a unit slip. An implausible
    value, even confirmed, gives no BSA and no standard liver volume; the problem says
    which field to correct.
    """
    if height_cm is None or weight_kg is None:
        return None
    for name, value in (("height_cm", height_cm), ("weight_kg", weight_kg)):
        problem = check_patient_field(name, value)
        if problem is not None:
            return problem
    return None


def plausible_body_surface_area_m2(
    height_cm: float | None, weight_kg: float | None, formula: BsaFormula = "mosteller"
) -> float | None:
    """:func:`body_surface_area_m2`, or None when a value is missing or implausible
    (:func:`bsa_input_problem`)."""
    if height_cm is None or weight_kg is None or bsa_input_problem(height_cm, weight_kg):
        return None
    return body_surface_area_m2(height_cm, weight_kg, formula)


def _require_positive(value: float, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, f"{value!r} is not a number")
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(field, f"must be a positive number, got {value!r}")
