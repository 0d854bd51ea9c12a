"""``tace-planner export``: tidy CSV (read back in R), JSON, de-identification, refusals."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.export_seed import BIRTH, NAMES, seed_registry
from tests.ttp_seed import assess_follow_ups

from tace_planner.cli import main


@pytest.fixture
def registry(services):
    seed_registry(services)
    return services


def _cli(services, *args: str) -> int:
    return main(["--data-dir", str(services.settings.data_dir), *args])


def _identifiers(services) -> list[str]:
    """Every original name part, Patient ID, birth date, study UID and recorded date."""
    found = [*NAMES, *(p for n in NAMES.values() for p in n.split("^"))]
    found += [d.isoformat() for d in BIRTH.values()]
    with services.session_factory() as session:
        from tace_planner.store.models import StudyRow, TimepointRow

        found += [s.study_uid for s in session.query(StudyRow)]
        found += [t.imaged_on.isoformat() for t in session.query(TimepointRow) if t.imaged_on]
    found += ["2025-03-04", "2025-04-13", "2024-05-06", "2024-05-20"]  # TACE, diagnosis dates
    return found


def _scan(folder: Path, needles: list[str]) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        for needle in needles:
            if needle in str(path.relative_to(folder)):
                hits.append(f"{path.name}: name holds {needle}")
        if path.is_file():
            text = path.read_bytes().decode("latin-1")
            hits += [f"{path.name}: {n}" for n in needles if n in text]
    return hits


def test_csv_has_one_file_per_level_and_a_dictionary(registry, tmp_path):
    assert _cli(registry, "export", "--all", "--format", "csv", str(tmp_path / "out")) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [
        "case.csv",
        "data_dictionary.csv",
        "data_dictionary.md",
        "lesion_timepoint.csv",
        "procedure.csv",
        "therapy_line.csv",
    ]
    dictionary = (tmp_path / "out" / "data_dictionary.csv").read_text(encoding="utf-8")
    for level in ("case", "lesion_timepoint", "procedure", "therapy_line"):
        header = (tmp_path / "out" / f"{level}.csv").read_text(encoding="utf-8").splitlines()[0]
        for name in header.split(","):
            assert f"{level},{name}," in dictionary  # every column is documented
    lesions = (tmp_path / "out" / "lesion_timepoint.csv").read_text(encoding="utf-8")
    assert "EXP-4711,2,F1,focus,NA,1,baseline,baseline,baseline,-10,2025-02-22,12.5,31" in lesions
    # an unscheduled follow-up keeps its label, and its visit is numbered by imaging order
    assert "EXP-0815,1,F1,focus,NA,1,unscheduled 2025-06-08,follow-up 1,follow_up,56" in lesions


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_r_reads_every_csv_without_edits(registry, tmp_path):
    out = tmp_path / "out"
    assert _cli(registry, "export", "--all", "--format", "csv", str(out)) == 0
    script = (
        "args <- commandArgs(TRUE); for (f in args) { d <- read.csv(f); "
        "cat(basename(f), nrow(d), ncol(d), paste(sapply(d, class), collapse=' '), '\\n') }"
    )
    files = [str(out / f"{n}.csv") for n in ("case", "lesion_timepoint", "procedure")]
    result = subprocess.run(
        ["Rscript", "-e", script, *files], capture_output=True, text=True, check=True
    )
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()}
    assert lines["case.csv"][1:3] == ["2", "22"]
    assert lines["lesion_timepoint.csv"][2] == "19"
    assert lines["lesion_timepoint.csv"][1] == "6"
    types = lines["lesion_timepoint.csv"][3:]
    # volume_cm3 and the day column are numbers in R, NA columns are logical, names text
    assert types[11] == "numeric"
    assert types[9] == "integer"
    assert types[2] == "character"
    assert lines["procedure.csv"][1] == "2"


def test_json_record_has_a_versioned_schema(registry, tmp_path):
    out = tmp_path / "out"
    assert _cli(registry, "export", "--all", "--format", "json", str(out)) == 0
    record = json.loads((out / "case_001.json").read_text(encoding="utf-8"))
    assert record["schema"] == "tace-planner-case/1"
    assert record["case"]["first_tace_day"] == 0
    assert [p["performed_day"] for p in record["procedures"]] == [0]
    assert {r["scope"] for r in record["time_to_progression"]} >= {"anywhere"}


@pytest.mark.parametrize("fmt", ["csv", "json", "redcap", "sdtm"])
@pytest.mark.parametrize("draw", [0, 999, 3649, None])
def test_deidentified_export_holds_no_identifier(registry, tmp_path, monkeypatch, fmt, draw):
    # The shift is random (1 to 3650 days back): the shortest, a middle and the longest
    # shift, and a random draw (None). A draw that moves a date onto another original
    # date is drawn again (next test), so the scan holds for every draw.
    from tace_planner.services.export import runner

    if draw is not None:
        monkeypatch.setattr(runner, "_shift_number", lambda *_args: draw)
    out, mapping = tmp_path / "out", tmp_path / "keep" / "mapping.csv"
    mapping.parent.mkdir()
    code = _cli(registry, "export", "--all", "--format", fmt, "--deidentify",
                "--mapping", str(mapping), str(out))  # fmt: skip
    assert code == 0
    needles = _identifiers(registry)
    assert _scan(out, needles) == []
    assert mapping.read_text(encoding="utf-8").splitlines()[1:] == [
        "TP001,EXP-0815",
        "TP002,EXP-4711",
    ]


def test_a_shift_that_lands_on_an_original_date_is_drawn_again(registry, tmp_path, monkeypatch):
    """A draw of 9 moves a date of each seeded patient 10 days back onto another original
    date of the registry (e.g. 2025-03-04 → 2025-02-22); the export draws again (0: one day)."""
    import csv
    import itertools

    from tace_planner.services.export import runner

    draws = itertools.cycle([9, 0])
    monkeypatch.setattr(runner, "_shift_number", lambda *_args: next(draws))
    out = tmp_path / "out"
    assert _cli(registry, "export", "--all", "--format", "sdtm", "--deidentify", str(out)) == 0
    assert _scan(out, _identifiers(registry)) == []
    with (out / "dm.csv").open(encoding="utf-8", newline="") as handle:
        starts = {row["USUBJID"][-5:]: row["RFSTDTC"] for row in csv.DictReader(handle)}
    assert "2025-03-03" in starts.values()  # the first TACE (2025-03-04) one day back


def test_deidentified_csv_keeps_intervals_as_days_from_first_tace(registry, tmp_path):
    out = tmp_path / "out"
    assert _cli(registry, "export", "--all", "--format", "csv", "--deidentify", str(out)) == 0
    import csv

    with (out / "lesion_timepoint.csv").open(encoding="utf-8", newline="") as handle:
        lesions = list(csv.DictReader(handle))
    assert "imaged_on" not in lesions[0]
    days = [row["imaged_day"] for row in lesions]
    assert sorted(set(days)) == ["-10", "56"]  # baseline 10 days before, follow-up 8 weeks after


def test_bad_output_is_refused_in_one_line(registry, tmp_path, capsys):
    store = registry.settings.image_store_dir
    assert _cli(registry, "export", "--all", "--format", "csv", str(store / "x")) == 1
    assert "image store" in capsys.readouterr().err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine", encoding="utf-8")
    assert _cli(registry, "export", "--all", "--format", "csv", str(busy)) == 1
    err = capsys.readouterr().err
    assert "not empty" in err
    assert len(err.strip().splitlines()) == 1
    assert (busy / "keep.txt").read_text(encoding="utf-8") == "mine"
    inside = tmp_path / "out"
    code = _cli(registry, "export", "--all", "--format", "csv", "--deidentify",
                "--mapping", str(inside / "m.csv"), str(inside))  # fmt: skip
    assert code == 1
    assert "inside OUT" in capsys.readouterr().err
    assert not inside.exists()
    assert _cli(registry, "export", "--case", "999", "--format", "json", str(inside)) == 1
    assert "999" in capsys.readouterr().err


def test_redcap_follows_the_format_rules(registry, tmp_path):
    import csv
    import re

    from tace_planner.services.export.redcap import HEADER

    out = tmp_path / "out"
    assert _cli(registry, "export", "--all", "--format", "redcap", str(out)) == 0
    with (out / "redcap_data_dictionary.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == HEADER
    assert len(HEADER) == 18
    assert rows[1][0] == "record_id"
    names = [r[0] for r in rows[1:]]
    assert len(names) == len(set(names))
    types = {"text", "notes", "calc", "dropdown", "radio", "checkbox", "yesno", "truefalse",
             "file", "slider", "descriptive"}  # fmt: skip
    for row in rows[1:]:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,25}", row[0]), row[0]
        assert row[3] in types
        assert row[7] in ("", "date_ymd", "integer", "number")
        if row[3] in ("dropdown", "radio", "checkbox"):
            assert re.fullmatch(r"[0-9a-z_]+, [^|]+( \| [0-9a-z_]+, [^|]+)*", row[5]), row[5]
        else:
            assert row[5] == ""
    with (out / "redcap_records.csv").open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    events = {r["redcap_event_name"] for r in records}
    assert events == {"baseline_arm_1", "treatment_arm_1", "follow_up_1_arm_1"}
    lesions = [r for r in records if r["redcap_repeat_instrument"] == "lesion"]
    assert [r["redcap_repeat_instance"] for r in lesions[:3]] == ["1", "2", "1"]
    case = next(r for r in records if r["redcap_repeat_instrument"] == "")
    assert case["tace_sequence"] == "1"
    assert case["case_complete"] == "2"
    mapping = (out / "redcap_instrument_event_mapping.csv").read_text(encoding="utf-8")
    assert "1,follow_up_1_arm_1,lesion" in mapping


def test_sdtm_tu_tr_from_lesions(registry, tmp_path):
    import csv

    out = tmp_path / "out"
    assert _cli(registry, "export", "--case", "1", "--format", "sdtm", str(out)) == 0
    with (out / "tr.csv").open(encoding="utf-8", newline="") as handle:
        tr = list(csv.DictReader(handle))
    with (out / "tu.csv").open(encoding="utf-8", newline="") as handle:
        tu = list(csv.DictReader(handle))
    assert [r["TULNKID"] for r in tu] == ["T01", "T02"]
    ldiam = [r for r in tr if r["TRTESTCD"] == "LDIAM" and r["TRLNKID"] == "T01"]
    assert [(r["TRSTRESN"], r["TRDY"]) for r in ldiam] == [("31", "-10"), ("27.5", "57")]
    # F2 was not contoured at the follow-up: NOT DONE, so the target response is NE
    missing = [r for r in tr if r["TRLNKID"] == "T02" and r["VISITNUM"] == "2"]
    assert {(r["TRTESTCD"], r["TRSTAT"]) for r in missing} == {
        ("LDIAM", "NOT DONE"), ("VOLUME", "NOT DONE"),
    }  # fmt: skip
    with (out / "rs.csv").open(encoding="utf-8", newline="") as handle:
        rs = {(r["VISITNUM"], r["RSTESTCD"]): r["RSSTRESC"] for r in csv.DictReader(handle)}
    assert rs[("2", "TRGRESP")] == rs[("2", "OVRLRESP")] == "NE"


def test_cohort_tables_on_the_registry(registry, capsys):
    assert _cli(registry, "cohort", "tables", "--group", "tace_sequence", "--json") == 0
    tables = json.loads(capsys.readouterr().out)
    volume = tables["variables"]["volume_before_cm3"]["groups"]
    # the foci summed at the baseline before TACE 1: F1 + F2
    assert volume["after_chemotherapy"]["median"] == pytest.approx(12.5 + 3.0)
    assert volume["immediate"]["median"] == pytest.approx(13.5 + 3.0)
    interval = tables["variables"]["interval_days"]["groups"]["immediate"]
    assert interval["median"] == 66  # 10 days before TACE to 56 days after
    # the follow-ups are measured but no response is assessed: no TTP (Llovet, JNCI 2008)
    assert tables["kaplan_meier"]["groups"] == {}
    assert all("not evaluable: no follow-up assessed" in n for n in tables["kaplan_meier"]["notes"])
    assert len(tables["kaplan_meier"]["notes"]) == 2
    for item in registry.cases.list_cases():
        assess_follow_ups(registry, item.pk)
    assert _cli(registry, "cohort", "tables", "--group", "tace_sequence", "--json") == 0
    tables = json.loads(capsys.readouterr().out)
    assert set(tables["kaplan_meier"]["groups"]) == {"after_chemotherapy", "immediate"}
    ttp = tables["variables"]["ttp_before_cht_days"]["groups"]["immediate"]
    assert ttp["n"] == 1
    code = _cli(registry, "cohort", "tables", "--filter", "tace_sequence=immediate", "--json")
    assert code == 0
    only = json.loads(capsys.readouterr().out)
    assert only["groups"] == {"synchronous": 1}  # grouped by timing by default


def test_cohort_registry_therapy_filter_and_grade_grouping(registry, capsys):
    import datetime as dt

    from tace_planner.store.models import CaseRow

    with registry.session_factory() as session:
        cases = session.query(CaseRow).order_by(CaseRow.id).all()
        for case, grade in zip(cases, ("G1", "G2"), strict=True):
            case.grade = grade
        session.commit()
        first = cases[0].id
    # both seeded cases had CAPTEM; only the first gets everolimus
    registry.therapy.add_line(first, "Everolimus 10 mg", dt.date(2026, 1, 5))
    code = _cli(registry, "cohort", "tables", "--group", "grade", "--filter",
                "therapy=EVEROLIMUS", "--json")  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out)["groups"] == {"G1": 1}
    assert _cli(registry, "cohort", "tables", "--filter", "therapy=sunitinib") == 1
    assert "no case of the registry matches" in capsys.readouterr().err
    assert _cli(registry, "cohort", "tables", "--group", "grade", "--json") == 0
    assert json.loads(capsys.readouterr().out)["groups"] == {"G1": 1, "G2": 1}


def test_cohort_registry_filter_is_checked(registry, capsys):
    assert _cli(registry, "cohort", "tables", "--filter", "colour=red") == 1
    err = capsys.readouterr().err
    assert "--filter" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("existing", [False, True])
def test_a_cancelled_export_takes_back_what_it_wrote(registry, tmp_path, existing):
    from tace_planner.services.export.runner import export_task

    out = tmp_path / "out"
    if existing:
        out.mkdir()  # an empty folder chosen by the user stays, empty
    task = export_task(registry, out, "csv")
    steps = [next(task) for _ in range(4)]  # two cases read, writing, written
    assert [s.done for s in steps] == [0, 1, 2, 3]
    assert (out / "case.csv").is_file()
    task.close()  # Cancel on the last step
    assert out.is_dir() is existing
    if existing:
        assert list(out.iterdir()) == []


def test_cohort_pdf_on_the_registry_holds_the_waterfalls(registry, tmp_path):
    import os
    import re
    import sys

    pytest.importorskip("PySide6")  # the plots are drawn with Qt (the GUI extra)
    from tests.followup_seed import add_measurement

    from tace_planner.store.models import SegmentationRow

    factory = registry.session_factory
    for case, patient in ((1, "EXP-4711"), (2, "EXP-0815")):  # seed_registry order
        add_measurement(factory, case, f"1.2.{patient}.8", 'F2, "cyst"', 2.0, 9.0)
    with factory() as session:  # the seeded masks hold a voxel box
        for row in session.query(SegmentationRow):
            row.grid_shape = {"shape": [4, 4, 4], "bbox": [0, 2, 0, 2, 0, 2]}
        session.commit()
    pdf = tmp_path / "cohort.pdf"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    argv = [sys.executable, "-m", "tace_planner", "--data-dir", str(registry.settings.data_dir),
            "cohort", "tables", "--pdf", str(pdf)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pages == 13 + 2 + 2  # a box plot per variable, KM, regression, two waterfalls


FREE_TEXT = ["Smith", "Lefevre", "Dupont", "cyst", "Kowalski clinic"]
"""Free text a user typed that names people (lesion, drug, response, primary site)."""


@pytest.mark.parametrize("fmt", ["csv", "json", "redcap", "sdtm"])
def test_deidentified_export_leaves_out_free_text(registry, tmp_path, fmt):
    """Lesion names, drugs, responses and the primary site are typed by users and may name
    people: a de-identified export codes the lesions and leaves the rest out."""
    from tests.followup_seed import add_measurement

    from tace_planner.store.models import CaseRow, StudyRow

    with registry.session_factory() as session:
        case_pk = session.query(StudyRow).filter_by(study_uid="1.2.EXP-4711.0").one().case_pk
    add_measurement(registry.session_factory, case_pk, "1.2.EXP-4711.0", "F3 Mr Smith", 2.0, 12.0)
    registry.therapy.add_line(
        case_pk, "FOLFIRI (Dr Lefevre)", dt.date(2023, 1, 5), best_response="SD per Dr Dupont"
    )
    with registry.session_factory() as session:
        session.get(CaseRow, case_pk).primary_site = "ileum, Kowalski clinic"
        session.commit()
    out = tmp_path / "out"
    assert _cli(registry, "export", "--all", "--format", fmt, "--deidentify", str(out)) == 0
    assert _scan(out, FREE_TEXT) == []
    if fmt == "csv":
        lesions = (out / "lesion_timepoint.csv").read_text(encoding="utf-8")
        assert ",L1," in lesions  # 'F2, "cyst"' and 'F3 Mr Smith' coded in name order
        assert ",L2," in lesions
        assert ",F1," in lesions  # the app's own names are kept
    plain = tmp_path / "plain"  # without de-identification the entries are exported as typed
    assert _cli(registry, "export", "--all", "--format", "csv", str(plain)) == 0
    assert len(_scan(plain, FREE_TEXT)) >= len(FREE_TEXT)


def test_a_patient_moves_by_the_same_days_in_every_export(registry, tmp_path):
    """Random shifts per export would let several exports of one patient narrow the true
    dates down; the data folder's key gives each patient one shift, kept secret there."""
    import csv
    import stat

    starts = []
    for n in range(3):
        out = tmp_path / f"out{n}"
        assert _cli(registry, "export", "--all", "--format", "sdtm", "--deidentify", str(out)) == 0
        with (out / "dm.csv").open(encoding="utf-8", newline="") as handle:
            starts.append(sorted(row["RFSTDTC"] for row in csv.DictReader(handle)))
    assert starts[0] == starts[1] == starts[2]
    assert len(set(starts[0])) == 2  # two patients, moved by different days
    from tace_planner.services.export.runner import SHIFT_KEY_FILE

    key = registry.settings.data_dir / SHIFT_KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    mapping = tmp_path / "keep.csv"
    out = tmp_path / "out-mapped"
    assert _cli(registry, "export", "--all", "--format", "csv", "--deidentify",
                "--mapping", str(mapping), str(out)) == 0  # fmt: skip
    assert stat.S_IMODE(mapping.stat().st_mode) == 0o600  # the re-identification table
