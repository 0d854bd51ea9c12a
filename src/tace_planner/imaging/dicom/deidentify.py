"""De-identification of DICOM data sets: PS3.15 Annex E Basic Profile with shifted dates.

Follows the Basic Application Level Confidentiality Profile of DICOM PS3.15 Annex E,
action table E.1-1 (Basic Profile column, edition 2024b, in
:mod:`tace_planner.imaging.dicom.deid_table`), with the Retain Longitudinal Temporal
Information with Modified Dates Option (E.3.6) for dates:

* X: removed; Z: kept with a zero-length value; D: replaced by a dummy value of its VR;
  U: UIDs replaced by ``2.25.<integer>`` UIDs derived from the original with a keyed hash,
  so every file de-identified with the same :class:`Deidentifier` agrees (a SEG still
  references its source images, every series keeps its frame of reference).
* The IOD-dependent choices are resolved conservatively without knowing the IOD: X/Z → Z,
  X/D, Z/D and X/Z/D → D, X/Z/U* → the sequence is kept and its UIDs replaced. A
  sequence with Z or X/Z is emptied, one with X/D or X/Z/D removed (its codes would name
  the institution or operator); any other kept sequence (D: Content Sequence) has every
  item de-identified by the same rules. Codes in (0040,1101) *Person Identification Code
  Sequence* become dummies.
* Attributes that carry identifying text but that Table E.1-1 does not list (found in
  review: the alternative-calendar birth and death dates, Text Value, Unformatted Text
  Value, Performed Procedure Type Description, Intervention Drug Name, Overlay Label and
  Overlay Description of every 60xx group) are removed by :data:`SUPPLEMENT`.
* Any other attribute that the table does not list and whose VR holds text (AE, LO, LT,
  PN, SH, ST, UC, UR, UT) or is unknown (UN) is removed, unless it is one of the
  technical attributes of :data:`KEEP_TECHNICAL` (equipment, coding, LUT and dimension
  labels that a valid image or SEG needs): text that no one listed cannot leak.
* Any other attribute with a binary VR (OB, OD, OF, OL, OV, OW, UN) is removed too,
  unless it is one of :data:`KEEP_BINARY` (pixel data, offset tables, LUT and palette
  data, ICC profile: what reading the image needs): an unlisted blob can hold burned-in
  text, an encapsulated document or a vendor's record of the patient.
* Every other UID (VR UI), wherever it is (nested sequences included), is replaced by
  the same consistent ``2.25.`` UID as the listed ones, so that an unlisted reference
  still points at the remapped instance. Kept as they are: DICOM-defined UIDs (value
  starting with ``1.2.840.10008.``: SOP classes, transfer syntaxes, well-known
  instances, anywhere, also under U) and the attributes of :data:`KEEP_CLASS_UIDS`,
  which name a class, a transfer syntax or a coding scheme (e.g. SNOMED CT's
  ``2.16.840.1.113883.6.96``), the same for every patient, never an instance.
* Coded strings (CS) that the table does not list are kept: Table E.1-1 lists the CS
  attributes it considers identifying (Patient's Sex, Smoking Status, the GPS
  references …, handled above), and the profile does not count the others as
  identifying: enumerated or defined terms of at most 16 characters (Modality, Image
  Type, Photometric Interpretation …) that a reader needs. The numbers (DS, IS, US,
  SS, FL, FD …) are kept for the same reason.
* A SEG's free-text segment names: (0062,0005) *Segment Label*, (0062,0020) *Tracking
  ID* and (0062,0006) *Segment Description* keep the application's standard names
  (``F1``… and ``Liver``); any other becomes ``lesion <n>``, numbered per patient in
  the order segments are met, the same lesion (same Tracking UID) the same number in
  every SEG of one :class:`Deidentifier`. (0062,0021) *Tracking UID* is remapped (U).
* File meta information is rebuilt, not copied: version, Media Storage SOP Class and
  (remapped) Instance UID, Transfer Syntax, and this application's implementation UID
  and version name. (0002,0016) *Source Application Entity Title*, (0002,0100)/(0002,0102)
  *Private Information* and the rest are dropped; the 128-byte preamble is zeroed.
* Every DA and DT value that is not removed (anywhere, also in sequences) is shifted by
  one whole number of days per patient, so intervals between studies are preserved.
  This includes dates for which the Basic Profile alone says Z, such as (0008,0020)
  *Study Date*: the option's column of Table E.1-1 says C (modified) for them.
  (0010,0030) *Patient's Birth Date* keeps the Basic Profile's Z. DT time-zone offsets
  and TM values are kept (a whole-day shift does not change them). A date that cannot
  be read is emptied.
* Private attributes are removed, in sequences too; every sequence is recursed into.
* Patient's Name and Patient ID become the pseudonym; (0012,0062) *Patient Identity
  Removed* = YES, (0012,0063) *De-identification Method* and (0012,0064) *De-identification
  Method Code Sequence* with DCM 113100 (Basic Profile) and 113107 (Modified Dates);
  (0028,0303) *Longitudinal Temporal Information Modified* = MODIFIED (E.3.6).

Burned-in annotation is not detected: callers drop secondary captures and dose reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.valuerep import DA, DT

from tace_planner import __version__
from tace_planner.domain.vocabulary import STANDARD_LESION_NAME
from tace_planner.imaging.dicom.deid_table import BASIC_PROFILE, EDITION, REPEATING_GROUPS

METHOD = f"PS3.15 {EDITION} Basic Profile, dates shifted (TACE Planner)"
"""(0012,0063) *De-identification Method*; LO, at most 64 characters."""
CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
)
DUMMY_TEXT = "ANONYMIZED"
_NUMERIC_VRS = {"US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"}
_BINARY_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "UN"}
_TEXT_VRS = {"AE", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT", "UN"}
_PATIENT_TAGS = {0x00100010, 0x00100020}  # Patient's Name, Patient ID
_LONGITUDINAL_MODIFIED = 0x00280303  # Longitudinal Temporal Information Modified
_ADDED_TAGS = {0x00120062, 0x00120063, 0x00120064, _LONGITUDINAL_MODIFIED}
_BIRTH_DATE = 0x00100030
_PERSON_CODES = 0x00401101  # Person Identification Code Sequence: its codes name a person
MAX_SHIFT_DAYS = 3650
IMPLEMENTATION_CLASS_UID = f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, 'tace-planner.deidentify').int}"
"""(0002,0012) of every de-identified file: this application, not the source's."""
IMPLEMENTATION_VERSION_NAME = f"TACEPLAN_{__version__}"[:16]

