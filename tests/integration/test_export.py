"""``tace-planner export``: tidy CSV (read back in R), JSON, de-identification, refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tace_planner.cli import main
from tests.export_seed import BIRTH, NAMES, seed_registry


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
    assert "EXP-4711,2,F1,focus,NA,1,baseline,baseline,-10,2025-02-22,12.5,31.0" in lesions


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
    assert lines["lesion_timepoint.csv"][1] == "6"
    types = lines["lesion_timepoint.csv"][3:]
    # volume_cm3 and the day column are numbers in R, NA columns are logical, names text
    assert types[10] == "numeric" and types[8] == "integer" and types[2] == "character"
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
def test_deidentified_export_holds_no_identifier(registry, tmp_path, fmt):
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


def test_deidentified_csv_keeps_intervals_as_days_from_first_tace(registry, tmp_path):
    out = tmp_path / "out"
    assert _cli(registry, "export", "--all", "--format", "csv", "--deidentify", str(out)) == 0
    lesions = (out / "lesion_timepoint.csv").read_text(encoding="utf-8").splitlines()
    header = lesions[0].split(",")
    assert "imaged_on" not in header
    days = [line.split(",")[header.index("imaged_day")] for line in lesions[1:]]
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
    assert "not empty" in err and len(err.strip().splitlines()) == 1
    assert (busy / "keep.txt").read_text(encoding="utf-8") == "mine"
    inside = tmp_path / "out"
    code = _cli(registry, "export", "--all", "--format", "csv", "--deidentify",
                "--mapping", str(inside / "m.csv"), str(inside))  # fmt: skip
    assert code == 1 and "inside OUT" in capsys.readouterr().err
    assert not inside.exists()
    assert _cli(registry, "export", "--case", "999", "--format", "json", str(inside)) == 1
    assert "999" in capsys.readouterr().err
