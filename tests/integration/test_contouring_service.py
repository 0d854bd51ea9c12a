"""Contouring service on the small phantom: auto contour, liver, measurements, F, lesions.

The small phantom has 3.125 mm pixels and 5 mm slices (48.8 mm³ voxels). A
focus of 7 cm³ (28 mm long axis) holds ~140 voxels, about half of them on its
outline, so one layer of boundary voxels more or less moves its volume by
~30 %; the auto contour lands within 20 % for every focus of ≥ 4.5 cm³,
within 5 % for the 82 cm³ F1, and within half a voxel over the surface for
the smaller ones (see the test). The 3 % acceptance on the full phantom
(0.78 mm pixels) is in test_auto_contour_phantom.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError
from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]

LIVER_SEED_LPS = (-95.0, 0.0, 20.0)  # right lobe parenchyma, away from the foci


def open_demo(data_dir: Path, phantom: Path) -> tuple[Any, Any, int, dict[str, Any]]:
    """Services on ``data_dir`` with the (uncontoured) demo case of the small phantom."""
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.demo import prepare_demo
    from tace_planner.services.settings import AppSettings

    services = open_services(AppSettings(data_dir=data_dir, db_url=None, user="tester"))
    demo_dir = services.settings.demo_dir
    if not demo_dir.exists():
        shutil.copytree(phantom, demo_dir)
        (demo_dir / "phantom-parameters.json").write_text(
            '{"size": "small", "seed": 0, "generator": 1}', encoding="utf-8"
        )
    report = run_sync(prepare_demo(services.studies, services.cases, demo_dir, size="small"))
    truth = json.loads((demo_dir / "truth.json").read_text(encoding="utf-8"))
    return services, report, report.case.pk, truth


def series_uid(truth: dict[str, Any], folder: str, timepoint: int = 0) -> str:
    return next(s["series_uid"] for s in truth["timepoints"][timepoint]["series"]
                if s["folder"] == folder)  # fmt: skip


@pytest.fixture(scope="module")
def contoured(tmp_path_factory: pytest.TempPathFactory, small_phantom: Path):
    from tace_planner.services.contouring import contouring_service

    services, _, case_pk, truth = open_demo(tmp_path_factory.mktemp("data"), small_phantom)
    contouring = contouring_service(services)
    venous = series_uid(truth, "CT_venous")
    contouring.contour_liver(case_pk, venous, LIVER_SEED_LPS)
    for focus in truth["timepoints"][0]["foci"]:
        contouring.auto_contour(
            case_pk, venous, focus["center_lps_mm"], lesion=focus["name"],
            couinaud_segment=focus["couinaud_segment"],
        )  # fmt: skip
    yield services, contouring, case_pk, truth
    services.close()


def _shell_tolerance_cm3(volume_cm3: float, spacing_mm=(5.0, 3.125, 3.125)) -> float:
    """Half a voxel on the whole surface: 4 π r² × (mean voxel edge / 2), r of the same volume."""
    radius = (3 * volume_cm3 * 1000 / (4 * np.pi)) ** (1 / 3)
    return 4 * np.pi * radius**2 * (sum(spacing_mm) / 3) / 2 / 1000


def test_auto_contour_of_every_focus_close_to_truth(contoured) -> None:
    """Every focus of the phantom, the small ones included.

    Foci of ≥ 4.5 cm³: within 20 % (F1, 82 cm³: 10 %; its necrotic core and rim
    on 5 mm slices; on the full grid every focus is within 5 %, see
    test_auto_contour_phantom.py). Smaller foci: within half
    a voxel over their whole surface (4 π r² × 1.875 mm, r of a sphere of the
    true volume; the mean voxel edge of this grid is 3.75 mm): F3 (2.6 cm³)
    ± 1.7 cm³, F5 (0.18 cm³) ± 0.29 cm³. The RECIST long axis of every focus
    within one pixel and a half (4.7 mm) of the truth, so that a focus under
    10 mm is never taken for a measurable one.
    """
    _, contouring, _, truth = contoured
    result = contouring.measurements(series_uid(truth, "CT_venous"))
    foci = truth["timepoints"][0]["foci"]
    for focus in foci:
        measured = result.lesion(focus["name"])
        assert measured is not None
        assert measured.volume_cm3 is not None
        true_cm3 = focus["volume_cm3"]
        if true_cm3 >= 4.5:
            tolerance = 0.10 if focus["name"] == "F1" else 0.20
            assert measured.volume_cm3 == pytest.approx(true_cm3, rel=tolerance), focus["name"]
        else:
            error = abs(measured.volume_cm3 - true_cm3)
            assert error <= _shell_tolerance_cm3(true_cm3), (focus["name"], measured.volume_cm3)
        long_axis = measured.longest_axial_diameter_mm
        assert abs(long_axis - focus["longest_axial_diameter_mm"]) <= 1.5 * 3.125, (
            focus["name"],
            long_axis,
        )
        if focus["longest_axial_diameter_mm"] < 10.0:
            assert long_axis < 10.0, focus["name"]  # not measurable by RECIST 1.1
    assert {m.name for m in result.foci} == {f["name"] for f in foci}


def test_a_focus_under_10_mm_cannot_become_a_target_without_a_reason(contoured) -> None:
    _, contouring, case_pk, _ = contoured
    f5 = next(i for i in contouring.list_lesions(case_pk) if i.name == "F5")
    assert "recist.too_small" in {a.code for a in contouring.target_advisories(f5.pk)}


def test_burden_is_computed_and_reaches_the_plan(contoured) -> None:
    services, contouring, case_pk, truth = contoured
    result = contouring.measurements(case_pk=case_pk, timepoint="baseline")
    foci = truth["timepoints"][0]["foci"]
    true_f = 100 * sum(f["volume_cm3"] for f in foci) / truth["liver_volume_cm3"]
    assert result.liver_volume_cm3 == pytest.approx(truth["liver_volume_cm3"], rel=0.10)
    assert result.burden_percent == pytest.approx(true_f, rel=0.10)
    assert result.tumour_volume_cm3 == pytest.approx(
        sum(m.volume_cm3 for m in result.foci), rel=1e-9
    )
    burden = services.planning.burden_inputs(case_pk)
    assert burden.problems == ()
    assert burden.liver_volume_cm3 == pytest.approx(result.liver_volume_cm3)
    assert {f.name for f in burden.foci} == {f["name"] for f in foci}


def test_hu_and_enhancement_come_from_the_arterial_phase(contoured) -> None:
    _, contouring, _, truth = contoured
    f1_truth = next(f for f in truth["timepoints"][0]["foci"] if f["name"] == "F1")
    f1 = contouring.measurements(series_uid(truth, "CT_venous")).lesion("F1")
    assert f1.enhancing_fraction == pytest.approx(f1_truth["enhancing_fraction"], abs=0.05)
    assert f1.enhancement_rule.startswith("institutional default")
    assert "mRECIST" not in f1.enhancement_rule
    assert f1.mean_hu is not None
    assert f1.mean_hu > 100
    assert f1.longest_axial_diameter_mm == pytest.approx(54.0, abs=2 * 3.125)
    assert f1.centroid_lps == pytest.approx(tuple(f1_truth["center_lps_mm"]), abs=3.2)


def test_recist_target_rules_are_advisories_with_override(contoured) -> None:
    _, contouring, case_pk, _ = contoured
    by_name = {item.name: item for item in contouring.list_lesions(case_pk)}
    assert contouring.list_lesions(case_pk)[0].name == "Liver"
    assert by_name["F1"].lobe == "right"
    assert by_name["F4"].lobe == "left"
    assert contouring.update_lesion(by_name["F1"].pk, is_target=True).applied
    assert contouring.update_lesion(by_name["F2"].pk, is_target=True).applied
    third = contouring.update_lesion(by_name["F7"].pk, is_target=True)
    assert not third.applied
    assert not third.lesion.is_target
    assert [a.code for a in third.advisories] == ["recist.too_many_per_organ"]
    small = contouring.update_lesion(by_name["F5"].pk, is_target=True, override_reason="x")
    # F5 (7 mm) breaks two rules: a third liver target, and under 10 mm.
    assert [a.code for a in small.advisories] == ["recist.too_many_per_organ", "recist.too_small"]
    assert small.applied
    assert small.lesion.is_target
    assert small.lesion.target_override_reason == "x"
    for name in ("F1", "F2", "F5"):
        contouring.update_lesion(by_name[name].pk, is_target=False)


def test_create_rename_delete_lesion(contoured) -> None:
    _, contouring, case_pk, _ = contoured
    change = contouring.create_lesion(case_pk, couinaud_segment="4", is_target=True)
    assert not change.applied
    assert "recist.not_measured" in {a.code for a in change.advisories}
    assert change.lesion.name == "F8"
    assert change.lesion.couinaud_segment == "IV"
    with pytest.raises(InvalidInputError):
        contouring.create_lesion(case_pk, "f1")
    with pytest.raises(InvalidInputError):
        contouring.create_lesion(case_pk, "X", couinaud_segment="IX")
    assert contouring.rename_lesion(change.lesion.pk, "F8b").name == "F8b"
    contouring.delete_lesion(change.lesion.pk)
    assert "F8b" not in {item.name for item in contouring.list_lesions(case_pk)}


def test_save_and_load_mask_with_version_check(contoured) -> None:
    _, contouring, case_pk, truth = contoured
    venous = series_uid(truth, "CT_venous")
    _, timepoint_pk, _ = contouring.series_context(venous)
    lesion = contouring.create_lesion(case_pk, "Edit me").lesion
    mask = np.zeros(contouring.volume(venous).shape, dtype=bool)
    mask[10:12, 30:40, 30:35] = True
    first = contouring.save_mask(lesion.pk, timepoint_pk, venous, None, mask, "auto")
    loaded = contouring.load_mask(lesion.pk, timepoint_pk)
    assert np.array_equal(loaded.mask, mask)
    assert loaded.segmentation.method == "auto"
    mask[13, 30, 30] = True
    second = contouring.save_mask(
        lesion.pk, timepoint_pk, venous, None, mask, "manual", expected_version=first.version
    )
    assert second.method == "edited"
    assert second.version > first.version
    with pytest.raises(ConcurrentEditError):
        contouring.save_mask(
            lesion.pk, timepoint_pk, venous, None, mask, "manual", expected_version=first.version
        )
    contouring.delete_lesion(lesion.pk)


def test_unmeasurable_geometry_gives_untrusted_numbers(contoured) -> None:
    from sqlalchemy import update

    from tace_planner.store.models import SeriesRow

    services, contouring, case_pk, truth = contoured
    venous = series_uid(truth, "CT_venous")
    with services.session_factory() as session:
        row = session.query(SeriesRow).filter_by(series_uid=venous).one()
        saved_status, saved_report = row.geometry_status, dict(row.geometry_report)
        report = {**saved_report, "parts": [{**p, "status": "unmeasurable"}
                                           for p in saved_report.get("parts", [])]}  # fmt: skip
        session.execute(
            update(SeriesRow).where(SeriesRow.id == row.id)
            .values(geometry_status="unmeasurable", geometry_report=report)
        )  # fmt: skip
        session.commit()
    try:
        f2 = next(i for i in contouring.list_lesions(case_pk) if i.name == "F2")
        _, timepoint_pk, _ = contouring.series_context(venous)
        measured = contouring.measure_lesion(f2.pk, timepoint_pk)[0]
        assert measured.trust == "untrusted"
        assert any("unmeasurable" in note for note in measured.notes)
        assert contouring.measurements(venous).trust == "untrusted"
    finally:
        with services.session_factory() as session:
            session.execute(
                update(SeriesRow).where(SeriesRow.series_uid == venous)
                .values(geometry_status=saved_status, geometry_report=saved_report)
            )  # fmt: skip
            session.commit()
        contouring.measure_lesion(f2.pk, timepoint_pk)


def test_series_outside_a_timepoint_is_refused(contoured) -> None:
    _, contouring, case_pk, _ = contoured
    from tace_planner.domain.errors import NotFoundError

    with pytest.raises(NotFoundError):
        contouring.auto_contour(case_pk, "1.2.3.4", (0, 0, 0))


@pytest.mark.parametrize(
    ("text", "code", "lobe"),
    [("Segment 6", "VI", "right"), ("VI", "VI", "right"), ("6", "VI", "right"),
     ("IVa", "IVa", "left"), ("IVA", "IVa", "left"), ("s4b", "IVb", "left"),
     ("1", "I", "caudate")],
)  # fmt: skip
def test_every_spelling_of_a_segment_is_stored_as_one_code(contoured, text, code, lobe) -> None:
    _, contouring, case_pk, _ = contoured
    change = contouring.create_lesion(case_pk, "Spelling", couinaud_segment=text)
    try:
        assert change.lesion.couinaud_segment == code
        assert change.lesion.lobe == lobe
        assert contouring.lesion(change.lesion.pk).couinaud_segment == code
    finally:
        contouring.delete_lesion(change.lesion.pk)


def test_include_and_exclude_clicks_are_hard_constraints_through_the_service(contoured) -> None:
    """`contour auto` with corrective clicks (as `--include/--exclude` on the command
    line and Shift-click in the viewer): every include click's voxel is in the stored
    contour, every exclude click's voxel is not, and the measurement follows."""
    from tace_planner.domain.geometry import lps_to_index

    _, contouring, case_pk, truth = contoured
    venous = series_uid(truth, "CT_venous")
    focus = max(truth["timepoints"][0]["foci"], key=lambda f: f["volume_cm3"])
    center = np.asarray(focus["center_lps_mm"], dtype=float)
    radius = (3 * focus["volume_cm3"] * 1000 / (4 * np.pi)) ** (1 / 3)
    include = [tuple(center + np.array([0.5 * radius, 0.0, 0.0]))]
    exclude = [tuple(center + np.array([0.0, 0.6 * radius, 0.0]))]
    # the focus itself, contoured again with the clicks (foci share no voxels: a second
    # focus at its centre is refused); its first contour is put back at the end
    before = next(m for m in contouring.masks_of_series(venous) if m.lesion.name == focus["name"])
    result = contouring.auto_contour(
        case_pk, venous, tuple(center), lesion=focus["name"], include=include, exclude=exclude
    )
    stored = contouring.load_mask(result.lesion.pk, result.segmentation.timepoint_pk)
    volume = contouring.volume(venous, None)
    for points, expected in ((include, True), (exclude, False)):
        for point in points:
            index = tuple(
                int(v) for v in np.rint(lps_to_index(volume.index_to_lps, np.array([point])))[0]
            )
            assert bool(stored.mask[index]) is expected
    assert result.measurement is not None
    assert result.measurement.volume_cm3 == pytest.approx(
        float(stored.mask.sum()) * volume.voxel_volume_cm3, rel=1e-6
    )
    contouring.save_and_measure(
        result.lesion.pk, before.segmentation.timepoint_pk, venous, None, before.mask, "auto"
    )
