"""The result every response engine returns, and the exact threshold tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tace_planner.domain.explanation import Explanation

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Response:
    """One criterion's verdict at one timepoint.

    Attributes
    ----------
    criterion : str
        e.g. ``"RECIST 1.1"``.
    category : str
        ``"CR"``, ``"PR"``, ``"SD"``, ``"PD"``, ``"NE"``, ``"NON-CR/NON-PD"`` …
    rule : str
        The rule that decided, in one sentence.
    explanation : Explanation
        Inputs, thresholds, formula, result and source.
    validated_for : str
        The tumour type the criterion was validated for (others are extrapolations).
    """

    criterion: str
    category: str
    rule: str
    explanation: Explanation
    validated_for: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "criterion": self.criterion,
            "category": self.category,
            "rule": self.rule,
            "validated_for": self.validated_for,
            "explanation": self.explanation.to_json(),
        }


def verdict(
    criterion: str,
    validated_for: str,
    what: str,
    formula: str,
    source: str,
    inputs: Mapping[str, str],
    category: str,
    rule: str,
) -> Response:
    """A :class:`Response` whose explanation reads "<what>: <rule>" with ``category``."""
    return Response(
        criterion,
        category,
        rule,
        Explanation(f"{what}: {rule}", formula, inputs, category, source),
        validated_for,
    )


def change_percent(value: Decimal, reference: Decimal) -> Decimal | None:
    """(value − reference) / reference × 100, exact; None when the reference is 0."""
    if reference == 0:
        return None
    return (value - reference) * HUNDRED / reference


def decreased_by_at_least(value: Decimal, reference: Decimal, percent: Decimal) -> bool:
    """value ≤ reference × (1 − percent/100), compared exactly (reference > 0)."""
    return reference > 0 and (reference - value) * HUNDRED >= percent * reference


def increased_by_at_least(value: Decimal, reference: Decimal, percent: Decimal) -> bool:
    """value ≥ reference × (1 + percent/100), compared exactly (reference 0: any increase)."""
    if reference == 0:
        return value > 0
    return (value - reference) * HUNDRED >= percent * reference


def progression_sources(target: str | None, non_target: str | None, new_lesions: str) -> str:
    """What progressed (target, non-target, an unequivocal new lesion), "" when nothing did."""
    hits = [
        name
        for name, hit in (
            ("target", target == "PD"),
            ("non-target", non_target == "PD"),
            ("an unequivocal new lesion", new_lesions == "unequivocal"),
        )
        if hit
    ]
    return " and ".join(hits)


def fmt(value: Decimal | None, unit: str = "") -> str:
    """A decimal for the explanation, without trailing zeros."""
    if value is None:
        return "undefined"
    text = f"{value.quantize(Decimal('0.1')).normalize():f}"
    return f"{text} {unit}".strip()
