"""A refused series names the stored study as a clinician knows it; one series, one study.

Review findings:

1. The line refusing a series of another patient named the full Study Instance UID,
   which a clinician cannot use. It now names both Patient IDs and the stored study by
   modality, date and description ("CT of 2004-01-19 'ABDOMEN^LIVER'"), and no UID.
2. Files of one series (one Series Instance UID) carrying different Study Instance UIDs
   were filed by the first file's study in silence. They still are, with one warning
   naming the series, how many files disagree and the first of them.
3. The refusal looked up the study of the first file *with a Patient ID* while the
   series is filed in the study of its first file: a series whose first file had no
   Patient ID could join another patient's study unrefused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from test_import_identity_joined_study import _series as _three_slices
from test_import_identity_joined_study import _stored_warnings

from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]

UID_LIKE = re.compile(r"\d+(\.\d+){3,}")
"""A DICOM UID (or any long dotted number) in text a person reads."""


def _series(
    folder: Path,
    study_uid: str,
    patient_id: str,
    name: str = "",
    changes: dict[int, dict[str, Any]] | None = None,
) -> str:
    """Three CT slices of 2004-01-19, study 'ABDOMEN^LIVER', series 'ARTERIAL' number 3.

    ``changes`` sets attributes of single files (by slice index). Returns the Series UID.
    """
    series_uid = _three_slices(folder, study_uid, patient_id, name)
    for n in range(3):
        path = folder / f"slice{n}.dcm"
        image = dcmread(path)
        image.StudyDate = "20040119"
        image.StudyDescription = "ABDOMEN^LIVER"
        image.SeriesDescription = "ARTERIAL"
        image.SeriesNumber = 3
        for keyword, value in (changes or {}).get(n, {}).items():
            setattr(image, keyword, value)
        image.save_as(path, enforce_file_format=True)
    return series_uid


def _import(services: Any, folder: Path) -> Any:
    return run_sync(services.studies.import_paths([folder]))


def test_the_refusal_names_both_patient_ids_and_the_study_by_date_not_by_uid(
    services: Any, tmp_path: Path
) -> None:
    study_uid = generate_uid()
    jane = _series(tmp_path / "jane", study_uid, "TACE-017", "Doe^Jane")
    assert _import(services, tmp_path / "jane").warnings == ()  # one study: no warning
    john = _series(tmp_path / "john", study_uid, "TACE-042", "Roe^John")

    report = _import(services, tmp_path / "john")

    (line,) = report.errors
    assert Path(line.path).name.endswith(".dcm")
    assert "john" in str(line.path)  # the file
    reason = line.reason
    assert "Patient ID TACE-042" in reason  # this series' patient
    assert "DOE, Jane [TACE-017]" in reason  # the stored study's patient
    assert "CT of 2004-01-19 'ABDOMEN^LIVER'" in reason  # the stored study, as read
    assert "not imported" in reason
    for uid in (study_uid, jane, john):
        assert uid not in reason
    assert not UID_LIKE.search(reason), reason
    assert report.new_instances == 0


def test_a_series_stored_under_another_patient_is_named_by_description_not_uid(
    services: Any, tmp_path: Path
) -> None:
    """The same Series Instance UID sent again under another Patient ID (new images)."""
    study_uid = generate_uid()
    jane = _series(tmp_path / "jane", study_uid, "TACE-017", "Doe^Jane")
    _import(services, tmp_path / "jane")
    same_series = {n: {"SeriesInstanceUID": jane} for n in range(3)}  # new SOP Instance UIDs
    _series(tmp_path / "john", generate_uid(), "TACE-042", "Roe^John", same_series)

    report = _import(services, tmp_path / "john")

    (line,) = report.errors
    reason = line.reason
    assert "Patient ID TACE-042" in reason
    assert "DOE, Jane [TACE-017]" in reason  # the stored patient, as the case list
    assert "series 'ARTERIAL' (number 3)" in reason
    assert "CT of 2004-01-19 'ABDOMEN^LIVER'" in reason
    assert jane not in reason
    assert not UID_LIKE.search(reason), reason


def test_files_of_one_series_in_two_studies_are_filed_by_the_first_with_one_warning(
    services: Any, tmp_path: Path
) -> None:
    study_uid, other_study = generate_uid(), generate_uid()
    stray = {"StudyInstanceUID": other_study, "StudyDate": "20040301"}
    series = _series(tmp_path / "s", study_uid, "TACE-017", "Doe^Jane", {2: stray})

    report = _import(services, tmp_path / "s")

    assert report.errors == ()
    assert report.new_instances == 3
    # filed whole, in the study of its first file
    assert [(s.study_uid, s.series_uids) for s in report.studies] == [(study_uid, (series,))]
    (warning,) = report.warnings
    reason = warning.reason
    assert "1 of 3 files of series 'ARTERIAL' (number 3)" in reason
    assert "another Study Instance UID" in reason
    assert "slice2.dcm" in reason  # the first file that disagrees
    assert "CT of 2004-03-01 'ABDOMEN^LIVER'" in reason  # its study
    assert "CT of 2004-01-19 'ABDOMEN^LIVER'" in reason  # where the series was filed
    assert not UID_LIKE.search(reason), reason
    # the study tree's tooltip says it too
    assert any("1 of 3 files of series 'ARTERIAL'" in w for w in _stored_warnings(services, series))

    again = _import(services, tmp_path / "s")  # a re-import says the same, adds nothing
    assert again.new_instances == 0
    assert [w.reason for w in again.warnings] == [reason]


def test_a_series_is_refused_by_the_study_it_would_be_filed_in(
    services: Any, tmp_path: Path
) -> None:
    """Its first file (no Patient ID) points at Jane's study, the others at a new one."""
    study_uid = generate_uid()
    _series(tmp_path / "jane", study_uid, "TACE-017", "Doe^Jane")
    _import(services, tmp_path / "jane")
    elsewhere = {"StudyInstanceUID": generate_uid(), "PatientID": "TACE-042"}
    _series(tmp_path / "john", study_uid, "", "Roe^John", {1: elsewhere, 2: elsewhere})

    report = _import(services, tmp_path / "john")

    assert report.new_instances == 0
    (line,) = report.errors
    assert "Patient ID TACE-042" in line.reason
    assert "DOE, Jane [TACE-017]" in line.reason
    assert sorted(p.patient_id for p in services.cases.list_patients()) == ["TACE-017"]
