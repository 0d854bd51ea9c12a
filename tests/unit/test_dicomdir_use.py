"""A DICOMDIR that was read is told apart from the files skipped, with its count of files."""

from __future__ import annotations

from pathlib import Path

from tace_planner.imaging.dicom.scan_result import DicomdirUse, FileError, ScanResult


def test_a_used_dicomdir_is_read_from_its_note_and_other_notes_are_not() -> None:
    cd = Path("/media/cdrom")
    used = FileError(
        cd / "DICOMDIR",
        "DICOMDIR used: it lists 1 file; 3 other file(s) (viewer software, documents) "
        "were not read",
    )
    missing = FileError(cd / "B" / "DICOMDIR", "DICOMDIR lists 2 files that are missing (a, b)")
    text = FileError(cd / "notes.txt", "not a DICOM file")
    result = ScanResult(skipped=[used, missing, text])

    assert result.dicomdirs_used == [
        DicomdirUse(
            cd / "DICOMDIR", 1, "3 other file(s) (viewer software, documents) were not read"
        )
    ]
    assert DicomdirUse.from_note(missing) is None
    assert DicomdirUse.from_note(text) is None
