"""Annotation service on a real database: measure on the phantom, store, audit, list, delete."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tace_planner.domain.errors import NotFoundError
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.phantom import PhantomTruth
from tace_planner.imaging.phantom_model import CT_HU
from tace_planner.services.annotations import measure
from tace_planner.store.models import AuditEventRow

pytestmark = [pytest.mark.db, pytest.mark.dicom]

CT_NOISE_SD_HU = 11.0


@pytest.fixture
def venous(services, small_phantom: Path):
    """The baseline portal-venous CT imported into an empty database, and its volume."""
    report = run_sync(services.studies.import_paths([small_phantom / "baseline" / "CT_venous"]))
    (series,) = report.series
    volume = run_sync(services.volumes.open(series.series_uid, None))
    truth = PhantomTruth.from_json(json.loads((small_phantom / "truth.json").read_text()))
    return series.series_uid, volume, truth.timepoint("baseline")


def _audit_actions(services) -> list[str]:
    with services.session_factory() as session:
        return [e.action for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id))]


def test_ruler_across_a_focus_reads_its_diameter(services, venous) -> None:
    series_uid, volume, baseline = venous
    focus = next(f for f in baseline.foci if f.name == "F3")  # a sphere
    cx, cy, cz = focus.center_lps_mm
    r = focus.semi_axes_mm[0]
    item = services.annotations.add_measurement(
        series_uid,
        None,
        "ruler",
        [(cx - r, cy, cz), (cx + r, cy, cz)],
        volume=volume,
        orientation="axial",
    )
    assert item.annotation.values["length_mm"] == pytest.approx(focus.longest_axial_diameter_mm)
    assert item.created_by == "tester"
    assert item.summary().startswith("Ruler 17.0 mm")


def test_ellipse_inside_a_focus_reads_its_enhancement(services, venous) -> None:
    series_uid, volume, baseline = venous
    focus = next(f for f in baseline.foci if f.name == "F2")  # hypervascular, no necrosis
    cx, cy, cz = focus.center_lps_mm
    item = services.annotations.add_measurement(
        series_uid,
        "",
        "ellipse",
        [(cx, cy, cz), (cx + 8.0, cy, cz), (cx, cy + 6.0, cz)],
        volume=volume,
        orientation="axial",
        label="F2 ROI",
    )
    values = item.annotation.values
    expected = CT_HU["focus_hypervascular"]["venous"]
    pixels = values["pixel_count"]
    assert pixels > 10
    assert values["mean"] == pytest.approx(expected, abs=4 * CT_NOISE_SD_HU / np.sqrt(pixels))
    assert values["sd"] == pytest.approx(CT_NOISE_SD_HU, rel=0.5)
    assert values["area_mm2"] == pytest.approx(np.pi * 8.0 * 6.0)
    assert item.annotation.unit == "HU"
    assert item.annotation.label == "F2 ROI"


def test_measurements_are_listed_again_relabelled_and_deleted(services, venous) -> None:
    series_uid, volume, baseline = venous
    cx, cy, cz = baseline.foci[0].center_lps_mm
    before = len(_audit_actions(services))
    ruler = services.annotations.add_measurement(
        series_uid, None, "ruler", [(cx, cy, cz), (cx + 10, cy, cz)], volume=volume,
        orientation="axial",
    )  # fmt: skip
    angle = services.annotations.add_measurement(
        series_uid, None, "angle", [(cx + 10, cy, cz), (cx, cy, cz), (cx, cy + 10, cz)],
        volume=volume, orientation="axial",
    )  # fmt: skip
    listed = services.annotations.list_for_series(series_uid, None)
    assert [i.pk for i in listed] == [ruler.pk, angle.pk]
    assert listed[1].annotation.values["angle_deg"] == pytest.approx(90.0)
    assert listed[0].annotation == ruler.annotation  # points, plane and values survive storage
    assert services.annotations.list_for_series(series_uid, "b=800") == []
    assert services.annotations.list_for_series("1.2.3.unknown") == []

    renamed = services.annotations.relabel(ruler.pk, "F1 long axis")
    assert renamed.annotation.label == "F1 long axis"
    services.annotations.delete(angle.pk)
    assert [i.pk for i in services.annotations.list_for_series(series_uid)] == [ruler.pk]
    assert _audit_actions(services)[before:] == [
        "add_annotation",
        "add_annotation",
        "relabel_annotation",
        "delete_annotation",
    ]
    with pytest.raises(NotFoundError):
        services.annotations.delete(angle.pk)


def test_measurement_on_an_unknown_series_is_refused(services, venous) -> None:
    _, volume, baseline = venous
    cx, cy, cz = baseline.foci[0].center_lps_mm
    annotation = measure(
        "ruler", [(cx, cy, cz), (cx + 1, cy, cz)], volume=volume, orientation="axial"
    )
    with pytest.raises(NotFoundError, match="not in the database"):
        services.annotations.add("1.2.3.unknown", None, annotation)
    with pytest.raises(ValueError, match="cannot measure"):
        measure("ruler", [(cx, cy, cz)], volume=volume, orientation="axial")


def test_measurement_on_a_coronal_reformat_keeps_its_plane(services, venous) -> None:
    series_uid, volume, baseline = venous
    focus = next(f for f in baseline.foci if f.name == "F3")
    cx, cy, cz = focus.center_lps_mm
    r = focus.semi_axes_mm[0]
    item = services.annotations.add_measurement(
        series_uid, None, "ruler", [(cx, cy, cz - r), (cx, cy, cz + r)], volume=volume,
        orientation="coronal",
    )  # fmt: skip
    assert item.annotation.orientation == "coronal"
    assert item.annotation.plane_normal_lps == pytest.approx((0.0, 1.0, 0.0))
    assert item.annotation.values["length_mm"] == pytest.approx(2 * r)
