"""De-identification leaks found in review: file meta and preamble, attributes missing
from Table E.1-1 (kept verbatim before), overlay groups, free-text SEG segment labels.

Every test builds its data set with pydicom, plants identifiers and checks that none of
them survives :class:`Deidentifier` (PS3.15 Annex E Basic Profile)."""

from __future__ import annotations

import zlib
from io import BytesIO

import pytest
from pydicom import dcmread
from pydicom.datadict import DicomDictionary, dictionary_has_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian

from tace_planner.imaging.dicom.deidentify import Deidentifier, action_for

SECRET = "SECRETNOTE Müller^José PID998877"
PID = "PID998877"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


def _base(sop_class: str = CT_IMAGE_STORAGE) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.2"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.3"
    ds.PatientName = "Müller^José"
    ds.PatientID = PID
    ds.StudyDate = "20260302"
    ds.Modality = "CT"
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.3.4.5.6.7"
    meta.ImplementationVersionName = "MUELLER_IMPL"
    meta.SourceApplicationEntityTitle = "MUELLER_WS"
    meta.SendingApplicationEntityTitle = "MUELLER_SND"
    meta.ReceivingApplicationEntityTitle = "MUELLER_RCV"
    meta.PrivateInformationCreatorUID = "1.2.3.4"
    meta.PrivateInformation = ("SECRETNOTE " + PID).encode()
    ds.file_meta = meta
    ds.preamble = (b"SECRETNOTE" + PID.encode()).ljust(128, b"\0")
    return ds


def _written(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _text_of(ds: Dataset) -> str:
    """Every value of the data set and its file meta, sequences included, as text."""
    parts = []

    def walk(items: Dataset) -> None:
        for element in items:
            if element.VR == "SQ":
                for item in element.value:
                    walk(item)
            else:
                value = element.value
                parts.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))

    walk(ds.file_meta)
    walk(ds)
    return "\n".join(parts)


# -- 1. file meta and preamble ----------------------------------------------------------


def test_file_meta_is_rebuilt_with_only_the_required_elements() -> None:
    original = _base()
    clean = Deidentifier(key=b"k" * 32).deidentify(original, "TP001")
    meta = clean.file_meta
    assert sorted(int(e.tag) for e in meta) == [
        0x00020001,  # File Meta Information Version
        0x00020002,  # Media Storage SOP Class UID
        0x00020003,  # Media Storage SOP Instance UID
        0x00020010,  # Transfer Syntax UID
        0x00020012,  # Implementation Class UID
        0x00020013,  # Implementation Version Name
    ]
    assert meta.MediaStorageSOPClassUID == CT_IMAGE_STORAGE
    assert meta.MediaStorageSOPInstanceUID == clean.SOPInstanceUID != original.SOPInstanceUID
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert meta.ImplementationClassUID != "1.2.3.4.5.6.7"
    assert "MUELLER" not in meta.ImplementationVersionName
    # the original's file meta is left as it was
    assert original.file_meta.PrivateInformation == b"SECRETNOTE " + PID.encode()


def test_preamble_is_zeroed_and_nothing_of_the_meta_reaches_the_file() -> None:
    clean = Deidentifier().deidentify(_base(), "TP001")
    assert clean.preamble == b"\0" * 128
    data = _written(clean)
    assert data[:128] == b"\0" * 128
    assert data[128:132] == b"DICM"
    for needle in (b"SECRETNOTE", PID.encode(), b"MUELLER", b"1.2.3.4\0"):
        assert needle not in data, needle
    back = dcmread(BytesIO(data))
    assert "PrivateInformation" not in back.file_meta
    assert "SourceApplicationEntityTitle" not in back.file_meta


# -- 2. attributes that Table E.1-1 does not list -----------------------------------------

_IDS = [
    "PatientBirthDateInAlternativeCalendar",
    "PatientDeathDateInAlternativeCalendar",
    "PerformedProcedureTypeDescription",
    "InterventionDrugName",
    "UnformattedTextValue",
    "TextValue",
    "OverlayLabel-6000",
    "OverlayDescription-6000",
    "OverlayLabel-6002",
    "OverlayDescription-601E",
]
REVIEW_FINDINGS = [
    (0x00100033, "LO", "1952-03-14 (Julian)"),  # Patient's Birth Date in Alternative Calendar
    (0x00100034, "LO", "2026-12-01"),  # Patient's Death Date in Alternative Calendar
    (0x00400255, "LO", "CT liver for José Müller"),  # Performed Procedure Type Description
    (0x00180034, "LO", "Dr Lefèvre drug"),  # Intervention Drug Name
    (0x00700006, "ST", "José Müller annotation"),  # Unformatted Text Value
    (0x0040A160, "UT", "José Müller, born 1952-03-14"),  # Text Value
    (0x60001500, "LO", "José Müller 1952"),  # Overlay Label
    (0x60000022, "LO", "José Müller overlay"),  # Overlay Description
    (0x60021500, "LO", "José Müller 1952"),  # Overlay Label, second overlay group
    (0x601E0022, "LO", "José Müller overlay"),  # Overlay Description, last overlay group
]


