"""`tace-planner cohort tables --group all` keeps the cohort whole, on a spreadsheet and on
the registry: one group "all" equal to R 4.2 (tests/data/r_reference/
make_reference_all_cases.R), every test between groups said to be not applicable (as the
Cohort page's "one group: no test"), the plots drawn as one group."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.export_seed import seed_registry

from r_reference import FOLDER, assert_equal_to_r, read_reference
from tace_planner.cli import main

COHORT = FOLDER / "cohort.csv"
REFERENCE_FILE = FOLDER / "reference_all_cases.csv"
REFERENCE = read_reference(REFERENCE_FILE)
VARIABLES = ("volume_before_cm3", "volume_after_cm3", "volume_change_percent",
             "ttp_before_cht_days", "ttp_after_tace_days", "interval_days",
             "doubling_time_days", "sgr_percent_per_day")  # fmt: skip


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _sheet_without_groups(tmp_path: Path, rows_without: tuple[int, ...]) -> Path:
    """The committed cohort with the ``group`` cell of the given spreadsheet rows emptied."""
    with COHORT.open(newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("group")
    for row in rows_without:
        rows[row - 1][column] = ""
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _assert_equal_to_r(result: dict, reference: dict[str, str]) -> None:
    """The JSON of ``--group all`` on the committed cohort equals R's ``reference``."""
    assert result["group_column"] == "all"
    assert result["groups"] == {"all": int(reference["all.n"])}
    for name in VARIABLES:
        row = result["variables"][name]
        assert list(row["groups"]) == ["all"]
        summary = row["groups"]["all"]
        assert summary["n"] == int(reference[f"all.{name}.n"])
        for key in ("median", "q1", "q3", "shapiro_p"):
            assert_equal_to_r(summary[key], reference, f"all.{name}.{key}")
        assert (row["p"], row["test"], row["statistic"]) == (None, "none", None)
    km = result["kaplan_meier"]
    fit = km["groups"]["all"]
    for key in ("median", "lower", "upper"):
        assert_equal_to_r(fit[key], reference, f"all.km.{key}")
    assert (fit["n"], fit["events"]) == (
        int(reference["all.km.n"]),
        int(reference["all.km.events"]),
    )
    assert (km["logrank_p"], km["logrank_chisq"], km["logrank_df"]) == (None, None, None)
    assert result["regression"]["n"] == int(reference["all.regression.n"])
    assert_equal_to_r(result["regression"]["r2"], reference, "all.regression.r2")
    for column in ("tace_immediately", "primary"):
        entry = result["counts"][column]
        for level, count in entry["table"]["all"].items():
            assert count == int(reference[f"all.counts.{column}.{level}"])
            assert_equal_to_r(
                entry["percent"]["all"][level], reference, f"all.counts.{column}.{level}.percent"
            )
        assert (entry["p"], entry["test"]) == (None, "none")
        assert entry["explanation"] == "not applicable: one group"


def test_a_spreadsheet_kept_whole_equals_r(capsys: pytest.CaptureFixture[str]) -> None:
    digest = hashlib.md5(COHORT.read_bytes(), usedforsecurity=False).hexdigest()
    assert digest == REFERENCE["md5.cohort.csv"], "re-run make_reference_all_cases.R"
    result = _json(capsys, "cohort", "tables", "--from-csv", str(COHORT), "--group", "all")
    _assert_equal_to_r(result, REFERENCE)
    said = [note for note in result["notes"] if "not applicable" in note]
    assert said == [
        "one group (all cases): the tests between groups (Mann–Whitney U, Kruskal–Wallis, "
        "log-rank, Fisher's exact, Pearson's χ²) are not applicable"
    ]


def test_a_patient_without_a_group_is_kept_in_all_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _sheet_without_groups(tmp_path, (2, 9))
    by_group = _json(capsys, "cohort", "tables", "--from-csv", str(path))
    assert sum(by_group["groups"].values()) == 32  # left out of the comparisons …
    whole = _json(capsys, "cohort", "tables", "--from-csv", str(path), "--group", "all")
    assert whole["groups"] == {"all": 34}  # … but not of the whole cohort
    assert not any("left out" in note for note in whole["notes"])
    volume = whole["variables"]["volume_before_cm3"]["groups"]["all"]
    assert_equal_to_r(volume["median"], REFERENCE, "all.volume_before_cm3.median")


def test_the_text_says_the_tests_are_not_applicable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cohort", "tables", "--from-csv", str(COHORT), "--group", "all"]) == 0
    out = capsys.readouterr().out
    assert "all cases in one group" in out
    assert "all cases (n = 34)" in out
    assert "97.0 [49.2; 157.5]" in out  # volume before TACE (R: 97 [49.175; 157.55])
    table = [line for line in out.splitlines() if "[" in line and "cm³" in line]
    assert len(table) == 2  # volume before and after TACE
    assert all(line.rstrip().endswith("not applicable") for line in table)
    assert "all cases: 677 [527; 805]  (25 events / 34)" in out
    assert "log-rank: not applicable: one group" in out
    assert "Counts of primary: all cases: lung 7 (21 %)" in out
    assert "test not applicable: one group" in out
    assert "p = —" not in out


