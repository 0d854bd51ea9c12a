"""A DICOM file cut short is said to end early, not to lack whatever tag it lost.

pydicom reads a cut header without complaint, so a CT slice copied only in part
used to be reported as "missing SOP Instance UID" (or Study/Series); the scan now
walks the element headers and names the real cause. Whole files keep their reasons.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from tace_planner.domain.errors import DicomReadError
from tace_planner.imaging.dicom.discover import _read_one
from tace_planner.imaging.dicom.scan import read_header

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydicom")  # cut values

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENDS_EARLY = "the file ends early ({size} bytes"
COPY_AGAIN = "cut off while copying or downloading; copy it again from its source"


def ct_slice(*, sop_uid: bool = True, pixels: bool = True, implicit: bool = False) -> bytes:
    """A small but complete CT slice (a sequence in its header), as the bytes of a file."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.SOPClassUID = CT_IMAGE_STORAGE
    if sop_uid:
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "CT"
    ds.StudyDescription = "CT liver triphasic, baseline before TACE"
    ds.SeriesDescription = "venous phase 2.5 mm"
    ds.PatientName = "Test^Truncated"
    ds.PatientID = "TRUNC-001"
    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    ref.ReferencedSOPInstanceUID = generate_uid()
    ds.ReferencedImageSequence = [ref]
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.InstanceNumber = 1
    ds.ImagePositionPatient = [0.0, 0.0, 0.0]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.8, 0.8]
    ds.SliceThickness = 2.5
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 32
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    if pixels:
        ds.PixelData = np.arange(32 * 32, dtype=np.int16).tobytes()
    ds.preamble = b"\0" * 128
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=sop_uid)  # pydicom insists on the UID otherwise
    return buffer.getvalue()


def pixel_data_at(data: bytes) -> int:
    return data.rfind(b"\xe0\x7f\x10\x00")


def reason_of(path: Path) -> str:
    with pytest.raises(DicomReadError) as caught:
        read_header(path)
    return caught.value.reason


def problem_of(path: Path) -> str:
    """Why the file cannot be imported: the header's refusal, else its pixel data's problem."""
    try:
        return read_header(path).pixel_problem
    except DicomReadError as error:
        return error.reason


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
@pytest.mark.parametrize("length", [132, 200, 600])
def test_a_header_cut_short_is_said_to_end_early(
    tmp_path: Path, length: int, implicit: bool
) -> None:
    data = ct_slice(implicit=implicit)
    assert pixel_data_at(data) > 600  # the cuts lie in the header
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(data[:length])

    reason = reason_of(path)

    assert reason.startswith(ENDS_EARLY.format(size=length)), reason
    assert COPY_AGAIN in reason
    assert "missing" not in reason


def test_every_cut_inside_the_header_is_said_to_end_early(tmp_path: Path) -> None:
    data = ct_slice()
    path = tmp_path / "IM0001.dcm"
    wrong: dict[int, str] = {}
    for length in range(132, pixel_data_at(data)):
        path.write_bytes(data[:length])
        try:
            header = read_header(path)
        except DicomReadError as error:
            if not error.reason.startswith("the file ends early"):
                wrong[length] = error.reason
            continue
        # a cut exactly between two elements before the pixel data: no way to tell
        if header.pixel_problem != "the image has no pixel data":
            assert header.pixel_problem.startswith("the file ends early"), header.pixel_problem
    assert wrong == {}


def test_a_cut_inside_the_sequence_is_said_to_end_early(tmp_path: Path) -> None:
    data = ct_slice()
    inside = data.index(b"\x08\x00\x40\x11") + 20  # (0008,1140) Referenced Image Sequence
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(data[:inside])
    assert reason_of(path).startswith(ENDS_EARLY.format(size=inside))


@pytest.mark.parametrize("into_pixels", [4, 10, 12, 500, 2000])
def test_a_file_cut_in_its_pixel_data_is_said_to_end_early(
    tmp_path: Path, into_pixels: int
) -> None:
    data = ct_slice()
    length = pixel_data_at(data) + into_pixels
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(data[:length])

    problem = problem_of(path)

    assert problem.startswith(ENDS_EARLY.format(size=length)), problem
    assert COPY_AGAIN in problem


def test_the_scan_files_a_cut_file_under_errors_with_that_reason(tmp_path: Path) -> None:
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(ct_slice()[:200])

    bucket, header, reason = _read_one(path)

    assert (bucket, header) == ("error", None)
    assert reason.startswith(ENDS_EARLY.format(size=200))


def test_a_whole_file_without_sop_instance_uid_is_still_missing_it(tmp_path: Path) -> None:
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(ct_slice(sop_uid=False))
    assert reason_of(path) == "missing SOP Instance UID"


def test_a_whole_image_without_pixel_data_still_has_none(tmp_path: Path) -> None:
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(ct_slice(pixels=False))
    assert read_header(path).pixel_problem == "the image has no pixel data"


def test_a_whole_file_reads_without_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(ct_slice())
    header = read_header(path)
    assert header.pixel_problem == ""
    assert header.rows == 32


def test_a_length_running_past_the_end_before_the_pixel_data_is_not_a_cut(
    tmp_path: Path,
) -> None:
    data = bytearray(ct_slice())
    at = data.index(b"\x08\x00\x30\x10")  # (0008,1030) Study Description, VR LO
    data[at + 6 : at + 8] = (0xF000).to_bytes(2, "little")
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(bytes(data))

    assert "ends early" not in problem_of(path)
