"""``followup progression --timepoint`` takes a follow-up's label with ``--case``, or its id.

Seen: the command took a numeric timepoint id only, while the worklist, ``case link``,
``assess`` and the window name visits "baseline" / "follow-up N". The label needs its
case; a missing, unknown or ambiguous one is refused in one line naming the option, and
"baseline" is refused (progression is recorded at a follow-up).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import add_case, add_study, sign_tace
from tace_planner.cli import main
from tace_planner.store.models import AuditEventRow, TimepointRow

pytestmark = pytest.mark.db


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def _open(data_dir: Path) -> Any:
    from tace_planner.services.bootstrap import open_services
    from tace_planner.services.settings import AppSettings

    return open_services(AppSettings(data_dir=data_dir, db_url=None, user="seed"))


def _timepoints(data_dir: Path) -> dict[str, tuple[int, int, str]]:
    """Every timepoint by label: (id, case id, progression site)."""
    services = _open(data_dir)
    try:
        with services.session_factory() as session:
            rows = session.scalars(select(TimepointRow).order_by(TimepointRow.id)).all()
            return {row.label: (row.id, row.case_pk, row.progression_site) for row in rows}
    finally:
        services.close()


def _progression_events(data_dir: Path) -> int:
    services = _open(data_dir)
    try:
        with services.session_factory() as session:
            return len(
                session.scalars(
                    select(AuditEventRow.id).where(AuditEventRow.action == "record_progression")
                ).all()
            )
    finally:
        services.close()


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: ")
    return line


@pytest.fixture
def demo_copy(tmp_path: Path, demo_data_dir: Path) -> Path:
    """A private copy of the demo data folder (follow-ups made by ``case link``)."""
    target = tmp_path / "data"
    shutil.copytree(demo_data_dir, target, ignore=shutil.ignore_patterns("demo-phantom"))
    return target


@pytest.mark.dicom
def test_progression_by_label_and_case_as_by_id(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = _timepoints(demo_copy)
    pk, case, _ = points["follow-up 2"]
    # the label, unquoted as `case link` takes it
    args = ["followup", "progression", "--case", str(case), "--site", "both", "--timepoint"]
    assert _run(demo_copy, *args, "follow-up", "2") == 0
    by_label = capsys.readouterr()
    assert by_label.err == ""
    assert by_label.out == f"follow-up 2 of case {case}: progression both\n"
    assert _timepoints(demo_copy)["follow-up 2"][2] == "both"
    # quoted, another spelling: the same timepoint
    assert _run(demo_copy, "followup", "progression", "--timepoint", "Follow-up  2",
                "--case", str(case), "--site", "none") == 0  # fmt: skip
    assert capsys.readouterr().out == f"follow-up 2 of case {case}: progression cleared\n"
    # the id, as before (and with its case)
    assert _run(demo_copy, "followup", "progression", "--timepoint", str(pk),
                "--site", "both") == 0  # fmt: skip
    assert capsys.readouterr().out == by_label.out
    assert _run(demo_copy, "followup", "progression", "--timepoint", str(pk),
                "--case", str(case), "--site", "liver") == 0  # fmt: skip
    assert capsys.readouterr().out == f"follow-up 2 of case {case}: progression liver\n"
    assert _timepoints(demo_copy)["follow-up 2"][2] == "liver"


@pytest.mark.dicom
def test_progression_label_refusals_name_the_option_and_save_nothing(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = _timepoints(demo_copy)
    baseline_pk, case, _ = points["baseline"]
    before = _progression_events(demo_copy)
    progression = ["followup", "progression", "--site", "liver"]

    assert _run(demo_copy, *progression, "--timepoint", "follow-up 1") == 1
    line = _one_error_line(capsys)
    assert "--case" in line
    assert "follow-up 1" in line

    assert _run(demo_copy, *progression, "--timepoint", "follow-up 9", "--case", str(case)) == 1
    line = _one_error_line(capsys)
    assert line.startswith("error: --timepoint: ")
    assert "'follow-up 9'" in line
    assert "'follow-up 1', 'follow-up 2', 'follow-up 3'" in line  # what there is

    assert _run(demo_copy, *progression, "--timepoint", "follow-up 1", "--case", "9999") == 1
    line = _one_error_line(capsys)
    assert line.startswith("error: --case: ")
    assert "9999" in line

    for baseline in (["baseline"], ["baseline", "--case", str(case)]):
        assert _run(demo_copy, *progression, "--timepoint", *baseline) == 1
        line = _one_error_line(capsys)
        assert line.startswith("error: --timepoint: ")
        assert "baseline" in line
        assert "follow-up" in line

    assert _run(demo_copy, *progression, "--timepoint", "first", "visit") == 1
    line = _one_error_line(capsys)
    assert line.startswith("error: --timepoint: 'first visit'")

    # an id that is not a timepoint of the case given with it
    other = str(baseline_pk + 1000)
    assert _run(demo_copy, *progression, "--timepoint", other, "--case", str(case)) == 1
    assert _one_error_line(capsys).startswith("error: --timepoint: ")

    assert _progression_events(demo_copy) == before
    assert all(site == "" for _, _, site in _timepoints(demo_copy).values())


def test_a_label_two_schedules_share_is_refused_with_both_named(
    services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a second TACE, "follow-up 1" names TACE 1 follow-up 1 and TACE 2 follow-up 1."""
    today = dt.date.today()
    first_tace = today - dt.timedelta(weeks=20)
    factory = services.session_factory
    case = add_case(factory, "C1", baseline_on=first_tace - dt.timedelta(days=7))
    sign_tace(factory, case, first_tace)
    add_study(factory, "C1", "1.2.C1.8", first_tace + dt.timedelta(weeks=8))
    folder = services.settings.data_dir
    assert _run(folder, "followups", "--done", "--link-new") == 0
    capsys.readouterr()
    # with one schedule, "follow-up 1" is its first follow-up
    assert _run(folder, "followup", "progression", "--timepoint", "follow-up 1",
                "--case", str(case), "--site", "liver") == 0  # fmt: skip
    assert capsys.readouterr().out == f"TACE 1 follow-up 1 of case {case}: progression liver\n"

    sign_tace(factory, case, today - dt.timedelta(weeks=2))
    assert _run(folder, "followups", "--all") == 0
    capsys.readouterr()
    points = _timepoints(folder)
    assert "TACE 2 follow-up 1" in points

    assert _run(folder, "followup", "progression", "--timepoint", "follow-up", "1",
                "--case", str(case), "--site", "none") == 1  # fmt: skip
    line = _one_error_line(capsys)
    assert line.startswith("error: --timepoint: 'follow-up 1' names 2 follow-ups")
    assert f"'TACE 1 follow-up 1' (id {points['TACE 1 follow-up 1'][0]})" in line
    assert f"'TACE 2 follow-up 1' (id {points['TACE 2 follow-up 1'][0]})" in line
    assert _timepoints(folder)["TACE 1 follow-up 1"][2] == "liver"
    # the full label says which
    assert _run(folder, "followup", "progression", "--timepoint", "TACE 1 follow-up 1",
                "--case", str(case), "--site", "none") == 0  # fmt: skip
    assert "TACE 1 follow-up 1 of case" in capsys.readouterr().out
    assert _timepoints(folder)["TACE 1 follow-up 1"][2] == ""
