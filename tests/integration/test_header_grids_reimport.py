"""A series removed and imported again under the same UID is read again for its grid.

``header_grids`` keeps each series part's grid (read from the headers) for the plan's and
the brush's comparison of foci across the phases of a study. It kept it for the life of
the app: a series removed and imported again under the same Series Instance UID, its files
stored under the same names (their SOP Instance UIDs), kept the first import's geometry,
and foci were compared on a grid the series no longer has. The grid is now kept with the
stored files' size, modification time and file number, and read again when they change.
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
from tace_planner.services.focus_overlap import header_grids

pytestmark = [pytest.mark.db, pytest.mark.dicom]

SERIES_UID = generate_uid()
SOP_UIDS = [generate_uid() for _ in range(6)]
ROWS = 32


def _write(folder: Path, spacing_mm: float, pixel_mm: float, origin_z_mm: float) -> None:
    """Six axial 32 x 32 CT slices of the series, ``spacing_mm`` apart."""
    folder.mkdir(parents=True)
    base = copy.deepcopy(examples.ct)
    base.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    base.Rows = base.Columns = ROWS
    base.PixelSpacing = [pixel_mm, pixel_mm]
    base.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    base.SeriesInstanceUID = SERIES_UID
    base.SeriesNumber = 3
    base.GantryDetectorTilt = 0
    for k, uid in enumerate(SOP_UIDS):
        item = copy.deepcopy(base)
        item.SOPInstanceUID = item.file_meta.MediaStorageSOPInstanceUID = uid
        item.InstanceNumber = k + 1
        item.ImagePositionPatient = [-20.0, -20.0, origin_z_mm + k * spacing_mm]
        item.PixelData = np.full((ROWS, ROWS), 40 + k, dtype=np.int16).tobytes()
        item.save_as(folder / f"IM{k}.dcm", enforce_file_format=True)


def _spacing(index_to_lps: Any) -> Any:
    """(dz, dy, dx) in mm: the lengths of the affine's (z, y, x) columns."""
    return np.linalg.norm(np.asarray(index_to_lps)[:3, :3], axis=0)


def _import(services: Any, folder: Path) -> None:
    report = run_sync(services.studies.import_paths([folder]))
    assert not report.errors, report.errors


def test_a_series_imported_again_with_another_geometry_gets_its_new_grid(
    services: Any, tmp_path: Path
) -> None:
    grids = header_grids(services.studies.series_files)
    _write(tmp_path / "first", spacing_mm=5.0, pixel_mm=0.8, origin_z_mm=100.0)
    _import(services, tmp_path / "first")
    first, shape = grids(SERIES_UID, None)
    assert tuple(shape) == (6, ROWS, ROWS)
    assert np.allclose(_spacing(first), (5.0, 0.8, 0.8))
    assert grids(SERIES_UID, None)[0] is first  # kept: the files did not change

    services.studies.remove_series(SERIES_UID, "wrong reconstruction")
    _write(tmp_path / "second", spacing_mm=2.5, pixel_mm=0.6, origin_z_mm=140.0)
    _import(services, tmp_path / "second")
    paths = services.studies.series_files(SERIES_UID)
    assert len(paths) == len(SOP_UIDS)  # stored again under the same names

    again, shape = grids(SERIES_UID, None)
    volume = run_sync(services.studies.load_series(SERIES_UID))
    assert tuple(shape) == tuple(volume.shape)
    assert np.allclose(again, volume.index_to_lps)
    assert np.allclose(_spacing(again), (2.5, 0.6, 0.6))
    assert again[2, 3] == pytest.approx(140.0)
