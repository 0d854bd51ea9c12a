"""The microsphere product catalogue: sizes, vial volume, irinotecan capacity, each value sourced.

The catalogue is data (``resources/parameters/bead_catalogue.json``, versioned);
this module holds its value types and parses and validates its content. Every
value carries where it comes from and an evidence tag (``G`` guideline, ``M``
manufacturer, ``S`` study, ``D`` derived, ``unverified`` for a value no published
source gives, ``institutional``, ``user`` or ``no source``). A value that no source gives is
``None``: the planner then refuses to compute what depends on it and says why
(e.g. HepaSphere has no published irinotecan capacity; Merit IFU).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from tace_planner.domain.errors import InvalidInputError

CATALOGUE_FORMAT = "tace-planner-bead-catalogue/1"

EVIDENCE_TAGS = ("G", "M", "S", "D", "unverified", "institutional", "user", "no source")
"""Allowed evidence tags (the data's own vocabulary; never shown to a clinician: ``cite()``
prints the source text only). "unverified": searched, no published source gives the value."""

MISSING_VALUE_TAGS = ("unverified", "no source")
"""The tags a value that is not given (``None``) may carry."""

_LEGACY_EVIDENCE_TAGS = {"NOT FOUND": "unverified"}
"""Tags of catalogue files and plan snapshots written before the rename, read as the new tag."""

LabelStatus = Literal["yes", "no"]
"""Whether the product's label (IFU / CE mark) covers loading irinotecan."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    """A catalogue or parameter value with its source.

    Parameters
    ----------
    value : T or None
        None when no source gives the value.
    source : str
        Where the value comes from, e.g. "DC Bead IFU; Taylor, Eur J Pharm Sci 2007".
    evidence : str
        One of :data:`EVIDENCE_TAGS`.
    """

    value: T | None
    source: str
    evidence: str

    @property
    def known(self) -> bool:
        """True when a value is given."""
        return self.value is not None

    def cite(self) -> str:
        """The source as a clinician reads it in explanations and on the plan sheet.

        The evidence tag stays in the data (``evidence``); the text names the
        publication, or says "institutional default" for a value no publication gives.
        """
        source = self.source.strip()
        if self.evidence == "institutional" and "institution" not in source.lower():
            return f"institutional default: {source}"
        if self.evidence == "user" and "entered" not in source.lower():
            return f"entered by the user: {source}"
        return source

    def to_json(self) -> dict[str, Any]:
        """The catalogue file's form: ``{"value": …, "source": …, "evidence": …}``."""
        value: Any = self.value
        if isinstance(value, tuple):
            value = [list(item) if isinstance(item, tuple) else item for item in value]
        return {"value": value, "source": self.source, "evidence": self.evidence}


@dataclass(frozen=True, slots=True)
class SizeRange:
    """A calibrated size range of a product, in micrometres (low == high: a nominal size)."""

    low_um: float
    high_um: float

    def label(self) -> str:
        """E.g. ``"100–300 µm"``, or ``"40 µm"`` for a nominal size."""
        if self.low_um == self.high_um:
            return f"{self.low_um:g} µm"
        return f"{self.low_um:g}–{self.high_um:g} µm"


