"""The demo phantom written to disk: valid DICOM, geometry, contrast, truth.json, determinism.

The small phantom is written once per module; the full one only in the slow test.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import config
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage

from tace_planner.domain.geometry import position_along_normal, slice_normal
from tace_planner.domain.progress import Progress, run_sync
from tace_planner.imaging.phantom import (
    PHANTOM_PATIENT_ID,
    PHANTOM_PATIENT_NAME,
    PhantomTruth,
    generate_phantom,
    phantom_truth,
    truth_masks,
    write_phantom,
)
from tace_planner.imaging.phantom_model import Ellipsoid, SamplingGrid, sample_solid

pytestmark = pytest.mark.dicom


@pytest.fixture(scope="module")
def strict_pydicom() -> Iterator[None]:
    """Raise on any invalid value, while writing and while reading."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(config.settings, "reading_validation_mode", config.RAISE)
        patch.setattr(config.settings, "writing_validation_mode", config.RAISE)
        yield


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory, strict_pydicom: None
) -> tuple[Path, PhantomTruth, list[Progress]]:
    out_dir = tmp_path_factory.mktemp("phantom") / "demo"
    steps: list[Progress] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        truth = run_sync(generate_phantom(out_dir, "small", seed=0), steps.append)
    return out_dir, truth, steps


@pytest.fixture(scope="module")
def out_dir(written: tuple[Path, PhantomTruth, list[Progress]]) -> Path:
    return written[0]


@pytest.fixture(scope="module")
def truth(written: tuple[Path, PhantomTruth, list[Progress]]) -> PhantomTruth:
    return written[1]


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.dcm"))


def _headers(folder: Path) -> list[Dataset]:
    return [pydicom.dcmread(path, stop_before_pixels=True) for path in _files(folder)]