SUPPLEMENT: dict[int, str] = {
    0x00100033: "X",  # Patient's Birth Date in Alternative Calendar
    0x00100034: "X",  # Patient's Death Date in Alternative Calendar
    0x00100035: "X",  # Patient's Alternative Calendar
    0x00180034: "X",  # Intervention Drug Name
    0x00400255: "X",  # Performed Procedure Type Description
    0x00400400: "X",  # Comments on the Scheduled Procedure Step
    0x0040A160: "X",  # Text Value
    0x00700006: "X",  # Unformatted Text Value
    0x00700081: "Z",  # Content Description (Type 2 in a SEG: kept, empty)
}
"""Identifying attributes that Table E.1-1 does not list, with this module's action."""
SUPPLEMENT_REPEATING_GROUPS: tuple[tuple[int, int, int, int, str, str], ...] = (
    (0x6000, 0x1500, 0xFF00, 0xFFFF, "X", "Overlay Label"),
    (0x6000, 0x0022, 0xFF00, 0xFFFF, "X", "Overlay Description"),
)
"""Like :data:`REPEATING_GROUPS`: the overlays' free text, in every 60xx group."""

KEEP_TECHNICAL: frozenset[int] = frozenset(
    tag_for_keyword(keyword) or 0
    for keyword in (
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
        "CodingSchemeName",
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
    )
)
"""Text attributes that the table does not list and that are kept: technical values
(equipment, coded concepts, LUT and dimension labels) a valid image or SEG needs.
Every other unlisted text attribute is removed."""

