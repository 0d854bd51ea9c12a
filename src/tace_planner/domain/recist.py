"""RECIST 1.1 measurability and target-lesion selection (Eisenhauer, Eur J Cancer 2009).

- A non-nodal lesion is measurable when its longest diameter is at least
  10 mm on slices no thicker than 5 mm, or at least twice the slice thickness
  on thicker slices.
- At most 5 target lesions in total and at most 2 per organ.

The thresholds are the ``recist.json`` parameter file's values
(:class:`RecistParameters`, format ``tace-planner-parameters/1``); reading the
file is the service's job. The parser here is deliberately small and
self-contained: it checks the format, the version and the values it needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.explanation import Advisory
from tace_planner.domain.parameters_file import read_parameter_file

RECIST_SOURCE = "RECIST 1.1 (Eisenhauer, Eur J Cancer 2009), target lesion selection"

_NUMBERS = (
    "min_longest_diameter_mm",
    "thin_slice_limit_mm",
    "slice_thickness_factor",
    "enhancing_threshold_hu",
)
_INTEGERS = ("max_targets", "max_targets_per_organ")


@dataclass(frozen=True)
class RecistParameters:
    """RECIST 1.1 thresholds and the enhancing-tissue threshold, with their sources.

    Attributes
    ----------
    version : str
        Version of the parameter file.
    min_longest_diameter_mm : float
        Smallest measurable longest diameter on thin slices (10 mm).
    thin_slice_limit_mm : float
        Slices up to this thickness use the fixed minimum (5 mm).
    slice_thickness_factor : float
        On thicker slices the minimum is this many slice thicknesses (2).
    max_targets, max_targets_per_organ : int
        5 and 2.
    enhancing_threshold_hu : float
        Arterial-phase HU at or above which a voxel counts as enhancing; an
        institutional default without a published source.
    sources : mapping of str to str
        The source text of every value.
    """

    version: str = "1"
    min_longest_diameter_mm: float = 10.0
    thin_slice_limit_mm: float = 5.0
    slice_thickness_factor: float = 2.0
    max_targets: int = 5
    max_targets_per_organ: int = 2
    enhancing_threshold_hu: float = 40.0
    sources: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "recist") -> RecistParameters:
        """Parse a ``tace-planner-parameters/1`` document.

        Raises
        ------
        InvalidInputError
            Wrong format, missing version, a missing, unknown or invalid value
            (the message names ``"<origin>: values.<name>"``).
        """
        file = read_parameter_file(data, origin=origin, expected=(*_NUMBERS, *_INTEGERS))
        values: dict[str, Any] = {}
        for name in _INTEGERS:
            values[name] = file.integer(name, minimum=1)
        for name in _NUMBERS:
            if name == "enhancing_threshold_hu":
                raw = file.raw(name)
                if (
                    isinstance(raw, bool)
                    or not isinstance(raw, int | float)
                    or not math.isfinite(raw)
                ):
                    raise InvalidInputError(file.where(name), f"must be a number, got {raw!r}")
                values[name] = float(raw)
            else:
                values[name] = file.number(name)
        sources = {name: entry.source.strip() for name, entry in file.entries.items()}
        version = file.version
        return cls(version=version, sources=sources, **values)

    def to_json(self) -> dict[str, Any]:
        """The values used, for the measurement's stored details."""
        return {
            "version": self.version,
            **{name: getattr(self, name) for name in (*_NUMBERS, *_INTEGERS)},
        }

    def enhancing_source(self) -> str:
        """The source text of the enhancing threshold (says "institutional default")."""
        return self.sources.get(
            "enhancing_threshold_hu", "institutional default, no published source"
        )


DEFAULT_RECIST = RecistParameters()


def measurable_minimum_mm(
    slice_thickness_mm: float | None, parameters: RecistParameters = DEFAULT_RECIST
) -> float:
    """Smallest measurable longest diameter for a slice thickness (RECIST 1.1).

    10 mm for slices up to 5 mm (or unknown thickness), else 2 × thickness.

    >>> measurable_minimum_mm(2.5), measurable_minimum_mm(7.0)
    (10.0, 14.0)
    """
    minimum = parameters.min_longest_diameter_mm
    if slice_thickness_mm is not None and slice_thickness_mm > parameters.thin_slice_limit_mm:
        minimum = max(minimum, parameters.slice_thickness_factor * float(slice_thickness_mm))
    return minimum


def is_measurable(
    longest_diameter_mm: float | None,
    slice_thickness_mm: float | None,
    parameters: RecistParameters = DEFAULT_RECIST,
) -> bool:
    """True when a lesion of this longest diameter is measurable on these slices."""
    if longest_diameter_mm is None:
        return False
    return longest_diameter_mm >= measurable_minimum_mm(slice_thickness_mm, parameters)


@dataclass(frozen=True)
class TargetCandidate:
    """A lesion considered as a RECIST target.

    Attributes
    ----------
    name : str
    organ : str
        Organ of the lesion ("liver" for every focus this app contours).
    longest_diameter_mm : float or None
        Its latest longest axial diameter (None: not measured).
    slice_thickness_mm : float or None
        Slice thickness of the series it was measured on.
    """

    name: str
    organ: str = "liver"
    longest_diameter_mm: float | None = None
    slice_thickness_mm: float | None = None


def target_advisories(
    candidate: TargetCandidate,
    current_targets: Sequence[TargetCandidate],
    parameters: RecistParameters = DEFAULT_RECIST,
) -> tuple[Advisory, ...]:
    """The RECIST 1.1 rules that making ``candidate`` a target would break (none: allowed).

    ``current_targets`` are the other lesions of the case already chosen as
    targets. Every advisory has severity "block": the selection is refused
    unless the physician overrides it with a reason.
    """
    notes = []
    others = [t for t in current_targets if t.name != candidate.name]
    if len(others) + 1 > parameters.max_targets:
        notes.append(
            Advisory(
                "recist.too_many_targets",
                "block",
                f"RECIST 1.1 allows at most {parameters.max_targets} target lesions; "
                f"this would be number {len(others) + 1}.",
                RECIST_SOURCE,
            )
        )
    same_organ = [t for t in others if t.organ == candidate.organ]
    if len(same_organ) + 1 > parameters.max_targets_per_organ:
        notes.append(
            Advisory(
                "recist.too_many_per_organ",
                "block",
                f"RECIST 1.1 allows at most {parameters.max_targets_per_organ} target lesions "
                f"per organ; the {candidate.organ} already has {len(same_organ)}.",
                RECIST_SOURCE,
            )
        )
    minimum = measurable_minimum_mm(candidate.slice_thickness_mm, parameters)
    rule = f"≥ {minimum:g} mm"
    if candidate.slice_thickness_mm is not None and (
        candidate.slice_thickness_mm > parameters.thin_slice_limit_mm
    ):
        rule += (
            f" (2 × the {candidate.slice_thickness_mm:g} mm slice thickness, slices thicker "
            f"than {parameters.thin_slice_limit_mm:g} mm)"
        )
    if candidate.longest_diameter_mm is None:
        notes.append(
            Advisory(
                "recist.not_measured",
                "block",
                f"{candidate.name} has no measured longest diameter yet; "
                f"a target must measure {rule}.",
                RECIST_SOURCE,
            )
        )
    elif candidate.longest_diameter_mm < minimum:
        notes.append(
            Advisory(
                "recist.too_small",
                "block",
                f"{candidate.name} measures {candidate.longest_diameter_mm:.1f} mm; a target "
                f"must measure {rule} in its longest axial diameter.",
                RECIST_SOURCE,
            )
        )
    return tuple(notes)