def _load(folder: Path, b_value: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read one series (one b-value) as (z, y, x) in stored units after the modality LUT.

    Returns the voxels and the index-to-LPS affine, slices sorted along the normal.
    """
    datasets = [pydicom.dcmread(path) for path in _files(folder)]
    if b_value is not None:
        datasets = [ds for ds in datasets if float(ds.DiffusionBValue) == b_value]
    datasets.sort(
        key=lambda ds: position_along_normal(ds.ImageOrientationPatient, ds.ImagePositionPatient)
    )
    voxels = np.stack(
        [
            ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
            for ds in datasets
        ]
    )
    orientation = [float(v) for v in datasets[0].ImageOrientationPatient]
    row_mm, column_mm = (float(v) for v in datasets[0].PixelSpacing)
    first = np.array([float(v) for v in datasets[0].ImagePositionPatient])
    second = np.array([float(v) for v in datasets[1].ImagePositionPatient])
    affine = np.eye(4)
    affine[:3, 0] = second - first
    affine[:3, 1] = np.array(orientation[3:]) * row_mm
    affine[:3, 2] = np.array(orientation[:3]) * column_mm
    affine[:3, 3] = first
    return voxels, affine


# --- files and layout --------------------------------------------------------------


def test_every_file_reads_back_strictly(out_dir: Path, strict_pydicom: None) -> None:
    files = _files(out_dir)
    assert len(files) > 300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in files:
            dataset = pydicom.dcmread(path)
            for element in dataset.iterall():
                _ = element.value  # values are validated when first converted
            for element in dataset.file_meta:
                _ = element.value
            assert dataset.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
            assert dataset.file_meta.MediaStorageSOPInstanceUID == dataset.SOPInstanceUID
            assert dataset.pixel_array.shape == (dataset.Rows, dataset.Columns)


def test_layout_and_progress(
    written: tuple[Path, PhantomTruth, list[Progress]],
) -> None:
    out_dir, truth, steps = written
    files = _files(out_dir)
    assert (out_dir / "truth.json").is_file()
    expected = {(t.label, s.folder): s.n_images for t in truth.timepoints for s in t.series}
    found: dict[tuple[str, str], int] = {}
    for path in files:
        key = (path.parent.parent.name, path.parent.name)
        found[key] = found.get(key, 0) + 1
    assert found == expected
    assert {folder for _, folder in found} >= {
        "CT_native",
        "CT_arterial",
        "CT_venous",
        "CT_delayed",
        "MR_T2_axial",
        "MR_T2_coronal",
        "MR_T1_axial",
        "MR_DWI_axial",
        "MR_ADC_axial",
    }
    assert len(steps) >= len(files) + 1
    assert [s.done for s in steps] == sorted(s.done for s in steps)
    assert steps[-1].done == steps[-1].total
    assert all(s.message for s in steps)


def test_truth_json_is_the_returned_truth(out_dir: Path, truth: PhantomTruth) -> None:
    data = json.loads((out_dir / "truth.json").read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(truth.to_json()))
    assert data["tace_date"] == "2026-03-16"
    assert data["patient_id"] == PHANTOM_PATIENT_ID
    assert [t["label"] for t in data["timepoints"]] == [
        "baseline",
        "follow_up_1",
        "follow_up_2",
        "follow_up_3",
    ]
    assert len(data["timepoints"][-1]["foci"]) == len(data["timepoints"][0]["foci"]) + 1


def test_one_patient_and_identities(out_dir: Path, truth: PhantomTruth) -> None:
    headers = _headers(out_dir)
    assert {ds.PatientID for ds in headers} == {PHANTOM_PATIENT_ID}
    assert {str(ds.PatientName) for ds in headers} == {PHANTOM_PATIENT_NAME}
    assert len({ds.SOPInstanceUID for ds in headers}) == len(headers)
    series_uids = {s.series_uid for t in truth.timepoints for s in t.series}
    assert {ds.SeriesInstanceUID for ds in headers} == series_uids
    study_uids = {s.study_uid for t in truth.timepoints for s in t.studies}
    assert {ds.StudyInstanceUID for ds in headers} == study_uids
    assert len(study_uids) == len(truth.timepoints) + 1  # baseline CT and MRI are two studies
    for timepoint in truth.timepoints:
        for series in timepoint.series:
            for ds in _headers(out_dir / timepoint.label / series.folder):
                assert ds.SeriesInstanceUID == series.series_uid
                assert ds.StudyInstanceUID == series.study_uid
                assert ds.FrameOfReferenceUID == series.frame_of_reference_uid
                assert ds.SeriesDescription == series.description
                assert ds.Modality == series.modality
                assert ds.BodyPartExamined == "ABDOMEN"
                study = next(s for s in timepoint.studies if s.study_uid == series.study_uid)
                assert ds.StudyDate == study.date.strftime("%Y%m%d")
                expected_class = CTImageStorage if series.modality == "CT" else MRImageStorage
                assert ds.SOPClassUID == expected_class


# --- geometry ------------------------------------------------------------------------


def test_series_geometry(out_dir: Path, truth: PhantomTruth) -> None:
    for timepoint in truth.timepoints:
        for series in timepoint.series:
            headers = _headers(out_dir / timepoint.label / series.folder)
            orientation = [float(v) for v in headers[0].ImageOrientationPatient]
            row, column = np.array(orientation[:3]), np.array(orientation[3:])
            assert np.linalg.norm(row) == pytest.approx(1.0, abs=1e-6)
            assert np.linalg.norm(column) == pytest.approx(1.0, abs=1e-6)
            assert float(row @ column) == pytest.approx(0.0, abs=1e-6)
            for b_value in series.b_values_s_per_mm2 or (None,):
                stack = [ds for ds in headers if b_value is None or ds.DiffusionBValue == b_value]
                assert all(
                    list(ds.ImageOrientationPatient) == list(headers[0].ImageOrientationPatient)
                    for ds in stack
                )
                positions = sorted(
                    position_along_normal(orientation, ds.ImagePositionPatient) for ds in stack
                )
                gaps = np.diff(positions)
                assert len(positions) == series.shape_zyx[0]
                np.testing.assert_allclose(gaps, float(headers[0].SpacingBetweenSlices), atol=0.01)
            affine = _affine_from_headers(headers, orientation)
            np.testing.assert_allclose(affine, np.array(series.index_to_lps), atol=1e-6)


def _affine_from_headers(headers: list[Dataset], orientation: list[float]) -> np.ndarray:
    ordered = sorted(
        headers, key=lambda ds: position_along_normal(orientation, ds.ImagePositionPatient)
    )
    first = np.array([float(v) for v in ordered[0].ImagePositionPatient])
    step = slice_normal(orientation) * float(ordered[0].SpacingBetweenSlices)
    row_mm, column_mm = (float(v) for v in ordered[0].PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = step
    affine[:3, 1] = np.array(orientation[3:]) * row_mm
    affine[:3, 2] = np.array(orientation[:3]) * column_mm
    affine[:3, 3] = first
    return affine


def test_ct_and_mr_grids(out_dir: Path) -> None:
    ct = pydicom.dcmread(out_dir / "baseline" / "CT_arterial" / "IM00001.dcm")
    assert (ct.Rows, ct.Columns) == (128, 128)
    assert float(ct.PixelSpacing[0]) == 3.125
    assert float(ct.SliceThickness) == float(ct.SpacingBetweenSlices) == 5.0
    assert float(ct.RescaleIntercept) == -1024
    assert float(ct.RescaleSlope) == 1
    assert ct.ImageType[:2] == ["ORIGINAL", "PRIMARY"]
    assert float(ct.KVP) == 120
    coronal = pydicom.dcmread(out_dir / "baseline" / "MR_T2_coronal" / "IM00001.dcm")
    assert [float(v) for v in coronal.ImageOrientationPatient] == [1, 0, 0, 0, 0, -1]
    assert (coronal.Rows, coronal.Columns) == (64, 64)


def test_ct_slices_cover_the_liver(truth: PhantomTruth) -> None:
    for timepoint in truth.timepoints:
        grid = timepoint.series_by_folder("CT_venous").grid
        liver = truth.liver.translated(timepoint.patient_offset_lps_mm)
        (_, _, z_low), (_, _, z_high) = liver.bounds_lps_mm()
        z_first = grid.index_to_lps[2, 3]
        z_last = z_first + (grid.shape[0] - 1) * grid.index_to_lps[2, 0]
        assert z_first < z_low - 5
        assert z_last > z_high + 5


# --- contrast and timing --------------------------------------------------------------


def _seconds(tm: str) -> float:
    moment = datetime.strptime(tm.split(".")[0], "%H%M%S")
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def test_contrast_tags_and_delays(out_dir: Path, truth: PhantomTruth) -> None:
    expected_delay_s = {"arterial": 35, "venous": 70, "delayed": 180}
    for timepoint in truth.timepoints:
        for series in timepoint.series:
            if series.modality != "CT":
                continue
            ds = pydicom.dcmread(
                out_dir / timepoint.label / series.folder / "IM00001.dcm", stop_before_pixels=True
            )
            if series.phase == "native":
                assert "ContrastBolusAgent" not in ds
                assert "ContrastBolusStartTime" not in ds
                continue
            assert series.phase is not None
            assert ds.ContrastBolusAgent
            assert ds.ContrastBolusRoute == "IV"
            delay_s = _seconds(ds.AcquisitionTime) - _seconds(ds.ContrastBolusStartTime)
            assert delay_s == pytest.approx(expected_delay_s[series.phase], abs=3)
            assert series.contrast_delay_s == expected_delay_s[series.phase]
    descriptions = {s.description for s in truth.timepoint("baseline").series}
    assert "Abdomen portal venous 5mm" in descriptions


def test_mr_headers(out_dir: Path) -> None:
    for ds in _headers(out_dir / "baseline"):
        if ds.Modality != "MR":
            continue
        assert float(ds.MagneticFieldStrength) == 1.5
        assert ds.ScanningSequence
        assert ds.SequenceVariant
        assert float(ds.EchoTime) > 0
        assert float(ds.RepetitionTime) > 0
    dwi = _headers(out_dir / "baseline" / "MR_DWI_axial")
    assert {float(ds.DiffusionBValue) for ds in dwi} == {50.0, 800.0}
    assert all(ds.ImageType[:3] == ["ORIGINAL", "PRIMARY", "DIFFUSION"] for ds in dwi)
    by_b = {
        b: sorted(tuple(ds.ImagePositionPatient) for ds in dwi if ds.DiffusionBValue == b)
        for b in (50.0, 800.0)
    }
    assert by_b[50.0] == by_b[800.0]
    adc = _headers(out_dir / "baseline" / "MR_ADC_axial")
    assert all(ds.ImageType[:3] == ["DERIVED", "PRIMARY", "ADC"] for ds in adc)


# --- what the images show -----------------------------------------------------------------


def _core(focus_solid: Ellipsoid, shrink_mm: float) -> Ellipsoid:
    semi = tuple(s - shrink_mm for s in focus_solid.semi_axes_mm)
    return Ellipsoid(focus_solid.center_lps_mm, semi, focus_solid.rotation_deg)  # type: ignore[arg-type]


def _region_means(
    volume: np.ndarray, grid: SamplingGrid, truth: PhantomTruth, label: str
) -> tuple[dict[str, float], float]:
    """Mean value inside each focus's viable core and the median of liver away from foci."""
    from scipy import ndimage

    masks = truth_masks(truth, grid, label)
    timepoint = truth.timepoint(label)
    away = np.zeros(grid.shape, dtype=bool)
    means = {}
    for focus in timepoint.foci:
        away |= sample_solid(_core(focus.solid, -6.0), grid)
        if min(focus.semi_axes_mm) <= 3.5:
            continue
        viable = sample_solid(_core(focus.solid, 3.5), grid)
        core = focus.necrotic_core
        if core is not None:
            viable &= ~sample_solid(_core(core, -3.5), grid)
        if np.count_nonzero(viable) >= 4:
            means[focus.name] = float(volume[viable].mean())
    liver = ndimage.binary_erosion(masks["liver"], iterations=1) & ~away
    return means, float(np.median(volume[liver]))


@pytest.mark.parametrize("label", ["baseline", "follow_up_1", "follow_up_3"])
def test_hypervascular_foci_enhance_then_wash_out(
    out_dir: Path, truth: PhantomTruth, label: str
) -> None:
    timepoint = truth.timepoint(label)
    arterial, grid_a = _load(out_dir / label / "CT_arterial")
    venous, grid_v = _load(out_dir / label / "CT_venous")
    grid = timepoint.series_by_folder("CT_arterial").grid
    np.testing.assert_allclose(grid_a, grid.index_to_lps, atol=1e-6)
    np.testing.assert_allclose(grid_v, grid.index_to_lps, atol=1e-6)
    focus_a, liver_a = _region_means(arterial, grid, truth, label)
    focus_v, liver_v = _region_means(venous, grid, truth, label)
    assert 65 <= liver_a <= 85
    assert 100 <= liver_v <= 120
    checked = 0
    for focus in timepoint.foci:
        if focus.name not in focus_a or focus.longest_axial_diameter_mm < 15:
            continue
        checked += 1
        if focus.hypervascular:
            assert focus_a[focus.name] > liver_a + 30, focus.name
        else:
            assert focus_a[focus.name] < liver_a, focus.name
        assert focus_v[focus.name] < liver_v - 10, focus.name
    assert checked >= 2


def test_native_and_necrosis_values(out_dir: Path, truth: PhantomTruth) -> None:
    native, _ = _load(out_dir / "baseline" / "CT_native")
    grid = truth.timepoint("baseline").series_by_folder("CT_native").grid
    masks = truth_masks(truth, grid, "baseline", include_necrosis=True)
    necrosis_core = next(f for f in truth.timepoint("baseline").foci if f.necrotic_core)
    core = sample_solid(_core(necrosis_core.necrotic_core, 3.5), grid)  # type: ignore[arg-type]
    assert 10 <= native[core].mean() <= 30
    assert masks[f"{necrosis_core.name}/necrosis"][core].all()


def test_mr_contrasts(out_dir: Path, truth: PhantomTruth) -> None:
    baseline = truth.timepoint("baseline")
    t2, _ = _load(out_dir / "baseline" / "MR_T2_axial")
    b800, _ = _load(out_dir / "baseline" / "MR_DWI_axial", b_value=800.0)
    adc, _ = _load(out_dir / "baseline" / "MR_ADC_axial")
    t2_focus, t2_liver = _region_means(
        t2, baseline.series_by_folder("MR_T2_axial").grid, truth, "baseline"
    )
    dwi_grid = baseline.series_by_folder("MR_DWI_axial").grid
    b800_focus, b800_liver = _region_means(b800, dwi_grid, truth, "baseline")
    adc_focus, adc_liver = _region_means(adc, dwi_grid, truth, "baseline")
    assert 900 <= adc_liver <= 1300  # 10^-6 mm²/s
    for name in ("F1", "F2"):
        assert t2_focus[name] > t2_liver
        assert b800_focus[name] > b800_liver
        assert adc_focus[name] < adc_liver


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_identical_files(
    out_dir: Path, tmp_path: Path, strict_pydicom: None
) -> None:
    again = tmp_path / "again"
    write_phantom(again, "small", seed=0)
    assert (again / "truth.json").read_bytes() == (out_dir / "truth.json").read_bytes()
    for relative in (
        "baseline/CT_arterial/IM00010.dcm",
        "baseline/MR_DWI_axial/IM00020.dcm",
        "follow_up_3/CT_venous/IM00017.dcm",
    ):
        assert (again / relative).read_bytes() == (out_dir / relative).read_bytes()


def test_another_seed_changes_uids_not_anatomy(truth: PhantomTruth) -> None:
    other = phantom_truth("small", seed=1)
    uids = {s.series_uid for t in truth.timepoints for s in t.series}
    other_uids = {s.series_uid for t in other.timepoints for s in t.series}
    assert not uids & other_uids
    assert other.timepoints[0].foci == truth.timepoints[0].foci  # same anatomy
    assert phantom_truth("full", seed=0).timepoints[0].study_uid != truth.timepoints[0].study_uid


def test_closing_the_task_stops_before_truth_json(tmp_path: Path) -> None:
    task = generate_phantom(tmp_path / "cancelled", "small", seed=0)
    for _ in range(3):
        next(task)
    task.close()
    assert len(_files(tmp_path / "cancelled")) == 3
    assert not (tmp_path / "cancelled" / "truth.json").exists()


def test_unknown_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="size"):
        write_phantom(tmp_path, "medium", seed=0)  # type: ignore[arg-type]


