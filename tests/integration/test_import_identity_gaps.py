"""Import identity, the remaining gaps: unnamed series naming two patients, empty folders.

Review findings:

1. A series without any Patient ID was never checked against the other studies its
   files name: its first file joined one patient's study (or a new study under the
   placeholder patient) while another file carried the Study Instance UID of a study
   stored under another patient, and the series was imported. Such files name the
   studies of two patients: the series is now refused, naming the file, both patients
   and both studies by modality, date and description (no UID).
2. Removing a series left its empty series folder (and an empty study folder) in the
   image store. Emptied folders are now removed, never the store's root nor a folder
   that still holds something.
3. A re-import whose first file names another study than the one the series is stored
   in warned that "the whole series was filed in the study of <first file>", though the
   series stays in its stored study. The warning now names the stored study.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import generate_uid
from test_import_refusal_wording import _series

from tace_planner.domain.progress import run_sync
from tace_planner.services.image_store import ImageStore

pytestmark = [pytest.mark.db, pytest.mark.dicom]

UID_LIKE = re.compile(r"\d+(\.\d+){3,}")
"""A DICOM UID (or any long dotted number) in text a person reads."""


def _import(services: Any, folder: Path) -> Any:
    return run_sync(services.studies.import_paths([folder]))


def _stored_uids(services: Any) -> set[str]:
    return {s.series_uid for s in services.studies.list_series()}


def _empty_folders(root: Path) -> list[Path]:
    """Empty folders of the image store, not counting the import's scratch folder."""
    return [
        path
        for path in root.rglob("*")
        if path.is_dir() and not any(path.iterdir()) and path.name != ".incoming"
    ]


@pytest.mark.parametrize("first_file_study", ["jane", "new"])
def test_an_unnamed_series_whose_files_name_two_patients_studies_is_refused(
    services: Any, tmp_path: Path, first_file_study: str
) -> None:
    jane_study, john_study = generate_uid(), generate_uid()
    _series(tmp_path / "jane", jane_study, "TACE-017", "Doe^Jane")
    assert _import(services, tmp_path / "jane").new_instances == 3
    johns = {n: {"StudyDate": "20040301", "StudyDescription": "THORAX"} for n in range(3)}
    _series(tmp_path / "john", john_study, "TACE-042", "Roe^John", johns)
    assert _import(services, tmp_path / "john").new_instances == 3
    # no Patient ID; its first file in Jane's study (or a new one), its last in John's
    first = jane_study if first_file_study == "jane" else generate_uid()
    points_at_john = {"StudyInstanceUID": john_study, "StudyDate": "20040301"}
    unnamed = _series(tmp_path / "unnamed", first, "", "", {2: points_at_john})

    report = _import(services, tmp_path / "unnamed")

    assert report.new_instances == 0
    assert unnamed not in _stored_uids(services)
    (line,) = report.errors
    assert Path(line.path).name == "slice0.dcm"
    reason = line.reason
    assert "no Patient ID (0010,0020)" in reason
    assert "two different patients" in reason
    assert "1 of the 3 files (e.g. slice2.dcm)" in reason  # the file naming John's study
    assert "ROE, John" in reason  # the other stored patient
    assert "TACE-042" in reason
    assert "CT of 2004-03-01 'THORAX'" in reason  # John's study, as read
    if first_file_study == "jane":
        assert "DOE, Jane" in reason
        assert "TACE-017" in reason
        assert "CT of 2004-01-19 'ABDOMEN^LIVER'" in reason
    else:
        assert "placeholder patient" in reason
        assert "new study CT of 2004-01-19 'ABDOMEN^LIVER'" in reason
    assert "not imported" in reason
    for uid in (jane_study, john_study, first, unnamed):
        assert uid not in reason
    assert not UID_LIKE.search(reason), reason
    assert sorted(p.patient_id for p in services.cases.list_patients()) == [
        "TACE-017",
        "TACE-042",
    ]

    # files naming two studies of one patient: filed in the first file's, with the warning
    jane_later = generate_uid()
    later = {n: {"StudyDate": "20040301"} for n in range(3)}
    _series(tmp_path / "jane2", jane_later, "TACE-017", "Doe^Jane", later)
    assert _import(services, tmp_path / "jane2").new_instances == 3
    stray = {"StudyInstanceUID": jane_later, "StudyDate": "20040301"}
    hers = _series(tmp_path / "unnamed2", jane_study, "", "", {2: stray})
    filed = _import(services, tmp_path / "unnamed2")
    assert filed.errors == ()
    assert filed.new_instances == 3
    assert hers in _stored_uids(services)


