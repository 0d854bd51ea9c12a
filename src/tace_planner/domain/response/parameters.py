"""The thresholds of every response criterion, read from ``response.json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.parameters_file import read_parameter_file

_INTEGER_NAMES = ("confirmation_min_days", "sd_min_days")
_ADDED_IN_2 = ("mrecist_new_lesion_min_mm", "mrecist_new_lesion_growth_mm")
"""Added in version 2; a version-1 file (an institution's older copy) keeps the defaults."""
SOURCE_SEPARATOR = "; "
"""Joins the sources of several thresholds (:meth:`ResponseParameters.source`), so that each
part of the joined text carries its own citation: one source's text never holds it."""
_SEPARATOR_IN_SOURCES_BEFORE = ("1", "2")
"""Versions written before version 3, when two shipped sources held "; " inside them (a
lymph-node and a volumetric threshold). An institution's copy of such a file is read with
"; " inside a source turned into ", " (the wording of version 3); a later file is refused."""
_RECIST = "RECIST 1.1 (Eisenhauer, Eur J Cancer 2009)"
_NODES = "RECIST 1.1 lymph nodes (Schwartz, Eur J Cancer 2009)"
_MRECIST = "mRECIST (Lencioni and Llovet, Semin Liver Dis 2010)"
_CHOI = "Choi et al., J Clin Oncol 2007"
_VOLUME = "RECIST 1.1 limits as sphere volumes (Eisenhauer, Eur J Cancer 2009)"
BUILT_IN_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "recist_pr_decrease_percent": _RECIST,
        "recist_pd_increase_percent": _RECIST,
        "recist_pd_absolute_mm": _RECIST,
        "node_normal_short_axis_mm": _NODES,
        "node_target_short_axis_mm": _NODES,
        "too_small_to_measure_mm": _RECIST,
        "confirmation_min_days": _RECIST,
        "sd_min_days": "institutional default: RECIST 1.1 leaves the minimum duration of "
        "stable disease to the protocol (Eisenhauer, Eur J Cancer 2009)",
        "mrecist_pr_decrease_percent": _MRECIST,
        "mrecist_pd_increase_percent": _MRECIST,
        "mrecist_new_lesion_min_mm": _MRECIST,
        "mrecist_new_lesion_growth_mm": _MRECIST,
        "easl_pr_decrease_percent": "EASL (Bruix et al., J Hepatol 2001)",
        "easl_pd_increase_percent": "EASL (Bruix et al., J Hepatol 2001)",
        "choi_size_pr_decrease_percent": _CHOI,
        "choi_density_pr_decrease_percent": _CHOI,
        "choi_size_pd_increase_percent": _CHOI,
        "volume_pr_decrease_percent": _VOLUME,
        "volume_pd_increase_percent": _VOLUME,
    }
)
"""The citation of each built-in threshold (used where a file gives no source text)."""


@dataclass(frozen=True)
class ResponseParameters:
    """Response thresholds (percentages, mm, days) with the source text of each.

    Percentages are kept as :class:`~decimal.Decimal` so that a value exactly on a
    threshold (−30 %, +20 %, +5 mm) is compared exactly, not with float rounding.
    """

    version: str = "3"
    recist_pr_decrease_percent: Decimal = Decimal(30)
    recist_pd_increase_percent: Decimal = Decimal(20)
    recist_pd_absolute_mm: Decimal = Decimal(5)
    node_normal_short_axis_mm: Decimal = Decimal(10)
    node_target_short_axis_mm: Decimal = Decimal(15)
    too_small_to_measure_mm: Decimal = Decimal(5)
    confirmation_min_days: int = 28
    sd_min_days: int = 42
    mrecist_pr_decrease_percent: Decimal = Decimal(30)
    mrecist_pd_increase_percent: Decimal = Decimal(20)
    mrecist_new_lesion_min_mm: Decimal = Decimal(10)
    mrecist_new_lesion_growth_mm: Decimal = Decimal(10)
    easl_pr_decrease_percent: Decimal = Decimal(50)
    easl_pd_increase_percent: Decimal = Decimal(25)
    choi_size_pr_decrease_percent: Decimal = Decimal(10)
    choi_density_pr_decrease_percent: Decimal = Decimal(15)
    choi_size_pd_increase_percent: Decimal = Decimal(10)
    volume_pr_decrease_percent: Decimal = Decimal(65)
    volume_pd_increase_percent: Decimal = Decimal(73)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every threshold name of the file."""
        return tuple(f.name for f in fields(cls) if f.name not in ("version", "sources"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "response") -> ResponseParameters:
        """Parse a ``tace-planner-parameters/1`` document.

        Raises
        ------
        InvalidInputError
            Wrong format or version, a missing, unknown or invalid value (named).
        """
        given = data.get("values") if isinstance(data, Mapping) else None
        names = tuple(
            n for n in cls.names()
            if n not in _ADDED_IN_2 or (isinstance(given, Mapping) and n in given)
        )  # fmt: skip
        file = read_parameter_file(data, origin=origin, expected=names)
        values: dict[str, Any] = {}
        for name in names:
            if name in _INTEGER_NAMES:
                values[name] = file.integer(name, minimum=0, maximum=3650)
            else:
                maximum = 1000.0 if name.endswith("_percent") else 100.0
                values[name] = decimal(file.number(name, maximum=maximum))
        sources = {
            name: _source_text(entry.source, file.version, file.where(name))
            for name, entry in file.entries.items()
        }
        return cls(version=file.version, sources=sources, **values)

    def source(self, *names: str) -> str:
        """The source texts of ``names`` (the built-in citation where the file gives none),
        each once, joined by :data:`SOURCE_SEPARATOR`."""
        texts = [
            self.sources.get(n) or BUILT_IN_SOURCES[n]
            for n in names
            if n in self.sources or n in BUILT_IN_SOURCES
        ]
        return SOURCE_SEPARATOR.join(dict.fromkeys(texts))

    def to_json(self) -> dict[str, Any]:
        """The values used (for stored assessments and JSON output)."""
        out: dict[str, Any] = {"version": self.version}
        for name in self.names():
            value = getattr(self, name)
            out[name] = value if isinstance(value, int) else float(value)
        return out


def _source_text(text: str, version: str, where: str) -> str:
    """A threshold's source as read from a file of ``version`` (see
    :data:`_SEPARATOR_IN_SOURCES_BEFORE`).

    Raises
    ------
    InvalidInputError
        A file of version 3 or later holds :data:`SOURCE_SEPARATOR` inside a source.
    """
    text = text.strip()
    if SOURCE_SEPARATOR not in text:
        return text
    if version.strip() in _SEPARATOR_IN_SOURCES_BEFORE:
        return text.replace(SOURCE_SEPARATOR, ", ")
    raise InvalidInputError(
        f"{where}.source",
        f'holds "{SOURCE_SEPARATOR}", which separates one source from the next where '
        'several are shown together: write ", " instead',
    )


def decimal(value: float | int | Decimal) -> Decimal:
    """``value`` as the decimal number it is written as (0.1 → Decimal("0.1"))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


DEFAULT_RESPONSE = ResponseParameters()
