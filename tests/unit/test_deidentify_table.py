"""The Basic Profile table (PS3.15 Table E.1-1) as data: spot checks and a full cross-check."""

from __future__ import annotations

import pytest
from pydicom.tag import Tag

from tace_planner.imaging.dicom.deid_table import BASIC_PROFILE
from tace_planner.imaging.dicom.deidentify import action_for


@pytest.mark.parametrize(
    ("keyword", "action"),
    [
        ("PatientName", "Z"),
        ("PatientBirthDate", "Z"),
        ("StudyDate", "Z"),
        ("AccessionNumber", "Z"),
        ("InstitutionName", "X/Z/D"),
        ("SOPInstanceUID", "U"),
        ("StudyInstanceUID", "U"),
        ("FrameOfReferenceUID", "U"),
        ("ReferencedSOPInstanceUID", "U"),
        ("ReferencedImageSequence", "X/Z/U*"),
        ("OtherPatientIDsSequence", "X"),
        ("ContentDate", "Z/D"),
        ("AcquisitionDate", "X/Z"),
        ("PatientAge", "X"),
    ],
)
def test_spot_checks_against_the_standard(keyword: str, action: str) -> None:
    assert action_for(Tag(keyword)) == action


def test_repeating_groups_match_every_group() -> None:
    assert action_for(Tag(0x5010, 0x3000)) == "X"  # Curve Data, any 50xx group
    assert action_for(Tag(0x6002, 0x3000)) == "X"  # Overlay Data
    assert action_for(Tag(0x6002, 0x4000)) == "X"  # Overlay Comments
    assert action_for(Tag(0x6002, 0x0010)) is None  # Overlay Rows: not identifying


def test_table_equals_the_published_machine_readable_copy() -> None:
    fields = pytest.importorskip(
        "dicomanonymizer.dicom_anonymization_databases.dicomfields_2024b",
        reason="dicom-anonymizer 2.1.0 (the cross-check copy of Table E.1-1) is not installed",
    )
    codes = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D",
             "X_Z_TAGS": "X/Z", "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D",
             "X_Z_U_STAR_TAGS": "X/Z/U*"}  # fmt: skip
    theirs = {
        (tag[0] << 16) | tag[1]: code
        for name, code in codes.items()
        for tag in getattr(fields, name)
        if len(tag) == 2
    }
    assert theirs == BASIC_PROFILE
