"""Vocabulary and parameters of the dosing model: model names, Couinaud territories, parameters.

:class:`PlanningParameters` is the parsed, validated content of
``resources/parameters/planning.json``: every value with its source and evidence tag
or "institutional, no published source". Reading the file
is the service's job; the snapshot (:meth:`PlanningParameters.to_json`) is stored
with every plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tace_planner.domain.body import BSA_FORMULAS, SLV_FORMULAS
from tace_planner.domain.catalogue import Sourced
from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.parameters_file import (
    PARAMETERS_FORMAT,
    ParameterFile,
    read_parameter_file,
)

Model = Literal["burden", "fixed"]
Delivery = Literal["lobar", "segmental"]
Schedule = Literal["sequential", "single"]
MODELS: tuple[Model, ...] = ("burden", "fixed")
DELIVERIES: tuple[Delivery, ...] = ("lobar", "segmental")
SCHEDULES: tuple[Schedule, ...] = ("sequential", "single")

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
        expected = (
            *_NUMBER_PARAMETERS,
            *_INTEGER_PARAMETERS,
            *_CHOICE_PARAMETERS,
            *_TEXT_PARAMETERS,
        )
        file = read_parameter_file(data, origin=origin, expected=expected)
        values = {
            name: Sourced(_parameter_value(file, name), entry.source, entry.evidence)
            for name, entry in file.entries.items()
        }
        version = file.version
        params = cls(version=version, values=values, origin=origin)
        _check_consistency(params, origin)
        return params


def _parameter_value(file: ParameterFile, name: str) -> Any:
    if name in _NUMBER_PARAMETERS:
        return file.number(name)
    if name in _INTEGER_PARAMETERS:
        return file.integer(name)
    if name in _CHOICE_PARAMETERS:
        return file.choice(name, _CHOICE_PARAMETERS[name])
    return file.text(name)


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
