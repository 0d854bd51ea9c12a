"""A series whose files carry two Study Instance UIDs: stored in one folder, checked whole.

Review findings:

1. The files of such a series were copied into the folder of their own study, while
   the clean-up of an interrupted import looked only in the folder of the study the
   series is filed in (its first file's): copies left by an interrupted import stayed
   on disk for ever. Every file of a series is now stored in the folder of the study
   it is filed in, so one folder holds the series.
2. Only the study the series is filed in was checked against the series' Patient ID:
   a file carrying the Study Instance UID of another patient's stored study was
   imported. The series is now refused, naming both Patient IDs and that study.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from test_import_refusal_wording import _series

from tace_planner.domain.errors import StoreError
from tace_planner.domain.progress import run_sync
from tace_planner.services import studies as studies_module
from tace_planner.services.image_store import LOCK_FILE_NAME, ImageStore

pytestmark = [pytest.mark.db, pytest.mark.dicom]

UID_LIKE = re.compile(r"\d+(\.\d+){3,}")


def _import(services: Any, folder: Path) -> Any:
    return run_sync(services.studies.import_paths([folder]))


def _files_on_disk(tmp_path: Path) -> set[Path]:
    """Every file in the image store of the ``services`` fixture (not its lock file)."""
    root = tmp_path / "data" / "images"
    return {
        path
        for path in root.rglob("*")
        if path.is_file() and path.name != LOCK_FILE_NAME and ".incoming" not in path.parts
    }


def _two_study_series(folder: Path) -> tuple[str, str, str]:
    """Three slices of Jane's, the last in another study: (study, other study, series)."""
    study_uid, other_study = generate_uid(), generate_uid()
    stray = {"StudyInstanceUID": other_study, "StudyDate": "20040301"}
    series = _series(folder, study_uid, "TACE-017", "Doe^Jane", {2: stray})
    return study_uid, other_study, series


def test_one_folder_holds_the_series_and_its_removal_leaves_no_file(
    services: Any, tmp_path: Path
) -> None:
    study_uid, _, series = _two_study_series(tmp_path / "s")

    assert _import(services, tmp_path / "s").new_instances == 3

    stored = {path.resolve() for path in services.studies.series_files(series)}
    assert len(stored) == 3
    folder = tmp_path / "data" / "images" / ImageStore(tmp_path).series_folder(study_uid, series)
    assert {path.parent for path in stored} == {folder.resolve()}
    assert {path.resolve() for path in _files_on_disk(tmp_path)} == stored

    services.studies.remove_series(series, "test")

    assert _files_on_disk(tmp_path) == set()


def test_a_re_import_with_fewer_files_after_an_interrupted_one_leaves_no_file_behind(
    services: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed import copies the files and never commits nor cleans up."""
    _, _, series = _two_study_series(tmp_path / "s")

    def disk_gone(uow: Any) -> None:
        raise StoreError("the import was interrupted")

    with monkeypatch.context() as killed:
        killed.setattr(studies_module, "_commit", disk_gone)
        killed.setattr(studies_module.StudyService, "_forget_files", lambda self, created: None)
        with pytest.raises(StoreError):
            _import(services, tmp_path / "s")
    assert len(_files_on_disk(tmp_path)) == 3  # the interrupted import's copies

    (tmp_path / "s" / "slice2.dcm").unlink()  # the file of the other study is not sent again
    report = _import(services, tmp_path / "s")

    assert report.new_instances == 2
    stored = {path.resolve() for path in services.studies.series_files(series)}
    assert {path.resolve() for path in _files_on_disk(tmp_path)} == stored

    services.studies.remove_series(series, "test")

    assert _files_on_disk(tmp_path) == set()


def test_a_file_carrying_the_study_of_another_patient_refuses_the_series(
    services: Any, tmp_path: Path
) -> None:
    jane_study = generate_uid()
    _series(tmp_path / "jane", jane_study, "TACE-017", "Doe^Jane")
    assert _import(services, tmp_path / "jane").new_instances == 3
    # John's series is filed in a new study; its last file says it is in Jane's
    points_at_jane = {"StudyInstanceUID": jane_study}
    john = _series(tmp_path / "john", generate_uid(), "TACE-042", "Roe^John", {2: points_at_jane})

    report = _import(services, tmp_path / "john")

    assert report.new_instances == 0
    (line,) = report.errors
    reason = line.reason
    assert "Patient ID TACE-042" in reason  # this series' patient
    assert "DOE, Jane [TACE-017]" in reason  # the stored study's patient
    assert "CT of 2004-01-19 'ABDOMEN^LIVER'" in reason  # her study, as read
    assert "1 of the 3 files of this series (e.g. slice2.dcm)" in reason
    assert "not imported" in reason
    assert jane_study not in reason
    assert john not in reason
    assert not UID_LIKE.search(reason), reason
    assert sorted(p.patient_id for p in services.cases.list_patients()) == ["TACE-017"]
    assert john not in {s.series_uid for s in services.studies.list_series()}

    # a file of Jane's pointing at her own stored study is filed, with the warning
    jane_too = _series(
        tmp_path / "jane2", generate_uid(), "TACE-017", "Doe^Jane", {2: points_at_jane}
    )
    again = _import(services, tmp_path / "jane2")
    assert again.errors == ()
    assert again.new_instances == 3
    assert jane_too in {s.series_uid for s in services.studies.list_series()}


def test_a_later_file_of_the_other_study_joins_the_folder_and_old_leftovers_go(
    services: Any, tmp_path: Path
) -> None:
    """A file sent alone later, carrying the other study's UID, joins the series' folder;
    a copy an earlier version left in the other study's folder is cleaned up."""
    study_uid, other_study, series = _two_study_series(tmp_path / "s")
    _import(services, tmp_path / "s")
    store = ImageStore(tmp_path / "data" / "images")
    leftover = store.root / store.series_folder(other_study, series) / "left-by-a-kill.dcm"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"an unreferenced copy")
    later = tmp_path / "later"
    _series(later, generate_uid(), "TACE-017", "Doe^Jane")  # slice0 becomes a 4th file
    image = dcmread(later / "slice0.dcm")
    image.SeriesInstanceUID, image.StudyInstanceUID = series, other_study
    image.ImagePositionPatient = [0.0, 0.0, 7.5]
    for name in ("slice0.dcm", "slice1.dcm", "slice2.dcm"):
        (later / name).unlink()
    image.save_as(later / "slice3.dcm", enforce_file_format=True)

    assert _import(services, later).new_instances == 1

    stored = {path.resolve() for path in services.studies.series_files(series)}
    assert len(stored) == 4
    folder = store.root / store.series_folder(study_uid, series)
    assert {path.parent for path in stored} == {folder.resolve()}
    assert {path.resolve() for path in _files_on_disk(tmp_path)} == stored
