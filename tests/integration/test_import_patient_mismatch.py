"""A series is never filed with another patient's study in silence.

Series are filed into a study by Study Instance UID. A series WITH a Patient ID whose
Study Instance UID is stored under another patient (or under the placeholder of files
without one) joined that study with no warning: patient B's images shown and contoured
in patient A's study. It is now refused with one line naming the file, both Patient
IDs and the stored study by modality, date and description (no UID). A series
without a Patient ID that joins a real patient's study no longer creates an empty
placeholder patient, and a series is filed by the first Patient ID among its files
(warning when some lack it or they disagree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from test_import_identity_joined_study import _series as _three_slices
from test_import_identity_joined_study import _stored_warnings

from tace_planner.domain.progress import run_sync
from tace_planner.services.dto import NO_PATIENT_ID

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _series(folder: Path, study_uid: str, patient_ids: list[str], name: str = "") -> str:
    """Three axial CT slices of a new series, with these Patient IDs; returns its Series UID."""
    series_uid = _three_slices(folder, study_uid, "", name)
    for n, patient_id in enumerate(patient_ids):
        path = folder / f"slice{n}.dcm"
        image = dcmread(path)
        image.PatientID = patient_id
        image.save_as(path, enforce_file_format=True)
    return series_uid


def _import(services: Any, folder: Path) -> Any:
    return run_sync(services.studies.import_paths([folder]))


def _patient_of(services: Any, series_uid: str) -> str:
    """The Patient ID of the patient whose study holds this series."""
    by_pk = {p.pk: p.patient_id for p in services.cases.list_patients()}
    for patient_pk in by_pk:
        for study in services.studies.studies_of_patient(patient_pk):
            if any(s.series_uid == series_uid for s in study.series):
                return by_pk[patient_pk]
    raise AssertionError(f"series {series_uid} is not stored")


def _unnamed_then_named(services: Any, tmp_path: Path) -> tuple[str, str, str]:
    """A series without Patient ID imported; one with it, of the same study, in "named".

    Returns the Study Instance UID and both Series Instance UIDs.
    """
    study_uid = generate_uid()
    unnamed = _series(tmp_path / "unnamed", study_uid, ["", "", ""])
    _import(services, tmp_path / "unnamed")
    named = _series(tmp_path / "named", study_uid, ["TACE-017"] * 3, "Doe^Jane")
    return study_uid, unnamed, named


def test_a_series_of_another_patient_is_refused_from_a_stored_study(
    services: Any, tmp_path: Path
) -> None:
    study_uid = generate_uid()
    jane = _series(tmp_path / "jane", study_uid, ["TACE-017"] * 3, "Doe^Jane")
    _import(services, tmp_path / "jane")
    other = _series(tmp_path / "john", study_uid, ["TACE-042"] * 3, "Roe^John")

    for _ in range(2):  # a re-import of the same files says the same and stores nothing
        report = _import(services, tmp_path / "john")
        assert report.new_instances == 0
        assert report.series == ()
        assert report.studies == ()
        (line,) = report.errors
        assert str(line.path).endswith(".dcm")
        assert "john" in str(line.path)
        assert "TACE-042" in line.reason
        assert "TACE-017" in line.reason
        assert study_uid not in line.reason  # a clinician cannot use a UID
        assert "not imported" in line.reason
        assert "DOE, Jane" in line.reason

    listed = {s.series_uid for s in services.studies.list_series()}
    assert other not in listed
    assert jane in listed
    assert sorted(p.patient_id for p in services.cases.list_patients()) == ["TACE-017"]
    (study,) = services.studies.studies_of_patient(services.cases.list_patients()[0].pk)
    assert [s.series_uid for s in study.series] == [jane]


def test_a_series_with_patient_id_is_refused_from_a_placeholder_study(
    services: Any, tmp_path: Path
) -> None:
    study_uid, unnamed, _ = _unnamed_then_named(services, tmp_path)

    report = _import(services, tmp_path / "named")

    assert report.new_instances == 0
    (line,) = report.errors
    assert "TACE-017" in line.reason
    assert study_uid not in line.reason  # a clinician cannot use a UID
    assert "placeholder patient" in line.reason
    assert "not imported" in line.reason
    assert [s.series_uid for s in services.studies.list_series()] == [unnamed]
    assert _patient_of(services, unnamed) == NO_PATIENT_ID


def test_in_one_import_a_series_without_id_joins_the_study_of_the_series_with_one(
    services: Any, tmp_path: Path
) -> None:
    """The series without a Patient ID is found first, yet the study is the patient's."""
    study_uid = generate_uid()
    unnamed = _series(tmp_path / "cd" / "1 venous", study_uid, ["", "", ""])
    named = _series(tmp_path / "cd" / "2 arterial", study_uid, ["TACE-017"] * 3, "Doe^Jane")

    report = _import(services, tmp_path / "cd")

    assert report.errors == ()
    assert report.new_instances == 6
    assert _patient_of(services, named) == _patient_of(services, unnamed) == "TACE-017"
    (warning,) = report.warnings
    assert "joined the study of DOE, Jane · Patient ID TACE-017" in warning.reason
    assert [p.patient_id for p in services.cases.list_patients()] == ["TACE-017"]