def test_the_plots_of_all_cases_are_one_group(tmp_path: Path) -> None:
    drawn: list = []
    argv = ["cohort", "tables", "--from-csv", str(COHORT), "--group", "all", "--png",
            str(tmp_path)]  # fmt: skip
    assert main(argv, render_pdf=lambda plots, target: drawn.append(plots)) == 0
    (plots,) = drawn
    box = next(b for b in plots.boxes if b.variable == "volume_before_cm3")
    ((name, values, median, _, _),) = box.groups
    assert name == "all"
    assert len(values) == 34
    assert_equal_to_r(median, REFERENCE, "all.volume_before_cm3.median")
    assert (box.p, box.test) == (None, "")
    assert [curve.group for curve in plots.curves] == ["all"]
    assert plots.logrank_p is None
    assert [name for name, _ in plots.at_risk] == ["all"]
    assert plots.at_risk[0][1][0] == 34  # every patient at risk at day 0


def test_the_registry_kept_whole(services, capsys: pytest.CaptureFixture[str]) -> None:
    seed_registry(services)
    services.close()
    base = ["--data-dir", str(services.settings.data_dir), "cohort", "tables"]
    by_sequence = _json(capsys, *base, "--group", "tace_sequence")
    assert by_sequence["groups"] == {"after_chemotherapy": 1, "immediate": 1}
    result = _json(capsys, *base, "--group", "all")
    assert result["group_column"] == "all"
    assert result["groups"] == {"all": 2}
    volume = result["variables"]["volume_before_cm3"]["groups"]["all"]
    assert volume["n"] == 2
    assert volume["median"] == pytest.approx((12.5 + 3.0 + 13.5 + 3.0) / 2)  # F1 + F2, 2 cases
    assert result["variables"]["volume_before_cm3"]["p"] is None
    assert result["counts"]["primary"]["explanation"] == "not applicable: one group"
    assert any("one group (all cases)" in note for note in result["notes"])
    assert main([*base, "--group", "all"]) == 0
    assert "log-rank: not applicable: one group" in capsys.readouterr().out


def test_the_registry_rows_of_all_cases(services) -> None:
    from tace_planner.services.export.cohort_registry import GROUPINGS, registry_cohort

    seed_registry(services)
    data = registry_cohort(services, "all")
    assert [row.values["group"] for row in data.rows] == ["all", "all"]
    assert {row.values["tace_sequence"] for row in data.rows} == {
        "after_chemotherapy", "immediate",
    }  # fmt: skip
    assert GROUPINGS[-1] == "all"


def test_an_unknown_grouping_names_all_among_the_choices(
    services, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_registry(services)
    services.close()
    argv = ["--data-dir", str(services.settings.data_dir), "cohort", "tables", "--group", "arm"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--group: 'arm'" in err
    assert "'all'" in err
    assert main(["cohort", "tables", "--from-csv", str(COHORT), "--group", "arm"]) == 1
    err = capsys.readouterr().err.strip()
    assert "column arm: no such column" in err
    assert "or all: every patient in one group" in err


@pytest.mark.slow
def test_the_tables_equal_a_fresh_r_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With R 4.2 on PATH: re-run the R script; the command equals the fresh values as it
    equals the committed ones (test_a_spreadsheet_kept_whole_equals_r)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not on PATH; using reference_all_cases.csv")
    probe = subprocess.run([rscript, "-e", "library(survival); cat(R.version.string)"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if probe.returncode != 0 or not probe.stdout.startswith("R version 4.2."):
        pytest.skip(f"the fixtures pin R 4.2 with survival; found {probe.stdout or 'none'}")
    out = tmp_path / "reference.csv"
    subprocess.run([rscript, "make_reference_all_cases.R", str(out)], cwd=FOLDER, check=True,
                   capture_output=True)  # fmt: skip
    fresh = read_reference(out)
    assert fresh.keys() == REFERENCE.keys()
    assert fresh["md5.cohort.csv"] == REFERENCE["md5.cohort.csv"]
    result = _json(capsys, "cohort", "tables", "--from-csv", str(COHORT), "--group", "all")
    _assert_equal_to_r(result, fresh)


def test_the_service_keeps_a_spreadsheet_whole() -> None:
    from tace_planner.domain.vocabulary import ALL_CASES
    from tace_planner.services.cohort import cohort_tables_from_csv

    tables = cohort_tables_from_csv(COHORT, ALL_CASES)
    assert tables.group_column == ALL_CASES
    assert dict(tables.group_sizes) == {ALL_CASES: 34}
    assert set(tables.counts) == {"tace_immediately", "primary"}
    assert tables.survival.logrank is None
    assert tables.survival.notes == ()  # nobody left out of the Kaplan–Meier: all have TTP