@dataclass(frozen=True, slots=True)
class BeadProduct:
    """One drug-eluting microsphere product (manufacturer IFU and published loading studies).

    Parameters
    ----------
    code : str
        Stable identifier, e.g. ``"dc_bead"``.
    name : str
        Name for people.
    sizes : Sourced[tuple[SizeRange, ...]]
        Calibrated sizes as sold (dry sizes when ``sizes_state == "dry"``).
    sizes_state : {"hydrated", "dry"}
        HepaSphere is sold dry and swells; the others are sold hydrated.
    vial_bead_volume_ml : Sourced[float]
        Hydrated bead volume in one vial, mL.
    irinotecan_capacity_mg_per_ml : Sourced[float]
        Most irinotecan one mL of hydrated beads takes up, mg/mL.
    irinotecan_label : Sourced[str]
        "yes" when the label covers irinotecan, "no" when it does not, None unknown.
    loading_time_min : Sourced[float]
        Time to load irinotecan, minutes.
    diameter_swelling_factor : Sourced[float]
        Hydrated over dry diameter (HepaSphere ≈ 4, IFU); None for products sold hydrated.
    size_change_on_loading_percent : Sourced[float]
        Change of diameter when loaded (negative = shrinks).
    notes : str
        Free text shown with the product.
    """

    code: str
    name: str
    sizes: Sourced[tuple[SizeRange, ...]]
    sizes_state: str
    vial_bead_volume_ml: Sourced[float]
    irinotecan_capacity_mg_per_ml: Sourced[float]
    irinotecan_label: Sourced[str]
    loading_time_min: Sourced[float]
    diameter_swelling_factor: Sourced[float]
    size_change_on_loading_percent: Sourced[float]
    notes: str = ""

    def hydrated_sizes(self) -> tuple[SizeRange, ...]:
        """Sizes after hydration: dry sizes × the diameter swelling factor when sold dry.

        Notes
        -----
        HepaSphere swells to about 4× its dry diameter in saline or non-ionic
        contrast (Merit IFU); by arithmetic 50–100 µm dry → 200–400 µm.
        """
        sizes = self.sizes.value or ()
        factor = self.diameter_swelling_factor.value
        if self.sizes_state != "dry" or factor is None:
            return sizes
        return tuple(SizeRange(s.low_um * factor, s.high_um * factor) for s in sizes)

    def with_user_values(
        self,
        *,
        capacity_mg_per_ml: float | None = None,
        vial_bead_volume_ml: float | None = None,
        entered_by: str = "the user",
    ) -> BeadProduct:
        """A copy with values the user entered (for a product whose catalogue lacks them).

        Raises
        ------
        InvalidInputError
            A value is not a positive finite number.
        """
        product = self
        if capacity_mg_per_ml is not None:
            _positive(capacity_mg_per_ml, "irinotecan capacity (mg/mL)")
            product = replace(
                product,
                irinotecan_capacity_mg_per_ml=Sourced(
                    float(capacity_mg_per_ml), f"entered by {entered_by} for this plan", "user"
                ),
            )
        if vial_bead_volume_ml is not None:
            _positive(vial_bead_volume_ml, "vial bead volume (mL)")
            product = replace(
                product,
                vial_bead_volume_ml=Sourced(
                    float(vial_bead_volume_ml), f"entered by {entered_by} for this plan", "user"
                ),
            )
        return product

    def to_json(self) -> dict[str, Any]:
        """The catalogue file's form of this product (a snapshot for a plan record)."""
        return {
            "code": self.code,
            "name": self.name,
            "sizes_state": self.sizes_state,
            "sizes_um": Sourced(
                [[s.low_um, s.high_um] for s in self.sizes.value]
                if self.sizes.value is not None
                else None,
                self.sizes.source,
                self.sizes.evidence,
            ).to_json(),
            "vial_bead_volume_ml": self.vial_bead_volume_ml.to_json(),
            "irinotecan_capacity_mg_per_ml": self.irinotecan_capacity_mg_per_ml.to_json(),
            "irinotecan_label": self.irinotecan_label.to_json(),
            "loading_time_min": self.loading_time_min.to_json(),
            "diameter_swelling_factor": self.diameter_swelling_factor.to_json(),
            "size_change_on_loading_percent": self.size_change_on_loading_percent.to_json(),
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class BeadCatalogue:
    """The versioned product list."""

    version: str
    products: tuple[BeadProduct, ...]
    origin: str = "bead_catalogue"

    def product(self, code: str) -> BeadProduct:
        """The product with this code.

        Raises
        ------
        InvalidInputError
            No product has this code; the message lists the codes.
        """
        for product in self.products:
            if product.code == code:
                return product
        codes = ", ".join(p.code for p in self.products)
        raise InvalidInputError("product", f"{code!r} is not in the catalogue ({codes})")

    @property
    def codes(self) -> tuple[str, ...]:
        """Product codes in file order."""
        return tuple(p.code for p in self.products)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, origin: str = "bead_catalogue") -> BeadCatalogue:
        """Parse and validate the content of ``bead_catalogue.json``.

        Raises
        ------
        InvalidInputError
            The format, version or a product field is missing or invalid; the
            field is named as ``"<origin>: products[dc_bead].vial_bead_volume_ml"``.
        """
        if data.get("format") != CATALOGUE_FORMAT:
            raise InvalidInputError(f"{origin}: format", f"expected {CATALOGUE_FORMAT!r}")
        version = data.get("version")
        if not isinstance(version, str) or not version:
            raise InvalidInputError(f"{origin}: version", "must be a non-empty string")
        entries = data.get("products")
        if not isinstance(entries, Sequence) or isinstance(entries, str) or not entries:
            raise InvalidInputError(f"{origin}: products", "must be a non-empty list")
        products = []
        for index, entry in enumerate(entries):
            products.append(_parse_product(entry, f"{origin}: products[{index}]"))
        codes = [p.code for p in products]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise InvalidInputError(f"{origin}: products", f"duplicate codes {duplicates}")
        return cls(version=version, products=tuple(products), origin=origin)