@pytest.mark.parametrize(("tag", "vr", "value"), REVIEW_FINDINGS, ids=_IDS)
def test_review_findings_are_removed_at_top_level(tag: int, vr: str, value: str) -> None:
    ds = _base()
    ds.add_new(tag, vr, value)
    clean = Deidentifier().deidentify(ds, "TP001")
    assert tag not in clean
    assert value not in _text_of(clean)


@pytest.mark.parametrize(("tag", "vr", "value"), REVIEW_FINDINGS, ids=_IDS)
def test_review_findings_are_removed_in_nested_sequences(tag: int, vr: str, value: str) -> None:
    ds = _base()
    inner = Dataset()
    inner.ValueType = "TEXT"
    inner.add_new(tag, vr, value)
    inner.add_new(0x0040A121, "DA", "20260302")  # Date
    outer = Dataset()
    outer.ValueType = "CONTAINER"
    outer.ContentSequence = Sequence([inner])
    ds.ContentSequence = Sequence([outer])
    # and two levels down in a sequence that the table does not list either
    deeper = Dataset()
    deeper.add_new(tag, vr, value)
    segment = Dataset()
    segment.SegmentNumber = 1
    segment.SegmentedPropertyCategoryCodeSequence = Sequence([deeper])
    ds.SegmentSequence = Sequence([segment])
    clean = Deidentifier().deidentify(ds, "TP001")
    assert value not in _text_of(clean)
    kept = clean.ContentSequence[0].ContentSequence[0]
    assert tag not in kept
    assert kept.ValueType == "TEXT"
    assert kept[0x0040A121].value != "20260302"  # the date is shifted, not kept
    assert tag not in clean.SegmentSequence[0].SegmentedPropertyCategoryCodeSequence[0]


def test_the_reviewers_examples_have_an_action() -> None:
    for tag, _, _ in REVIEW_FINDINGS:
        assert action_for(Tag(tag)) == "X", hex(tag)
    assert action_for(Tag(0x6002, 0x0010)) is None  # Overlay Rows: not identifying


def test_overlay_geometry_is_kept_and_curves_are_removed() -> None:
    ds = _base()
    ds.add_new(0x60000010, "US", 4)  # Overlay Rows
    ds.add_new(0x60000011, "US", 4)  # Overlay Columns
    ds.add_new(0x60000040, "CS", "G")  # Overlay Type
    ds.add_new(0x60000050, "SS", [1, 1])  # Overlay Origin
    ds.add_new(0x60003000, "OW", b"\x01\x02")  # Overlay Data
    ds.add_new(0x60004000, "LT", SECRET)  # Overlay Comments
    ds.add_new(0x60001500, "LO", SECRET)  # Overlay Label
    ds.add_new(0x50000022, "LO", SECRET)  # Curve Description
    ds.add_new(0x50003000, "OW", b"\x01\x02")  # Curve Data
    clean = Deidentifier().deidentify(ds, "TP001")
    assert clean[0x60000010].value == 4
    assert clean[0x60000040].value == "G"
    for tag in (0x60003000, 0x60004000, 0x60001500, 0x50000022, 0x50003000):
        assert tag not in clean, hex(tag)


# Public text attributes that the table does not list and that stay as they are: technical
# values that a valid image or SEG needs (equipment, coding, dimension and LUT labels).
KEPT_TECHNICAL = {
    "Manufacturer",
    "ManufacturerModelName",
    "SoftwareVersions",
    "CodeValue",
    "CodingSchemeDesignator",
    "CodingSchemeVersion",
    "CodeMeaning",
    "LongCodeValue",
    "URNCodeValue",
    "MappingResourceName",
    "ContrastBolusRoute",
    "ConvolutionKernel",
    "FilterType",
    "PositionReferenceIndicator",
    "RescaleType",
    "DimensionDescriptionLabel",
    "LUTLabel",
    "LUTExplanation",
    "SegmentAlgorithmName",
    "AlgorithmName",
    "AlgorithmVersion",
    "CodingSchemeName",
    "CodingSchemeResponsibleOrganization",
    "CodingSchemeExternalID",
}
_TEXT_VRS = {"AE", "LO", "LT", "SH", "ST", "UT", "PN", "UC", "UR"}


@pytest.mark.filterwarnings("ignore:The value length:UserWarning")
@pytest.mark.filterwarnings("ignore:Invalid value for VR:UserWarning")
def test_no_public_text_attribute_carries_a_value_through_unless_known_safe() -> None:
    """Every text attribute of the data dictionary, with the same identifying value: only
    the small list of technical attributes keeps it (unknown text cannot leak)."""
    ds = _base()
    planted = {}
    for tag, (vr, _vm, _name, _retired, keyword) in DicomDictionary.items():
        if vr not in _TEXT_VRS or Tag(tag).group in (0x0000, 0x0002, 0xFFFE) or not keyword:
            continue
        if tag in (0x00100010, 0x00100020, 0x00080005):  # the pseudonym; character set
            continue
        ds.add_new(tag, vr, "CT" if vr == "AE" else SECRET)
        planted[tag] = keyword
    assert len(planted) > 500
    clean = Deidentifier().deidentify(ds, "TP001")
    leaked = {
        planted[int(e.tag)]
        for e in clean
        if int(e.tag) in planted and e.value and "SECRETNOTE" in str(e.value)
    }
    assert leaked <= KEPT_TECHNICAL, sorted(leaked - KEPT_TECHNICAL)


