"""The realistic phantom is one exam with one date, and the protocol check dates it so.

The phantom's series was built from pydicom's example CT, whose study date is
2004-01-19 but whose series, acquisition and content dates are 1997-04-30: the study
tree, the view title and the banner said 2004-01-19 while the protocol check said
"CT of 1997-04-30 is 2465 day(s) before the TACE on 2004-01-29".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pydicom
import pytest

from protocol_seed import import_as_baseline
from tace_planner.imaging.phantom_realistic_dicom import PATIENT_ID, write_series

pytestmark = [pytest.mark.dicom, pytest.mark.db]

TACE_ON = dt.date(2004, 1, 29)
DATES = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "InstanceCreationDate")


def _small_series(folder: Path) -> list[Path]:
    """The realistic phantom's writer on a small volume (its headers are what is tested)."""
    voxels = np.full((4, 16, 16), 40.0, dtype=np.float32)
    write_series(SimpleNamespace(volume=SimpleNamespace(voxels=voxels)), folder)  # type: ignore[arg-type]
    return sorted(folder.glob("*.dcm"))


def _baseline_result(services: Any, folder: Path) -> Any:
    case_pk = import_as_baseline(services, folder, TACE_ON, f"{PATIENT_ID}-0")
    return services.protocol.check_baseline(case_pk)


def test_the_realistic_phantom_writes_one_date_for_study_series_acquisition_content(
    tmp_path: Path,
) -> None:
    for path in _small_series(tmp_path / "CT_venous"):
        dataset = pydicom.dcmread(path, stop_before_pixels=True)
        assert {dataset.data_element(k).value for k in DATES} == {"20040119"}, path.name
        times = [str(getattr(dataset, f"{part}Time")) for part in ("Study", "Series")]
        times += [str(getattr(dataset, f"{part}Time")) for part in ("Acquisition", "Content")]
        assert times == sorted(times), times  # the study starts, then the series is acquired


def test_the_protocol_check_dates_the_phantom_by_the_date_the_tree_shows(
    services: Any, tmp_path: Path
) -> None:
    _small_series(tmp_path / "dicom")
    result = _baseline_result(services, tmp_path / "dicom")
    age = result.requirement("baseline_age.ct")
    assert age.reason.startswith("CT of 2004-01-19 (study date) is 10 day(s) before the TACE")
    assert age.status == "pass"
    # the study and its series show the same day as the check
    assert {s.series_on for s in services.studies.list_series()} == {dt.date(2004, 1, 19)}


def test_a_series_dated_apart_from_its_study_is_dated_by_the_study(
    services: Any, tmp_path: Path
) -> None:
    """Headers as the phantom wrote them before: the series and acquisition date of 1997."""
    folder = tmp_path / "dicom"
    for path in _small_series(folder):
        dataset = pydicom.dcmread(path)
        dataset.SeriesDate = dataset.AcquisitionDate = dataset.ContentDate = "19970430"
        dataset.save_as(path, enforce_file_format=True)
    age = _baseline_result(services, folder).requirement("baseline_age.ct")
    assert age.status == "pass", age.reason
    assert age.reason.startswith("CT of 2004-01-19 (study date) is 10 day(s) before the TACE")
    assert "series date 1997-04-30 differs and is not used" in age.reason
