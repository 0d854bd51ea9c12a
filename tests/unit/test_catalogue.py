"""The bead catalogue: every value sourced, validation names the field (clinical-reference §2)."""

from __future__ import annotations

import copy
import importlib.resources
import json
from typing import Any

import pytest

from tace_planner.domain.catalogue import (
    EVIDENCE_TAGS,
    MISSING_VALUE_TAGS,
    BeadCatalogue,
    BeadProduct,
    SizeRange,
)
from tace_planner.domain.errors import InvalidInputError

SOURCED_FIELDS = (
    "sizes_um",
    "vial_bead_volume_ml",
    "irinotecan_capacity_mg_per_ml",
    "irinotecan_label",
    "loading_time_min",
    "diameter_swelling_factor",
    "size_change_on_loading_percent",
)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    resource = importlib.resources.files("tace_planner.resources") / "parameters"
    return json.loads((resource / "bead_catalogue.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue(raw: dict[str, Any]) -> BeadCatalogue:
    return BeadCatalogue.from_dict(raw)


def test_packaged_catalogue_holds_the_six_products(catalogue: BeadCatalogue) -> None:
    assert catalogue.version == "2"
    assert catalogue.codes == (
        "dc_bead",
        "dc_bead_m1",
        "dc_bead_lumi",
        "lifepearl",
        "embozene_tandem",
        "hepasphere",
    )


def test_every_value_carries_a_source_and_evidence(raw: dict[str, Any]) -> None:
    for product in raw["products"]:
        for name in SOURCED_FIELDS:
            item = product[name]
            assert item["source"].strip(), (product["code"], name)
            assert item["evidence"] in EVIDENCE_TAGS, (product["code"], name)
            if item["value"] is None:
                assert item["evidence"] in MISSING_VALUE_TAGS, (product["code"], name)


def test_dc_bead_values_of_clinical_reference_section_2(catalogue: BeadCatalogue) -> None:
    dc_bead = catalogue.product("dc_bead")
    assert dc_bead.vial_bead_volume_ml.value == 2.0
    assert dc_bead.irinotecan_capacity_mg_per_ml.value == 50.0  # 100 mg per 2 mL vial
    assert dc_bead.irinotecan_capacity_mg_per_ml.evidence == "M"
    assert dc_bead.irinotecan_label.value == "yes"
    assert dc_bead.loading_time_min.value == 120
    assert dc_bead.size_change_on_loading_percent.value == -18
    assert [s.label() for s in dc_bead.hydrated_sizes()] == [
        "100–300 µm",
        "300–500 µm",
        "500–700 µm",
    ]


def test_hepasphere_swells_four_times_and_has_no_irinotecan_capacity(
    catalogue: BeadCatalogue,
) -> None:
    hepasphere = catalogue.product("hepasphere")
    assert hepasphere.sizes_state == "dry"
    assert hepasphere.diameter_swelling_factor.value == 4.0
    # [D] 50–100 µm dry × 4 ≈ 200–400 µm (clinical-reference §2)
    assert SizeRange(200, 400) in hepasphere.hydrated_sizes()
    assert hepasphere.irinotecan_capacity_mg_per_ml.value is None
    assert hepasphere.irinotecan_capacity_mg_per_ml.evidence == "unverified"
    assert hepasphere.irinotecan_label.value == "no"
    assert "doxorubicin" in hepasphere.irinotecan_label.source


def test_user_values_fill_a_gap_and_say_who(catalogue: BeadCatalogue) -> None:
    hepasphere = catalogue.product("hepasphere").with_user_values(
        capacity_mg_per_ml=25, vial_bead_volume_ml=2.0, entered_by="dr x"
    )
    assert hepasphere.irinotecan_capacity_mg_per_ml.value == 25
    assert hepasphere.irinotecan_capacity_mg_per_ml.evidence == "user"
    assert "dr x" in hepasphere.irinotecan_capacity_mg_per_ml.cite()
    with pytest.raises(InvalidInputError, match="capacity"):
        catalogue.product("hepasphere").with_user_values(capacity_mg_per_ml=-5)


def test_unknown_product_lists_the_codes(catalogue: BeadCatalogue) -> None:
    with pytest.raises(InvalidInputError, match="dc_bead, dc_bead_m1"):
        catalogue.product("gold_beads")


def test_snapshot_round_trips(catalogue: BeadCatalogue, raw: dict[str, Any]) -> None:
    data = {**raw, "products": [p.to_json() for p in catalogue.products]}
    assert BeadCatalogue.from_dict(data) == catalogue


INTERNAL_WORDING = ("NOT FOUND", "§", "[D]", "[M]", "[S]", "[G]", "clinical-reference", "brief")


def _clinician_text(product: BeadProduct) -> str:
    """Every text of a product a clinician reads: name, notes, sizes, each value's citation."""
    sourced = (
        product.sizes,
        product.vial_bead_volume_ml,
        product.irinotecan_capacity_mg_per_ml,
        product.irinotecan_label,
        product.loading_time_min,
        product.diameter_swelling_factor,
        product.size_change_on_loading_percent,
    )
    sizes = [s.label() for s in product.hydrated_sizes()]
    return "\n".join([product.name, product.notes, *sizes, *(v.cite() for v in sourced)])


def test_no_internal_evidence_tag_in_the_packaged_catalogue(raw: dict[str, Any]) -> None:
    resource = importlib.resources.files("tace_planner.resources") / "parameters"
    assert "NOT FOUND" not in (resource / "bead_catalogue.json").read_text(encoding="utf-8")
    assert "NOT FOUND" not in EVIDENCE_TAGS
    assert "unverified" in MISSING_VALUE_TAGS


def test_clinician_text_of_the_catalogue_has_no_internal_wording(
    catalogue: BeadCatalogue,
) -> None:
    for product in catalogue.products:
        text = _clinician_text(product)
        for word in INTERNAL_WORDING:
            assert word not in text, (product.code, word)


def test_plan_snapshot_with_the_old_tag_reads_as_unverified(raw: dict[str, Any]) -> None:
    """Plans stored before the rename keep their product snapshot with the old tag."""
    old = copy.deepcopy(next(p for p in raw["products"] if p["code"] == "hepasphere"))
    old["irinotecan_capacity_mg_per_ml"]["evidence"] = "NOT FOUND"
    catalogue = BeadCatalogue.from_dict(
        {"format": raw["format"], "version": "snapshot", "products": [old]}
    )
    product = catalogue.products[0]
    assert product.irinotecan_capacity_mg_per_ml.evidence == "unverified"
    assert "NOT FOUND" not in str(product.to_json())
    assert "NOT FOUND" not in _clinician_text(product)


def _broken(raw: dict[str, Any], change: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(format="other"), "bead_catalogue: format"),
        (lambda d: d.update(products=[]), "bead_catalogue: products"),
        (
            lambda d: d["products"][0]["vial_bead_volume_ml"].update(source=""),
            "bead_catalogue: products[dc_bead].vial_bead_volume_ml",
        ),
        (
            lambda d: d["products"][0]["vial_bead_volume_ml"].update(evidence="trust me"),
            "bead_catalogue: products[dc_bead].vial_bead_volume_ml",
        ),
        (
            lambda d: d["products"][0]["vial_bead_volume_ml"].update(value=-2),
            "bead_catalogue: products[dc_bead].vial_bead_volume_ml",
        ),
        (
            lambda d: d["products"][0]["vial_bead_volume_ml"].update(value=None),
            "bead_catalogue: products[dc_bead].vial_bead_volume_ml",
        ),
        (
            lambda d: d["products"][0]["sizes_um"].update(value=[[300, 100]]),
            "bead_catalogue: products[dc_bead].sizes_um",
        ),
        (
            lambda d: d["products"][0]["irinotecan_label"].update(value="maybe"),
            "bead_catalogue: products[dc_bead].irinotecan_label",
        ),
        (
            lambda d: d["products"][5]["diameter_swelling_factor"].update(
                value=None, evidence="no source"
            ),
            "bead_catalogue: products[hepasphere].diameter_swelling_factor",
        ),
        (lambda d: d["products"].append(d["products"][0]), "bead_catalogue: products"),
    ],
)
def test_invalid_catalogue_names_the_field(raw: dict[str, Any], change: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        BeadCatalogue.from_dict(_broken(raw, change))
    assert caught.value.field == field