KEEP_BINARY: frozenset[int] = frozenset(
    tag_for_keyword(keyword) or 0
    for keyword in (
        "PixelData",  # an image's pixels, a SEG's segments
        "FloatPixelData",
        "DoubleFloatPixelData",
        "ExtendedOffsetTable",  # where the frames of encapsulated pixel data start
        "ExtendedOffsetTableLengths",
        "LUTData",  # Modality and VOI LUT Sequence items
        "RedPaletteColorLookupTableData",
        "GreenPaletteColorLookupTableData",
        "BluePaletteColorLookupTableData",
        "AlphaPaletteColorLookupTableData",
        "SegmentedRedPaletteColorLookupTableData",
        "SegmentedGreenPaletteColorLookupTableData",
        "SegmentedBluePaletteColorLookupTableData",
        "SegmentedAlphaPaletteColorLookupTableData",
        "ICCProfile",
    )
)
"""Binary attributes that the table does not list and that are kept: what reading the
image needs. Every other unlisted binary attribute is removed."""

KEEP_CLASS_UIDS: frozenset[int] = frozenset(
    tag_for_keyword(keyword) or 0
    for keyword in (
        "AffectedSOPClassUID",
        "RequestedSOPClassUID",
        "SOPClassUID",
        "ReferencedSOPClassUID",
        "ReferencedSOPClassUIDInFile",
        "ReferencedRelatedGeneralSOPClassUIDInFile",
        "RelatedGeneralSOPClassUID",
        "OriginalSpecializedSOPClassUID",
        "SOPClassesInStudy",
        "SOPClassesSupported",
        "PertinentSOPClassesInStudy",
        "PertinentSOPClassesInSeries",
        "RTVCommunicationSOPClassUID",
        "TransferSyntaxUID",
        "ReferencedTransferSyntaxUIDInFile",
        "StoredInstanceTransferSyntaxUID",
        "AvailableTransferSyntaxUID",
        "FlowTransferSyntaxUID",
        "MACCalculationTransferSyntaxUID",
        "EncryptedContentTransferSyntaxUID",
        "CodingSchemeUID",
        "ContextUID",
        "MappingResourceUID",
    )
)
"""UID attributes that name a class, a transfer syntax or a coding scheme, never an
instance: kept even when the value is not DICOM-defined (a vendor's SOP class, HL7's
coding scheme UIDs). Every other UID that is not DICOM-defined is remapped."""
DICOM_UID_ROOT = "1.2.840.10008."
"""DICOM-defined UIDs (PS3.6 Annex A) start with this root; they are kept."""


def action_for(tag: BaseTag) -> str | None:
    """The action for ``tag``: the Basic Profile's, else this module's :data:`SUPPLEMENT`
    (None when neither lists it)."""
    action = BASIC_PROFILE.get(int(tag), SUPPLEMENT.get(int(tag)))
    if action is not None:
        return action
    for group, element, group_mask, element_mask, code, _ in (
        *REPEATING_GROUPS,
        *SUPPLEMENT_REPEATING_GROUPS,
    ):
        if tag.group & group_mask == group and tag.element & element_mask == element:
            return code
    return None