def test_a_series_without_id_joining_a_patients_study_creates_no_placeholder_patient(
    services: Any, tmp_path: Path
) -> None:
    study_uid = generate_uid()
    _series(tmp_path / "arterial", study_uid, ["TACE-017"] * 3, "Doe^Jane")
    _import(services, tmp_path / "arterial")
    venous = _series(tmp_path / "venous", study_uid, ["", "", ""])

    report = _import(services, tmp_path / "venous")

    assert report.new_instances == 3
    assert _patient_of(services, venous) == "TACE-017"
    assert [p.patient_id for p in services.cases.list_patients()] == ["TACE-017"]


def test_a_series_whose_first_file_lacks_the_patient_id_is_filed_by_the_others(
    services: Any, tmp_path: Path
) -> None:
    series = _series(tmp_path / "s", generate_uid(), ["", "TACE-017", "TACE-017"], "Doe^Jane")

    report = _import(services, tmp_path / "s")

    assert _patient_of(services, series) == "TACE-017"
    assert [p.patient_id for p in services.cases.list_patients()] == ["TACE-017"]
    (warning,) = report.warnings
    assert "1 of 3 files of this series have no Patient ID" in warning.reason
    assert "slice0.dcm" in warning.reason
    assert "'TACE-017'" in warning.reason
    (stored,) = _stored_warnings(services, series)
    assert "1 of 3 files of this series have no Patient ID" in stored


def test_files_of_one_series_that_disagree_on_the_patient_id_are_named(
    services: Any, tmp_path: Path
) -> None:
    series = _series(tmp_path / "s", generate_uid(), ["TACE-017", "TACE-042", "TACE-042"])

    report = _import(services, tmp_path / "s")

    assert _patient_of(services, series) == "TACE-017"
    (warning,) = report.warnings
    reason = warning.reason
    assert "different Patient IDs" in reason
    assert "'TACE-017' in 1 file(s)" in reason
    assert "'TACE-042' in 2 file(s)" in reason
    (stored,) = _stored_warnings(services, series)
    assert "different Patient IDs" in stored
    assert "TACE-042" in stored
    again = _import(services, tmp_path / "s")  # a re-import adds nothing, says the same
    assert again.new_instances == 0
    assert again.known_instances == 3
    assert [w.reason for w in again.warnings] == [reason]


def test_a_study_emptied_of_its_series_without_id_is_given_to_the_next_patient(
    services: Any, tmp_path: Path
) -> None:
    """The refusal's advice works: remove the series without ID, import again."""
    _, unnamed, named = _unnamed_then_named(services, tmp_path)
    services.studies.remove_series(unnamed, "no Patient ID; imported again with it")

    report = _import(services, tmp_path / "named")

    assert report.errors == ()
    assert report.new_instances == 3
    assert _patient_of(services, named) == "TACE-017"
    assert [(s.patient_id, s.series_uids) for s in report.studies] == [("TACE-017", (named,))]
