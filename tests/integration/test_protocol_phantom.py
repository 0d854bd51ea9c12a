"""Phase recognition and the imaging protocol check on the synthetic phantom.

The phantom imports with every CT phase and MR sequence classified as its truth says.
The small phantom is written with **5 mm** CT slices (to be fast), so it honestly
fails the 2.5 mm requirement and nothing else; the full-size phantom (2.5 mm CT)
passes every requirement (``slow``). The variants below start from a copy of the small
baseline whose CT *headers* are rewritten to 2.5 mm (thickness and positions): the
protocol check reads headers only, so this tests the check, not the images. Each
variant then breaks one thing (5 mm arterial phase, no delayed phase, 1.0 T MRI, no
ADC map, baseline too old) and must fail with that reason and only that reason.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from sqlalchemy import select

import protocol_seed
from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.progress import run_sync
from tace_planner.domain.protocol import ProtocolResult
from tace_planner.imaging.dicom.series import load_volume
from tace_planner.imaging.phantom_model import CT_HU
from tace_planner.imaging.vessels import measure_vessel_hu, phase_from_volume
from tace_planner.services.image_store import ImageStore
from tace_planner.services.protocol import ProtocolService
from tace_planner.store.models import AuditEventRow, SeriesRow

pytestmark = [pytest.mark.dicom, pytest.mark.db]

PATIENT_ID = "TACE-DEMO-001"
TACE_ON = dt.date(2026, 3, 16)
CT_PHASES = ("native", "arterial", "venous", "delayed")


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def truth_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return data


def protocol_service(services: Any) -> ProtocolService:
    return ProtocolService(
        services.session_factory,
        services.settings.user,
        stored_path=ImageStore(services.settings.image_store_dir).absolute,
    )


def import_as_baseline(services: Any, folder: Path, tace_on: dt.date = TACE_ON) -> int:
    """Import ``folder``, open a case planned for ``tace_on``, link studies up to it as baseline."""
    return protocol_seed.import_as_baseline(services, folder, tace_on, PATIENT_ID)


def failed(result: ProtocolResult) -> dict[str, str]:
    return {r.code: r.reason for r in result.failures}


def edit_files(folder: Path, change: Callable[[pydicom.Dataset], None]) -> None:
    for path in sorted(folder.rglob("*.dcm")):
        dataset = pydicom.dcmread(path)
        change(dataset)
        dataset.save_as(path, enforce_file_format=True)


def make_thin(ct_folder: Path, slice_mm: float = 2.5) -> None:
    """Rewrite a CT series' headers to ``slice_mm`` thickness and spacing (positions too)."""
    files = sorted(ct_folder.glob("*.dcm"))
    datasets = [pydicom.dcmread(path) for path in files]
    order = sorted(range(len(files)), key=lambda n: float(datasets[n].ImagePositionPatient[2]))
    first_z = float(datasets[order[0]].ImagePositionPatient[2])
    for k, n in enumerate(order):
        dataset = datasets[n]
        x, y, _ = (float(v) for v in dataset.ImagePositionPatient)
        z = first_z + k * slice_mm
        dataset.ImagePositionPatient = [f"{x:g}", f"{y:g}", f"{z:g}"]
        dataset.SliceLocation = f"{z:g}"
        dataset.SliceThickness = f"{slice_mm:g}"
        dataset.SpacingBetweenSlices = f"{slice_mm:g}"
        dataset.SeriesDescription = dataset.SeriesDescription.replace("5mm", f"{slice_mm:g}mm")
        dataset.save_as(files[n], enforce_file_format=True)