# ---------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------


def _positive(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, f"must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInputError(field, f"must be a positive number, got {value!r}")
    return number


def _sourced_raw(entry: Mapping[str, Any], key: str, where: str) -> tuple[Any, str, str]:
    field = f"{where}.{key}"
    item = entry.get(key)
    if not isinstance(item, Mapping):
        raise InvalidInputError(field, 'must be {"value": …, "source": …, "evidence": …}')
    source = item.get("source")
    evidence = item.get("evidence")
    if isinstance(evidence, str):
        evidence = _LEGACY_EVIDENCE_TAGS.get(evidence, evidence)
    if not isinstance(source, str) or not source.strip():
        raise InvalidInputError(field, 'needs a "source" (write "no source" when there is none)')
    if evidence not in EVIDENCE_TAGS:
        raise InvalidInputError(field, f'"evidence" must be one of {list(EVIDENCE_TAGS)}')
    value = item.get("value")
    if value is None and evidence not in MISSING_VALUE_TAGS:
        raise InvalidInputError(field, 'a missing value needs evidence "unverified" or "no source"')
    return value, source.strip(), str(evidence)


def _sourced_number(entry: Mapping[str, Any], key: str, where: str) -> Sourced[float]:
    value, source, evidence = _sourced_raw(entry, key, where)
    if value is None:
        return Sourced(None, source, evidence)
    return Sourced(_positive(value, f"{where}.{key}"), source, evidence)


def _sourced_signed(entry: Mapping[str, Any], key: str, where: str) -> Sourced[float]:
    value, source, evidence = _sourced_raw(entry, key, where)
    if value is None:
        return Sourced(None, source, evidence)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{where}.{key}", f"must be a number, got {value!r}")
    return Sourced(float(value), source, evidence)


def _sourced_sizes(entry: Mapping[str, Any], where: str) -> Sourced[tuple[SizeRange, ...]]:
    value, source, evidence = _sourced_raw(entry, "sizes_um", where)
    if value is None:
        return Sourced(None, source, evidence)
    field = f"{where}.sizes_um"
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidInputError(field, "must be a list of [low, high] pairs in µm")
    sizes = []
    for pair in value:
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise InvalidInputError(field, f"{pair!r} is not a [low, high] pair")
        low, high = (_positive(v, field) for v in pair)
        if low > high:
            raise InvalidInputError(field, f"{low:g}–{high:g} µm: low must not exceed high")
        sizes.append(SizeRange(low, high))
    return Sourced(tuple(sizes), source, evidence)


def _parse_product(entry: Any, where: str) -> BeadProduct:
    if not isinstance(entry, Mapping):
        raise InvalidInputError(where, "must be an object")
    code = entry.get("code")
    name = entry.get("name")
    if not isinstance(code, str) or not code.strip():
        raise InvalidInputError(f"{where}.code", "must be a non-empty string")
    where = f"{where.rsplit('[', 1)[0]}[{code}]"
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{where}.name", "must be a non-empty string")
    sizes_state = entry.get("sizes_state", "hydrated")
    if sizes_state not in ("hydrated", "dry"):
        raise InvalidInputError(f"{where}.sizes_state", 'must be "hydrated" or "dry"')
    label_value, label_source, label_evidence = _sourced_raw(entry, "irinotecan_label", where)
    if label_value not in (None, "yes", "no"):
        raise InvalidInputError(f"{where}.irinotecan_label", 'value must be "yes", "no" or null')
    swelling = _sourced_number(entry, "diameter_swelling_factor", where)
    if sizes_state == "dry" and swelling.value is None:
        raise InvalidInputError(
            f"{where}.diameter_swelling_factor", "a product sold dry needs its swelling factor"
        )
    notes = entry.get("notes", "")
    return BeadProduct(
        code=code.strip(),
        name=name.strip(),
        sizes=_sourced_sizes(entry, where),
        sizes_state=str(sizes_state),
        vial_bead_volume_ml=_sourced_number(entry, "vial_bead_volume_ml", where),
        irinotecan_capacity_mg_per_ml=_sourced_number(
            entry, "irinotecan_capacity_mg_per_ml", where
        ),
        irinotecan_label=Sourced(label_value, label_source, label_evidence),
        loading_time_min=_sourced_number(entry, "loading_time_min", where),
        diameter_swelling_factor=swelling,
        size_change_on_loading_percent=_sourced_signed(
            entry, "size_change_on_loading_percent", where
        ),
        notes=str(notes),
    )
