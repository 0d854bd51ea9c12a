"""Vocabulary and parameters of the dosing model: model names, Couinaud territories, parameters.

:class:`PlanningParameters` is the parsed, validated content of
``resources/parameters/planning.json``: every value with its source and evidence tag
(clinical-reference.md) or "institutional, no published source". Reading the file
is the service's job; the snapshot (:meth:`PlanningParameters.to_json`) is stored
with every plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tace_planner.domain.body import BSA_FORMULAS, SLV_FORMULAS
from tace_planner.domain.catalogue import EVIDENCE_TAGS, Sourced
from tace_planner.domain.errors import InvalidInputError

Model = Literal["burden", "fixed"]
Delivery = Literal["lobar", "segmental"]
Schedule = Literal["sequential", "single"]
MODELS: tuple[Model, ...] = ("burden", "fixed")
DELIVERIES: tuple[Delivery, ...] = ("lobar", "segmental")
SCHEDULES: tuple[Schedule, ...] = ("sequential", "single")
PARAMETERS_FORMAT = "tace-planner-parameters/1"

SEGMENTS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
LOBES = ("right", "left", "caudate")
LOBE_SEGMENTS = {
    "right": ("V", "VI", "VII", "VIII"),
    "left": ("II", "III", "IV"),
    "caudate": ("I",),
}
LOBE_LABELS = {
    "right": "right lobe (V–VIII)",
    "left": "left lobe (II–IV)",
    "caudate": "caudate lobe (I)",
}
_LOBE_OF = {segment: lobe for lobe, segments in LOBE_SEGMENTS.items() for segment in segments}
_ARABIC = {str(n): roman for n, roman in enumerate(SEGMENTS, start=1)}
COUINAUD_SOURCE = "Couinaud segments, WJGS 2013 Fig 1 (clinical-reference §7)"


def normalise_segment(text: str) -> str | None:
    """Couinaud segment as a Roman numeral "I"…"VIII" ("IVa"/"IVb" → "IV"); None if unknown."""
    cleaned = text.strip().upper().removeprefix("SEGMENT").strip()
    cleaned = _ARABIC.get(cleaned, cleaned)
    if cleaned in ("IVA", "IVB"):
        cleaned = "IV"
    return cleaned if cleaned in SEGMENTS else None


def lobe_of_segment(segment: str) -> str | None:
    """Return "right", "left", "caudate" or None for a segment name (any accepted spelling)."""
    normal = normalise_segment(segment)
    return None if normal is None else _LOBE_OF[normal]


_NUMBER_PARAMETERS = (
    "embolic_capacity_ml_per_cm3",
    "min_beads_per_session_ml",
    "max_beads_per_session_ml",
    "loading_mg_per_ml",
    "per_session_warning_mg",
    "per_session_cap_mg",
    "fixed_dose_mg",
    "fixed_beads_ml",
    "course_warning_mg",
    "burden_warning_percent",
    "burden_strong_warning_percent",
    "bilirubin_warning_mg_dl",
    "liver_volume_min_cm3",
    "liver_volume_max_cm3",
    "slv_deviation_warning_fraction",
)
_INTEGER_PARAMETERS = ("sessions_warning_count", "ecog_max", "lobar_interval_days")
_CHOICE_PARAMETERS = {
    "default_model": MODELS,
    "bsa_formula": BSA_FORMULAS,
    "slv_formula": SLV_FORMULAS,
}
_TEXT_PARAMETERS = ("default_product",)


@dataclass(frozen=True)
class PlanningParameters:
    """The institution's planning parameters, each with its source (``planning.json``).

    Read them with :meth:`from_dict`; :meth:`value` and :meth:`cite` give a value
    and its source; :meth:`to_json` is the snapshot stored with each plan.
    """

    version: str
    values: Mapping[str, Sourced[Any]]
    origin: str = "planning"

    def value(self, name: str) -> Any:
        """The value of a parameter."""
        return self.values[name].value

    def cite(self, name: str) -> str:
        """The source of a parameter with its evidence tag."""
        return self.values[name].cite()

    def with_values(self, **changes: Any) -> PlanningParameters:
        """A copy with some values changed by the institution (source "institutional")."""
        values = dict(self.values)
        for name, value in changes.items():
            if name not in values:
                raise InvalidInputError(name, "is not a planning parameter")
            values[name] = Sourced(value, "changed in the institution's settings", "institutional")
        data = {"format": PARAMETERS_FORMAT, "version": self.version, "values": {}}
        data["values"] = {k: v.to_json() for k, v in values.items()}
        return PlanningParameters.from_dict(data, origin=self.origin)

    def to_json(self) -> dict[str, Any]:
        """The parameter file's form: format, version and every value with its source."""
        return {
            "format": PARAMETERS_FORMAT,
            "version": self.version,
            "values": {name: item.to_json() for name, item in self.values.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "planning") -> PlanningParameters:
        """Parse and validate ``planning.json``.

        Raises
        ------
        InvalidInputError
            A value is missing, of the wrong type, impossible, or inconsistent with
            another (a minimum above its maximum, a warning above its cap); the
            message names ``"<origin>: values.<name>"``.
        """
        if data.get("format") != PARAMETERS_FORMAT:
            raise InvalidInputError(f"{origin}: format", f"expected {PARAMETERS_FORMAT!r}")
        version = data.get("version")
        if not isinstance(version, str) or not version:
            raise InvalidInputError(f"{origin}: version", "must be a non-empty string")
        raw = data.get("values")
        if not isinstance(raw, Mapping):
            raise InvalidInputError(f"{origin}: values", "must be an object")
        values: dict[str, Sourced[Any]] = {}
        expected = (
            *_NUMBER_PARAMETERS,
            *_INTEGER_PARAMETERS,
            *_CHOICE_PARAMETERS,
            *_TEXT_PARAMETERS,
        )
        for name in expected:
            where = f"{origin}: values.{name}"
            item = raw.get(name)
            if not isinstance(item, Mapping):
                raise InvalidInputError(where, 'missing; expected {"value", "source", "evidence"}')
            source, evidence = item.get("source"), item.get("evidence")
            if not isinstance(source, str) or not source.strip():
                raise InvalidInputError(where, 'needs a "source"')
            if evidence not in EVIDENCE_TAGS:
                raise InvalidInputError(where, f'"evidence" must be one of {list(EVIDENCE_TAGS)}')
            values[name] = Sourced(
                _parameter_value(name, item.get("value"), where), source, evidence
            )
        unknown = sorted(set(raw) - set(expected))
        if unknown:
            raise InvalidInputError(f"{origin}: values", f"unknown parameter(s) {unknown}")
        params = cls(version=version, values=values, origin=origin)
        _check_consistency(params, origin)
        return params


def _parameter_value(name: str, value: Any, where: str) -> Any:
    if name in _NUMBER_PARAMETERS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(where, f"must be a number, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise InvalidInputError(where, f"must be positive, got {value!r}")
        return float(value)
    if name in _INTEGER_PARAMETERS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInputError(where, f"must be a whole number ≥ 0, got {value!r}")
        return value
    if name in _CHOICE_PARAMETERS:
        if value not in _CHOICE_PARAMETERS[name]:
            raise InvalidInputError(where, f"must be one of {list(_CHOICE_PARAMETERS[name])}")
        return value
    if not isinstance(value, str) or not value:
        raise InvalidInputError(where, "must be a non-empty string")
    return value


def _check_consistency(params: PlanningParameters, origin: str) -> None:
    pairs = (
        ("min_beads_per_session_ml", "max_beads_per_session_ml"),
        ("per_session_warning_mg", "per_session_cap_mg"),
        ("burden_warning_percent", "burden_strong_warning_percent"),
        ("liver_volume_min_cm3", "liver_volume_max_cm3"),
    )
    for low, high in pairs:
        if params.value(low) > params.value(high):
            raise InvalidInputError(
                f"{origin}: values.{low}",
                f"{params.value(low):g} is above {high} = {params.value(high):g}",
            )
    if params.value("lobar_interval_days") < 1:
        raise InvalidInputError(f"{origin}: values.lobar_interval_days", "must be ≥ 1 day")
