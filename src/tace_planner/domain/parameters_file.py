"""The one reader of the ``tace-planner-parameters/1`` file format.

Every versioned parameter file under ``resources/parameters/`` (planning,
imaging protocol, response criteria …) has the same shape::

    {"format": "tace-planner-parameters/1", "version": "2", "name": "...",
     "values": {"<name>": {"value": ..., "source": "...", "evidence": "S",
                           "unit": "mg"}, ...}}

The rules, the same for every file: the format string must match; ``version`` is
a non-empty string; ``values`` is an object; each entry has a ``value`` and a
non-empty ``source``; ``evidence`` is optional (default ``"no source"``) but,
when given, one of :data:`tace_planner.domain.catalogue.EVIDENCE_TAGS`; names
the reader does not expect are refused (a typo must not silently fall back to a
default). Error messages name ``"<origin>: values.<name>"``. The typed
accessors (:meth:`ParameterFile.number`, :meth:`ParameterFile.integer`, …)
check each value's type and range.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from tace_planner.domain.catalogue import EVIDENCE_TAGS, Sourced
from tace_planner.domain.errors import InvalidInputError

PARAMETERS_FORMAT = "tace-planner-parameters/1"


@dataclass(frozen=True)
class ParameterFile:
    """A parsed parameter file: its version and every entry with its source."""

    origin: str
    version: str
    entries: Mapping[str, Sourced[Any]]

    def where(self, name: str) -> str:
        """The field name used in error messages."""
        return f"{self.origin}: values.{name}"

    def sourced(self, name: str) -> Sourced[Any]:
        """The entry of ``name`` (value, source, evidence)."""
        return self.entries[name]

    def raw(self, name: str) -> Any:
        """The value of ``name`` as written in the file."""
        return self.entries[name].value

    def number(
        self,
        name: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        strictly_positive: bool = True,
    ) -> float:
        """A finite number (positive by default), optionally within a range."""
        value = self.raw(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInputError(self.where(name), f"must be a number, got {value!r}")
        if strictly_positive and value <= 0:
            raise InvalidInputError(self.where(name), f"must be positive, got {value!r}")
        if not strictly_positive and value < 0:
            raise InvalidInputError(self.where(name), f"must be ≥ 0, got {value!r}")
        if minimum is not None and value < minimum:
            raise InvalidInputError(self.where(name), f"must be ≥ {minimum:g}, got {value!r}")
        if maximum is not None and value > maximum:
            raise InvalidInputError(self.where(name), f"must be ≤ {maximum:g}, got {value!r}")
        return float(value)

    def integer(self, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
        """A whole number within a range."""
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(self.where(name), f"must be a whole number, got {value!r}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"{minimum}–{maximum}" if maximum is not None else f"≥ {minimum}"
            raise InvalidInputError(self.where(name), f"must be {bound}, got {value!r}")
        return value

    def choice(self, name: str, allowed: Collection[str]) -> str:
        """One of ``allowed``."""
        value = self.raw(name)
        if value not in allowed:
            raise InvalidInputError(self.where(name), f"must be one of {list(allowed)}")
        return str(value)

    def text(self, name: str) -> str:
        """A non-empty string."""
        value = self.raw(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(self.where(name), "must be a non-empty string")
        return value

    def strings(self, name: str, allowed: Collection[str] | None = None) -> tuple[str, ...]:
        """A list of strings (each one of ``allowed`` when given)."""
        value = self.raw(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInputError(self.where(name), "must be a list of strings")
        if allowed is not None:
            unknown = [v for v in value if v not in allowed]
            if unknown:
                raise InvalidInputError(
                    self.where(name), f"unknown {unknown}; expected some of {sorted(allowed)}"
                )
        return tuple(value)


def read_parameter_file(
    data: Mapping[str, Any], *, origin: str, expected: Collection[str]
) -> ParameterFile:
    """Check the common rules of the format and return the entries.

    Parameters
    ----------
    data : mapping
        The file's JSON content.
    origin : str
        Names the file in error messages.
    expected : collection of str
        Every value name the file must hold (no more, no fewer).

    Raises
    ------
    InvalidInputError
        The format, the version or an entry breaks a rule; the field is named.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(origin, "must hold a JSON object")
    if data.get("format") != PARAMETERS_FORMAT:
        raise InvalidInputError(f"{origin}: format", f"expected {PARAMETERS_FORMAT!r}")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise InvalidInputError(f"{origin}: version", "must be a non-empty string")
    raw = data.get("values")
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{origin}: values", "must be an object")
    entries: dict[str, Sourced[Any]] = {}
    for name in expected:
        where = f"{origin}: values.{name}"
        item = raw.get(name)
        if not isinstance(item, Mapping) or "value" not in item:
            raise InvalidInputError(where, 'missing; expected {"value", "source"}')
        source = item.get("source")
        if not isinstance(source, str) or not source.strip():
            raise InvalidInputError(f"{where}.source", "every value needs its source")
        evidence = item.get("evidence", "no source")
        if evidence not in EVIDENCE_TAGS:
            raise InvalidInputError(
                f"{where}.evidence", f"must be one of {list(EVIDENCE_TAGS)}, got {evidence!r}"
            )
        entries[name] = Sourced(item["value"], source, str(evidence))
    unknown = sorted(set(raw) - set(expected))
    if unknown:
        raise InvalidInputError(f"{origin}: values", f"unknown parameter(s) {unknown}")
    return ParameterFile(origin=origin, version=version, entries=entries)
