"""A SEG names the patient its caller gives, not the one in its source images' headers.

The source images are built in memory (three 16 × 16 axial slices, no pixels: the SEG
export reads headers only), so no file and no database are involved.
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
from pydicom import examples
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from tace_planner.domain.geometry import affine_from_dicom_geometry
from tace_planner.domain.volume import ImageVolume
from tace_planner.imaging.dicom.seg import SegmentSpec, SegPatient, export_seg

SIDE = 16
STEP_MM = 2.5
ORIENTATION = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def _sources(patient_id: str = "", name: str = "") -> list[Dataset]:
    """Three slices of one series imported without a Patient ID (by default)."""
    template = copy.deepcopy(examples.ct)
    del template.PixelData
    template.Rows = template.Columns = SIDE
    template.PixelSpacing = [1.0, 1.0]
    template.ImageOrientationPatient = ORIENTATION
    template.StudyInstanceUID = generate_uid()
    template.SeriesInstanceUID = generate_uid()
    template.FrameOfReferenceUID = generate_uid()
    template.PatientID = patient_id
    template.PatientName = name
    template.PatientBirthDate = "19591231"
    template.PatientSex = "O"
    template.IssuerOfPatientID = "SCANNER"
    slices = []
    for n in range(3):
        image = copy.deepcopy(template)
        image.SOPInstanceUID = generate_uid()
        image.InstanceNumber = n + 1
        image.ImagePositionPatient = [0.0, 0.0, n * STEP_MM]
        slices.append(image)
    return slices


def _volume(sources: list[Dataset]) -> ImageVolume:
    affine = affine_from_dicom_geometry(ORIENTATION, [1.0, 1.0], [0.0, 0.0, 0.0], [0, 0, STEP_MM])
    return ImageVolume(
        np.zeros((3, SIDE, SIDE), np.float32), affine, str(sources[0].FrameOfReferenceUID)
    )


def _focus() -> list[SegmentSpec]:
    mask = np.zeros((3, SIDE, SIDE), dtype=bool)
    mask[1, 5:9, 5:9] = True
    return [SegmentSpec("F1", mask, "tumour", tracking_id="F1")]


def test_the_given_patient_replaces_the_empty_header_patient() -> None:
    sources = _sources()
    patient = SegPatient("TACE-021", "Doe^Jane", "CITY HOSPITAL", dt.date(1960, 5, 1), "F")

    seg = export_seg(sources, _volume(sources), _focus(), patient=patient)

    assert str(seg.PatientID) == "TACE-021"
    assert str(seg.PatientName) == "Doe^Jane"
    assert str(seg.IssuerOfPatientID) == "CITY HOSPITAL"
    assert str(seg.PatientBirthDate) == "19600501"
    assert str(seg.PatientSex) == "F"
    # the caller's source images are left as they were
    assert all(str(ds.PatientID) == "" for ds in sources)


def test_what_the_patient_does_not_hold_stays_as_in_the_images() -> None:
    """No issuer: none in the SEG; no birth date, an unknown sex: the images' values."""
    sources = _sources()

    seg = export_seg(sources, _volume(sources), _focus(), patient=SegPatient("TACE-021", "Doe"))

    assert (str(seg.PatientID), str(seg.PatientName)) == ("TACE-021", "Doe")
    assert "IssuerOfPatientID" not in seg
    assert str(seg.PatientBirthDate) == "19591231"
    assert str(seg.PatientSex) == "O"
    assert all(str(ds.IssuerOfPatientID) == "SCANNER" for ds in sources)


def test_without_a_patient_the_seg_copies_the_images_patient() -> None:
    sources = _sources("SCAN-9", "Roe^Richard")

    seg = export_seg(sources, _volume(sources), _focus())

    assert (str(seg.PatientID), str(seg.PatientName)) == ("SCAN-9", "Roe^Richard")


def test_the_patient_is_a_plain_value() -> None:
    patient = SegPatient("TACE-021", "Doe^Jane")
    with pytest.raises(AttributeError):
        patient.patient_id = "other"  # type: ignore[misc]
