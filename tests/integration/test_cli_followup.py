"""Command line of the follow-up: followups, followup match, therapy add, ttp, case close."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_case, add_study, sign_tace
from tace_planner.cli import main
from ttp_seed import assess

pytestmark = pytest.mark.db


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


@pytest.fixture
def data_dir(services: Any) -> tuple[Path, int, dt.date]:
    """A case whose first follow-up is due today (TACE 8 weeks ago), and another patient."""
    today = dt.date.today()
    tace_on = today - dt.timedelta(weeks=8)
    case = add_case(services.session_factory, "C1", baseline_on=tace_on - dt.timedelta(days=7))
    sign_tace(services.session_factory, case, tace_on)
    add_study(services.session_factory, "C1", "1.2.C1.7", today)
    add_case(services.session_factory, "X9")
    add_study(services.session_factory, "X9", "1.2.X9.1", today)
    return services.settings.data_dir, case, today


def test_worklist_match_therapy_ttp_and_close(
    data_dir: tuple[Path, int, dt.date], capsys: pytest.CaptureFixture[str], services: Any
) -> None:
    folder, case, today = data_dir
    assert _run(folder, "followups", "--json") == 0
    due = json.loads(capsys.readouterr().out)
    assert due["category"] == "due"
    [row] = due["timepoints"]
    assert (row["label"], row["due_on"]) == ("TACE 1 follow-up 1", today.isoformat())
    assert row["proposed_study_uid"] == "1.2.C1.7"
    assert _run(folder, "followups", "--overdue") == 0
    assert "0 follow-up timepoint(s): overdue" in capsys.readouterr().out

    assert _run(folder, "followup", "match", "--study", "1.2.C1.7", "--json") == 0
    match = json.loads(capsys.readouterr().out)
    assert match["candidates"][0]["timepoint"]["label"] == "TACE 1 follow-up 1"
    assert _run(folder, "followup", "match", "--study", "1.2.C1.7", "--confirm") == 0
    assert "linked to TACE 1 follow-up 1" in capsys.readouterr().out
    assert _run(folder, "followups", "--done", "--json") == 0
    assert json.loads(capsys.readouterr().out)["timepoints"][0]["study_uid"] == "1.2.C1.7"

    # another patient's study offered for this case's follow-up: refused, field named
    assert _run(folder, "followup", "match", "--study", "1.2.X9.1", "--case", str(case)) == 1
    assert capsys.readouterr().err.startswith("error: study: 1.2.X9.1 belongs to patient X9")

    start = (today - dt.timedelta(days=200)).isoformat()
    before = (today - dt.timedelta(days=300)).isoformat()
    assert _run(folder, "therapy", "add", "--case", str(case), "--drug", "CAPTEM",
                "--start", start, "--stop", before) == 1  # fmt: skip
    assert capsys.readouterr().err.startswith("error: stop: ")
    assert _run(folder, "therapy", "add", "--case", str(case), "--drug", "CAPTEM",
                "--start", start, "--progression", before) == 1  # fmt: skip
    assert capsys.readouterr().err.startswith("error: progression: ")
    assert _run(folder, "therapy", "add", "--case", str(case), "--drug", "CAPTEM",
                "--start", start, "--json") == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["line_number"] == 1

    assert _run(folder, "ttp", "--case", str(case), "--json") == 0
    ttp = json.loads(capsys.readouterr().out)
    after_tace = [r for r in ttp["after_tace"] if r["scope"] == "anywhere"]
    # linked but not assessed: imaging nobody has read does not censor (Llovet, JNCI 2008)
    assert (after_tace[0]["days"], after_tace[0]["censored"]) == (None, False)
    assess(services, case, match["candidates"][0]["timepoint"]["pk"])
    assert _run(folder, "ttp", "--case", str(case), "--json") == 0
    ttp = json.loads(capsys.readouterr().out)
    after_tace = [r for r in ttp["after_tace"] if r["scope"] == "anywhere"]
    assert (after_tace[0]["days"], after_tace[0]["censored"]) == (56, True)
    assert "censored" in ttp["rule"]
    assert ttp["groups"]["tace_sequence"]["value"] == "after_chemotherapy"

    assert _run(folder, "case", "close", "--case", str(case), "--reason", "withdrawal",
                "--date", today.isoformat()) == 0  # fmt: skip
    assert "follow-up ended" in capsys.readouterr().out
    assert _run(folder, "followups", "--upcoming", "--case", str(case), "--json") == 0
    assert json.loads(capsys.readouterr().out)["timepoints"] == []


def test_bad_command_lines(
    data_dir: tuple[Path, int, dt.date], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, case, _ = data_dir
    with pytest.raises(SystemExit) as exit_:
        _run(
            folder,
            "case",
            "close",
            "--case",
            str(case),
            "--reason",
            "bored",
            "--date",
            "2026-01-01",
        )
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        _run(folder, "therapy", "add", "--case", str(case), "--drug", "x", "--start", "01/02/2026")
    assert "not a date" in capsys.readouterr().err
    assert _run(folder, "followup", "match", "--study", "9.9.9") == 1
    assert "9.9.9" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run(folder, "followups", "--due", "--overdue")


def test_groups_progression_and_link_new(
    data_dir: tuple[Path, int, dt.date], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, case, today = data_dir
    diagnosed = (today - dt.timedelta(days=400)).isoformat()
    detected = (today - dt.timedelta(days=380)).isoformat()
    assert _run(folder, "case", "groups", "--case", str(case), "--diagnosed", diagnosed,
                "--liver-metastases", detected, "--json") == 0  # fmt: skip
    groups = json.loads(capsys.readouterr().out)
    assert groups["metastases_timing"]["value"] == "synchronous"  # 20 days apart
    assert groups["detection_to_tace"]["value"] == "> 3 months"
    assert _run(folder, "case", "groups", "--case", str(case), "--timing", "metachronous",
                "--json") == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["metastases_timing"]["how"] == "entered"
    # the new study fits exactly one window: linked at once
    assert _run(folder, "followups", "--done", "--link-new", "--json") == 0
    captured = capsys.readouterr()
    assert "linked 1.2.C1.7 to TACE 1 follow-up 1" in captured.err
    [done] = json.loads(captured.out)["timepoints"]
    assert _run(folder, "followup", "progression", "--timepoint", str(done["pk"]),
                "--site", "liver") == 0  # fmt: skip
    assert "progression liver" in capsys.readouterr().out
    assert _run(folder, "ttp", "--case", str(case)) == 0
    out = capsys.readouterr().out
    assert "TACE 1" in out
    assert "progression" in out


@pytest.mark.dicom
def test_import_links_new_studies_at_once_when_the_setting_says_so(
    services: Any, small_phantom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tace_planner.services.settings import save_settings

    truth = json.loads((small_phantom / "truth.json").read_text(encoding="utf-8"))
    folder = services.settings.data_dir
    assert _run(folder, "import", str(small_phantom / "baseline" / "CT_arterial")) == 0
    [patient] = services.cases.list_patients()
    case = services.cases.create_case(patient.patient_id, "DEBIRI course")
    sign_tace(services.session_factory, case.pk, dt.date.fromisoformat(truth["tace_date"]))
    first, second = truth["timepoints"][1:3]
    capsys.readouterr()
    # default (off): proposed, the user confirms
    assert _run(folder, "import", str(small_phantom / "follow_up_1")) == 0
    out = capsys.readouterr().out
    assert "follow-up: 1 new study(ies) proposed on the worklist" in out
    assert f"{first['study_uid']}: matches TACE 1 follow-up 1" in out
    save_settings(data_dir=None, db_url=None, link_new_studies=True)
    assert _run(folder, "import", str(small_phantom / "follow_up_2"), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    [linked] = report["followup"]["linked"]
    assert (linked["label"], linked["study_uid"]) == ("TACE 1 follow-up 2", second["study_uid"])
