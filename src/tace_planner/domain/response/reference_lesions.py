"""Which baseline lesions each response criterion measures (its reference set).

One rule for every criterion, so that they agree on what they measure and say it:

* **Targets chosen** by the physician: every criterion measures those targets and
  nothing else (RECIST 1.1 target selection, Eisenhauer, Eur J Cancer 2009).
* **No targets chosen**, per criterion:

  - RECIST 1.1: the targets are the reader's choice (the largest, reproducible
    measurable lesions, ≤ 5 in total and ≤ 2 per organ; Eisenhauer, Eur J Cancer
    2009). None chosen: no target sum; every focus is a non-target lesion (the
    paper's table for non-target disease only).
  - mRECIST: targets are measurable as in RECIST 1.1, ≥ 10 mm (Lencioni and Llovet,
    Semin Liver Dis 2010): the measurable foci.
  - Choi: the sum of longest diameters of lesions measurable as in RECIST (Choi et
    al., J Clin Oncol 2007): the measurable foci.
  - EASL: the viable area of measurable lesions (Bruix et al., J Hepatol 2001); EASL
    sets no minimum size of its own, so the RECIST 1.1 minimum is used (an
    institutional default).
  - volumetric: the total tumour volume (as in Wesdorp et al., Ann Surg Open 2021):
    every focus, however small.

Choices written down: measurability is the RECIST 1.1 minimum of
:func:`tace_planner.domain.recist.measurable_minimum_mm` for an unknown slice
thickness (10 mm: the measurements do not carry the slice thickness); a focus
without a measured longest diameter is not measurable. The RECIST limits of 5
targets and 2 per organ are **not** applied to the measurable foci taken in place of
targets: picking the "largest and reproducible" few is the reader's judgement, and the
detail text says that every measurable focus was measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from tace_planner.domain.recist import (
    DEFAULT_RECIST,
    RecistParameters,
    is_measurable,
    measurable_minimum_mm,
)

Basis = Literal["targets", "measurable", "all", "none"]

_RECIST = "Eisenhauer, Eur J Cancer 2009"


@dataclass(frozen=True)
class ReferenceRule:
    """What a criterion measures when no targets were chosen, with its citation."""

    title: str
    without_targets: Basis
    source: str


REFERENCE_RULES: Mapping[str, ReferenceRule] = MappingProxyType(
    {
        "recist": ReferenceRule(
            "RECIST 1.1",
            "none",
            f"RECIST 1.1 target lesions are the reader's choice ({_RECIST})",
        ),
        "mrecist": ReferenceRule(
            "mRECIST",
            "measurable",
            "mRECIST targets are measurable as in RECIST 1.1 (Lencioni and Llovet, Semin Liver "
            f"Dis 2010; {_RECIST})",
        ),
        "easl": ReferenceRule(
            "EASL",
            "measurable",
            "EASL measures the viable area of measurable lesions (Bruix et al., J Hepatol 2001) "
            f"and sets no minimum size: the RECIST 1.1 minimum ({_RECIST}) is an institutional "
            "default",
        ),
        "choi": ReferenceRule(
            "Choi",
            "measurable",
            "Choi measures lesions measurable as in RECIST (Choi et al., J Clin Oncol 2007; "
            f"{_RECIST})",
        ),
        "volume": ReferenceRule(
            "the volumetric criterion",
            "all",
            "The volumetric criterion measures the total tumour volume (as in Wesdorp et al., "
            "Ann Surg Open 2021)",
        ),
    }
)
"""The rule of each criterion, keyed as the assessment keys its criteria."""


@dataclass(frozen=True)
class BaselineFocus:
    """A focus at baseline as the reference rule reads it.

    ``longest_diameter_mm``: its longest axial diameter (None: not measured).
    """

    name: str
    longest_diameter_mm: float | None
    is_target: bool = False


@dataclass(frozen=True)
class ReferenceSet:
    """The lesions one criterion measures, and why (``detail``)."""

    criterion: str
    basis: Basis
    lesions: tuple[str, ...]
    left_out: tuple[BaselineFocus, ...]
    """Foci not measured: below the minimum or without a longest diameter."""
    small_included: tuple[BaselineFocus, ...]
    """Foci below the minimum that are measured all the same (the volumetric criterion)."""
    minimum_mm: float
    total_foci: int
    source: str

    def detail(self) -> str:
        """What a clinician reads: which lesions, which were left out, and the rule's source."""
        title = REFERENCE_RULES[self.criterion].title
        n = len(self.lesions)
        if self.basis == "targets":
            return (
                f"{title} measured the {_count(n, 'target lesion')} chosen by the physician: "
                f"{', '.join(self.lesions)}"
            )
        chosen = "No target lesions were chosen"
        if self.basis == "none":
            said = (
                f"{chosen}: {title} has no target sum and assesses "
                f"{_count(self.total_foci, 'focus', 'foci')} as non-target lesions"
            )
        elif self.basis == "all":
            small = self.small_included
            also = f", {_sizes(small)} included" if small else ""
            every = f"all {n} foci" if n != 1 else "the one focus"
            said = f"{chosen}: {title} measured the total volume of {every}{also}"
        elif not self.lesions:
            said = (
                f"{chosen} and no focus is measurable ({self._left_out_words()}): "
                f"{title} has no lesion to measure"
            )
        else:
            why = f" ({self._left_out_words()})" if self.left_out else ""
            foci = _count(n, "measurable focus", "measurable foci")
            said = f"{chosen}: {title} measured the {foci}{why}"
        return f"{said}. {self.source}."

    def _left_out_words(self) -> str:
        small = [f for f in self.left_out if f.longest_diameter_mm is not None]
        unmeasured = [f.name for f in self.left_out if f.longest_diameter_mm is None]
        parts = []
        if small:
            verb = "is" if len(small) == 1 else "are"
            parts.append(f"{_sizes(small)} {verb} below {self.minimum_mm:g} mm")
        if unmeasured:
            verb = "has" if len(unmeasured) == 1 else "have"
            parts.append(f"{', '.join(unmeasured)} {verb} no measured longest diameter")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: the lesion names, the basis, what was left out and the sentence."""
        return {
            "lesions": list(self.lesions),
            "basis": self.basis,
            "left_out": [f.name for f in self.left_out],
            "detail": self.detail(),
        }


def _sizes(foci: Sequence[BaselineFocus]) -> str:
    """'F5 at 9.9 mm', or 'F5 at 9.9 mm, F6 at 9.0 mm and F7 at 8.0 mm'."""
    listed = [f"{f.name} at {f.longest_diameter_mm:.1f} mm" for f in foci]
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def reference_lesions(
    criterion: str,
    foci: Sequence[BaselineFocus],
    recist: RecistParameters = DEFAULT_RECIST,
) -> ReferenceSet:
    """The baseline lesions ``criterion`` (a key of :data:`REFERENCE_RULES`) measures.

    The physician's targets when any were chosen; otherwise the criterion's rule
    (module notes). Raises KeyError for an unknown criterion.
    """
    rule = REFERENCE_RULES[criterion]
    targets = tuple(f.name for f in foci if f.is_target)
    minimum = measurable_minimum_mm(None, recist)
    n, source = len(foci), rule.source
    if targets:
        return ReferenceSet(criterion, "targets", targets, (), (), minimum, n, source)
    if rule.without_targets == "none":
        return ReferenceSet(criterion, "none", (), (), (), minimum, n, source)
    measurable = [f for f in foci if is_measurable(f.longest_diameter_mm, None, recist)]
    small = tuple(f for f in foci if f not in measurable and f.longest_diameter_mm is not None)
    if rule.without_targets == "all":
        names = tuple(f.name for f in foci)
        return ReferenceSet(criterion, "all", names, (), small, minimum, n, source)
    left_out = tuple(f for f in foci if f not in measurable)
    kept = tuple(f.name for f in measurable)
    return ReferenceSet(criterion, "measurable", kept, left_out, (), minimum, n, source)
