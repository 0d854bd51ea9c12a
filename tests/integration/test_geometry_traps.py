"""Geometry traps of real-world series, each written by the test itself with pydicom.

Every series is 64 x 64 (16 slices unless the trap needs otherwise), built from
``pydicom.examples.ct``; slice ``k`` along the normal holds the stored value
``10 * k`` (HU ``10 * k - 1024``), so the loaded voxels show whether the slices
were put in the right order, whatever the file names say.
"""

from __future__ import annotations

import copy
import math
import random
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom import config, examples
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from tace_planner.domain.errors import UnsupportedSeriesError
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom import volume_loading
from tace_planner.imaging.dicom.pixels import read_frames
from tace_planner.imaging.dicom.scan import read_header
from tace_planner.imaging.dicom.series import load_series_part, load_volume, plan_series
from tace_planner.imaging.dicom.volumes import load_plan, plan_volumes

pytestmark = pytest.mark.dicom

SIZE = 64
AXIAL = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
ORIGIN = (-25.0, -30.0, 0.0)


@pytest.fixture(autouse=True)
def _strict_pydicom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read as strictly as highdicom's tests: invalid values raise."""
    monkeypatch.setattr(config.settings, "reading_validation_mode", config.RAISE)


def template(rows: int = SIZE, columns: int = SIZE, **changes: Any) -> Dataset:
    ds = copy.deepcopy(examples.ct)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows, ds.Columns = rows, columns
    ds.PixelSpacing = [0.8, 0.7]  # row spacing (y) 0.8 mm, column spacing (x) 0.7 mm
    ds.ImageOrientationPatient = AXIAL
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesDescription = "Trap"
    ds.SeriesNumber = 7
    ds.RescaleSlope = 1
    ds.RescaleIntercept = -1024
    ds.GantryDetectorTilt = 0
    for name, value in changes.items():
        setattr(ds, name, value)
    return ds


