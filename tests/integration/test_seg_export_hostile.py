"""SEG export of real-world series: no frame of reference, a stray reformat, bad targets."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tace_planner.domain.progress import run_sync
from tace_planner.imaging.dicom.seg import (
    SegmentSpec,
    SegWriteError,
    derived_frame_of_reference_uid,
    export_seg,
    write_seg,
)
from tace_planner.imaging.dicom.series import load_volume

pytestmark = pytest.mark.dicom


@pytest.fixture(scope="module")
def venous(small_phantom: Path):
    paths = sorted((small_phantom / "baseline" / "CT_venous").glob("*.dcm"))
    volume = run_sync(load_volume(paths))
    mask = np.zeros(volume.shape, dtype=bool)
    mask[volume.shape[0] // 2, 10:20, 10:20] = True
    return paths, volume, [SegmentSpec("F1", mask, "tumour")]


def test_images_without_frame_of_reference_get_one_derived_from_their_series(venous) -> None:
    paths, volume, specs = venous
    sources = []
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        del ds.FrameOfReferenceUID
        sources.append(ds)

    seg = export_seg(sources, volume, specs)

    expected = derived_frame_of_reference_uid(str(sources[0].SeriesInstanceUID))
    assert seg.FrameOfReferenceUID == expected
    assert expected == derived_frame_of_reference_uid(str(sources[0].SeriesInstanceUID))
    assert "FrameOfReferenceUID" not in sources[0]  # the caller's data sets are untouched


def test_a_stray_reformat_in_the_series_is_left_out_of_the_references(venous) -> None:
    paths, volume, specs = venous
    sources = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    stray = copy.deepcopy(sources[len(sources) // 2])
    stray.SOPInstanceUID = pydicom.uid.generate_uid()
    stray.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]  # a coronal reformat
    stray.ImagePositionPatient = list(sources[0].ImagePositionPatient)

    seg = export_seg([*sources, stray], volume, specs)

    referenced = {
        item.ReferencedSOPInstanceUID
        for series in seg.ReferencedSeriesSequence
        for item in series.ReferencedInstanceSequence
    }
    assert stray.SOPInstanceUID not in referenced
    assert referenced <= {str(ds.SOPInstanceUID) for ds in sources}


def test_write_seg_refuses_bad_targets_and_leaves_no_partial_file(venous, tmp_path: Path) -> None:
    paths, volume, specs = venous
    keep = tmp_path / "notes.txt"
    keep.write_text("precious")
    for target, expected in (
        (tmp_path / "missing" / "seg.dcm", "no such folder"),
        (tmp_path, "is a folder"),
        (keep, "not a DICOM file"),
    ):
        with pytest.raises(SegWriteError, match=expected):
            write_seg(target, paths, volume, specs)
    assert keep.read_text() == "precious"
    out = write_seg(tmp_path / "seg.dcm", paths, volume, specs)
    assert pydicom.dcmread(out).Modality == "SEG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "seg.dcm"]
