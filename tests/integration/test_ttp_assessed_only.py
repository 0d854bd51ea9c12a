"""Time to progression from the database: imaging linked but never assessed does not
censor (Llovet et al., J Natl Cancer Inst 2008); a case with no assessed follow-up has no
TTP — the CLI, the exported record and the cohort Kaplan–Meier all say so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tace_planner.cli import main
from tace_planner.services.cohort import cohort_tables
from tace_planner.services.cohort_csv import CohortData, CohortRow
from tace_planner.services.export.cohort_registry import registry_cohort
from tace_planner.services.export.records import gather_case
from ttp_seed import assess, imaged_case

pytestmark = pytest.mark.db

NOT_EVALUABLE = "not evaluable: no follow-up assessed"
RESULT_KEYS = {"label", "scope", "start_on", "days", "event", "censored", "end_on",
               "explanation"}  # fmt: skip


def _ttp_cli(data_dir: Path, case: int, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code = main(["--data-dir", str(data_dir), "--user", "dr cli", "ttp", "--case", str(case),
                 *extra])  # fmt: skip
    assert code == 0
    return capsys.readouterr().out


def _anywhere(lines: str) -> str:
    return next(line for line in lines.splitlines() if "after TACE 1, progression anywhere" in line)


def test_only_follow_up_1_assessed_is_censored_at_day_56(
    services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    case, (fu1, _, _) = imaged_case(services)
    assess(services, case, fu1)
    folder = services.settings.data_dir
    assert _anywhere(_ttp_cli(folder, case, capsys)).endswith(": 56 days, censored")
    data = json.loads(_ttp_cli(folder, case, capsys, "--json"))
    assert set(data) == {"case_pk", "rule", "after_therapy", "after_tace", "groups"}
    [first] = [r for r in data["after_tace"] if r["scope"] == "anywhere"]
    assert set(first) == RESULT_KEYS  # the JSON contract is kept; only the values change
    assert (first["days"], first["censored"], first["end_on"]) == (56, True, "2026-03-02")
    record = gather_case(services, case)
    assert (record.case["ttp_after_tace_days"], record.case["progression_event"]) == (56, 0)


def test_no_follow_up_assessed_has_no_ttp_anywhere_it_is_shown(
    services: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    case, _ = imaged_case(services)
    folder = services.settings.data_dir
    assert _anywhere(_ttp_cli(folder, case, capsys)).endswith(f": {NOT_EVALUABLE}")
    data = json.loads(_ttp_cli(folder, case, capsys, "--json"))
    [first] = [r for r in data["after_tace"] if r["scope"] == "anywhere"]
    assert (first["days"], first["event"], first["censored"]) == (None, False, False)
    assert first["explanation"]["result"] == NOT_EVALUABLE
    record = gather_case(services, case)  # exported as missing, not as 0 or censored
    assert (record.case["ttp_after_tace_days"], record.case["progression_event"]) == (None, None)
    # the case report's rows say why there are no days
    notes = {r["note"] for r in record.ttp if r["after"] == "tace" and r["days"] is None}
    assert notes == {NOT_EVALUABLE}


def test_cohort_kaplan_meier_leaves_out_the_unassessed_case_with_the_reason(
    services: Any,
) -> None:
    read, (fu1, _, _) = imaged_case(services, "R1")
    unread, (later, _, _) = imaged_case(services, "R2")
    assess(services, read, fu1)
    for case in (read, unread):
        services.therapy.set_case_attributes(case, tace_sequence="immediate")
    tables = cohort_tables(registry_cohort(services, "tace_sequence"), "group")
    fit = tables.survival.groups["immediate"]
    assert (fit.n, fit.events) == (1, 0)  # the read case only, censored at day 56
    assert tables.survival.notes == (
        f"immediate: 1 patient(s) left out of the Kaplan–Meier: time to progression after "
        f"TACE {NOT_EVALUABLE}",
    )
    assess(services, unread, later)  # its follow-up 1 read at last
    tables = cohort_tables(registry_cohort(services, "tace_sequence"), "group")
    assert tables.survival.groups["immediate"].n == 2
    assert tables.survival.notes == ()


def test_a_spreadsheet_without_ttp_is_not_called_not_evaluable() -> None:
    read = {"group": "a", "ttp_after_tace_days": 90.0, "progression_event": 1.0}
    empty = {**read, "ttp_after_tace_days": None, "progression_event": None, "n_procedures": 2.0}
    columns = ("group", "ttp_after_tace_days", "progression_event")
    data = CohortData("cohort.csv", columns, (CohortRow(2, read), CohortRow(3, empty)), ())
    (note,) = cohort_tables(data, "group").survival.notes
    assert note.startswith("a: 1 patient(s) left out of the Kaplan–Meier: no ttp_after_tace_days")
    assert "not evaluable" not in note
