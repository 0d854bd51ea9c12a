"""Command line: ``plan --save --approve`` and ``procedure log|sign|amend|list|show``.

The case is the phantom's baseline written as measurement rows (``planning_seed``);
every command runs through ``cli.main`` on a temporary data folder. Exit codes are
the contract: 0 ok, 1 refused with a line naming the field, 2 usage.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from planning_seed import PATIENT_INPUTS, seed_case
from tace_planner.cli import main
from tace_planner.services.bootstrap import open_services
from tace_planner.services.settings import AppSettings

pytestmark = pytest.mark.db

PLAN_KEYS = {"format", "case", "model", "product", "inputs", "options", "burden", "figures",
             "sessions", "totals", "warnings", "blocked", "explanations", "parameters",
             "course", "computed_at", "disclaimer"}  # fmt: skip


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    services = open_services(AppSettings(data_dir=folder, db_url=None, user="seed"))
    try:
        case_pk = seed_case(services)
        services.planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
        assert case_pk == 1
    finally:
        services.close()
    return folder


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--user", "dr cli", *args])


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def _approve(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = _run(data_dir, "plan", "--case", "1", "--save", "--approve", "--acknowledge-all",
                "--json")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    return _json(capsys)


def test_plan_approve_needs_every_warning_acknowledged(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(data_dir, "patient", "set", "--case", "1", "--ia-lidocaine", "no") == 0
    capsys.readouterr()
    assert _run(data_dir, "plan", "--case", "1", "--save", "--approve", "--json") == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "acknowledged_warnings" in captured.err
    assert "premedication.no_ia_lidocaine" in captured.err
    assert _run(data_dir, "plan", "--case", "1", "--approve") == 2
    plan = _approve(data_dir, capsys)
    assert set(plan) >= PLAN_KEYS
    record = plan["plan"]
    assert (record["status"], record["approved_by"]) == ("approved", "dr cli")
    assert "premedication.no_ia_lidocaine" in record["acknowledged"]
    assert {w["code"] for w in plan["warnings"] if w["severity"] in ("warning", "strong_warning")} \
        <= set(record["acknowledged"])  # fmt: skip


def test_plan_approve_with_a_contraindication_needs_its_reason(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(data_dir, "patient", "set", "--case", "1", "--ecog", "3") == 0
    capsys.readouterr()
    args = ("plan", "--case", "1", "--save", "--approve", "--acknowledge-all", "--json")
    assert _run(data_dir, *args) == 1
    error = capsys.readouterr().err
    assert "contraindication_reasons" in error
    assert "ecog.above_limit" in error
    assert _run(data_dir, *args, "--contraindication-reason", "tumour board decision") == 0
    plan = _json(capsys)
    assert plan["plan"]["contraindications_overridden"] == {
        "ecog.above_limit": "tumour board decision"
    }


def test_procedure_log_sign_amend_list_show(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _approve(data_dir, capsys)
    plan_id = str(plan["plan"]["pk"])
    log = ("procedure", "log", "--case", "1", "--from-plan", plan_id, "--session", "1",
           "--date", "2026-03-16", "--delivered-fraction", "0.3", "--lot", "L7",
           "--expiry", "2027-02-01", "--endpoint", "stasis", "--operator", "Dr A",
           "--ae", "Abdominal pain:2:1:0", "--json")  # fmt: skip
    assert _run(data_dir, *log) == 0
    logged = _json(capsys)
    assert {"procedure_id", "loaded_mg", "delivered_mg", "differences", "risk_factors"} <= set(
        logged
    )
    assert logged["loaded_mg"] == pytest.approx(100.0)
    # 30 % of the two vials (100 + 0 mg), injected in order = 60 % of vial 1 = 60 mg
    assert logged["delivered_mg"] == pytest.approx(60.0)
    assert logged["differences"] == []
    risks = {r["code"] for r in logged["risk_factors"]}
    assert risks == {"risk.complete_stasis", "risk.no_ia_lidocaine"}
    assert logged["record"]["adverse_events"][0]["cirse_grade"] == 1
    pid = str(logged["procedure_id"])
    assert _run(data_dir, "procedure", "sign", pid, "--json") == 0
    assert _json(capsys)["status"] == "signed"
    assert _run(data_dir, "procedure", "sign", pid) == 1
    assert "procedure" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:  # --reason is required
        _run(data_dir, "procedure", "amend", pid, "--delivered-fraction", "0.5")
    assert caught.value.code == 2
    capsys.readouterr()
    assert _run(data_dir, "procedure", "amend", pid, "--reason", " ", "--lidocaine-mg", "40") == 1
    assert capsys.readouterr().err.startswith("error: Amendment reason:")
    assert _run(data_dir, "procedure", "amend", pid, "--reason", "lidocaine was given",
                "--lidocaine-mg", "40", "--json") == 0  # fmt: skip
    amended = _json(capsys)
    assert (amended["status"], amended["revision"]) == ("amended", 2)
    assert "risk.no_ia_lidocaine" not in {r["code"] for r in amended["risk_factors"]}
    assert _run(data_dir, "procedure", "list", "--case", "1", "--json") == 0
    listed = _json(capsys)
    assert [(p["procedure_id"], p["status"]) for p in listed] == [(int(pid), "amended")]
    assert _run(data_dir, "procedure", "show", pid, "--revision", "1", "--json") == 0
    first = _json(capsys)
    assert first["record"]["lidocaine_mg"] is None
    assert first["is_latest"] is False
    # the next plan counts 60 mg delivered, not the 100 mg loaded
    assert _run(data_dir, "plan", "--case", "1", "--json") == 0
    course = _json(capsys)["course"]
    assert course["delivered_mg"] == pytest.approx(60.0)
    assert course["procedures"] == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (("--delivered-fraction", "1.4"), "Delivered fraction"),
        (("--date", "2026-02-01"), "Date of the procedure"),
        (("--date", "2099-01-01"), "Date of the procedure"),
        (("--expiry", "2026-03-01"), "Expiry date"),
        (("--loaded-mg", "-100"), "Irinotecan loaded (mg)"),
        (("--ae", "Pain:9"), "Adverse events"),
    ],
)
def test_procedure_log_refusals_name_the_field(
    data_dir: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], field: str
) -> None:
    base = ["procedure", "log", "--case", "1", "--date", "2026-03-16",
            "--delivered-fraction", "0.5", "--lot", "L", "--expiry", "2027-01-01"]  # fmt: skip
    for i in range(0, len(extra), 2):
        if extra[i] in base:
            base[base.index(extra[i]) + 1] = extra[i + 1]
        else:
            base += [extra[i], extra[i + 1]]
    assert _run(data_dir, *base) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {field}:")
    assert error.count("\n") == 1
    connection = sqlite3.connect(data_dir / "tace-planner.sqlite")
    try:
        assert connection.execute("SELECT count(*) FROM procedure").fetchone() == (0,)
    finally:
        connection.close()


def test_procedure_usage_errors_exit_2(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        _run(data_dir, "procedure", "log", "--case", "1", "--date", "2026-03-16")
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        _run(data_dir, "procedure", "log", "--case", "1", "--date", "16.03.2026",
             "--delivered-fraction", "0.5")  # fmt: skip
    assert caught.value.code == 2
    assert _run(data_dir, "procedure", "log", "--case", "1", "--session", "2", "--date",
                "2026-03-16", "--delivered-fraction", "0.5") == 2  # fmt: skip
