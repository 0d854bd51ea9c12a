"""A CT series whose headers name no phase gets one from the aorta and portal-vein HU."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.dicom, pytest.mark.db]


@pytest.mark.parametrize("folder", ["CT_native", "CT_arterial", "CT_venous", "CT_delayed"])
def test_untagged_phase_is_read_from_the_images(
    services,
    small_phantom: Path,
    tmp_path: Path,
    folder: str,
) -> None:
    source = tmp_path / folder
    shutil.copytree(small_phantom / "baseline" / folder, source)
    for path in source.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.SeriesDescription = "Abdomen 5mm"  # no phase word
        ds.ContrastBolusAgent = "Iohexol"  # contrast given (or not: images decide) …
        if "ContrastBolusStartTime" in ds:
            del ds.ContrastBolusStartTime  # … but no timing
        ds.save_as(path)
    report = run_sync(services.studies.import_paths([source]))
    (series,) = report.series
    assert series.phase == folder.removeprefix("CT_")
