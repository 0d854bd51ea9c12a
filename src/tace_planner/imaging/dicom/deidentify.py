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
  sequence with Z or X/Z is emptied; any other kept sequence (D: Content Sequence) has
  every item de-identified by the same rules.
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
  Method Code Sequence* with DCM 113100 (Basic Profile) and 113107 (Modified Dates).

Burned-in annotation is not detected: callers drop secondary captures and dose reports.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

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
_PATIENT_TAGS = {0x00100010, 0x00100020}  # Patient's Name, Patient ID
_ADDED_TAGS = {0x00120062, 0x00120063, 0x00120064}
_BIRTH_DATE = 0x00100030
MAX_SHIFT_DAYS = 3650


def action_for(tag: BaseTag) -> str | None:
    """The Basic Profile action of ``tag`` (None when the table does not list it)."""
    action = BASIC_PROFILE.get(int(tag))
    if action is not None:
        return action
    for group, element, group_mask, element_mask, code, _ in REPEATING_GROUPS:
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
        Original Patient ID -> shift in days, to impose a shift (e.g. days relative to
        the first TACE); other patients get one derived from the key, 1 to 3650 days back.
    """

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    date_offsets_days: dict[str, int] = field(default_factory=dict)

    def uid(self, original: str) -> str:
        """A ``2.25.`` UID for ``original``: the same for the same key, ≤ 64 characters."""
        digest = hmac.new(self.key, b"uid:" + original.encode(), hashlib.sha256).digest()
        return f"2.25.{int.from_bytes(digest[:16], 'big')}"

    def offset_days(self, patient_id: str) -> int:
        """The date shift of one patient (negative: dates move into the past)."""
        if patient_id not in self.date_offsets_days:
            digest = hmac.new(self.key, b"date:" + patient_id.encode(), hashlib.sha256).digest()
            self.date_offsets_days[patient_id] = -(1 + int.from_bytes(digest[:4]) % MAX_SHIFT_DAYS)
        return self.date_offsets_days[patient_id]

    def deidentify(self, ds: Dataset, pseudonym: str) -> Dataset:
        """A de-identified copy of ``ds`` (file meta included); ``ds`` is left unchanged.

        Parameters
        ----------
        ds : pydicom.dataset.Dataset
            A data set read with pydicom (pixel data stays as it is).
        pseudonym : str
            Written to Patient's Name and Patient ID; must not identify the patient.
        """
        out = Dataset()
        # One shift per patient: keyed by the original Patient ID of the top-level data set.
        offset = dt.timedelta(days=self.offset_days(str(ds.get("PatientID", ""))))
        self._clean(ds, out, offset)
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
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            out.file_meta = FileMetaDataset(copy.deepcopy(meta))  # never alias the original
            media_uid = out.get("SOPInstanceUID") or meta.get("MediaStorageSOPInstanceUID")
            if media_uid and "SOPInstanceUID" not in out:
                media_uid = self.uid(str(media_uid))
            if media_uid:
                out.file_meta.MediaStorageSOPInstanceUID = media_uid
        out.preamble = getattr(ds, "preamble", None)
        return out

    def _clean(self, source: Dataset, target: Dataset, offset: dt.timedelta) -> None:
        for element in source:
            tag = int(element.tag)
            action = action_for(element.tag)
            if element.tag.is_private or tag in _ADDED_TAGS or tag in _PATIENT_TAGS:
                continue
            if action == "X":
                continue
            value = element.value
            if element.VR == "SQ":
                items = [] if action in ("Z", "X/Z") else self._clean_items(value, offset)
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

    def _clean_items(self, items: Iterable[Dataset], offset: dt.timedelta) -> list[Dataset]:
        cleaned = []
        for item in items:
            new = Dataset()
            self._clean(item, new, offset)
            cleaned.append(new)
        return cleaned

    @staticmethod
    def _shifter(vr: str, offset: dt.timedelta) -> Callable[[str], str]:
        return lambda text: _shift_text(text, vr, offset)


def _map_values(value: Any, function: Callable[[str], str]) -> Any:
    if value is None or value == "":
        return value
    if isinstance(value, str):
        return function(value)
    mapped = [function(str(v)) for v in value]
    return mapped if any(mapped) else None


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
