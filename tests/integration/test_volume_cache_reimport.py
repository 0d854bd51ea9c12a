"""A series removed and imported again under the same UIDs is read again, not shown from memory.

``VolumeCache`` kept volumes by (Series Instance UID, part) only: after a series was
removed and imported again under the same UIDs with other pixels and another geometry
(its files stored under the same names), opening it handed out the first import's volume
until it was evicted. Volumes are now kept with a stamp of the series' stored files
(path, size, modification time, file number) and read again when the files changed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import examples
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tace_planner.domain.progress import run_sync

pytestmark = [pytest.mark.db, pytest.mark.dicom]

SIDE = 24


def _ct_series(folder: Path, uids: dict[str, Any], slices: int, gap_mm: float, hu: int) -> None:
    """``slices`` axial CT images of one series (the UIDs given), ``gap_mm`` apart, all ``hu``."""
    folder.mkdir(parents=True)
    template = copy.deepcopy(examples.ct)
    template.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    template.Rows = template.Columns = SIDE
    template.PixelSpacing = [1.0, 1.0]
    template.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    template.SeriesInstanceUID = uids["series"]
    template.RescaleSlope, template.RescaleIntercept = 1, 0
    for n in range(slices):
        image = copy.deepcopy(template)
        image.SOPInstanceUID = image.file_meta.MediaStorageSOPInstanceUID = uids["images"][n]
        image.InstanceNumber = n + 1
        image.ImagePositionPatient = [0.0, 0.0, n * gap_mm]
        image.PixelData = np.full((SIDE, SIDE), hu, dtype=np.int16).tobytes()
        image.save_as(folder / f"slice{n:02}.dcm", enforce_file_format=True)


def _imported(services: Any, folder: Path) -> None:
    report = run_sync(services.studies.import_paths([folder]))
    assert report.new_instances > 0
    assert not report.errors, report.errors


def test_a_series_imported_again_is_read_again_not_shown_from_memory(
    services: Any, tmp_path: Path
) -> None:
    uids = {"series": generate_uid(), "images": [generate_uid() for _ in range(8)]}
    _ct_series(tmp_path / "first", uids, slices=8, gap_mm=5.0, hu=40)
    _imported(services, tmp_path / "first")
    loader = services.volumes
    first = run_sync(loader.open(uids["series"], None))
    assert first.shape == (8, SIDE, SIDE)
    assert loader.cached(uids["series"], None) is first  # kept while the files stay

    services.studies.remove_series(uids["series"], "wrong reconstruction")
    _ct_series(tmp_path / "second", uids, slices=5, gap_mm=2.5, hu=120)
    _imported(services, tmp_path / "second")

    # `first` is still referenced (a view may show it): the cache must not hand it out
    assert loader.cached(uids["series"], None) is None
    again = run_sync(loader.open(uids["series"], None))
    assert again is not first
    assert again.shape == (5, SIDE, SIDE)
    assert np.allclose(again.spacing_mm, (2.5, 1.0, 1.0))
    assert float(again.voxels.mean()) == pytest.approx(120.0)
    # the viewer's path (headers and a preview first, then every slice) agrees
    planned = run_sync(loader.plan(uids["series"], None, preview_slices=0))
    assert run_sync(loader.load(planned)) is again
    assert loader.cached(uids["series"], None) is again