def test_removing_a_series_leaves_no_empty_folder_but_keeps_a_study_still_in_use(
    services: Any, tmp_path: Path
) -> None:
    root = tmp_path / "data" / "images"
    store = ImageStore(root)
    study_uid = generate_uid()
    arterial = _series(tmp_path / "a", study_uid, "TACE-017", "Doe^Jane")
    venous = _series(tmp_path / "v", study_uid, "TACE-017", "Doe^Jane")
    _import(services, tmp_path / "a")
    _import(services, tmp_path / "v")
    study_folder = root / store.series_folder(study_uid, arterial).split("/")[0]

    services.studies.remove_series(arterial, "test")

    # one of two series: its folder goes, the study folder (holding the other) stays
    assert not (root / store.series_folder(study_uid, arterial)).exists()
    assert (root / store.series_folder(study_uid, venous)).is_dir()
    assert study_folder.is_dir()
    assert _empty_folders(root) == []

    services.studies.remove_series(venous, "test")

    # the study's only series: neither its folder nor the study's is left, the root is
    assert not study_folder.exists()
    assert root.is_dir()
    assert _empty_folders(root) == []


def test_pruning_never_leaves_the_store_nor_removes_a_folder_holding_a_file(
    tmp_path: Path,
) -> None:
    root = tmp_path / "images"
    store = ImageStore(root)
    kept = root / "study" / "series" / "other.dcm"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"still referenced")
    (root / "study" / "series" / "gone.dcm").write_bytes(b"removed")

    store.remove("study/series/gone.dcm")
    store.prune("..")
    store.prune("study/../..")

    assert kept.is_file()
    assert root.is_dir()
    assert tmp_path.is_dir()


def test_a_re_import_whose_first_file_names_another_study_names_the_stored_one(
    services: Any, tmp_path: Path
) -> None:
    study_uid, other_study = generate_uid(), generate_uid()
    other = {"StudyInstanceUID": other_study, "StudyDate": "20040301"}
    series = _series(tmp_path / "s", study_uid, "TACE-017", "Doe^Jane", {0: other})
    aside = tmp_path / "later"
    aside.mkdir()
    shutil.move(tmp_path / "s" / "slice0.dcm", aside / "slice0.dcm")
    first = _import(services, tmp_path / "s")  # slices 1 and 2, in the study of 2004-01-19
    assert first.new_instances == 2
    assert first.warnings == ()
    shutil.move(aside / "slice0.dcm", tmp_path / "s" / "slice0.dcm")

    report = _import(services, tmp_path / "s")  # its first file now names the other study

    assert report.new_instances == 1
    assert report.errors == ()
    assert [(s.study_uid, s.series_uids) for s in report.studies] == [(study_uid, (series,))]
    (warning,) = report.warnings
    reason = warning.reason
    assert "1 of 3 files of series 'ARTERIAL' (number 3)" in reason
    assert "slice0.dcm (CT of 2004-03-01 'ABDOMEN^LIVER')" in reason  # the file that differs
    assert "stays in its stored study CT of 2004-01-19 'ABDOMEN^LIVER'" in reason
    assert "filed in the study of slice0.dcm" not in reason
    assert not UID_LIKE.search(reason), reason
