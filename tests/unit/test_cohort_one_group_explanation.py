"""With one group, each variable's JSON ``explanation`` says what the table's note says.

Seen: ``cohort tables --group all --json`` noted that the tests between groups are not
applicable (one group), while every variable's ``explanation`` still read "fewer than two
groups with values", as if values were missing."""

from __future__ import annotations

import csv
from pathlib import Path

from tace_planner.services.cohort import NOT_APPLICABLE, ONE_GROUP, cohort_tables_from_csv

COHORT = Path(__file__).resolve().parents[1] / "data" / "r_reference" / "cohort.csv"


def _sheet(tmp_path: Path, group_of: dict[str, str], emptied: str = "") -> Path:
    """The committed cohort with each patient's ``group`` set by ``group_of`` (patient →
    group; the others keep theirs) and, for the patients of group ``emptied``, the
    ``volume_before_cm3`` cells emptied."""
    with COHORT.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["group"] = group_of.get(row["patient"], row["group"])
        if emptied and row["group"] == emptied:
            row["volume_before_cm3"] = ""
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_all_cases_in_one_group_each_variable_says_not_applicable() -> None:
    result = cohort_tables_from_csv(COHORT, "all").to_json()
    assert any(note.startswith("one group (") for note in result["notes"])
    assert result["variables"]
    for name, row in result["variables"].items():
        assert (row["test"], row["p"]) == ("none", None), name
        assert row["explanation"] == NOT_APPLICABLE == "not applicable: one group", name


def test_one_named_group_says_not_applicable_two_groups_say_why_not_tested(
    tmp_path: Path,
) -> None:
    with COHORT.open(newline="") as handle:
        patients = [row["patient"] for row in csv.DictReader(handle)]
    sheet = _sheet(tmp_path, dict.fromkeys(patients, "metachronous"))
    result = cohort_tables_from_csv(sheet, "group").to_json()
    assert ONE_GROUP.format("metachronous") in result["notes"]
    explanations = {row["explanation"] for row in result["variables"].values()}
    assert explanations == {NOT_APPLICABLE}

    # two groups, one of them with no value of a variable: no test, and not "one group"
    sheet = _sheet(tmp_path, {}, emptied="synchronous")
    result = cohort_tables_from_csv(sheet, "group").to_json()
    assert len(result["groups"]) == 2
    row = result["variables"]["volume_before_cm3"]
    assert row["test"] == "none"
    assert row["explanation"] == "fewer than two groups with values"
    tested = result["variables"]["volume_after_cm3"]
    assert tested["test"] != "none"
    assert tested["explanation"] not in (NOT_APPLICABLE, "fewer than two groups with values")