def write_series(
    folder: Path,
    positions: Sequence[Sequence[float]],
    *,
    values: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    base: Dataset | None = None,
    per_slice: Sequence[dict[str, Any]] | None = None,
) -> list[Path]:
    """One file per position; stored value ``values[k]`` (default 10 * k) fills slice k."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = base if base is not None else template()
    paths = []
    for k, position in enumerate(positions):
        item = copy.deepcopy(ds)
        item.SOPInstanceUID = generate_uid()
        item.file_meta.MediaStorageSOPInstanceUID = item.SOPInstanceUID
        item.InstanceNumber = k + 1
        item.ImagePositionPatient = [round(float(v), 6) for v in position]
        for name, value in (per_slice[k] if per_slice else {}).items():
            setattr(item, name, value)
        value = values[k] if values is not None else 10 * k
        item.PixelData = np.full((item.Rows, item.Columns), value, dtype=np.int16).tobytes()
        path = folder / (names[k] if names else f"IM{k:04d}.dcm")
        item.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def axial_positions(depths: Sequence[float]) -> list[tuple[float, float, float]]:
    return [(ORIGIN[0], ORIGIN[1], float(d)) for d in depths]


def slice_values(volume_voxels: np.ndarray) -> list[float]:
    """The constant of each slice (asserting it is constant)."""
    out = []
    for plane in volume_voxels:
        assert plane.min() == plane.max()
        out.append(float(plane[0, 0]))
    return out


# ---------------------------------------------------------------- order


def test_shuffled_file_names_order_comes_from_positions(tmp_path: Path) -> None:
    depths = [-2.5 * k for k in range(16)]  # written top to bottom
    names = [f"{n:04d}" for n in random.Random(3).sample(range(1000), 16)]
    # Slice k along +z holds 10 * k: the file at depth -2.5 * j holds 10 * (15 - j).
    paths = write_series(
        tmp_path, axial_positions(depths), values=[10 * (15 - j) for j in range(16)], names=names
    )
    random.Random(4).shuffle(paths)
    volume = run_sync(load_volume(paths))
    assert volume.shape == (16, SIZE, SIZE)
    assert slice_values(volume.voxels) == [10.0 * k - 1024 for k in range(16)]
    assert volume.index_to_lps[:3, 3] == pytest.approx([-25.0, -30.0, -37.5])
    assert volume.spacing_mm == pytest.approx((2.5, 0.8, 0.7))
    # Pixel Spacing: y (rows) 0.8 mm, x (columns) 0.7 mm.
    assert volume.index_to_lps[:3, 1] == pytest.approx([0, 0.8, 0])
    assert volume.index_to_lps[:3, 2] == pytest.approx([0.7, 0, 0])


def test_reversed_slice_order(tmp_path: Path) -> None:
    # Instance numbers run head to feet (descending z), files named in that order.
    paths = write_series(tmp_path, axial_positions([40 - 2.0 * k for k in range(16)]))
    (plan,) = run_sync(plan_series(paths))
    assert plan.report.status == "ok"
    volume = run_sync(load_plan(plan))
    assert slice_values(volume.voxels) == [10.0 * (15 - k) - 1024 for k in range(16)]
    assert volume.index_to_lps[:3, 0] == pytest.approx([0, 0, 2.0])
    assert volume.index_to_lps[2, 3] == pytest.approx(10.0)


def test_coronal_series(tmp_path: Path) -> None:
    base = template(ImageOrientationPatient=[1.0, 0.0, 0.0, 0.0, 0.0, -1.0])
    # Normal = row x column = +y: the slices step posteriorly.
    positions = [(-25.0, 50.0 - 3.0 * k, 100.0) for k in range(16)]
    paths = write_series(tmp_path, positions, base=base)
    (plan,) = run_sync(plan_series(paths))
    assert plan.report.status == "ok"
    volume = run_sync(load_plan(plan))
    assert slice_values(volume.voxels) == [10.0 * (15 - k) - 1024 for k in range(16)]
    assert volume.index_to_lps[:3, 0] == pytest.approx([0, 3.0, 0])
    assert volume.index_to_lps[:3, 1] == pytest.approx([0, 0, -0.8])  # rows go down (feet)


# ---------------------------------------------------------------- spacing traps


def test_removed_slice_is_reported_as_missing(tmp_path: Path) -> None:
    paths = write_series(tmp_path, axial_positions([2.5 * k for k in range(16)]))
    paths[9].unlink()
    del paths[9]
    (plan,) = run_sync(plan_series(paths))
    assert plan.report.status == "unmeasurable"
    assert plan.report.missing_slices == 1
    assert plan.report.warnings == (
        'series 7 "Trap": gap of 5.0 mm between slices 9 and 10 (expected 2.5 mm): 1 slice missing',
    )
    volume = run_sync(load_plan(plan))  # still viewable
    assert volume.shape == (15, SIZE, SIZE)


def test_uneven_spacing(tmp_path: Path) -> None:
    steps = [2.5] * 15
    steps[4] = 2.7  # 8 % more than the median
    depths = np.concatenate([[0.0], np.cumsum(steps)])
    paths = write_series(tmp_path, axial_positions(depths))
    (plan,) = run_sync(plan_series(paths))
    report = plan.report
    assert report.status == "warning"
    assert (report.spacing_min_mm, report.spacing_median_mm, report.spacing_max_mm) == (
        pytest.approx(2.5),
        pytest.approx(2.5),
        pytest.approx(2.7),
    )
    assert "uneven slice spacing: min 2.5, median 2.5, max 2.7 mm" in report.warnings[0]


def test_duplicated_slice_keeps_the_first(tmp_path: Path) -> None:
    depths = [2.5 * k for k in range(16)]
    paths = write_series(tmp_path / "a", axial_positions(depths))
    # A second image at depth 12.5 (another SOP instance, different pixels, instance 99).
    extra = write_series(
        tmp_path / "b",
        axial_positions([12.5]),
        values=[999],
        base=template(SeriesInstanceUID=pydicom.dcmread(paths[0]).SeriesInstanceUID),
        per_slice=[{"InstanceNumber": 99}],
    )
    (plan,) = run_sync(plan_series(paths + extra))
    assert plan.report.status == "warning"
    assert plan.report.duplicate_positions == 1
    assert "kept and 1 left out" in plan.report.warnings[0]
    volume = run_sync(load_plan(plan))
    assert slice_values(volume.voxels) == [10.0 * k - 1024 for k in range(16)]


def test_tilted_gantry_keeps_the_sheared_affine(tmp_path: Path) -> None:
    tilt = 20.0
    dz = 2.0
    dy = dz * math.tan(math.radians(tilt))
    positions = [(-25.0, -30.0 + dy * k, dz * k) for k in range(16)]
    paths = write_series(tmp_path, positions, base=template(GantryDetectorTilt=tilt))
    assert read_header(paths[0]).gantry_tilt_deg == pytest.approx(tilt)
    (plan,) = run_sync(plan_series(paths))
    assert plan.report.status == "warning"
    assert plan.report.gantry_tilt_deg == pytest.approx(tilt, abs=1e-3)
    assert plan.report.resampled is False
    assert plan.report.spacing_mm[0] == pytest.approx(dz)
    volume = run_sync(load_plan(plan))
    assert volume.index_to_lps[:3, 0] == pytest.approx([0.0, dy, dz])
    # Every slice origin is where its file says.
    for k, position in enumerate(positions):
        assert volume.index_to_lps[:3, :3] @ [k, 0, 0] + volume.index_to_lps[:3, 3] == (
            pytest.approx(position)
        )
    assert volume.voxel_volume_cm3 == pytest.approx(dz * 0.8 * 0.7 / 1000)


# ---------------------------------------------------------------- mixed series


def test_mixed_matrix_sizes_are_separate_parts(tmp_path: Path) -> None:
    base = template()
    paths = write_series(tmp_path / "a", axial_positions([2.5 * k for k in range(8)]), base=base)
    small = template(32, 32, SeriesInstanceUID=base.SeriesInstanceUID, PixelSpacing=[1.4, 1.4])
    paths += write_series(tmp_path / "b", axial_positions([2.5 * k for k in range(8)]), base=small)
    plans = run_sync(plan_series(paths))
    assert [p.part for p in plans] == ["axial 32x32", "axial 64x64"]
    with pytest.raises(UnsupportedSeriesError, match="holds 2 volumes"):
        run_sync(load_volume(paths))
    volume = run_sync(load_series_part(paths, "axial 32x32"))
    assert volume.shape == (8, 32, 32)
    assert volume.spacing_mm == pytest.approx((2.5, 1.4, 1.4))


def mr_template(**changes: Any) -> Dataset:
    ds = template(Modality="MR", SOPClassUID="1.2.840.10008.5.1.4.1.1.4", **changes)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    del ds.RescaleSlope, ds.RescaleIntercept, ds.GantryDetectorTilt
    return ds


def test_multi_echo_series_gives_one_part_per_echo(tmp_path: Path) -> None:
    depths = [4.0 * k for k in range(16)]
    base = mr_template(ImageType=["ORIGINAL", "PRIMARY", "M", "ND"])
    echoes = [{"EchoNumbers": 1 + k % 2, "EchoTime": [2.3, 4.6][k % 2]} for k in range(32)]
    positions = [axial_positions(depths)[k // 2] for k in range(32)]
    values = [k // 2 + 100 * (k % 2) for k in range(32)]
    paths = write_series(tmp_path, positions, values=values, base=base, per_slice=echoes)
    plans = run_sync(plan_series(paths))
    assert [p.part for p in plans] == ["echo 1 (TE 2.3 ms)", "echo 2 (TE 4.6 ms)"]
    second = run_sync(load_series_part(paths, "echo 2 (TE 4.6 ms)"))
    assert slice_values(second.voxels) == [100.0 + k for k in range(16)]


def test_dwi_series_gives_parts_b50_and_b800(tmp_path: Path) -> None:
    depths = [5.0 * k for k in range(16)]
    base = mr_template(ImageType=["ORIGINAL", "PRIMARY", "DIFFUSION", "TRACEW"])
    b_values = [{"DiffusionBValue": [800.0, 50.0][k % 2]} for k in range(32)]
    positions = [axial_positions(depths)[k // 2] for k in range(32)]
    paths = write_series(tmp_path, positions, base=base, per_slice=b_values)
    plans = run_sync(plan_series(paths))
    assert [p.part for p in plans] == ["b=50", "b=800"]
    assert all(p.report.status == "ok" and p.report.slice_count == 16 for p in plans)


@pytest.mark.parametrize(
    ("creator_tag", "creator", "value_tag", "vr", "stored"),
    [
        (0x00190010, "SIEMENS MR HEADER", 0x0019100C, "IS", ["800", "50"]),
        (0x00430010, "GEMS_PARM_01", 0x00431039, "IS", ["1000000800\\8\\0\\0", "50\\8\\0\\0"]),
        (0x20010010, "Philips Imaging DD 001", 0x20011003, "FL", [800.0, 50.0]),
    ],
)
def test_private_b_values(
    tmp_path: Path, creator_tag: int, creator: str, value_tag: int, vr: str, stored: list[Any]
) -> None:
    paths = []
    for n, (syntax, implicit) in enumerate(
        [(ExplicitVRLittleEndian, False), (ImplicitVRLittleEndian, True)]
    ):
        base = mr_template()
        base.file_meta.TransferSyntaxUID = syntax
        for k, value in enumerate(stored):
            ds = copy.deepcopy(base)
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.ImagePositionPatient = [0.0, 0.0, float(k)]
            ds.add_new(creator_tag, "LO", creator)
            ds.add_new(value_tag, vr, value.split("\\") if isinstance(value, str) else value)
            ds.PixelData = np.zeros((SIZE, SIZE), np.int16).tobytes()
            path = tmp_path / f"{n}-{k}.dcm"
            ds.save_as(path, implicit_vr=implicit, little_endian=True, enforce_file_format=True)
            paths.append(path)
    assert [read_header(p).b_value for p in paths] == [800.0, 50.0, 800.0, 50.0]


def test_enhanced_ct_multi_frame(tmp_path: Path) -> None:
    frames = 16
    order = random.Random(5).sample(range(frames), frames)  # frame f lies at depth order[f]
    ds = template()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"  # Enhanced CT Image Storage
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    for name in (
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "PixelSpacing",
        "SliceThickness",
        "RescaleSlope",
        "RescaleIntercept",
    ):
        if name in ds:
            delattr(ds, name)
    ds.NumberOfFrames = frames
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [0.8, 0.7]
    measures.SliceThickness = 3.0
    shared.PixelMeasuresSequence = DicomSequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = AXIAL
    shared.PlaneOrientationSequence = DicomSequence([orientation])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    items = []
    pixels = np.empty((frames, SIZE, SIZE), dtype=np.int16)
    for f, depth_index in enumerate(order):
        item = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [-25.0, -30.0, 3.0 * depth_index]
        item.PlanePositionSequence = DicomSequence([position])
        transform = Dataset()
        # Per-frame rescale: slope 2 on odd depths, so HU = 10 * k - 1024 everywhere.
        slope = 2 if depth_index % 2 else 1
        transform.RescaleSlope = slope
        transform.RescaleIntercept = -1024
        transform.RescaleType = "HU"
        item.PixelValueTransformationSequence = DicomSequence([transform])
        content = Dataset()
        content.InStackPositionNumber = depth_index + 1
        item.FrameContentSequence = DicomSequence([content])
        items.append(item)
        pixels[f] = (10 * depth_index) // slope
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(items)
    ds.PixelData = pixels.tobytes()
    path = tmp_path / "enhanced.dcm"
    ds.save_as(path, enforce_file_format=True)

    header = read_header(path)
    assert header.number_of_frames == frames
    assert [f.position_lps_mm[2] for f in header.frames] == [3.0 * d for d in order]  # type: ignore[index]
    assert header.pixel_data_offset is None  # per-frame rescale: decoded by pixels.py
    (plan,) = plan_volumes([header])
    assert plan.report.status == "ok"
    assert plan.report.spacing_mm == pytest.approx((3.0, 0.8, 0.7))
    assert [f for _, f in plan.frames] == [order.index(k) for k in range(frames)]
    volume = run_sync(load_plan(plan))
    assert slice_values(volume.voxels) == [10.0 * k - 1024 for k in range(frames)]
    assert volume.index_to_lps[:3, 3] == pytest.approx([-25.0, -30.0, 0.0])


def test_real_enhanced_ct_from_pydicom_data() -> None:
    from pydicom.data import get_testdata_file

    path = get_testdata_file("eCT_Supplemental.dcm")
    if path is None:
        pytest.skip("pydicom-data is not installed")
    (plan,) = plan_volumes([read_header(Path(path))])
    assert plan.report.shape_zyx == (2, 512, 512)
    assert plan.report.spacing_mm == pytest.approx((10.0, 0.388672, 0.388672))
    # The normal is -z (row cosine -x): the frame at z = -149 comes first.
    assert plan.frames == ((0, 1), (0, 0))
    volume = run_sync(load_plan(plan))
    expected = read_frames(Path(path))
    assert np.array_equal(volume.voxels, expected[::-1])
    assert volume.index_to_lps[:3, 0] == pytest.approx([0.0, 0.0, -10.0])


# ---------------------------------------------------------------- refusals and loading


def test_single_slice_series_is_refused(tmp_path: Path) -> None:
    paths = write_series(tmp_path, axial_positions([0.0]))
    with pytest.raises(UnsupportedSeriesError, match=r'series 7 "Trap" \(UID [0-9.]+\).*two'):
        run_sync(load_volume(paths))


@pytest.mark.parametrize(
    ("bits_stored", "representation", "stored"),
    [
        (16, 1, [-2000, -1, 0, 3000]),
        (12, 0, [0, 1, 4095, 4095 | 0xF000]),
        (12, 1, [-2048, -1, 2047, 0x0ABC | 0xF000]),
    ],
)
@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_fast_pixel_path_matches_pydicom(
    tmp_path: Path, bits_stored: int, representation: int, stored: list[int], syntax: str
) -> None:
    base = template(
        BitsStored=bits_stored,
        HighBit=bits_stored - 1,
        PixelRepresentation=representation,
        RescaleSlope=0.5,
        RescaleIntercept=-100,
    )
    base.file_meta.TransferSyntaxUID = syntax
    paths = []
    dtype = np.int16 if representation else np.uint16
    for k in range(3):
        ds = copy.deepcopy(base)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.ImagePositionPatient = [0.0, 0.0, float(k)]
        plane = np.resize(np.array(stored, dtype=np.int64).astype(dtype), (SIZE, SIZE))
        ds.PixelData = plane.tobytes()
        path = tmp_path / f"{k}.dcm"
        ds.save_as(path, implicit_vr=syntax == ImplicitVRLittleEndian, enforce_file_format=True)
        paths.append(path)
    (plan,) = run_sync(plan_series(paths))
    assert all(h.pixel_data_offset is not None for h in plan.headers)
    fast = run_sync(load_plan(plan))
    for k, path in enumerate(paths):
        assert np.allclose(fast.voxels[k], read_frames(path)[0], rtol=0, atol=1e-3)


def test_truncated_pixels_fall_back_to_a_named_error(tmp_path: Path) -> None:
    from tace_planner.domain.errors import DicomReadError

    paths = write_series(tmp_path, axial_positions([0.0, 2.5, 5.0]))
    (plan,) = run_sync(plan_series(paths))
    paths[1].write_bytes(paths[1].read_bytes()[:-1000])
    with pytest.raises(DicomReadError, match=paths[1].name):
        run_sync(load_plan(plan))


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("dicom-read")]


def test_closing_the_load_task_stops_its_threads(tmp_path: Path) -> None:
    paths = write_series(tmp_path, axial_positions([1.0 * k for k in range(64)]))
    (plan,) = run_sync(plan_series(paths))
    task: Iterator[object] = load_plan(plan)
    next(task)
    next(task)
    task.close()  # type: ignore[attr-defined]
    assert _reader_threads() == []


def test_single_thread_gives_the_same_volume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_series(tmp_path, axial_positions([2.0 * k for k in range(16)]))
    (plan,) = run_sync(plan_series(paths))
    two = run_sync(load_plan(plan))
    monkeypatch.setattr(volume_loading, "READ_THREADS", 1)
    one = run_sync(load_plan(plan))
    assert np.array_equal(one.voxels, two.voxels)
