"""``export --format sdtm``: RS from the response engine, and ``recist --sdtm`` on the
exported folder finds the same responses with no disagreement (round trip)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_case, add_measurement, add_study, scheduled_course
from tace_planner.cli import main
from tace_planner.services.assessment import AssessmentService
from tace_planner.services.followups import FollowupService
from tace_planner.store.models import LesionRow

pytestmark = pytest.mark.db
D = dt.date
FOLLOW_UPS = (D(2026, 5, 11), D(2026, 8, 11), D(2026, 11, 11))


@pytest.fixture
def course(services: Any) -> tuple[Any, int, FollowupService]:
    """Targets F1 + F2: 165 → 63 → 65 → 90 mm (PR, PR, PD); non-target N1 present, then
    gone at the second follow-up; F3 new at the third."""
    factory = services.session_factory
    case, followups = scheduled_course(factory, "R1", baseline_on=D(2026, 3, 1))
    for number, on in enumerate(FOLLOW_UPS, start=1):
        add_study(factory, "R1", f"1.2.R1.{number}", on)
        followups.confirm_match(f"1.2.R1.{number}")
    sizes = {0: (100, 65, 40.0, 12.0, 3.0), 1: (40, 23, 4.0, 1.0, 2.0),
             2: (41, 24, 4.2, 1.1, 0.0), 3: (50, 40, 8.0, 4.0, 0.0)}  # fmt: skip
    for number, (d1, d2, v1, v2, v3) in sizes.items():
        uid = f"1.2.R1.{number}"
        add_measurement(factory, case, uid, "F1", v1, d1)
        add_measurement(factory, case, uid, "F2", v2, d2)
        add_measurement(factory, case, uid, "N1", v3, 18 if v3 else 0)
    add_measurement(factory, case, "1.2.R1.3", "F3", 2.0, 12)
    with factory() as session:
        session.query(LesionRow).filter_by(case_pk=case, name="N1").one().is_target = False
        session.commit()
    return services, case, followups


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _export(services: Any, case: int, out: Path, *extra: str) -> None:
    data = str(services.settings.data_dir)
    args = ["--data-dir", data, "export", "--case", str(case), "--format", "sdtm", *extra]
    assert main([*args, str(out)]) == 0


@pytest.mark.parametrize("deidentify", [False, True])
def test_recist_on_the_export_reproduces_its_rs(course, tmp_path, capsys, deidentify):
    services, case, followups = course
    out = tmp_path / "out"
    _export(services, case, out, *(["--deidentify"] if deidentify else []))
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["dm.csv", "rs.csv", "tr.csv", "tu.csv"]
    tu = _read(out / "tu.csv")
    assert [(r["TULNKID"], r["TUSTRESC"], r["VISITNUM"]) for r in tu] == [
        ("NEW01", "NEW", "4"), ("NT01", "NON-TARGET", "1"),
        ("T01", "TARGET", "1"), ("T02", "TARGET", "1"),
    ]  # fmt: skip
    rs = _read(out / "rs.csv")
    by_visit = {(r["VISITNUM"], r["RSTESTCD"]): r["RSSTRESC"] for r in rs}
    assert [by_visit[(v, "OVRLRESP")] for v in ("2", "3", "4")] == ["PR", "PR", "PD"]
    assert [by_visit[(v, "NTRGRESP")] for v in ("2", "3", "4")] == [
        "NON-CR/NON-PD", "CR", "CR",
    ]  # fmt: skip
    assert by_visit[("4", "NEWLPROG")] == "UNEQUIVOCAL"
    assert by_visit[("", "BESTRESP")] == "PR"
    # the same responses as the assessment of the case itself
    service = AssessmentService(services.contouring, followups)
    for visitnum, label in (("2", "TACE 1 follow-up 1"), ("3", "TACE 1 follow-up 2"),
                            ("4", "TACE 1 follow-up 3")):  # fmt: skip
        recist = service.assess(case, label, ["recist"])["recist"]
        assert by_visit[(visitnum, "OVRLRESP")] == recist["overall"]["category"]
        assert by_visit[(visitnum, "TRGRESP")] == recist["target"]["category"]
    assert by_visit[("", "BESTRESP")] == recist["best_overall"]["category"]
    # round trip: recist --sdtm on the exported folder
    assert main(["recist", "--sdtm", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["disagreements"] == []
    [subject] = result["subjects"]
    recomputed = {
        (v["VISITNUM"], code): v[code]
        for v in subject["visits"]
        for code in ("TRGRESP", "NTRGRESP", "NEWLPROG", "OVRLRESP")
        if v[code]
    }
    recomputed[("", "BESTRESP")] = subject["best_overall_response"]["category"]
    assert recomputed == by_visit
    dates = {r["RSDTC"] for r in rs if r["RSDTC"]}
    assert ("2026-05-11" in dates) is not deidentify  # dates shift when de-identified


def test_a_changed_rs_is_caught_by_recist(course, tmp_path, capsys):
    services, case, _ = course
    out = tmp_path / "out"
    _export(services, case, out)
    text = (out / "rs.csv").read_text(encoding="utf-8")
    (out / "rs.csv").write_text(text.replace(",BESTRESP,Best Overall Response,RECIST 1.1,PR,PR,",
                                             ",BESTRESP,Best Overall Response,RECIST 1.1,CR,CR,"),
                                encoding="utf-8")  # fmt: skip
    capsys.readouterr()
    assert main(["recist", "--sdtm", str(out)]) == 0
    report = capsys.readouterr().out
    assert "1 given response(s) disagree" in report
    assert "best response BESTRESP: given CR, expected PR" in report


def test_a_case_without_a_measured_baseline_gets_no_rs(course, tmp_path, capsys):
    from tests.export_seed import _follow_up

    services, _, _ = course
    factory = services.session_factory
    other = add_case(factory, "R2")  # no baseline imaging: only a follow-up was contoured
    _follow_up(factory, other, "R2", "1.2.R2.8", D(2026, 6, 1), 1)
    add_measurement(factory, other, "1.2.R2.8", "F1", 3.0, 20)
    out = tmp_path / "out"
    data = str(services.settings.data_dir)
    assert main(["--data-dir", data, "export", "--all", "--format", "sdtm", str(out)]) == 0
    assert "SDTM: TACEPLANNER-R2-2 has no measured baseline focus: no RS for it" in (
        capsys.readouterr().out
    )  # the subject as the SDTM files name it, not its place in the list
    subjects = {r["USUBJID"] for r in _read(out / "rs.csv")}
    assert subjects == {"TACEPLANNER-R1-1"}
    assert {r["USUBJID"] for r in _read(out / "tr.csv")} == {
        "TACEPLANNER-R1-1", "TACEPLANNER-R2-2",
    }  # fmt: skip


def test_the_export_note_cites_recist_without_a_command(course, tmp_path):
    from tace_planner.services.export.runner import export_cases

    services, case, _ = course
    result = export_cases(services, tmp_path / "out", "sdtm", case=case)
    (note,) = [n for n in result.notes if n.startswith("SDTM: DM, TU, TR and RS")]
    assert "`" not in note
    assert "tace-planner" not in note
    assert "Eisenhauer, Eur J Cancer 2009" in note


def test_the_command_line_keeps_its_option_names_in_a_refusal(course, tmp_path, capsys):
    services, case, _ = course
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.txt").write_text("x", encoding="utf-8")
    data = str(services.settings.data_dir)
    args = ["--data-dir", data, "export", "--case", str(case), "--format", "csv", str(full)]
    assert main(args) != 0
    assert f"OUT: {full} is not empty; give a new or empty folder" in capsys.readouterr().err