@dataclass
class Deidentifier:
    """De-identifies data sets consistently: the same key gives the same UIDs and shifts.

    Parameters
    ----------
    key : bytes, optional
        Secret for the keyed hash of UIDs and of the per-patient date shift; a random one
        by default (one export = one key). Keep it secret: with it, UIDs can be linked back.
    date_offsets_days : dict, optional
        Patient key -> shift in days, to impose a shift (e.g. days relative to the first
        TACE); other patients get one derived from the key, 1 to 3650 days back. The
        patient key is the one given to :meth:`deidentify` (the caller's record of the
        patient, e.g. the Patient ID the user confirmed), else the data set's original
        (0010,0020) *Patient ID*.
    """

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    date_offsets_days: dict[str, int] = field(default_factory=dict)
    segment_names: dict[str, dict[str, str]] = field(default_factory=dict)
    """Patient key -> {a segment's label as entered -> its code}: the codes the export's
    tables use (L1, L2 …), so that a SEG's segments name the same lesions."""
    _lesion_codes: dict[str, dict[str, str]] = field(
        default_factory=dict, init=False, repr=False
    )  # patient key -> segment identity -> "lesion <n>"

    def uid(self, original: str) -> str:
        """A ``2.25.`` UID for ``original``: the same for the same key, ≤ 64 characters."""
        if original.startswith(DICOM_UID_ROOT):
            return original  # DICOM-defined (a class, a syntax, a well-known instance)
        digest = hmac.new(self.key, b"uid:" + original.encode(), hashlib.sha256).digest()
        return f"2.25.{int.from_bytes(digest[:16], 'big')}"

    def offset_days(self, patient_id: str) -> int:
        """The date shift of one patient (negative: dates move into the past)."""
        if patient_id not in self.date_offsets_days:
            digest = hmac.new(self.key, b"date:" + patient_id.encode(), hashlib.sha256).digest()
            self.date_offsets_days[patient_id] = -(1 + int.from_bytes(digest[:4]) % MAX_SHIFT_DAYS)
        return self.date_offsets_days[patient_id]

    def deidentify(self, ds: Dataset, pseudonym: str, *, patient_key: str | None = None) -> Dataset:
        """A de-identified copy of ``ds`` (file meta included); ``ds`` is left unchanged.

        Parameters
        ----------
        ds : pydicom.dataset.Dataset
            A data set read with pydicom (pixel data stays as it is).
        pseudonym : str
            Written to Patient's Name and Patient ID; must not identify the patient.
        patient_key : str, optional
            Whose date shift and lesion codes apply (the keys of ``date_offsets_days``
            and ``segment_names``): the patient the caller filed the data set under,
            e.g. the Patient ID the user confirmed for a study imported without one.
            When not given, the data set's own (0010,0020) *Patient ID*.
        """
        out = Dataset()
        # One shift per patient: keyed by the caller's patient, else the header's Patient ID.
        patient = str(ds.get("PatientID", "")) if patient_key is None else patient_key
        offset = dt.timedelta(days=self.offset_days(patient))
        self._clean(ds, out, offset)
        self._name_segments(ds, out, patient)
        out.PatientName = pseudonym
        out.PatientID = pseudonym
        out.PatientIdentityRemoved = "YES"
        out.DeidentificationMethod = METHOD
        codes = []
        for value, meaning in CODES:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
            codes.append(item)
        out.DeidentificationMethodCodeSequence = Sequence(codes)
        out.LongitudinalTemporalInformationModified = "MODIFIED"
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            out.file_meta = self._file_meta(meta, out)
        out.preamble = b"\0" * 128  # the source's preamble may hold anything
        return out

    def _file_meta(self, meta: Dataset, out: Dataset) -> FileMetaDataset:
        """New file meta information: only what PS3.10 requires, nothing of the source's
        application (AE titles, private information, implementation)."""
        new = FileMetaDataset()
        new.FileMetaInformationVersion = b"\x00\x01"
        sop_class = out.get("SOPClassUID") or meta.get("MediaStorageSOPClassUID")
        if sop_class:
            new.MediaStorageSOPClassUID = sop_class
        instance = out.get("SOPInstanceUID")
        if not instance and meta.get("MediaStorageSOPInstanceUID"):
            instance = self.uid(str(meta.MediaStorageSOPInstanceUID))
        if instance:
            new.MediaStorageSOPInstanceUID = instance
        if meta.get("TransferSyntaxUID"):
            new.TransferSyntaxUID = meta.TransferSyntaxUID
        new.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        new.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        return new

    def _name_segments(self, source: Dataset, target: Dataset, patient: str) -> None:
        """Segment Label, Tracking ID and Segment Description of a SEG: the standard names
        stay, any other free text becomes ``lesion <n>`` (see the module docstring)."""
        originals = source.get("SegmentSequence")
        cleaned = target.get("SegmentSequence")
        if not originals or not cleaned:
            return
        codes = self._lesion_codes.setdefault(patient, {})
        given = self.segment_names.get(patient, {})
        for before, after in zip(originals, cleaned, strict=False):
            label = _text(before.get("SegmentLabel"))
            tracking = _text(before.get("TrackingID"))
            identity = _text(before.get("TrackingUID")) or tracking or label
            identity = identity or f"segment {before.get('SegmentNumber', len(codes) + 1)}"

            def neutral(identity: str = identity, label: str = label) -> str:
                if label in given:  # the export's code for this lesion
                    return given[label]
                return codes.setdefault(identity, f"lesion {len(codes) + 1}")

            new_label = label if _standard(label) else neutral()
            after.SegmentLabel = new_label
            if "TrackingID" in before:
                after.TrackingID = tracking if _standard(tracking) else new_label
            if "SegmentDescription" in before:
                description = _text(before.get("SegmentDescription"))
                after.SegmentDescription = description if _standard(description) else new_label

    def _clean(
        self, source: Dataset, target: Dataset, offset: dt.timedelta, person: bool = False
    ) -> None:
        for element in source:
            tag = int(element.tag)
            action = action_for(element.tag)
            if element.tag.is_private or tag in _ADDED_TAGS or tag in _PATIENT_TAGS:
                continue
            if action == "X":
                continue
            if action is None and element.VR in _TEXT_VRS:
                if tag not in KEEP_TECHNICAL:
                    continue  # unlisted text: it may name anyone (see the module docstring)
                if person:
                    action = "D"  # a code that identifies a person
            if action is None and _binary(element.VR) and tag not in KEEP_BINARY:
                continue  # an unlisted blob: burned-in text, a document (module docstring)
            if action is None and element.VR == "UI" and tag not in KEEP_CLASS_UIDS:
                action = "U"  # an unlisted UID: remapped like the listed ones
            value = element.value
            if element.VR == "SQ":
                if action in ("X/D", "X/Z/D"):
                    continue  # X: the codes of these sequences name the institution or staff
                items = (
                    []
                    if action in ("Z", "X/Z")
                    else self._clean_items(value, offset, person or tag == _PERSON_CODES)
                )
                value = Sequence(items)
            elif element.VR in ("DA", "DT"):
                # Modified Dates Option: every date that stays is shifted; the birth date
                # is not a longitudinal date and keeps the Basic Profile's Z.
                value = (
                    None
                    if tag == _BIRTH_DATE
                    else _map_values(value, self._shifter(element.VR, offset))
                )
            elif element.VR == "TM":
                pass  # a whole-day shift leaves times as they were (Modified Dates Option)
            elif action in ("Z", "X/Z"):
                value = None
            elif element.VR == "UI" and action in ("U", "X/Z/U*"):
                value = _map_values(value, self.uid)
            elif action in ("D", "X/D", "Z/D", "X/Z/D"):
                value = _dummy(element.VR)
            if isinstance(value, MultiValue):
                value = list(value)  # a copy: the original data set stays as it was
            target.add(DataElement(element.tag, element.VR, value))

    def _clean_items(
        self, items: Iterable[Dataset], offset: dt.timedelta, person: bool = False
    ) -> list[Dataset]:
        cleaned = []
        for item in items:
            new = Dataset()
            self._clean(item, new, offset, person)
            cleaned.append(new)
        return cleaned

    @staticmethod
    def _shifter(vr: str, offset: dt.timedelta) -> Callable[[str], str]:
        return lambda text: _shift_text(text, vr, offset)


