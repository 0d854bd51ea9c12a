"""Explanation and Advisory value types shown next to every clinical number.

Every clinical number the app shows can say how it was obtained: the formula,
the inputs with their units, the result and the source (architecture.md,
"Conventions"). These two small frozen types carry that text; they are plain
values, safe to pass between threads, to store as JSON and to print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

Severity = Literal["info", "warning", "strong_warning", "contraindication", "block"]
"""How strongly an advisory speaks: ``warning`` and ``strong_warning`` must be
acknowledged, ``contraindication`` needs an override with a reason, ``block``
stops the action until its inputs are fixed."""

SEVERITIES: tuple[Severity, ...] = (
    "info",
    "warning",
    "strong_warning",
    "contraindication",
    "block",
)


def _frozen_inputs(inputs: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({str(key): str(value) for key, value in inputs.items()})


@dataclass(frozen=True)
class Explanation:
    """How one clinical number was obtained.

    Parameters
    ----------
    summary : str
        One sentence naming the quantity and the method, e.g.
        ``"Tumour burden F from contoured volumes"``.
    formula : str
        The formula in plain text, e.g. ``"F = V_mts / V_liv × 100 %"``.
    inputs : Mapping[str, str]
        Input name -> value with its unit, e.g. ``{"V_mts": "41.2 cm³"}``.
        Stored as a read-only copy with ``str`` keys and values.
    result : str
        The result with its unit, e.g. ``"2.6 %"``.
    source : str, optional
        Where the formula or threshold comes from (paper, guideline, parameter file).
    """

    summary: str
    formula: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    result: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _frozen_inputs(self.inputs))

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (keys: summary, formula, inputs, result, source)."""
        return {
            "summary": self.summary,
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "result": self.result,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Explanation:
        """Rebuild an explanation from :meth:`to_json` output."""
        return cls(
            summary=str(data["summary"]),
            formula=str(data["formula"]),
            inputs=dict(data.get("inputs", {})),
            result=str(data.get("result", "")),
            source=str(data.get("source", "")),
        )

    def to_text(self) -> str:
        """Return a short multi-line human-readable form (for tooltips and print-outs)."""
        lines = [self.summary, f"  {self.formula}"]
        lines += [f"  {name} = {value}" for name, value in self.inputs.items()]
        if self.result:
            lines.append(f"  = {self.result}")
        if self.source:
            lines.append(f"  Source: {self.source}")
        return "\n".join(lines)

    def __hash__(self) -> int:
        return hash((self.summary, self.formula, tuple(self.inputs.items()), self.result))


@dataclass(frozen=True)
class Advisory:
    """A warning or note attached to a computed number or a plan.

    Parameters
    ----------
    code : str
        Stable machine-readable identifier, e.g. ``"burden.above_50_percent"``.
    severity : {"info", "warning", "strong_warning", "contraindication", "block"}
        How strongly the app speaks (see :data:`Severity`).
    message : str
        One or two sentences for the user.
    source : str, optional
        Where the rule comes from.
    """

    code: str
    severity: Severity
    message: str
    source: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_json(self) -> dict[str, str]:
        """Return a JSON-serialisable dict (keys: code, severity, message, source)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Advisory:
        """Rebuild an advisory from :meth:`to_json` output."""
        return cls(
            code=str(data["code"]),
            severity=data["severity"],
            message=str(data["message"]),
            source=str(data.get("source", "")),
        )
