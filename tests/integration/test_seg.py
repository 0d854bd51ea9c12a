"""DICOM SEG: export a timepoint's contours, read them back (ours and highdicom), import others."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.seg import (
    SegGeometryError,
    SegmentSpec,
    SegReferenceError,
    export_seg,
    read_seg,
    seg_grid,
    write_seg,
    write_seg_task,
)
from tace_planner.imaging.dicom.series import load_volume
from tace_planner.imaging.phantom_truth import PhantomTruth, truth_masks

pytestmark = pytest.mark.dicom


@pytest.fixture(scope="module")
def venous(small_phantom: Path):
    paths = sorted((small_phantom / "baseline" / "CT_venous").iterdir())
    volume = run_sync(load_volume(paths))
    truth = PhantomTruth.from_json(json.loads((small_phantom / "truth.json").read_text()))
    return paths, volume, truth_masks(truth, volume, "baseline")


def _specs(masks) -> list[SegmentSpec]:
    specs = [SegmentSpec("Liver", masks["liver"], "liver", semi_automatic=False)]
    specs += [SegmentSpec(name, m, "tumour", tracking_id=name) for name, m in masks.items()
              if name != "liver"]  # fmt: skip
    return specs


@pytest.fixture(scope="module")
def exported(venous, tmp_path_factory) -> Path:
    paths, volume, masks = venous
    return write_seg(tmp_path_factory.mktemp("seg") / "seg.dcm", paths, volume, _specs(masks))


def test_round_trip_gives_identical_masks(venous, exported: Path) -> None:
    paths, volume, masks = venous
    series_uid = str(pydicom.dcmread(paths[0], stop_before_pixels=True).SeriesInstanceUID)
    imported = read_seg(exported, volume, available_series_uids={series_uid})
    assert imported.referenced_series_uids == (series_uid,)
    assert imported.frame_of_reference_uid == volume.frame_of_reference_uid
    assert imported.warnings == ()
    labels = [s.label for s in imported.segments]
    assert labels == ["Liver", *[n for n in masks if n != "liver"]]
    for segment in imported.segments:
        expected = masks["liver" if segment.label == "Liver" else segment.label]
        assert np.array_equal(segment.mask, expected), segment.label
    liver = imported.segments[0]
    assert liver.property_type == "Liver"
    assert imported.segments[1].tracking_id == "F1"
    assert "Neoplasm" in imported.segments[1].property_type


def test_exported_file_passes_highdicoms_own_reading(venous, exported: Path) -> None:
    import highdicom as hd

    paths, volume, masks = venous
    seg = hd.seg.segread(exported)
    assert seg.number_of_segments == len(masks)
    assert seg.SegmentationType == "BINARY"
    sources = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    by_uid = {}
    for ds in sources:
        k = round(float(np.linalg.solve(volume.index_to_lps[:3, :3],
                                        np.asarray(ds.ImagePositionPatient, float)
                                        - volume.index_to_lps[:3, 3])[0]))  # fmt: skip
        by_uid[str(ds.SOPInstanceUID)] = k
    uids = list(seg.get_source_image_uids())
    assert {u[2] for u in uids} <= set(by_uid)
    instance_uids = sorted(by_uid, key=by_uid.get)
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=instance_uids,
        segment_numbers=[2],  # F1
        assert_missing_frames_are_empty=True,
    )
    assert np.array_equal(pixels[..., 0].astype(bool), masks["F1"])


def test_frames_all_referencing_one_image_are_placed_by_position(venous, exported: Path) -> None:
    _, volume, masks = venous
    ds = pydicom.dcmread(exported)
    first = ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
    uid = first.SourceImageSequence[0].ReferencedSOPInstanceUID
    for frame in ds.PerFrameFunctionalGroupsSequence:
        frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID = uid
    imported = read_seg(ds, (volume.index_to_lps, volume.shape))
    assert np.array_equal(imported.segments[1].mask, masks["F1"])


def test_missing_referenced_series_is_named(venous, exported: Path) -> None:
    paths, volume, _ = venous
    series_uid = str(pydicom.dcmread(paths[0], stop_before_pixels=True).SeriesInstanceUID)
    with pytest.raises(SegReferenceError, match=series_uid) as raised:
        read_seg(exported, volume, available_series_uids={"1.2.3.4"})
    assert raised.value.series_uid == series_uid
    assert isinstance(raised.value, TacePlannerError)


def test_other_frame_of_reference_is_refused(venous, exported: Path) -> None:
    from tace_planner.domain.volume import ImageVolume

    _, volume, _ = venous
    other = ImageVolume(np.zeros(volume.shape, np.float32), volume.index_to_lps, "9.9.9")
    with pytest.raises(SegGeometryError, match="frame of reference"):
        read_seg(exported, other)


def test_export_refuses_images_off_the_volume_grid(venous) -> None:
    paths, volume, masks = venous
    with pytest.raises(SegGeometryError, match="no source image"):
        export_seg(paths[:-1], volume, _specs(masks))
    with pytest.raises(SegGeometryError, match="not on the volume"):
        export_seg(paths, volume, [SegmentSpec("F1", np.zeros((2, 2, 2), bool))])
    with pytest.raises(ValueError, match="nothing to export"):
        export_seg(paths, volume, [SegmentSpec("F1", np.zeros(volume.shape, bool))])


def test_write_as_a_task(venous, tmp_path: Path) -> None:
    paths, volume, masks = venous
    steps = []
    path = run_sync(
        write_seg_task(tmp_path / "t.dcm", paths, volume, _specs(masks)[:2]), steps.append
    )
    assert [s.done for s in steps] == [0, 1, 2, 3]
    imported = read_seg(path, volume)
    assert np.array_equal(imported.segments[1].mask, masks["F1"])


def test_import_pydicom_data_liver_seg() -> None:
    path = get_testdata_file("liver.dcm")
    assert path is not None
    affine, shape = seg_grid(path)
    assert shape == (3, 512, 512)
    np.testing.assert_allclose(affine[:3, 3], (-235.2, -226.8, -128.69))
    np.testing.assert_allclose(np.linalg.norm(affine[:3, :3], axis=0), (1.0, 0.810547, 0.810547))
    imported = read_seg(path, (affine, shape))
    (liver,) = imported.segments
    assert liver.label == "Liver"
    frames = pydicom.dcmread(path).pixel_array.astype(bool)
    assert np.array_equal(liver.mask, frames)  # frames ascend in z, as the grid does
    referenced = "1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"
    assert imported.referenced_series_uids == (referenced,)
    with pytest.raises(SegReferenceError, match=referenced):
        read_seg(path, (affine, shape), available_series_uids=set())
