"""Hostile command lines: one clear line and exit 1 (or 2 for usage), never a traceback."""

from __future__ import annotations

import errno
import importlib.util
import shutil
from pathlib import Path

import pytest

from tace_planner.app import main as app_main
from tace_planner.cli import main

pytestmark = [pytest.mark.db]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = app_main(argv)
    except SystemExit as exit_info:  # argparse usage errors
        code = int(exit_info.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("usage:")]
    assert len(lines) == 1, err
    return lines[0]


def usage_error(err: str) -> str:
    """The error line of an argparse usage error (after the usage lines)."""
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if ": error: " in line]
    return line


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_huge_case_id_is_refused(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["plan"], ["patient", "show"], ["check-protocol"]):
        code, _, err = run(
            ["--data-dir", str(data), *command, "--case", "99999999999999999999999"], capsys
        )
        assert code == 2
        assert "no such case" in usage_error(err)


def test_data_dir_under_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(["--data-dir", str(blocker / "data"), "series"], capsys)
    assert code == 1
    line = assert_one_line(err)
    assert f"{blocker} is a file" in line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("foo://x", "not a database this app can use"),
        ("mysql://user@host/db", "is not installed"),
        ("not a url", "not a SQLAlchemy URL"),
    ],
)
def test_bad_database_urls(
    data: Path, url: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if url.startswith("mysql") and importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("a MySQL driver is installed")
    code, _, err = run(["--data-dir", str(data), "--db", url, "series"], capsys)
    assert code == 1
    assert expected in assert_one_line(err)


def test_postgresql_without_its_driver(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed")
    url = "postgresql+psycopg://ir:secret@db/tace"
    code, _, err = run(["--data-dir", str(data), "--db", url, "series"], capsys)
    assert code == 1
    line = assert_one_line(err)
    assert "psycopg" in line
    assert "secret" not in line


@pytest.mark.parametrize("value", ["abc", "-5"])
def test_bad_volume_cache_budget(
    data: Path, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TACE_PLANNER_VOLUME_CACHE_MB", value)
    code, _, err = run(["--data-dir", str(data), "series"], capsys)
    assert code == 1
    assert "TACE_PLANNER_VOLUME_CACHE_MB" in assert_one_line(err)


def test_phantom_seed_and_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["phantom", str(tmp_path / "p"), "--seed", "-1"], capsys)
    assert code == 2
    assert "0 or more" in usage_error(err)
    target = tmp_path / "a-file"
    target.write_text("keep me")
    code, _, err = run(["phantom", str(target), "--size", "small"], capsys)
    assert code == 1
    assert "is a file" in assert_one_line(err)
    assert target.read_text() == "keep me"


def test_user_name_too_long_or_with_control_characters(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("x" * 10_000, "dr\nx"):
        code, _, err = run(["--data-dir", str(data), "--user", name, "series"], capsys)
        assert code == 1
        assert "user" in assert_one_line(err)


def test_measurement_date_from_1800_is_refused(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(data), "patient", "set", "--case", "1", "--weight-kg", "70"]
    code, _, err = run([*argv, "--measured-on", "1800-01-01"], capsys)
    assert code == 2
    assert "1900-01-01 or later" in usage_error(err)


@pytest.mark.parametrize("name", ["a?b#c", "p%20y", "100% sure"])
def test_data_folder_names_with_url_characters(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / name
    code, _, err = run(["--data-dir", str(folder), "series"], capsys)
    assert code == 0, err
    assert (folder / "tace-planner.sqlite").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_seg_import_of_files_that_are_not_seg(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    text = tmp_path / "notes.dcm"
    text.write_text("not DICOM at all\n" * 20)
    for path, expected in ((empty, "empty file"), (text, "not a DICOM file")):
        code, _, err = run(["--data-dir", str(data), "seg", "import", str(path)], capsys)
        assert code == 1
        line = assert_one_line(err)
        assert str(path) in line
        assert expected in line


def test_seg_export_targets_are_checked(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("precious")
    targets = {
        tmp_path / "missing" / "seg.dcm": "no such folder",
        tmp_path: "is a folder",
        keep: "is not a DICOM file",
    }
    for target, expected in targets.items():
        argv = ["--data-dir", str(data), "seg", "export", "--series", "1.2.3", str(target)]
        code, _, err = run(argv, capsys)
        assert code == 1
        assert expected in assert_one_line(err)
    assert keep.read_text() == "precious"


def test_plan_pdf_targets_are_checked(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = tmp_path / "keep.txt"
    keep.write_text("precious")
    for target, expected in {
        tmp_path / "missing" / "plan.pdf": "no such folder",
        tmp_path: "is a folder",
        keep: "is not a PDF",
    }.items():
        argv = ["--data-dir", str(demo_copy), "plan", "--case", "1", "--pdf", str(target)]
        code, out, err = run(argv, capsys)
        assert code == 1
        assert expected in assert_one_line(err)
        assert "plan sheet written" not in out + err
    assert keep.read_text() == "precious"


@pytest.fixture
def demo_copy(demo_data_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo-copy"
    shutil.copytree(demo_data_dir, copy, ignore=shutil.ignore_patterns("demo-phantom"))
    return copy


def test_unexpected_error_gives_one_line_and_a_log_in_the_data_folder(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tace_planner import cli

    def broken(args: object, services: object) -> int:
        raise RuntimeError("something the app did not foresee")

    monkeypatch.setitem(cli._COMMANDS, "series", broken)
    code, _, err = run(["--data-dir", str(data), "series"], capsys)
    assert code == 1
    line = assert_one_line(err)
    assert "RuntimeError: something the app did not foresee" in line
    log = data / "logs" / "errors.log"
    assert str(log) in line
    assert "Traceback" in log.read_text(encoding="utf-8")


def test_full_disk_during_import_is_said_plainly(
    data: Path,
    small_phantom: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tace_planner.services import image_store

    def full(self: object, source: Path, handle: int, target: Path) -> None:
        import os

        os.close(handle)
        raise image_store.ImageStore._write_error(self, target, OSError(errno.ENOSPC, "full"))  # type: ignore[arg-type]

    monkeypatch.setattr(image_store.ImageStore, "_copy", full)
    folder = small_phantom / "baseline" / "CT_arterial"
    code, _, err = run(["--data-dir", str(data), "import", str(folder)], capsys)
    assert code == 1
    assert "is full" in assert_one_line(err)
    stored = [p for p in (data / "images").rglob("*") if p.is_file() and p.suffix != ".lock"]
    assert stored == []


def test_full_disk_at_start_up_says_disk_full(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from collections import namedtuple

    from tace_planner.domain.errors import StoreError
    from tace_planner.services import bootstrap
    from tace_planner.store import db

    def failing(engine: object) -> None:
        raise StoreError("could not open the database sqlite:///x: disk I/O error")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(bootstrap, "upgrade_to_head", failing)
    monkeypatch.setattr(db.shutil if hasattr(db, "shutil") else shutil, "disk_usage",
                        lambda path: usage(100, 100, 0))  # fmt: skip
    code, _, err = run(["--data-dir", str(data), "series"], capsys)
    assert code == 1
    line = assert_one_line(err)
    assert "is full" in line
    assert "I/O" not in line


def test_read_only_data_folder_still_lists_and_refuses_changes(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tace_planner.services import bootstrap

    monkeypatch.setattr(bootstrap, "_writable", lambda folder: False)
    code, out, err = run(["--data-dir", str(demo_copy), "series", "--json"], capsys)
    assert code == 0, err
    assert "read-only" in assert_one_line(err)
    assert "CT" in out
    uid = next(line for line in out.splitlines() if '"series_uid"' in line).split('"')[3]
    code, _, err = run(
        ["--data-dir", str(demo_copy), "classify", uid, "--phase", "arterial"], capsys
    )
    assert code == 1
    assert "read-only" in err
    assert "Traceback" not in err


def test_cli_main_without_gui_keeps_its_contract(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(data), "series", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