def test_an_unknown_public_text_attribute_is_removed() -> None:
    ds = _base()
    tag = Tag(0x0040, 0xEEEE)
    assert not dictionary_has_tag(tag)
    ds.add_new(tag, "LO", SECRET)
    ds.add_new(Tag(0x0040, 0xEEF0), "UN", SECRET.encode())
    clean = Deidentifier().deidentify(ds, "TP001")
    assert tag not in clean
    assert Tag(0x0040, 0xEEF0) not in clean


# -- 3. free-text SEG segment labels ------------------------------------------------------


def _segment(number: int, label: str, tracking: str | None = None) -> Dataset:
    item = Dataset()
    item.SegmentNumber = number
    item.SegmentLabel = label
    item.SegmentDescription = f"{label} (described)"
    item.SegmentAlgorithmType = "MANUAL"
    item.TrackingID = label if tracking is None else tracking
    item.TrackingUID = f"1.2.826.0.1.3680043.8.498.9.{zlib.crc32(label.encode())}"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "49755003", "SCT"
    code.CodeMeaning = "Morphologically Abnormal Structure"
    item.SegmentedPropertyCategoryCodeSequence = Sequence([code])
    kind = Dataset()
    kind.CodeValue, kind.CodingSchemeDesignator, kind.CodeMeaning = "108369006", "SCT", "Tumor"
    item.SegmentedPropertyTypeCodeSequence = Sequence([kind])
    return item


def _seg(labels: list[str], patient: str = PID) -> Dataset:
    ds = _base(SEG_STORAGE)
    ds.Modality = "SEG"
    ds.PatientID = patient
    ds.SegmentationType = "BINARY"
    ds.ContentLabel = "CONTOURS"
    ds.ContentDescription = "Müller liver"
    ds.SegmentSequence = Sequence([_segment(n, label) for n, label in enumerate(labels, 1)])
    return ds


def test_free_text_segment_labels_become_neutral_codes() -> None:
    labels = ["F1 Mr Smith's dome", "Liver", "f3", "F2 José Müller 2026-03-02", "F12"]
    original = _seg(labels)
    clean = Deidentifier().deidentify(original, "TP001")
    segments = clean.SegmentSequence
    assert [s.SegmentLabel for s in segments] == ["lesion 1", "Liver", "f3", "lesion 2", "F12"]
    assert [s.TrackingID for s in segments] == ["lesion 1", "Liver", "f3", "lesion 2", "F12"]
    for before, after in zip(original.SegmentSequence, segments, strict=True):
        assert after.SegmentNumber == before.SegmentNumber
        assert after.TrackingUID != before.TrackingUID
        assert after.TrackingUID.startswith("2.25.")
        assert after.SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Tumor"
        assert after.SegmentAlgorithmType == "MANUAL"
        assert "SegmentDescription" not in after or after.SegmentDescription in (
            after.SegmentLabel,
            "",
        )
    text = _text_of(clean)
    for needle in ("Smith", "Müller", "José", "2026-03-02", "described"):
        assert needle not in text, needle
    assert "Müller" not in str(clean.get("ContentDescription", ""))


def test_the_same_lesion_gets_the_same_code_in_every_seg_of_the_export() -> None:
    deid = Deidentifier()
    first = deid.deidentify(_seg(["F1 Mr Smith's dome", "F2 José Müller"]), "TP001")
    second = deid.deidentify(_seg(["F2 José Müller", "F1 Mr Smith's dome"]), "TP001")
    codes = {s.TrackingUID: s.TrackingID for s in first.SegmentSequence}
    assert [s.TrackingID for s in first.SegmentSequence] == ["lesion 1", "lesion 2"]
    assert [s.TrackingID for s in second.SegmentSequence] == ["lesion 2", "lesion 1"]
    assert codes[second.SegmentSequence[0].TrackingUID] == "lesion 2"
    # another patient of the same export starts again at lesion 1
    other = deid.deidentify(_seg(["Segment of Mrs Doe"], patient="OTHER-1"), "TP002")
    assert other.SegmentSequence[0].SegmentLabel == "lesion 1"


def test_a_written_seg_holds_no_planted_identifier() -> None:
    clean = Deidentifier().deidentify(_seg(["F1 Mr Smith's dome", "Liver"]), "TP001")
    data = _written(clean).decode("utf-8", "replace")
    for needle in ("Smith", "Müller", "José", "SECRETNOTE", PID, "MUELLER"):
        assert needle not in data, needle
