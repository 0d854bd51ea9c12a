"""De-identification keyed by the patient the caller confirmed, not by the file header.

A study imported without a (0010,0020) Patient ID and handed to its patient keeps an
empty Patient ID in its files; the export passes the database patient's ID as
``patient_key`` so that the patient's date shift and lesion codes apply.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tace_planner.imaging.dicom.deidentify import Deidentifier

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
CONFIRMED = "TACE-021"


def _image(patient_id: str = "", sop_class: str = CT_IMAGE_STORAGE) -> Dataset:
    """An image of 2 March 2026 filed under ``patient_id`` (empty: imported without one)."""
    ds = Dataset()
    header = {
        "SOPClassUID": sop_class,
        "SOPInstanceUID": "1.2.826.0.1.3680043.8.498.11",
        "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.12",
        "PatientName": "",
        "PatientID": patient_id,
        "StudyDate": "20260302",
        "Modality": "CT",
    }
    for keyword, value in header.items():
        setattr(ds, keyword, value)
    return ds


def _seg(patient_id: str = "") -> Dataset:
    ds = _image(patient_id, SEG_STORAGE)
    ds.Modality = "SEG"
    segments = []
    for number, label in enumerate(("Liver", "Dome lesion"), start=1):
        item = Dataset()
        item.SegmentNumber = number
        item.SegmentLabel = label
        segments.append(item)
    ds.SegmentSequence = Sequence(segments)
    return ds


def test_an_empty_header_id_with_a_patient_key_moves_by_that_patients_shift() -> None:
    deid = Deidentifier(key=b"k" * 32, date_offsets_days={CONFIRMED: -10})

    clean = deid.deidentify(_image(""), "TP001", patient_key=CONFIRMED)

    assert str(clean.StudyDate) == "20260220"  # 2 March 2026 minus 10 days
    assert str(clean.PatientID) == "TP001"
    assert "" not in deid.date_offsets_days  # no shift of its own for the empty header ID


def test_the_patient_key_wins_over_another_id_in_the_header() -> None:
    deid = Deidentifier(key=b"k" * 32, date_offsets_days={"OLD-7": -100, CONFIRMED: -10})

    clean = deid.deidentify(_image("OLD-7"), "TP001", patient_key=CONFIRMED)
    unkeyed = deid.deidentify(_image("OLD-7"), "TP001")  # no key: the header's ID

    assert str(clean.StudyDate) == "20260220"
    assert str(unkeyed.StudyDate) == "20251122"  # 100 days back


def test_a_seg_without_header_id_takes_the_lesion_codes_of_the_patient_key() -> None:
    deid = Deidentifier(
        key=b"k" * 32,
        date_offsets_days={CONFIRMED: -10},
        segment_names={CONFIRMED: {"Dome lesion": "L1"}},
    )

    clean = deid.deidentify(_seg(""), "TP001", patient_key=CONFIRMED)

    assert [str(s.SegmentLabel) for s in clean.SegmentSequence] == ["Liver", "L1"]
    assert str(clean.StudyDate) == "20260220"


def test_the_seg_and_its_images_share_one_shift_under_one_patient_key() -> None:
    """Images with an empty ID and a SEG naming the patient: one shift for both."""
    deid = Deidentifier(key=b"k" * 32)  # shifts derived from the key, not imposed
    seg = deid.deidentify(_seg(CONFIRMED), "TP001", patient_key=CONFIRMED)
    image = deid.deidentify(_image(""), "TP001", patient_key=CONFIRMED)

    assert str(seg.StudyDate) == str(image.StudyDate) != "20260302"
    assert set(deid.date_offsets_days) == {CONFIRMED}
