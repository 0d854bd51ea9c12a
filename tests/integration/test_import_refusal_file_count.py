"""A series refused as another patient's counts every file it kept out, not one.

Review finding: the import said "0 new file(s) imported, 0 already stored, 1 failed"
for a refused series of three files (one line per series). The refusal now carries
how many files it stands for, and the report sums them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import generate_uid
from test_import_refusal_wording import _import, _series

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def test_a_refused_series_counts_its_three_files(services: Any, tmp_path: Path) -> None:
    study_uid = generate_uid()
    _series(tmp_path / "jane", study_uid, "TACE-017", "Doe^Jane")
    _import(services, tmp_path / "jane")
    _series(tmp_path / "john", study_uid, "TACE-042", "Roe^John")

    report = _import(services, tmp_path / "john")

    (line,) = report.errors  # still one line for the series
    assert "the 3 file(s) of this series were not imported" in line.reason
    assert line.files == 3
    assert report.failed_files == 3
    assert report.new_instances == 0
    assert report.known_instances == 0


def test_a_file_that_fails_alone_counts_one(services: Any, tmp_path: Path) -> None:
    _series(tmp_path / "stick" / "jane", generate_uid(), "TACE-017", "Doe^Jane")
    slice0 = (tmp_path / "stick" / "jane" / "slice0.dcm").read_bytes()
    (tmp_path / "stick" / "broken.dcm").write_bytes(slice0[:200])  # cut off

    report = _import(services, tmp_path / "stick")

    assert [entry.files for entry in report.errors] == [1]
    assert report.failed_files == 1
    assert report.new_instances == 3


def test_the_import_command_counts_the_files_of_a_refused_series(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from tace_planner.cli import main

    data = ["--data-dir", str(tmp_path / "data")]
    study_uid = generate_uid()
    _series(tmp_path / "jane", study_uid, "TACE-017", "Doe^Jane")
    _series(tmp_path / "john", study_uid, "TACE-042", "Roe^John")
    main([*data, "import", str(tmp_path / "jane")])
    capsys.readouterr()

    main([*data, "import", str(tmp_path / "john"), "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["failed_files"] == 3
    assert [e["files"] for e in printed["errors"]] == [3]
    main([*data, "import", str(tmp_path / "john")])
    assert "0 already stored, 3 failed" in capsys.readouterr().out