@pytest.fixture(scope="module")
def thin_baseline(small_phantom: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small phantom's baseline with CT headers rewritten to 2.5 mm slices (read-only)."""
    folder = tmp_path_factory.mktemp("thin") / "baseline"
    shutil.copytree(small_phantom / "baseline", folder)
    for ct_folder in folder.glob("CT_*"):
        make_thin(ct_folder)
    return folder


# ---------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------


def test_every_phantom_series_is_classified_as_its_truth(
    services: Any, small_phantom: Path
) -> None:
    report = run_sync(services.studies.import_paths([small_phantom]))
    by_uid = {item.series_uid: item for item in report.series}
    checked = 0
    for timepoint in truth_of(small_phantom)["timepoints"]:
        for truth in timepoint["series"]:
            item = by_uid[truth["series_uid"]]
            where = f"{timepoint['label']}/{truth['folder']}"
            assert item.plane == truth["plane"], where
            if truth["modality"] == "CT":
                assert item.phase == truth["phase"], where
            else:
                assert item.sequence == truth["sequence"].lower(), where
            checked += 1
    assert checked == len(report.series) == 15  # 4 + 5 baseline, 2 per follow-up


@pytest.mark.parametrize("phase", CT_PHASES)
def test_vessel_hu_suggests_the_phase_from_the_images(small_phantom: Path, phase: str) -> None:
    paths = sorted((small_phantom / "baseline" / f"CT_{phase}").glob("*.dcm"))
    volume = run_sync(load_volume(paths))
    measured = measure_vessel_hu(volume)
    assert measured is not None
    assert measured.aorta_hu == pytest.approx(CT_HU["aorta"][phase], abs=15.0)
    assert measured.portal_vein_hu is not None, measured.note
    assert measured.portal_vein_hu == pytest.approx(CT_HU["portal_vein"][phase], abs=20.0)
    # the aorta is found where the phantom has it: (18, 32) mm LPS, 24 mm across
    for sample in measured.aorta_samples:
        assert sample.center_lps_mm[0] == pytest.approx(18.0, abs=3.0)
        assert sample.center_lps_mm[1] == pytest.approx(32.0, abs=3.0)
        assert sample.diameter_mm == pytest.approx(24.0, abs=5.0)
    guess = phase_from_volume(volume)
    assert guess.phase == phase, guess.reason
    assert "aorta" in guess.reason


def test_vessel_search_gives_up_on_a_volume_without_anatomy(small_phantom: Path) -> None:
    from tace_planner.domain.volume import ImageVolume

    paths = sorted((small_phantom / "baseline" / "CT_native").glob("*.dcm"))
    volume = run_sync(load_volume(paths))
    air = ImageVolume(volume.voxels * 0 - 1000.0, volume.index_to_lps)
    assert measure_vessel_hu(air) is None
    assert phase_from_volume(air).phase == "unknown"
    mr_paths = sorted((small_phantom / "baseline" / "MR_T2_coronal").glob("*.dcm"))
    assert measure_vessel_hu(run_sync(load_volume(mr_paths))) is None  # not axial


# ---------------------------------------------------------------------------
# Protocol on the phantom as written
# ---------------------------------------------------------------------------


def test_small_phantom_fails_only_on_its_5_mm_ct_slices(services: Any, small_phantom: Path) -> None:
    case_pk = import_as_baseline(
        services, small_phantom, dt.date.fromisoformat(truth_of(small_phantom)["tace_date"])
    )
    result = protocol_service(services).check_baseline(case_pk)
    failures = failed(result)
    assert set(failures) == {f"ct.slices.{phase}" for phase in CT_PHASES}
    for phase, reason in ((p, failures[f"ct.slices.{p}"]) for p in CT_PHASES):
        assert "5mm' (" in reason, phase
        assert "thickness 5 mm > 2.5 mm" in reason
        assert "interval 5 mm > 2.5 mm" in reason
    assert result.requirement("baseline_age.ct").reason.startswith(
        "CT of 2026-03-02 (study date) is 14 day(s)"
    )
    assert result.requirement("baseline_age.mr").reason.startswith(
        "MRI of 2026-03-04 (study date) is 12 day(s)"
    )
    assert result.requirement("mr.dwi.b_values").reason.startswith("b = 50, 800 s/mm²")
    assert result.requirement("mr.field_strength").reason.startswith("1.5 T")


def test_check_study_checks_only_the_modalities_of_the_study(
    services: Any, thin_baseline: Path
) -> None:
    run_sync(services.studies.import_paths([thin_baseline]))
    study_of = {s.modality: s.study_uid for s in services.studies.list_series()}
    protocol = protocol_service(services)
    ct_result = protocol.check_study(study_of["CT"], TACE_ON)
    assert ct_result.passed
    assert {r.code.split(".")[0] for r in ct_result.requirements} == {"ct", "baseline_age"}
    mr_result = protocol.check_study(study_of["MR"], None)
    assert mr_result.status == "not_evaluated"
    assert [r.code for r in mr_result.requirements if r.status != "pass"] == ["baseline_age.mr"]
    with pytest.raises(NotFoundError):
        protocol.check_study("1.2.3.4", TACE_ON)
    with pytest.raises(NotFoundError):
        protocol.check_baseline(987654)


@pytest.fixture(scope="module")
def full_phantom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The full-size phantom (512², 2.5 mm CT): ≈ 5 s and ≈ 370 MB, removed afterwards."""
    from tace_planner.imaging.phantom import write_phantom

    folder = tmp_path_factory.mktemp("phantom-full")
    write_phantom(folder, size="full", seed=0)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_full_size_phantom_passes_the_protocol(services: Any, full_phantom: Path) -> None:
    case_pk = import_as_baseline(services, full_phantom / "baseline")
    result = protocol_service(services).check_baseline(case_pk)
    assert result.passed, failed(result)
    reason = result.requirement("ct.slices.arterial").reason
    assert "thickness 2.5 mm, interval 2.5 mm" in reason


# ---------------------------------------------------------------------------
# Variants
# ---------------------------------------------------------------------------


def test_thin_baseline_passes_the_protocol(services: Any, thin_baseline: Path) -> None:
    result = protocol_service(services).check_baseline(import_as_baseline(services, thin_baseline))
    assert result.passed, failed(result)
    assert result.status == "pass"
    assert len(result.requirements) == 19


def _arterial_5mm(folder: Path, small_phantom: Path) -> None:
    shutil.rmtree(folder / "CT_arterial")
    shutil.copytree(small_phantom / "baseline" / "CT_arterial", folder / "CT_arterial")


def _no_delayed(folder: Path, small_phantom: Path) -> None:
    shutil.rmtree(folder / "CT_delayed")


def _mr_1_0_tesla(folder: Path, small_phantom: Path) -> None:
    def to_1_0_tesla(dataset: pydicom.Dataset) -> None:
        dataset.MagneticFieldStrength = "1.0"

    for mr_folder in folder.glob("MR_*"):
        edit_files(mr_folder, to_1_0_tesla)


def _no_adc(folder: Path, small_phantom: Path) -> None:
    shutil.rmtree(folder / "MR_ADC_axial")


def _fifteen_days_earlier(folder: Path, small_phantom: Path) -> None:
    def shift(dataset: pydicom.Dataset) -> None:
        for keyword in (
            "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "InstanceCreationDate"
        ):  # fmt: skip
            if keyword in dataset:
                day = dt.datetime.strptime(dataset.data_element(keyword).value, "%Y%m%d")
                setattr(dataset, keyword, (day - dt.timedelta(days=15)).strftime("%Y%m%d"))

    edit_files(folder, shift)


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        pytest.param(
            _arterial_5mm,
            {"ct.slices.arterial": ["Abdomen arterial 5mm", "thickness 5 mm > 2.5 mm"]},
            id="5mm-arterial",
        ),
        pytest.param(
            _no_delayed,
            {"ct.phase.delayed": ["no CT series classified as delayed"]},
            id="no-delayed-phase",
        ),
        pytest.param(
            _mr_1_0_tesla,
            {"mr.field_strength": ["'T2 TSE axial'", "1 T < 1.5 T", "'ADC'"]},
            id="mri-1.0T",
        ),
        pytest.param(
            _no_adc,
            {"mr.sequence.adc.any": ["no MR series classified as ADC map"]},
            id="no-adc-map",
        ),
        pytest.param(
            _fifteen_days_earlier,
            # CT 2026-02-15 is 29 days before the TACE; MRI 2026-02-17, 27 days, still passes
            {
                "baseline_age.ct": [
                    "CT of 2026-02-15 (study date) is 29 day(s) before the TACE",
                    "limit 28",
                ]
            },
            id="baseline-too-old",
        ),
    ],
)
def test_variant_fails_with_the_right_reason(
    services: Any,
    thin_baseline: Path,
    small_phantom: Path,
    tmp_path: Path,
    variant: Callable[[Path, Path], None],
    expected: dict[str, list[str]],
) -> None:
    folder = tmp_path / "baseline"
    shutil.copytree(thin_baseline, folder)
    variant(folder, small_phantom)
    result = protocol_service(services).check_baseline(import_as_baseline(services, folder))
    failures = failed(result)
    assert set(failures) == set(expected), failures
    for code, fragments in expected.items():
        for fragment in fragments:
            assert fragment in failures[code]
    assert result.status == "fail"
    assert not result.passed


# ---------------------------------------------------------------------------
# Corrections
# ---------------------------------------------------------------------------


def test_correct_classification_is_audited_and_changes_the_check(
    services: Any, thin_baseline: Path
) -> None:
    case_pk = import_as_baseline(services, thin_baseline)
    native = next(s for s in services.studies.list_series() if s.phase == "native")
    protocol = protocol_service(services)
    corrected = protocol.correct_classification(
        native.series_uid, phase="Arterial ", reason="bolus tracking clock was wrong"
    )
    assert corrected.phase == "arterial"
    assert corrected.series_uid == native.series_uid
    assert corrected.image_count == native.image_count
    with services.session_factory() as session:
        row = session.scalars(
            select(SeriesRow).where(SeriesRow.series_uid == native.series_uid)
        ).one()
        assert row.classification_source == "user"
        assert row.geometry_report["auto_classification"]["phase"] == "native"
        assert "bolus tracking clock was wrong" in row.geometry_report["classification_reason"]
        event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "correct_classification")
        ).one()
    assert event.entity == "series"
    assert event.entity_pk == row.id
    assert event.user == services.settings.user
    assert event.before["phase"] == "native"
    assert event.before["classification_source"] == "auto"
    assert event.after["phase"] == "arterial"
    assert event.after["classification_source"] == "user"
    assert event.after["reason"] == "bolus tracking clock was wrong"
    failures = failed(protocol.check_baseline(case_pk))
    assert set(failures) == {"ct.phase.native"}


def test_invalid_corrections_are_refused_by_field(services: Any, thin_baseline: Path) -> None:
    run_sync(services.studies.import_paths([thin_baseline]))
    series = services.studies.list_series()
    ct = next(s for s in series if s.modality == "CT")
    protocol = protocol_service(services)
    with pytest.raises(InvalidInputError) as raised:
        protocol.correct_classification(ct.series_uid, phase="portal")
    assert raised.value.field == "phase"
    assert "'portal' is not one of" in str(raised.value)
    assert "'venous'" in str(raised.value)
    with pytest.raises(InvalidInputError) as raised:
        protocol.correct_classification(ct.series_uid, sequence="t2")
    assert raised.value.field == "sequence"
    with pytest.raises(InvalidInputError) as raised:
        protocol.correct_classification(ct.series_uid, plane="diagonal")
    assert raised.value.field == "plane"
    with pytest.raises(InvalidInputError):
        protocol.correct_classification(ct.series_uid)
    with pytest.raises(NotFoundError):
        protocol.correct_classification("1.2.3.4", phase="venous")
    with services.session_factory() as session:
        assert not session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "correct_classification")
        ).all()
        assert all(
            row.classification_source == "auto" for row in session.scalars(select(SeriesRow))
        )
    mr_item = next(s for s in series if s.modality == "MR" and s.sequence == "t1")
    fixed = protocol.correct_classification(mr_item.series_uid, sequence="T2", plane="coronal")
    assert (fixed.sequence, fixed.plane) == ("t2", "coronal")


def test_recorded_slice_interval_is_preferred_to_the_stored_headers(
    services: Any, small_phantom: Path
) -> None:
    """The import may record ``slice_interval_mm`` in the geometry report; the check uses it."""
    case_pk = import_as_baseline(services, small_phantom / "baseline")
    with services.session_factory() as session:
        for row in session.scalars(select(SeriesRow).where(SeriesRow.modality == "CT")):
            row.geometry_report = {**(row.geometry_report or {}), "slice_interval_mm": 2.5}
        session.commit()
    without_files = ProtocolService(services.session_factory, "tester")  # no stored_path
    reason = failed(without_files.check_baseline(case_pk))["ct.slices.venous"]
    assert "thickness 5 mm > 2.5 mm" in reason
    assert "interval" not in reason