def _binary(vr: str) -> bool:
    """A binary VR, also when the dictionary's VR is a choice such as "OB or OW"."""
    return any(part.strip() in _BINARY_VRS for part in str(vr).split(" or "))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _standard(name: str) -> bool:
    """An application's standard segment name (``F1``…``F999``, ``Liver``)."""
    return STANDARD_LESION_NAME.fullmatch(name) is not None


def _map_values(value: Any, function: Callable[[str], str]) -> Any:
    if value is None or value == "":
        return value
    if not isinstance(value, (list, tuple, MultiValue)):
        return function(_dicom_text(value))  # one value: str, UID, or DA/DT in memory
    mapped = [function(_dicom_text(v)) for v in value]
    return mapped if any(mapped) else None


def _dicom_text(value: Any) -> str:
    """A value as DICOM writes it: a data set built in memory (e.g. by highdicom) holds
    dates and date-times as objects, a data set read from a file as text."""
    if isinstance(value, dt.datetime):
        return str(DT(value))
    if isinstance(value, dt.date):
        return str(DA(value))
    return str(value)


def _shift_text(text: str, vr: str, offset: dt.timedelta) -> str:
    """Shift the YYYYMMDD part of a DA or DT value; '' when it is not a readable date."""
    text = text.strip()
    if len(text) < 8 or not text[:8].isdigit():
        return ""
    try:
        day = dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return ""
    shifted = (day + offset).strftime("%Y%m%d")
    return shifted if vr == "DA" else shifted + text[8:]


def _dummy(vr: str) -> Any:
    if vr in _NUMERIC_VRS:
        return 0
    if vr in ("IS", "DS"):
        return "0"
    if vr in _BINARY_VRS:
        return b""
    if vr == "AS":
        return "000Y"
    if vr == "UI":
        return None
    return DUMMY_TEXT
