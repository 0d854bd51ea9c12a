"""The import report groups series by patient and study, and says a CD's index was read.

Importing pydicom's test CD (a DICOMDIR of two patients) listed 13 series without
patient, study or date (four read "FAST LOCALIZER"), and the DICOMDIR only among the
skipped files, as if something had been left out.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def two_patient_cd(tmp_path: Path) -> Path:
    """pydicom's test DICOMDIR with the three folders it lists (31 files, 2 patients)."""
    source = Path(get_testdata_file("DICOMDIR")).parent  # type: ignore[arg-type]
    cd = tmp_path / "cd"
    cd.mkdir()
    shutil.copy(source / "DICOMDIR", cd / "DICOMDIR")
    for folder in ("77654033", "98892001", "98892003"):
        shutil.copytree(source / folder, cd / folder)
    return cd


def test_series_are_grouped_by_patient_and_study(services: Any, two_patient_cd: Path) -> None:
    report = run_sync(services.studies.import_paths([two_patient_cd]))

    assert len(report.series) == 13
    patients = list(dict.fromkeys(study.patient_label for study in report.studies))
    assert patients == ["DOE, Archibald · Patient ID 77654033", "DOE, Peter · Patient ID 98890234"]
    assert [s.study_label for s in report.studies] == [
        "1995-09-03 · CT, HEAD/BRAIN WO CONTRAST",
        "2001-01-01 · XR C Spine Comp Min 4 Views",
        "2001-01-01 · (no study description)",
        "2003-05-05 · Brain",
        "2003-05-05 · Brain-MRA",
        "2003-05-05 · Carotids",
    ]
    assert report.studies[0].study_on == dt.date(1995, 9, 3)
    # every series in exactly one study; within a study by series number
    grouped = [item.series_uid for study in report.studies for item in report.series_of(study)]
    assert sorted(grouped) == sorted(item.series_uid for item in report.series)
    carotids = report.series_of(report.studies[-1])
    assert [(s.series_number, s.label) for s in carotids] == [
        (1, "FAST LOCALIZER"),
        (2, "FAST LOCALIZER"),
    ]
    assert [s.series_number for s in report.series_of(report.studies[4])] == [1, 2, 700]


def test_the_dicomdir_is_said_to_be_read_not_skipped(services: Any, two_patient_cd: Path) -> None:
    report = run_sync(services.studies.import_paths([two_patient_cd]))

    [use] = report.dicomdirs
    assert use.path == two_patient_cd / "DICOMDIR"
    assert use.listed_files == 31
    assert use.note == ""
    assert report.skipped_files == ()
    # `tace-planner import --json` keeps listing it under "skipped", as before
    assert [entry.path for entry in report.skipped] == [use.path]


def test_the_command_line_says_the_cd_index_was_read(
    tmp_path: Path, two_patient_cd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``import`` prints the CD's index on a line of its own and adds a ``dicomdirs`` key to
    its JSON; the ``skipped`` key keeps listing it, as before (a contract)."""
    import json

    from tace_planner.cli import main

    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "import", str(two_patient_cd), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["dicomdirs"] == [{"file": str(two_patient_cd / "DICOMDIR"), "listed_files": 31}]
    assert any(entry["file"].endswith("DICOMDIR") for entry in printed["skipped"])
    again = tmp_path / "again"
    assert main(["--data-dir", str(again), "import", str(two_patient_cd)]) == 0
    text = capsys.readouterr().out
    assert f"read from the CD's index (DICOMDIR): {two_patient_cd / 'DICOMDIR'} (31 files" in text
