"""A series without a Patient ID says where it was filed: the placeholder, or the study it joined.

The "no Patient ID" warning said a series was "filed under the placeholder patient" even
when its Study Instance UID was that of a study already stored under a real patient, so
that it joined that patient's study (the import dialog then listed it under that
patient). The warning now names the patient whose study the series joined, and keeps
the placeholder wording for a series filed under the placeholder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import generate_uid

from reassign_seed import write_series
from tace_planner.domain.progress import run_sync
from tace_planner.services.dto import NO_PATIENT_ID

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _series(folder: Path, study_uid: str, patient_id: str, name: str) -> str:
    """Three axial CT slices of a new series in ``study_uid``; returns its Series UID."""
    series_uid = generate_uid()
    write_series(folder, patient_id, name, study_uid, series_uid=series_uid)
    return series_uid


def _stored_warnings(services: Any, series_uid: str) -> tuple[str, ...]:
    item = next(s for s in services.studies.list_series() if s.series_uid == series_uid)
    return item.identity_warnings


def test_a_series_without_patient_id_that_joins_a_patients_study_names_that_patient(
    services: Any, tmp_path: Path
) -> None:
    study_uid = generate_uid()
    _series(tmp_path / "arterial", study_uid, "TACE-017", "Doe^Jane")
    first = run_sync(services.studies.import_paths([tmp_path / "arterial"]))
    assert not first.warnings

    venous = _series(tmp_path / "venous", study_uid, "", "")
    report = run_sync(services.studies.import_paths([tmp_path / "venous"]))

    # it is stored in Jane Doe's study, as the report's grouping says …
    assert [(s.patient_id, s.series_uids) for s in report.studies] == [("TACE-017", (venous,))]
    # … and the warning says the same, not "filed under the placeholder"
    assert len(report.warnings) == 1
    reason = report.warnings[0].reason
    assert reason.startswith("no Patient ID (0010,0020): joined the study of DOE, Jane")
    assert "Patient ID TACE-017" in reason
    assert "same Study Instance UID" in reason
    assert "placeholder" not in reason
    assert str(report.warnings[0].path).endswith(".dcm")
    (stored,) = _stored_warnings(services, venous)  # the study tree's tooltip
    assert "joined the study of DOE, Jane · Patient ID TACE-017" in stored
    assert "placeholder" not in stored


def test_series_without_patient_id_in_new_or_placeholder_studies_say_placeholder(
    services: Any, tmp_path: Path
) -> None:
    """One import: a series joining a real patient's study, and two placeholder series.

    Each warning says what happened to its own series (the joined one names the patient,
    the others the placeholder), in the report and in the stored series.
    """
    study_uid, unnamed_study = generate_uid(), generate_uid()
    _series(tmp_path / "arterial", study_uid, "TACE-017", "Doe^Jane")
    run_sync(services.studies.import_paths([tmp_path / "arterial"]))
    joined = _series(tmp_path / "cd" / "2 venous", study_uid, "", "")
    loose = _series(tmp_path / "cd" / "3 other", unnamed_study, "", "")
    also = _series(tmp_path / "cd" / "4 other", unnamed_study, "", "")
    report = run_sync(services.studies.import_paths([tmp_path / "cd"]))

    assert sorted(s.patient_id for s in report.studies) == sorted([NO_PATIENT_ID, "TACE-017"])
    said = {Path(w.path).parent.name: w.reason for w in report.warnings}
    assert sorted(said) == ["2 venous", "3 other", "4 other"]
    assert "joined the study of DOE, Jane · Patient ID TACE-017" in said["2 venous"]
    assert "placeholder" not in said["2 venous"]
    for folder, series_uid in (("3 other", loose), ("4 other", also)):
        assert said[folder].startswith(
            f"no Patient ID (0010,0020): filed under the placeholder patient {NO_PATIENT_ID!r}"
        )
        assert "joined" not in said[folder]
        (stored,) = _stored_warnings(services, series_uid)
        assert "filed under the placeholder patient" in stored
    (stored,) = _stored_warnings(services, joined)
    assert "joined the study of DOE, Jane" in stored
