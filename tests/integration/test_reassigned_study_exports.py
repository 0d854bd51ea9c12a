"""Exports of a study handed to its patient name the patient the user confirmed.

A study imported without a (0010,0020) Patient ID is handed to a named patient by
:class:`~tace_planner.services.study_reassign.StudyReassignService`: the database row
changes, the files keep their empty Patient ID. Every export must therefore take the
patient from the database, never from the file headers: the DICOM SEG (its Patient ID and
Patient's Name), the de-identified SEG and images (the patient's date shift and lesion
codes, which the de-identification looks up by Patient ID), and the de-identified
records (CSV, REDCap, SDTM), the case report and the plan, whose rows come from the case.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from reassign_seed import SIDE, imported
from tace_planner.services.contouring import ContourWrite
from tace_planner.services.export.case_report import build_case_report
from tace_planner.services.export.records import gather_case
from tace_planner.services.export.runner import export_cases
from tace_planner.services.study_reassign import StudyReassignService

pytestmark = [pytest.mark.db, pytest.mark.dicom]

PATIENT_ID, PATIENT_NAME = "TACE-021", "Doe^Jane"
FOCUS = "Dome lesion"
"""A lesion name that is free text: de-identified, it becomes the record's code (L1)."""


@pytest.fixture
def handed(services: Any, tmp_path: Path) -> dict[str, Any]:
    """A study without Patient ID, handed to Jane Doe, linked to her case and contoured."""
    study_uid = imported(services, tmp_path / "orphan", "", "")
    StudyReassignService(services.session_factory, "dr reassign").reassign(
        study_uid, patient_id=PATIENT_ID, patient_name=PATIENT_NAME
    )
    case = services.cases.create_case(PATIENT_ID, "Jane's DEBIRI course")
    services.cases.link_study(
        case.pk, study_uid, timepoint_label="baseline", timepoint_kind="baseline"
    )
    series_uid = next(
        s.series_uid for s in services.studies.list_series() if s.study_uid == study_uid
    )
    case_pk, timepoint_pk, _ = services.contouring.series_context(series_uid)
    liver = np.zeros((3, SIDE, SIDE), dtype=bool)
    liver[:, 2:14, 2:14] = True
    focus = np.zeros_like(liver)
    focus[1, 5:9, 5:9] = True
    services.contouring.write_contours(
        case_pk,
        timepoint_pk,
        series_uid,
        None,
        [
            ContourWrite("Liver", "liver", liver, "manual"),
            ContourWrite(FOCUS, "focus", focus, "manual"),
        ],
    )
    files = services.studies.series_files(series_uid)
    assert files
    assert all(not pydicom.dcmread(f).get("PatientID", "") for f in files)
    return {"case_pk": case_pk, "series_uid": series_uid, "study_uid": study_uid}


def test_the_seg_of_a_handed_study_names_the_confirmed_patient(
    services: Any, handed: dict[str, Any], tmp_path: Path
) -> None:
    path = services.contouring.export_seg(handed["series_uid"], tmp_path / "contours.dcm")
    seg = pydicom.dcmread(path)
    assert seg.Modality == "SEG"
    assert (str(seg.PatientID), str(seg.PatientName)) == (PATIENT_ID, PATIENT_NAME)
    # built in memory (the de-identified export's path) it names her too
    built = services.contouring.build_seg(handed["series_uid"])
    assert (str(built.PatientID), str(built.PatientName)) == (PATIENT_ID, PATIENT_NAME)


def _mapping(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["pseudonym"]: row["patient_id"] for row in csv.DictReader(handle)}


def _sdtm_dates(folder: Path) -> set[str]:
    with (folder / "tr.csv").open(encoding="utf-8", newline="") as handle:
        return {row["TRDTC"][:10] for row in csv.DictReader(handle) if row.get("TRDTC")}


def test_the_deidentified_seg_and_images_move_by_the_patients_shift_with_her_lesion_codes(
    services: Any, handed: dict[str, Any], tmp_path: Path
) -> None:
    result = export_cases(
        services, tmp_path / "seg", "seg", deidentify=True, mapping=tmp_path / "seg-map.csv"
    )
    mapping = _mapping(tmp_path / "seg-map.csv")
    assert list(mapping.values()) == [PATIENT_ID]
    pseudonym = next(iter(mapping))
    segs = [pydicom.dcmread(p) for p in result.files if p.name.startswith("seg_")]
    images = [pydicom.dcmread(p) for p in result.files if p.parent.name.startswith("images_")]
    assert len(segs) == 1
    assert len(images) == 3
    seg = segs[0]
    assert {str(ds.PatientID) for ds in (seg, *images)} == {pseudonym}
    # the record's code of the free-text lesion name, as in the tables of the same export
    assert sorted(str(s.SegmentLabel) for s in seg.SegmentSequence) == ["L1", "Liver"]
    # one date shift for the SEG and the images it references: the patient's
    study_dates = {str(ds.StudyDate) for ds in (seg, *images)}
    assert len(study_dates) == 1
    # ... the same shift as her de-identified SDTM dates (one shift per patient, all exports)
    sdtm = export_cases(services, tmp_path / "sdtm", "sdtm", deidentify=True)
    shifted = dt.datetime.strptime(study_dates.pop(), "%Y%m%d").date().isoformat()
    assert _sdtm_dates(sdtm.folder) == {shifted}


@pytest.mark.parametrize("fmt", ["csv", "redcap", "sdtm"])
def test_deidentified_records_of_a_handed_study_belong_to_the_patients_pseudonym(
    services: Any, handed: dict[str, Any], tmp_path: Path, fmt: str
) -> None:
    """Regression guard: the records are read from the case's patient in the database."""
    map_file = tmp_path / f"{fmt}-map.csv"
    result = export_cases(services, tmp_path / fmt, fmt, deidentify=True, mapping=map_file)
    assert _mapping(map_file) == {"TP001": PATIENT_ID}
    text = "\n".join(p.read_text(encoding="utf-8") for p in result.files if p.suffix == ".csv")
    assert "TP001" in text
    assert PATIENT_ID not in text
    assert "Doe" not in text


def test_the_case_report_and_plan_name_the_confirmed_patient(
    services: Any, handed: dict[str, Any]
) -> None:
    """Regression guard: the case report's record and the plan's header come from the case."""
    record = gather_case(services, handed["case_pk"])
    assert (record.patient_id, record.patient_name) == (PATIENT_ID, PATIENT_NAME)
    report = build_case_report(services, record, 1)
    assert (report.record.patient_id, report.record.patient_name) == (PATIENT_ID, PATIENT_NAME)
    proposal = services.planning.propose(handed["case_pk"])
    assert (proposal.case.patient_id, proposal.case.patient_name) == (PATIENT_ID, PATIENT_NAME)
