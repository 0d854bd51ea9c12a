"""``recist --sdtm``: RECIST 1.1 from SDTM TU/TR/RS data sets built from the rules."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from tace_planner.cli import main
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.sdtm import RS_COLUMNS, assess_sdtm, read_csv, write_rs

START = dt.date(2024, 1, 1)
TU_COLUMNS = ("STUDYID", "DOMAIN", "USUBJID", "TULNKID", "TUSTRESC", "TULOC", "TUEVAL", "VISITNUM")
TR_COLUMNS = (
    "STUDYID", "DOMAIN", "USUBJID", "TRLNKID", "TRTESTCD", "TRSTRESC", "TRSTRESN", "TRSTAT",
    "TRREASND", "TREVAL", "TREVALID", "TRACPTFL", "VISITNUM", "VISIT", "TRDTC",
)  # fmt: skip


def write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def tu(subject: str, link: str, role: str, loc: str = "LIVER", visit: int = 1) -> dict[str, str]:
    return {"STUDYID": "S1", "DOMAIN": "TU", "USUBJID": subject, "TULNKID": link,
            "TUSTRESC": role, "TULOC": loc, "TUEVAL": "INDEPENDENT ASSESSOR",
            "VISITNUM": str(visit)}  # fmt: skip


def tr(subject, reader, visit, link, test, value="", *, stat="", reason="", text="", day=None):
    date = "" if day is None else (START + dt.timedelta(days=day)).isoformat()
    return {"STUDYID": "S1", "DOMAIN": "TR", "USUBJID": subject, "TRLNKID": link,
            "TRTESTCD": test, "TRSTRESC": text or (f"{value:g}" if value != "" else ""),
            "TRSTRESN": "" if value == "" else f"{value:g}", "TRSTAT": stat, "TRREASND": reason,
            "TREVAL": "INDEPENDENT ASSESSOR", "TREVALID": reader, "TRACPTFL": "",
            "VISITNUM": str(visit), "VISIT": f"WEEK {8 * (visit - 1)}" if visit > 1 else "BASELINE",
            "TRDTC": date}  # fmt: skip


def rs(subject, reader, visit, code, value):
    return {"STUDYID": "S1", "DOMAIN": "RS", "USUBJID": subject, "RSSEQ": "1", "RSTESTCD": code,
            "RSTEST": code, "RSCAT": "RECIST 1.1", "RSORRES": value, "RSSTRESC": value,
            "RSEVAL": "INDEPENDENT ASSESSOR", "RSEVALID": reader, "RSACPTFL": "",
            "VISITNUM": str(visit), "VISIT": "", "RSDTC": ""}  # fmt: skip


def visit_rows(subject, reader, visit, day, sizes, states=()):
    rows = []
    for link, value in sizes:
        test = "LPERP" if link == "T02" and subject == "01" else "LDIAM"
        if value is None:
            rows.append(tr(subject, reader, visit, link, test, stat="NOT DONE", day=day,
                           reason="SCAN NOT PERFORMED"))  # fmt: skip
        elif value == "small":
            rows.append(tr(subject, reader, visit, link, test, text="TOO SMALL TO MEASURE",
                           day=day))  # fmt: skip
        else:
            rows.append(tr(subject, reader, visit, link, test, value, day=day))
    for link, state in states:
        rows.append(tr(subject, reader, visit, link, "TUMSTATE", text=state, day=day))
    return rows


@pytest.fixture
def sdtm(tmp_path: Path) -> Path:
    tu_rows = [
        tu("01", "T01", "TARGET"),
        tu("01", "T02", "TARGET", "MEDIASTINAL LYMPH NODE"),
        tu("01", "NT01", "NON-TARGET", "LUNG"),
        tu("02", "T01", "TARGET"),
        tu("02", "NT01", "NON-TARGET", "LIVER"),
        tu("02", "NEW01", "NEW", "LIVER", visit=4),
        tu("03", "NT01", "NON-TARGET", "BONE"),
        tu("04", "T01", "TARGET"),
        tu("04", "T02", "TARGET"),
        tu("04", "T03", "TARGET", "LUNG"),
    ]
    present = [("NT01", "PRESENT")]
    tr_rows = []
    # subject 01, reader R1: 50 + node 20 → 40 + 10 → 43 + 11 → 49 + 11 (SD, SD, PD); then dropped
    for visit, day, t1, t2 in ((1, 0, 50, 20), (2, 56, 40, 10), (3, 112, 43, 11),
                               (4, 168, 49, 11), (5, 224, 30, 5)):  # fmt: skip
        tr_rows += visit_rows("01", "R1", visit, day, [("T01", t1), ("T02", t2)], present)
    # subject 01, reader R2: the node was not measured at week 8 → NE
    for visit, day, t1, t2 in ((1, 0, 50, 20), (2, 56, 40, None), (3, 112, 43, 11)):
        tr_rows += visit_rows("01", "R2", visit, day, [("T01", t1), ("T02", t2)], present)
    # subject 02: 100 → 60 (PR, non-target gone) → too small (5 mm, PR) → equivocal new lesion
    absent = [("NT01", "ABSENT")]
    tr_rows += visit_rows("02", "R1", 1, 0, [("T01", 100)], present)
    tr_rows += visit_rows("02", "R1", 2, 56, [("T01", 60)], absent)
    tr_rows += visit_rows("02", "R1", 3, 112, [("T01", "small")], absent)
    tr_rows += visit_rows("02", "R1", 4, 168, [("T01", "small")], [*absent, ("NEW01", "EQUIVOCAL")])
    # subject 03: non-target disease only
    tr_rows += visit_rows("03", "R1", 1, 0, [], present)
    tr_rows += visit_rows("03", "R1", 2, 56, [], present)
    tr_rows += visit_rows("03", "R1", 3, 112, [], [("NT01", "UNEQUIVOCAL PROGRESSION")])
    # subject 04: split T01 (10 + 8) and merged T02/T03 (15): 60 → 33, PR; no dates
    tr_rows += visit_rows("04", "R1", 1, None, [("T01", 30), ("T02", 20), ("T03", 10)])
    tr_rows += visit_rows("04", "R1", 2, None, [("T01.1", 10), ("T01.2", 8), ("T02/T03", 15)])
    tr_rows += [
        tr("04", "R1", 2, "T02", "LDIAM", stat="NOT DONE", reason="TUMOR MERGED"),
        tr("04", "R1", 2, "T03", "LDIAM", stat="NOT DONE", reason="TUMOR MERGED"),
    ]
    rs_rows = [
        rs("01", "R1", 2, "TRGRESP", "SD"),
        rs("01", "R1", 2, "OVRLRESP", "PR"),  # wrong: SD
        rs("01", "R1", 4, "OVRLRESP", "PD"),
        rs("02", "R1", 4, "NEWLPROG", "UNEQUIVOCAL"),  # wrong: equivocal
        rs("02", "R1", 4, "OVRLRESP", "PD"),  # wrong: PR
        rs("03", "R1", 3, "OVRLRESP", "PD"),
    ]
    write(tmp_path / "TU.csv", TU_COLUMNS, tu_rows)
    write(tmp_path / "TR.csv", TR_COLUMNS, tr_rows)
    write(tmp_path / "RS.csv", RS_COLUMNS, rs_rows)
    return tmp_path


def responses(result, subject, reader, code="OVRLRESP"):
    found = next(s for s in result.subjects if (s.usubjid, s.reader) == (subject, reader))
    return [v[code] for v in found.visits], (found.best or {}).get("category")


def test_expected_rs_per_subject_and_reader(sdtm):
    result = assess_sdtm(sdtm)
    assert responses(result, "01", "R1") == (["SD", "SD", "PD", "PR"], "SD")
    assert responses(result, "01", "R1", "TRGRESP")[0][:3] == ["SD", "SD", "PD"]
    assert responses(result, "01", "R1", "NTRGRESP")[0][0] == "NON-CR/NON-PD"
    assert responses(result, "01", "R1", "after_first_pd")[0] == [False, False, False, True]
    assert responses(result, "01", "R2") == (["NE", "SD"], "SD")
    assert responses(result, "02", "R1") == (["PR", "PR", "PR"], "PR")
    assert responses(result, "02", "R1", "NEWLPROG")[0] == [None, None, "EQUIVOCAL"]
    assert responses(result, "02", "R1", "NTRGRESP")[0] == ["CR", "CR", "CR"]
    assert responses(result, "03", "R1") == (["NON-CR/NON-PD", "PD"], "NON-CR/NON-PD")
    assert responses(result, "03", "R1", "TRGRESP")[0] == [None, None]
    overall, best = responses(result, "04", "R1")
    assert overall == ["PR"]
    assert best is None  # no scan dates: confirmation cannot be timed


def test_disagreements_name_the_record_and_the_reason(sdtm):
    result = assess_sdtm(sdtm)
    found = {(d["USUBJID"], d["VISITNUM"], d["RSTESTCD"]): d for d in result.disagreements}
    assert set(found) == {("01", "2", "OVRLRESP"), ("02", "4", "NEWLPROG"), ("02", "4", "OVRLRESP")}
    first = found[("01", "2", "OVRLRESP")]
    assert (first["given"], first["expected"], first["RSEVALID"]) == ("PR", "SD", "R1")
    assert "target SD" in first["reason"]
    assert found[("02", "4", "NEWLPROG")]["expected"] == "EQUIVOCAL"


def test_written_rs_round_trips(sdtm, tmp_path):
    result = assess_sdtm(sdtm)
    path = write_rs(result.rs_rows, tmp_path / "out")
    rows = read_csv(path)
    assert [r.get("RSTESTCD") for r in rows[:3]] == ["TRGRESP", "NTRGRESP", "OVRLRESP"]
    assert {r.get("RSCAT") for r in rows} == {"RECIST 1.1"}
    # the written RS agrees with the rules when read back as the given RS
    (sdtm / "RS.csv").write_bytes(path.read_bytes())
    assert assess_sdtm(sdtm).disagreements == []


def test_rs_alone_checks_table_1(tmp_path):
    write(tmp_path / "RS.csv", RS_COLUMNS, [
        rs("09", "R1", 2, "TRGRESP", "CR"), rs("09", "R1", 2, "NTRGRESP", "NE"),
        rs("09", "R1", 2, "OVRLRESP", "CR"),
        rs("09", "R1", 3, "TRGRESP", "SD"), rs("09", "R1", 3, "NEWLPROG", "EQUIVOCAL"),
        rs("09", "R1", 3, "OVRLRESP", "SD"),
    ])  # fmt: skip
    result = assess_sdtm(tmp_path)
    assert [(d["VISITNUM"], d["given"], d["expected"]) for d in result.disagreements] == [
        ("2", "CR", "PR")
    ]


def test_cli_json_and_out(sdtm, tmp_path, capsys):
    assert main(["recist", "--sdtm", str(sdtm), "--json", "--out", str(tmp_path / "o")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"subjects", "disagreements"}
    assert set(data["disagreements"][0]) == {
        "USUBJID", "RSEVALID", "VISITNUM", "RSTESTCD", "given", "expected", "reason",
    }  # fmt: skip
    assert (tmp_path / "o" / "RS.csv").is_file()
    assert main(["recist", "--sdtm", str(sdtm)]) == 0
    text = capsys.readouterr().out
    assert "3 given response(s) disagree" in text
    assert "after the first PD, not counted" in text
    assert "best overall response not computed: a scan date (TRDTC) is missing" in text


def test_bad_value_is_one_line_naming_file_line_and_variable(sdtm, capsys):
    text = (sdtm / "TR.csv").read_text(encoding="utf-8").replace(",50,50,", ",fifty,fifty,", 1)
    (sdtm / "TR.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"TR\.csv line \d+: TRSTRESN"):
        assess_sdtm(sdtm)
    assert main(["recist", "--sdtm", str(sdtm)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: TR.csv line")
    assert "\n" not in err
    assert main(["recist", "--sdtm", str(sdtm / "nowhere")]) == 1
