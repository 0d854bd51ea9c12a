"""`tace-planner cohort tables --from-csv` equals R 4.2 on the committed cohort, and
refuses bad spreadsheets with one line naming the file, row and column."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from r_reference import FOLDER, assert_equal_to_r, read_reference
from tace_planner.cli import main

REFERENCE = read_reference()
COHORT = FOLDER / "cohort.csv"


def _tables(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert main(["cohort", "tables", "--from-csv", str(COHORT), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("by", ["group", "tace_immediately", "primary"])
def test_variable_tables_equal_r(capsys: pytest.CaptureFixture[str], by: str) -> None:
    result = _tables(capsys, "--group", by)
    assert result["group_column"] == by
    compared = 0
    for name, row in result["variables"].items():
        prefix = f"cohort.{by}.{name}"
        for group, summary in row["groups"].items():
            assert summary["n"] == int(REFERENCE[f"{prefix}.{group}.n"])
            if summary["n"] == 0:
                assert summary["median"] is None
                continue
            for key in ("median", "q1", "q3"):
                assert_equal_to_r(summary[key], REFERENCE, f"{prefix}.{group}.{key}")
            if f"{prefix}.{group}.shapiro_p" in REFERENCE:
                assert_equal_to_r(summary["shapiro_p"], REFERENCE, f"{prefix}.{group}.shapiro_p")
            else:
                assert summary["shapiro_p"] is None
        if f"{prefix}.p" in REFERENCE:
            assert_equal_to_r(row["p"], REFERENCE, f"{prefix}.p")
            assert_equal_to_r(row["statistic"], REFERENCE, f"{prefix}.statistic")
            compared += 1
        else:
            assert row["p"] is None
            assert row["test"] == "none"
    assert compared >= 7


def test_two_groups_use_mann_whitney_and_five_kruskal_wallis(
    capsys: pytest.CaptureFixture[str],
) -> None:
    by_group = _tables(capsys)["variables"]["volume_before_cm3"]
    assert by_group["test"] == "Mann–Whitney U"
    assert by_group["statistic_name"] == "W"
    by_primary = _tables(capsys, "--group", "primary")["variables"]["volume_before_cm3"]
    assert by_primary["test"] == "Kruskal–Wallis"
    assert set(by_primary["groups"]) == {"lung", "pancreas", "rectum", "small_intestine", "unknown"}


@pytest.mark.parametrize("by", ["group", "tace_immediately", "primary"])
def test_kaplan_meier_and_log_rank_equal_r(capsys: pytest.CaptureFixture[str], by: str) -> None:
    km = _tables(capsys, "--group", by)["kaplan_meier"]
    for group, fit in km["groups"].items():
        prefix = f"cohort.{by}.km.{group}"
        for key in ("median", "lower", "upper"):
            assert_equal_to_r(fit[key], REFERENCE, f"{prefix}.{key}")
    assert_equal_to_r(km["logrank_p"], REFERENCE, f"cohort.{by}.logrank.p")
    assert_equal_to_r(km["logrank_chisq"], REFERENCE, f"cohort.{by}.logrank.chisq")


def test_regression_and_counts_equal_r(capsys: pytest.CaptureFixture[str]) -> None:
    result = _tables(capsys)
    for key in ("n", "r2", "slope", "intercept", "p"):
        assert_equal_to_r(result["regression"][key], REFERENCE, f"cohort.regression.{key}")
    counts = result["counts"]
    assert counts["tace_immediately"]["test"] == "Fisher exact"
    assert_equal_to_r(
        counts["tace_immediately"]["p"], REFERENCE, "cohort.group.counts.tace_immediately.p"
    )
    assert counts["primary"]["test"] == "Fisher exact"  # 2 groups × 5 sites, as fisher.test
    assert_equal_to_r(counts["primary"]["p"], REFERENCE, "cohort.group.counts.primary.p")
    table, percent = counts["primary"]["table"], counts["primary"]["percent"]
    for group, cells in table.items():
        n = counts["primary"]["n"][group]
        assert n == sum(cells.values())
        for level, count in cells.items():
            assert percent[group][level] == pytest.approx(100 * count / n)


def test_doubling_time_is_computed_where_the_sheet_leaves_it_empty() -> None:
    from tace_planner.services.cohort_csv import read_cohort_csv

    data = read_cohort_csv(COHORT)
    for row in data.rows:
        patient = row.text("patient")
        for column in ("doubling_time_days", "sgr_percent_per_day"):
            assert_equal_to_r(row.number(column), REFERENCE, f"cohort.row.{patient}.{column}")
    assert any("P08" in note and "undefined" in note for note in data.notes)


def test_text_table_names_the_tests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cohort", "tables", "--from-csv", str(COHORT)]) == 0
    out = capsys.readouterr().out
    assert "102.9 [62.6; 201.5]" in out  # volume before TACE, metachronous (R: 102.95 …)
    assert "Mann–Whitney U test, exact distribution" in out
    assert "log-rank" in out


def test_without_a_csv_an_empty_registry_says_no_case_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cohort", "tables", "--json"]) == 1
    err = capsys.readouterr().err
    assert "no case of the registry matches" in err
    assert len(err.strip().splitlines()) == 1


def _write(tmp_path: Path, edit) -> Path:
    with COHORT.open(newline="") as handle:
        rows = list(csv.reader(handle))
    edit(rows)
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _set(row: int, column: str, value: str):
    def edit(rows: list[list[str]]) -> None:
        rows[row - 1][rows[0].index(column)] = value

    return edit


def _drop_column(column: str):
    def edit(rows: list[list[str]]) -> None:
        index = rows[0].index(column)
        for row in rows:
            del row[index]

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_set(5, "volume_after_cm3", "12,3x"), "row 5, column volume_after_cm3: '12,3x' is not"),
        (_set(7, "progression_event", "maybe"), "row 7, column progression_event"),
        (_set(3, "ttp_after_tace_days", "-4"), "row 3, column ttp_after_tace_days"),
        (_set(9, "patient", "P01"), "row 9, column patient: 'P01' already on row 2"),
        (_set(4, "tace_immediately", "later"), "row 4, column tace_immediately"),
        (_drop_column("interval_days"), "row 1, column interval_days: missing"),
    ],
)
def test_bad_cells_give_one_line_with_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit, expected: str
) -> None:
    path = _write(tmp_path, edit)
    assert main(["cohort", "tables", "--from-csv", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {path}: ")
    assert expected in err
    assert "Traceback" not in err


def test_unknown_group_column_and_missing_file_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cohort", "tables", "--from-csv", str(COHORT), "--group", "arm"]) == 1
    assert "column arm: no such column" in capsys.readouterr().err
    missing = tmp_path / "nope.csv"
    assert main(["cohort", "tables", "--from-csv", str(missing)]) == 1
    assert f"{missing}: no such file" in capsys.readouterr().err
    assert main(["cohort", "tables", "--from-csv", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_a_binary_file_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"\xff\xfe\x00patient\x00")
    run = subprocess.run(
        [sys.executable, "-m", "tace_planner", "cohort", "tables", "--from-csv", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "not UTF-8" in run.stderr
    assert "Traceback" not in run.stderr


def test_semicolon_sheet_with_decimal_commas_reads_the_same(tmp_path: Path) -> None:
    from tace_planner.services.cohort_csv import read_cohort_csv

    with COHORT.open(newline="") as handle:
        rows = list(csv.reader(handle))
    path = tmp_path / "excel.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(rows[0])
        writer.writerows([[cell.replace(".", ",") for cell in row] for row in rows[1:]])
    original, excel = read_cohort_csv(COHORT), read_cohort_csv(path)
    assert [r.values for r in excel.rows] == [r.values for r in original.rows]


def test_a_patient_without_a_group_is_left_out_of_comparisons_but_not_the_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, _set(2, "group", ""))
    assert main(["cohort", "tables", "--from-csv", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert sum(result["groups"].values()) == 33
    assert any("without a value in 'group'" in note for note in result["notes"])
    assert_equal_to_r(result["regression"]["r2"], REFERENCE, "cohort.regression.r2")


def test_png_plots_from_the_spreadsheet(tmp_path: Path) -> None:
    import os

    pytest.importorskip("PySide6")  # the plots are drawn with Qt (the GUI extra)

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    argv = [sys.executable, "-m", "tace_planner", "cohort", "tables", "--from-csv", str(COHORT)]
    done = subprocess.run(
        [*argv, "--png", str(tmp_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["box_strip.png", "kaplan_meier.png", "regression.png"]
    assert all(p.stat().st_size > 1000 for p in tmp_path.glob("*.png"))


def test_pdf_plots_from_the_spreadsheet_one_per_page(tmp_path: Path) -> None:
    import os
    import re

    pytest.importorskip("PySide6")  # the plots are drawn with Qt (the GUI extra)

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    argv = [sys.executable, "-m", "tace_planner", "cohort", "tables", "--from-csv", str(COHORT)]
    pdf = tmp_path / "plots.pdf"
    done = subprocess.run(
        [*argv, "--pdf", str(pdf)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    # a box plot per variable (8), Kaplan–Meier and the regression; no waterfall without
    # follow-up measurements (a spreadsheet has none)
    assert pages == 10


def test_a_spreadsheet_with_best_changes_gets_the_waterfalls(tmp_path: Path) -> None:
    import os

    pytest.importorskip("PySide6")  # the plots are drawn with Qt (the GUI extra)

    lines = COHORT.read_text(encoding="utf-8").splitlines()
    rows = [lines[0] + ",best_diameter_sum_change_percent,best_volume_change_percent"]
    rows += [f"{line},{-40 + 7 * k},{-70 + 11 * k}" for k, line in enumerate(lines[1:])]
    sheet = tmp_path / "cohort.csv"
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    argv = [sys.executable, "-m", "tace_planner", "cohort", "tables", "--from-csv", str(sheet)]
    out = tmp_path / "png"
    out.mkdir()
    done = subprocess.run(
        [*argv, "--png", str(out)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.glob("*.png"))
    assert "waterfall_diameters.png" in names
    assert "waterfall_volume.png" in names


def test_pdf_needs_a_pdf_name_and_keeps_other_files(tmp_path: Path, capsys) -> None:
    argv = ["cohort", "tables", "--from-csv", str(COHORT), "--pdf"]
    assert main([*argv, str(tmp_path / "plots.png")]) == 1
    assert "ending in .pdf" in capsys.readouterr().err
    notes = tmp_path / "notes.pdf"
    notes.write_text("my notes", encoding="utf-8")
    assert main([*argv, str(notes)]) == 1
    err = capsys.readouterr().err
    assert "not a PDF" in err
    assert len(err.strip().splitlines()) == 1
    assert notes.read_text(encoding="utf-8") == "my notes"


def test_png_needs_an_existing_folder(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    assert main(["cohort", "tables", "--from-csv", str(COHORT), "--png", str(missing)]) == 1
    assert "no such folder" in capsys.readouterr().err


def _add_columns(**columns):
    """Append columns; each value is a function of the (0-based) patient row index."""

    def edit(rows: list[list[str]]) -> None:
        rows[0].extend(columns)
        for index, row in enumerate(rows[1:]):
            row.extend(make(index) for make in columns.values())

    return edit


RESPONSES = ("CR", "PR", "SD", "PD", "NE", "")
GRADES = ("none", "0", "1", "2", "3", "NA")


def test_treatment_and_response_columns_are_read_when_present(tmp_path: Path, capsys) -> None:
    edit = _add_columns(
        burden_percent=lambda i: f"{5 + i % 7}",
        diameter_sum_before_mm=lambda i: f"{40 + i}",
        diameter_sum_after_mm=lambda i: "" if i == 0 else f"{30 + i}",
        delivered_irinotecan_mg=lambda i: f"{100 * (1 + i % 3)}",
        n_procedures=lambda i: f"{1 + i % 3}",
        best_response=lambda i: RESPONSES[i % 6].lower(),
        worst_ae_grade=lambda i: GRADES[i % 6],
    )
    from tace_planner.services.cohort_csv import read_cohort_csv

    path = _write(tmp_path, edit)
    data = read_cohort_csv(path)
    first, second = data.rows[0], data.rows[1]
    assert first.number("diameter_sum_change_percent") is None  # after missing: stays missing
    assert second.number("diameter_sum_change_percent") == pytest.approx((31 - 41) / 41 * 100)
    assert second.text("best_response") == "PR"
    assert first.text("worst_ae_grade") == "none"
    assert data.rows[1].text("worst_ae_grade") == "none"  # 0 is no adverse event
    assert data.rows[5].text("worst_ae_grade") is None
    assert main(["cohort", "tables", "--from-csv", str(path), "--json"]) == 0
    tables = json.loads(capsys.readouterr().out)
    for name in ("burden_percent", "diameter_sum_before_mm", "diameter_sum_change_percent",
                 "delivered_irinotecan_mg", "n_procedures"):  # fmt: skip
        assert tables["variables"][name]["test"] in ("Mann–Whitney U", "Kruskal–Wallis")
    counts = tables["counts"]["best_response"]
    assert counts["levels"] == ["CR", "PR", "SD", "PD", "NE"]
    groups = tables["groups"]
    assert sum(counts["n"].values()) + sum(counts["missing"].values()) == sum(groups.values())
    assert tables["counts"]["worst_ae_grade"]["levels"][0] == "none"


def test_a_sheet_without_the_optional_columns_keeps_its_tables(capsys) -> None:
    result = _tables(capsys)
    assert "burden_percent" not in result["variables"]
    assert set(result["counts"]) == {"tace_immediately", "primary"}


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("best_response", "iCR", "column best_response: 'iCR': write one of CR, PR"),
        ("worst_ae_grade", "6", "column worst_ae_grade: '6': write one of none, 1"),
        ("n_procedures", "1.5", "column n_procedures: 1.5 is not a whole number"),
        ("delivered_irinotecan_mg", "-100", "column delivered_irinotecan_mg: -100 must not be"),
    ],
)
def test_bad_optional_cells_are_named(tmp_path: Path, capsys, column, value, expected) -> None:
    path = _write(tmp_path, _add_columns(**{column: lambda i: value if i == 2 else ""}))
    assert main(["cohort", "tables", "--from-csv", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"row 4, {expected}" in err
    assert err.count("\n") == 1
