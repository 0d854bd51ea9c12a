"""Import of de-identified CT: contrast tags and identifiers removed (issue 12, item 6).

A real contrast CT whose Contrast/Bolus tags were removed by anonymisation came in
as "native"; a series without a Patient ID or description was listed as
"[(no patient id)]", "series ?" and "(no description)" without a warning. These
tests strip the same tags from the phantom's DICOM files and import them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pydicom
import pytest

from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.dicom, pytest.mark.db]

CT_FOLDERS = ("CT_native", "CT_arterial", "CT_venous", "CT_delayed")


def _rewrite(folder: Path, change: Any) -> None:
    for path in sorted(folder.glob("*.dcm")):
        dataset = pydicom.dcmread(path)
        change(dataset)
        dataset.save_as(path, enforce_file_format=True)


def _strip_contrast(dataset: pydicom.Dataset) -> None:
    """What an anonymiser does to a contrast series: no Contrast/Bolus module, a bland name."""
    for keyword in [k for k in dataset.dir() if k.startswith("Contrast")]:
        delattr(dataset, keyword)
    dataset.SeriesDescription = "Abdomen 5.0 B30f"


@pytest.fixture(scope="module")
def anonymised_ct(small_phantom: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The phantom's four baseline CT phases without contrast tags or phase names."""
    folder = tmp_path_factory.mktemp("anonymised")
    for name in CT_FOLDERS:
        shutil.copytree(small_phantom / "baseline" / name, folder / name)
        _rewrite(folder / name, _strip_contrast)
    return folder


def _truth_phases(small_phantom: Path) -> dict[str, str]:
    truth = json.loads((small_phantom / "truth.json").read_text(encoding="utf-8"))
    baseline = next(t for t in truth["timepoints"] if t["label"] == "baseline")
    return {s["series_uid"]: s["phase"] for s in baseline["series"] if s["modality"] == "CT"}


def test_phase_of_a_series_without_contrast_tags_comes_from_the_images(
    services: Any, small_phantom: Path, anonymised_ct: Path
) -> None:
    report = run_sync(services.studies.import_paths([anonymised_ct]))
    truth = _truth_phases(small_phantom)
    phases = {item.series_uid: item.phase for item in report.series}
    assert phases == truth  # native, arterial, venous, delayed; not four times "native"
    from sqlalchemy import select

    from tace_planner.store.models import SeriesRow

    with services.session_factory() as session:
        for row in session.scalars(select(SeriesRow)):
            reason = row.geometry_report["classification_reason"]
            assert reason.startswith("phase from the images"), reason
            assert "aorta" in reason
            assert "portal vein" in reason
            assert "institutional default" in reason