# --- the full phantom ------------------------------------------------------------------------


@pytest.mark.slow
def test_full_phantom(tmp_path: Path, strict_pydicom: None) -> None:
    started = time.perf_counter()
    truth = write_phantom(tmp_path / "full", "full", seed=0)
    elapsed_s = time.perf_counter() - started
    print(f"full phantom written in {elapsed_s:.1f} s")
    files = _files(tmp_path / "full")
    assert len(files) == sum(s.n_images for t in truth.timepoints for s in t.series)
    ct = pydicom.dcmread(tmp_path / "full" / "baseline" / "CT_venous" / "IM00001.dcm")
    assert (ct.Rows, ct.Columns) == (512, 512)
    assert float(ct.PixelSpacing[0]) == 0.78125
    assert float(ct.SliceThickness) == 2.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in files[::25]:
            for element in pydicom.dcmread(path).iterall():
                _ = element.value
    volume, affine = _load(tmp_path / "full" / "follow_up_2" / "CT_venous")
    grid = SamplingGrid(affine, volume.shape)
    masks = truth_masks(truth, grid, "follow_up_2")
    voxel_cm3 = abs(np.linalg.det(affine[:3, :3])) / 1000
    for focus in truth.timepoint("follow_up_2").foci:
        if focus.longest_axial_diameter_mm >= 10:
            counted = np.count_nonzero(masks[focus.name]) * voxel_cm3
            assert counted == pytest.approx(focus.volume_cm3, rel=0.02)
