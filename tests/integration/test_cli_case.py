"""Command line: ``case new``, ``case link``, ``case show`` on a copy of the demo data folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli_plan import _contour_demo_case

from tace_planner.cli import main

pytestmark = [pytest.mark.db]


@pytest.fixture
def demo_copy(tmp_path: Path, demo_data_dir: Path) -> Path:
    """A private copy of the demo data folder (the shared one is read-only)."""
    target = tmp_path / "data"
    shutil.copytree(demo_data_dir, target)
    return target


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def _demo_case(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict, dict]:
    assert _run(data_dir, "cases", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    case = listed[0] if isinstance(listed, list) else listed
    assert _run(data_dir, "case", "show", "--case", str(case["pk"]), "--json") == 0
    return case, json.loads(capsys.readouterr().out)


def _demo_patient_and_study(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The demo patient and a study without contours (the follow-up 1 CT)."""
    case, shown = _demo_case(data_dir, capsys)
    follow_up = next(t for t in shown["timepoints"] if t["label"] == "follow-up 1")
    return case["patient_id"], follow_up["studies"][0]["study_uid"]


def test_a_contoured_study_is_not_moved(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seen: moving the contoured baseline CT to follow-up 1 succeeded; ``measurements``
    then showed nothing at baseline while ``plan`` still proposed a dose from its contours."""
    _contour_demo_case(demo_copy)  # the liver and 7 foci on the baseline venous CT
    case, shown = _demo_case(demo_copy, capsys)
    baseline = next(t for t in shown["timepoints"] if t["kind"] == "baseline")
    ct = next(s for s in baseline["studies"] if s["description"].startswith("CT"))
    assert _run(demo_copy, "case", "link", "--case", str(case["pk"]), "--study",
                ct["study_uid"], "--timepoint", "follow-up 1") == 1  # fmt: skip
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    for words in (ct["study_uid"], ct["description"], "8 contours at baseline", "follow-up 1",
                  "delete those contours first"):  # fmt: skip
        assert words in line
    assert captured.out == ""
    assert _run(demo_copy, "case", "show", "--case", str(case["pk"]), "--json") == 0
    assert json.loads(capsys.readouterr().out) == shown  # nothing moved
    assert _run(demo_copy, "plan", "--case", str(case["pk"]), "--json") == 0
    assert json.loads(capsys.readouterr().out)["sessions"]  # still planned from the baseline CT


def test_contours_deleted_at_the_command_line_let_the_study_move(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal above says "delete those contours first": ``contour delete`` does it
    without the window (audited, one lesion and timepoint at a time; the lesion stays)."""
    from tace_planner.imaging.phantom import phantom_truth

    _contour_demo_case(demo_copy)
    case, shown = _demo_case(demo_copy, capsys)
    baseline = next(t for t in shown["timepoints"] if t["kind"] == "baseline")
    ct = next(s for s in baseline["studies"] if s["description"].startswith("CT"))
    series = next(
        s["series_uid"]
        for s in phantom_truth("small", 0).to_json()["timepoints"][0]["series"]
        if s["folder"] == "CT_venous"
    )
    assert _run(demo_copy, "measurements", "--series", series, "--json") == 0
    names = [item["name"] for item in json.loads(capsys.readouterr().out)["lesions"]]
    names.append("Liver")  # the foci, then the whole-liver contour
    assert len(names) == 8
    assert _run(demo_copy, "contour", "delete", "--series", series, "--lesion", "F99") == 1
    assert "F99" in capsys.readouterr().err
    for name in names:
        assert _run(demo_copy, "contour", "delete", "--series", series, "--lesion", name,
                    "--json") == 0  # fmt: skip
        said = json.loads(capsys.readouterr().out)
        assert said["lesion"].casefold() == name.casefold()  # names match as the GUI's do
        assert (said["timepoint"], said["removed"]) == ("baseline", True)
    assert _run(demo_copy, "contour", "delete", "--series", series, "--lesion", names[0]) == 1
    assert "no contour at baseline" in capsys.readouterr().err
    assert _run(demo_copy, "case", "link", "--case", str(case["pk"]), "--study",
                ct["study_uid"], "--timepoint", "follow-up 1") == 0  # fmt: skip


def test_open_link_and_show_a_case(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patient_id, study_uid = _demo_patient_and_study(demo_copy, capsys)
    assert (
        _run(demo_copy, "case", "new", "--patient-id", patient_id, "--title", "Second course",
             "--tace-date", "2026-06-01", "--json") == 0
    )  # fmt: skip
    created = json.loads(capsys.readouterr().out)
    assert created["title"] == "Second course"
    assert created["planned_tace_on"] == "2026-06-01"
    case = str(created["pk"])
    assert _run(demo_copy, "case", "link", "--case", case, "--study", study_uid,
                "--timepoint", "follow-up", "2") == 0  # fmt: skip
    assert "follow-up 2" in capsys.readouterr().out
    assert _run(demo_copy, "case", "show", "--case", case, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    (timepoint,) = shown["timepoints"]
    assert (timepoint["label"], timepoint["kind"]) == ("follow-up 2", "follow_up")
    assert [s["study_uid"] for s in timepoint["studies"]] == [study_uid]
    assert timepoint["imaged_on"] == timepoint["studies"][0]["study_on"]  # the study's date
    assert _run(demo_copy, "case", "show", "--case", case) == 0
    assert "Second course" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["case", "new", "--patient-id", "NOBODY", "--title", "x"], 1, "NOBODY"),
        (["case", "new", "--patient-id", "NOBODY", "--title", "  "], 1, "title"),
        (["case", "show", "--case", "99999"], 1, "case 99999 does not exist"),
        (["case", "link", "--case", "1", "--study", "1.2.3", "--timepoint", "later"], 1,
         "--timepoint"),
        (["case", "link", "--case", "1", "--study", "1.2.3", "--timepoint", "follow-up x"], 1,
         "--timepoint: 'follow-up x': give 'baseline' or 'follow-up N'"),
        (["case", "link", "--case", "1", "--study", "1.2.3", "--timepoint", "follow-up 0"], 1,
         "--timepoint: 'follow-up 0': give 'baseline' or 'follow-up N'"),
        (["case", "link", "--case", "1", "--study", "9.9.9", "--timepoint", "baseline"], 1,
         "9.9.9"),
        (["case", "new", "--patient-id", "P", "--title", "x", "--tace-date", "03/16/2026"], 2,
         "not a date"),
    ],
)  # fmt: skip
def test_bad_case_commands_get_one_line(
    demo_copy: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, words: str
) -> None:
    if code == 2:
        with pytest.raises(SystemExit) as exited:
            _run(demo_copy, *args)
        assert exited.value.code == 2
    else:
        assert _run(demo_copy, *args) == code
    error = capsys.readouterr().err.strip()
    assert words in error
    assert "Traceback" not in error
    if code == 1:  # a refusal is one line (a usage error also prints the usage)
        assert len(error.splitlines()) <= 2


def test_a_quoted_follow_up_timepoint_is_understood(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--timepoint "follow-up 2"`` (quoted, as ``assess --timepoint`` needs it) was
    refused with "'follow-up 2': give 'baseline' or 'follow-up N'"."""
    patient_id, study_uid = _demo_patient_and_study(demo_copy, capsys)
    assert _run(demo_copy, "case", "new", "--patient-id", patient_id, "--title", "T",
                "--json") == 0  # fmt: skip
    case = str(json.loads(capsys.readouterr().out)["pk"])
    assert _run(demo_copy, "case", "link", "--case", case, "--study", study_uid,
                "--timepoint", "follow-up 2") == 0  # fmt: skip
    assert "follow-up 2" in capsys.readouterr().out
