"""Adverse-event risk factors of a logged TACE, and the adverse-event grading scales.

Risk factors shown on a procedure record when they apply (thresholds in the
versioned ``procedure.json``, each with its source):

* more than 100 mg irinotecan delivered in one session, complete stasis as the
  end point, ≥ 3 treatments in the course, no intra-arterial lidocaine — each an
  independent predictor of adverse events (Martin, Cardiovasc Intervent Radiol 2010);
* bilirubin above 2.0 mg/dL at the time of the procedure (Martin 2010);
* an interval since the previous session shorter than the plan's (3-week lobar
  interval, Szemitko, J Clin Med 2021).

Grading: CIRSE classification 1–6 (Filippiadis, Cardiovasc Intervent Radiol 2017)
and CTCAE v5.0 grades 1–5 (NCI, 27 Nov 2017).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tace_planner.domain.catalogue import Sourced
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.parameters_file import read_parameter_file
from tace_planner.domain.procedure_checks import PlausibilityLimits
from tace_planner.domain.procedure_dose import delivered_dose_mg
from tace_planner.domain.procedure_fields import ENDPOINTS
from tace_planner.domain.procedure_record import ProcedureRecord

CIRSE_SOURCE = "CIRSE classification (Filippiadis, Cardiovasc Intervent Radiol 2017)"
CIRSE_GRADES: Mapping[int, str] = {
    1: "complication solved within the same procedure",
    2: "unplanned stay < 48 h without further therapy",
    3: "further therapy or stay > 48 h, no sequelae",
    4: "mild permanent sequelae",
    5: "severe sequelae needing help in daily life",
    6: "death",
}
CTCAE_SOURCE = "CTCAE v5.0 (National Cancer Institute, 2017)"
CTCAE_GRADES: Mapping[int, str] = {
    1: "mild",
    2: "moderate",
    3: "severe or medically significant",
    4: "life-threatening",
    5: "death",
}
COMMON_TERMS = (
    "Abdominal pain",
    "Nausea",
    "Vomiting",
    "Fever",
    "Fatigue",
    "Diarrhea",
    "Alanine aminotransferase increased",
    "Aspartate aminotransferase increased",
    "Blood bilirubin increased",
    "Hepatic failure",
    "Cholecystitis",
    "Hepatic infection",
    "Vascular access complication",
    "Hematoma",
    "Arterial injury",
)
"""CTCAE v5.0 terms seen after TACE, offered first (any term may be typed)."""

_NUMBERS = (
    "session_delivered_warning_mg",
    "bilirubin_limit_mg_dl",
    "fluoroscopy_implausible_min",
    "contrast_implausible_ml",
    "lidocaine_implausible_mg",
    "dap_implausible_gy_cm2",
    "air_kerma_implausible_mgy",
)
_INTEGERS = (
    "course_procedures_warning_count",
    "default_interval_days",
    "stay_implausible_days",
    "duration_implausible_min",
)


@dataclass(frozen=True)
class ProcedureParameters:
    """The parsed ``procedure.json``: risk-factor thresholds and plausibility limits."""

    version: str
    values: Mapping[str, Sourced[Any]]

    def value(self, name: str) -> Any:
        """The value of a parameter."""
        return self.values[name].value

    def cite(self, name: str) -> str:
        """The source of a parameter, as a clinician reads it."""
        return self.values[name].cite()

    @property
    def limits(self) -> PlausibilityLimits:
        """The plausibility limits of the entered values."""
        return PlausibilityLimits(
            fluoroscopy_min=self.value("fluoroscopy_implausible_min"),
            contrast_ml=self.value("contrast_implausible_ml"),
            lidocaine_mg=self.value("lidocaine_implausible_mg"),
            dap_gy_cm2=self.value("dap_implausible_gy_cm2"),
            air_kerma_mgy=self.value("air_kerma_implausible_mgy"),
            stay_days=self.value("stay_implausible_days"),
            duration_min=self.value("duration_implausible_min"),
        )

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, origin: str = "procedure"
    ) -> ProcedureParameters:
        """Parse and validate ``procedure.json`` (the field is named on error)."""
        expected = (*_NUMBERS, *_INTEGERS, "risk_endpoints", "no_ia_lidocaine_is_risk")
        file = read_parameter_file(data, origin=origin, expected=expected)
        values: dict[str, Sourced[Any]] = {}
        for name, entry in file.entries.items():
            if name in _NUMBERS:
                value: Any = file.number(name)
            elif name in _INTEGERS:
                value = file.integer(name, minimum=1)
            elif name == "risk_endpoints":
                value = file.strings(name, ENDPOINTS)
            else:
                value = file.choice(name, ("yes", "no")) == "yes"
            values[name] = Sourced(value, entry.source, entry.evidence)
        return cls(version=file.version, values=values)


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """An adverse-event risk factor that applies to a record, with its source."""

    code: str
    message: str
    source: str

    def to_json(self) -> dict[str, str]:
        """JSON-ready dict (the CLI's ``risk_factors`` entries)."""
        return {"code": self.code, "message": self.message, "source": self.source}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RiskFactor:
        """Inverse of :meth:`to_json`."""
        return cls(str(data["code"]), str(data["message"]), str(data.get("source", "")))


@dataclass(frozen=True, slots=True)
class CourseContext:
    """The course around a record: its number in the course, the previous procedure."""

    number: int
    previous_on: dt.date | None = None
    planned_interval_days: int | None = None


def risk_factors(
    record: ProcedureRecord, course: CourseContext, params: ProcedureParameters
) -> tuple[RiskFactor, ...]:
    """The risk factors that apply to ``record`` (see the module notes)."""
    out: list[RiskFactor] = []
    delivered = delivered_dose_mg(record)
    limit = params.value("session_delivered_warning_mg")
    if delivered is not None and delivered > limit + 1e-9:
        out.append(
            RiskFactor(
                "risk.delivered_above_limit",
                f"{delivered:.0f} mg irinotecan delivered in one session, above {limit:g} mg.",
                params.cite("session_delivered_warning_mg"),
            )
        )
    if record.endpoint in params.value("risk_endpoints"):
        out.append(
            RiskFactor(
                "risk.complete_stasis",
                "End point complete stasis.",
                params.cite("risk_endpoints"),
            )
        )
    count = params.value("course_procedures_warning_count")
    if course.number >= count:
        out.append(
            RiskFactor(
                "risk.procedure_count",
                f"TACE {course.number} of the course (≥ {count} treatments).",
                params.cite("course_procedures_warning_count"),
            )
        )
    if params.value("no_ia_lidocaine_is_risk") and not (record.lidocaine_mg or 0) > 0:
        out.append(
            RiskFactor(
                "risk.no_ia_lidocaine",
                "No intra-arterial lidocaine recorded."
                if record.lidocaine_mg is None
                else "No intra-arterial lidocaine given (0 mg).",
                params.cite("no_ia_lidocaine_is_risk"),
            )
        )
    bilirubin = record.bilirubin_mg_dl
    limit_bili = params.value("bilirubin_limit_mg_dl")
    if bilirubin is not None and bilirubin > limit_bili:
        out.append(
            RiskFactor(
                "risk.bilirubin",
                f"Bilirubin {bilirubin:g} mg/dL at the procedure, above {limit_bili:g} mg/dL.",
                params.cite("bilirubin_limit_mg_dl"),
            )
        )
    interval = course.planned_interval_days or params.value("default_interval_days")
    if course.previous_on is not None and record.performed_on is not None:
        days = (record.performed_on - course.previous_on).days
        if days < interval:
            whose = "the plan's" if course.planned_interval_days else "the usual"
            out.append(
                RiskFactor(
                    "risk.short_interval",
                    f"{days} days since the previous TACE ({course.previous_on.isoformat()}), "
                    f"shorter than {whose} interval of {interval} days.",
                    params.cite("default_interval_days"),
                )
            )
    return tuple(out)


def grade_text(cirse: int | None, ctcae: int) -> str:
    """``"CTCAE 2 (moderate); CIRSE 3 (further therapy …)"`` for people."""
    text = f"CTCAE {ctcae} ({CTCAE_GRADES.get(ctcae, '?')})"
    if cirse is not None:
        text += f"; CIRSE {cirse} ({CIRSE_GRADES.get(cirse, '?')})"
    return text


def check_grades(cirse: int | None, ctcae: int) -> None:
    """Raise when a grade is out of its scale (CIRSE 1–6, CTCAE 1–5)."""
    if ctcae not in CTCAE_GRADES:
        raise InvalidInputError("CTCAE grade", f"must be 1–5, got {ctcae}")
    if cirse is not None and cirse not in CIRSE_GRADES:
        raise InvalidInputError("CIRSE grade", f"must be 1–6, got {cirse}")
