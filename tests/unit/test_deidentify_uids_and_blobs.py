"""De-identification of what Table E.1-1 does not list: UIDs (VR UI) anywhere, binary
attributes (OB, OW, OF, OD, OL, OV, UN), and a data set built in memory (dates as objects).

Identifiers are planted (a private UID, unlisted UIDs in nested sequences, blobs with a
name inside, an overlay); every element of the result and every byte written is scanned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import BytesIO

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian
from pydicom.valuerep import DA, DT

from tace_planner.imaging.dicom.deidentify import Deidentifier

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ROOT = "1.2.826.0.1.3680043.8.498"
SOP = f"{ROOT}.1"
FRAME = f"{ROOT}.4"
# Unlisted UIDs, one of them carrying the patient's ID in its last component.
PLANTED_UIDS = {
    "top": f"{ROOT}.998877.1",  # (0008,1167) Multi-frame Source SOP Instance UID
    "nested": f"{ROOT}.998877.2",  # (0020,0242) SOP Instance UID of Concatenation Source
    "multi_a": f"{ROOT}.998877.3",  # an unknown public UI tag, two values
    "multi_b": f"{ROOT}.998877.4",
    "private": f"{ROOT}.998877.5",  # in a private block: removed with it
    "private_nested": f"{ROOT}.998877.6",
    "palette": f"{ROOT}.998877.7",  # (0028,0304) Referenced Color Palette Instance UID
    "creator": f"{ROOT}.998877.8",  # (0008,9123) Creator-Version UID
}
NAME = "Müller^José PID998877"
BLOB = b"%PDF-1.4 Patient: " + NAME.encode("utf-8") + b" born 1952-03-14"
SNOMED = "2.16.840.1.113883.6.96"
PRIVATE_SOP_CLASS = "1.2.840.113619.4.30"  # a vendor's SOP class: the same for everyone
DICOM_UID_ROOT = "1.2.840.10008."
CLASS_UIDS = {0x00080016, 0x00081150, 0x0008010C}  # SOP Class, Referenced SOP Class, Coding Scheme
PIXELS_AND_LUTS = {0x7FE00010, 0x00283006, 0x00281201, 0x00282000}  # Pixel, LUT, palette, ICC


def _walk(ds: Dataset) -> Iterator[DataElement]:
    for element in ds:
        yield element
        if element.VR == "SQ":
            for item in element.value:
                yield from _walk(item)


def _values(element: DataElement) -> list[str]:
    value = element.value
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _written(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _base() -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = SOP
    ds.StudyInstanceUID = f"{ROOT}.2"
    ds.SeriesInstanceUID = f"{ROOT}.3"
    ds.FrameOfReferenceUID = FRAME
    ds.PatientName = "Müller^José"
    ds.PatientID = "PID998877"
    ds.Modality = "CT"
    ds.Rows, ds.Columns = 2, 2
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = b"\x01\x00\x02\x00\x03\x00\x04\x00"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = SOP
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def _with_planted_uids() -> Dataset:
    ds = _base()
    ds.add_new(0x00081167, "UI", PLANTED_UIDS["top"])  # Multi-frame Source SOP Instance UID
    ds.add_new(0x00280304, "UI", PLANTED_UIDS["palette"])
    ds.add_new(0x00089123, "UI", PLANTED_UIDS["creator"])
    ds.add_new(0x0040EEF4, "UI", [PLANTED_UIDS["multi_a"], PLANTED_UIDS["multi_b"]])
    # two levels down, in sequences that the table does not list
    instance = Dataset()
    instance.ReferencedSOPClassUID = CT_IMAGE_STORAGE
    instance.ReferencedSOPInstanceUID = SOP  # listed (U)
    instance.add_new(0x00200242, "UI", PLANTED_UIDS["nested"])
    instance.add_new(0x0018991E, "UI", FRAME)  # Target Frame of Reference UID: unlisted
    series = Dataset()
    series.SeriesInstanceUID = ds.SeriesInstanceUID
    series.ReferencedInstanceSequence = Sequence([instance])
    ds.ReferencedSeriesSequence = Sequence([series])
    # a private block holding a UID, and a private sequence holding another
    block = ds.private_block(0x0029, "TACE TEST", create=True)
    block.add_new(0x01, "UI", PLANTED_UIDS["private"])
    inner = Dataset()
    inner.add_new(0x00081167, "UI", PLANTED_UIDS["private_nested"])
    block.add_new(0x02, "SQ", Sequence([inner]))
    # coded concepts: their coding scheme's UID names SNOMED CT, not a patient
    scheme = Dataset()
    scheme.CodingSchemeDesignator = "SCT"
    scheme.CodingSchemeUID = SNOMED
    ds.CodingSchemeIdentificationSequence = Sequence([scheme])
    return ds


# -- 1. UIDs that the table does not list --------------------------------------------------


def test_unlisted_uids_are_remapped_everywhere_and_nothing_of_them_is_written() -> None:
    deid = Deidentifier(key=b"k" * 32)
    clean = deid.deidentify(_with_planted_uids(), "TP001")
    seen = 0
    for element in _walk(clean):
        assert not element.tag.is_private
        if element.VR != "UI":
            continue
        for value in _values(element):
            seen += 1
            assert value not in PLANTED_UIDS.values(), element
            assert value.startswith((DICOM_UID_ROOT, "2.25.")) or int(element.tag) in CLASS_UIDS, (
                element
            )
            assert not value.startswith(ROOT), element
    assert seen >= 12
    data = _written(clean)
    for uid in (*PLANTED_UIDS.values(), SOP, FRAME):
        assert uid.encode() not in data, uid
    assert b"998877" not in data


def test_unlisted_references_point_at_the_remapped_instances() -> None:
    deid = Deidentifier(key=b"k" * 32)
    clean = deid.deidentify(_with_planted_uids(), "TP001")
    assert clean.MultiFrameSourceSOPInstanceUID == deid.uid(PLANTED_UIDS["top"])
    assert list(clean[0x0040EEF4].value) == [
        deid.uid(PLANTED_UIDS["multi_a"]),
        deid.uid(PLANTED_UIDS["multi_b"]),
    ]
    instance = clean.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert instance[0x00200242].value == deid.uid(PLANTED_UIDS["nested"])
    # the unlisted reference to the frame of reference agrees with the remapped one
    assert instance.TargetFrameOfReferenceUID == clean.FrameOfReferenceUID == deid.uid(FRAME)
    assert instance.ReferencedSOPInstanceUID == clean.SOPInstanceUID
    # and another file of the same export gets the same UIDs
    again = deid.deidentify(_with_planted_uids(), "TP001")
    assert again.MultiFrameSourceSOPInstanceUID == clean.MultiFrameSourceSOPInstanceUID


def test_dicom_defined_and_class_uids_are_kept() -> None:
    ds = _with_planted_uids()
    ds.SOPClassUID = PRIVATE_SOP_CLASS
    ds.file_meta.MediaStorageSOPClassUID = PRIVATE_SOP_CLASS
    well_known = "1.2.840.10008.1.20"  # Storage Commitment Push Model SOP Instance
    ds.add_new(0x00081199, "SQ", Sequence([Dataset()]))  # Referenced SOP Sequence
    ds.ReferencedSOPSequence[0].ReferencedSOPInstanceUID = well_known
    ds.ReferencedSOPSequence[0].add_new(0x00081167, "UI", "1.2.840.10008.5.1.4.1.1.2.1")
    clean = Deidentifier().deidentify(ds, "TP001")
    assert clean.SOPClassUID == PRIVATE_SOP_CLASS
    assert clean.file_meta.MediaStorageSOPClassUID == PRIVATE_SOP_CLASS
    assert clean.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    instance = clean.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert instance.ReferencedSOPClassUID == CT_IMAGE_STORAGE
    assert clean.CodingSchemeIdentificationSequence[0].CodingSchemeUID == SNOMED
    assert clean.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == well_known
    assert clean.ReferencedSOPSequence[0][0x00081167].value == "1.2.840.10008.5.1.4.1.1.2.1"


# -- 2. binary attributes that the table does not list ------------------------------------


def _with_planted_blobs() -> Dataset:
    ds = _base()
    ds.add_new(0x0040EEF6, "OB", BLOB)  # an unknown public attribute
    ds.add_new(0x00143080, "OB", BLOB)  # Bad Pixel Image
    ds.add_new(0x00686300, "OB", BLOB)  # HPGL Document
    ds.add_new(0x00420011, "OB", BLOB)  # Encapsulated Document (listed: D)
    # an overlay whose bitmap spells the name, and its geometry
    ds.add_new(0x60000010, "US", 2)  # Overlay Rows
    ds.add_new(0x60000011, "US", 2)  # Overlay Columns
    ds.add_new(0x60003000, "OW", BLOB)  # Overlay Data (listed: X)
    # nested: a waveform and a spectroscopy item carrying the name
    waveform = Dataset()
    waveform.add_new(0x54001010, "OW", BLOB)  # Waveform Data
    waveform.add_new(0x5400100A, "OB", BLOB)  # Waveform Padding Value
    ds.WaveformSequence = Sequence([waveform])
    item = Dataset()
    item.add_new(0x56000020, "OF", BLOB[:32])  # Spectroscopy Data
    item.add_new(0x00720069, "OW", BLOB)  # Selector OW Value
    deeper = Dataset()
    deeper.ContentSequence = Sequence([item])
    ds.ReferencedImageSequence = Sequence([deeper])
    # what reading the image needs stays
    voi = Dataset()
    voi.LUTDescriptor = [2, 0, 16]
    voi.add_new(0x00283006, "OW", b"\x00\x00\xff\xff")  # LUT Data
    ds.VOILUTSequence = Sequence([voi])
    ds.add_new(0x00281201, "OW", b"\x00\x01\x02\x03")  # Red Palette Color LUT Data
    ds.add_new(0x00282000, "OB", b"ICCPROFILE\x00\x00")  # ICC Profile
    return ds


def test_unlisted_binary_attributes_are_removed_and_nothing_of_them_is_written() -> None:
    clean = Deidentifier().deidentify(_with_planted_blobs(), "TP001")
    binary = {"OB", "OW", "OF", "OD", "OL", "OV", "UN"}
    for element in _walk(clean):
        if element.VR in binary and element.value:
            assert int(element.tag) in PIXELS_AND_LUTS, element
    for tag in (0x0040EEF6, 0x00143080, 0x00686300, 0x60003000, 0x54001010):
        assert tag not in clean, hex(tag)
    assert not clean.get("EncapsulatedDocument")  # D: a dummy (empty) value
    assert 0x54001010 not in clean.WaveformSequence[0]
    assert 0x5400100A not in clean.WaveformSequence[0]
    data = _written(clean)
    for needle in (BLOB, b"PDF-1.4", b"PID998877", "Müller".encode(), "Müller".encode("latin-1")):
        assert needle not in data, needle
    for item in clean.ReferencedImageSequence or []:
        for nested in item.get("ContentSequence", []):
            assert 0x56000020 not in nested
            assert 0x00720069 not in nested


def test_pixel_data_and_lut_data_are_kept() -> None:
    original = _with_planted_blobs()
    clean = Deidentifier().deidentify(original, "TP001")
    back = dcmread(BytesIO(_written(clean)))
    assert back.PixelData == original.PixelData
    assert back.pixel_array.tolist() == [[1, 2], [3, 4]]
    assert back.VOILUTSequence[0].LUTData == original.VOILUTSequence[0].LUTData
    assert back.RedPaletteColorLookupTableData == b"\x00\x01\x02\x03"
    assert back.ICCProfile == b"ICCPROFILE\x00\x00"
    assert back[0x60000010].value == 2  # overlay geometry is not identifying


# -- a data set built in memory (highdicom), never read from a file -----------------------


def test_dates_held_as_objects_are_shifted() -> None:
    ds = _base()
    ds.StudyDate = DA(dt.date(2026, 3, 2))
    ds.ContentDate = dt.date(2026, 3, 3)
    ds.AcquisitionDateTime = DT(dt.datetime(2026, 3, 2, 10, 30, 0))
    deid = Deidentifier(date_offsets_days={"PID998877": -10})
    clean = deid.deidentify(ds, "TP001")
    assert clean.StudyDate == "20260220"
    assert clean.ContentDate == "20260221"
    assert str(clean.AcquisitionDateTime).startswith("20260220103000")
    data = _written(clean)
    assert b"20260302" not in data
    assert b"20260303" not in data
