"""A database made by the previous release (revision 0002) upgrades to the procedure log.

The file holds a patient, a case, its baseline measurements and an approved plan (the
plan row as the previous release wrote it) at revision 0002 (written at head, then
downgraded, so the test does not depend on the models of 0002), then is upgraded to
head: every row survives, the plan still counts as planned in the course, and procedures
can be logged and signed on it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select

from planning_seed import PATIENT_INPUTS, seed_case
from tace_planner.services.planning import PlanningService
from tace_planner.services.procedures import ProcedureService
from tace_planner.store.db import make_engine, make_session_factory, sqlite_url_for
from tace_planner.store.models import TreatmentPlanRow
from tace_planner.store.upgrade import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade_to_head,
)

pytestmark = pytest.mark.db

PLAN_COLUMNS = (
    "plan_version", "status", "model", "inputs", "parameters", "results", "warnings",
    "overrides", "explanation", "created_at", "created_by", "approved_at", "approved_by",
)  # fmt: skip
OLD_TABLES = (
    "patient", "treatment_case", "timepoint", "study", "series", "lesion", "segmentation",
    "measurement", "clinical_inputs", "treatment_plan", "audit_event",
)  # fmt: skip


def _approved_plan_row(services: Any) -> dict[str, Any]:
    """An approved plan made by the planning service, as column values."""
    planning = PlanningService(services.session_factory, "dr old", protocol=services.protocol)
    case_pk = seed_case(services, patient_id="SRC")
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    draft = planning.save_plan(planning.propose(case_pk))
    planning.approve(draft.pk, [a.code for a in planning.warnings_to_acknowledge(draft.pk)])
    with services.session_factory() as session:
        row = session.get(TreatmentPlanRow, draft.pk)
        return {name: getattr(row, name) for name in PLAN_COLUMNS}


def _counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {
            t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in OLD_TABLES
        }
    finally:
        connection.close()


def test_a_0002_database_upgrades_and_keeps_every_row(services: Any, tmp_path: Path) -> None:
    plan_values = _approved_plan_row(services)
    path = tmp_path / "old" / "tace-planner.sqlite"
    engine = make_engine(sqlite_url_for(path))
    try:
        cfg = alembic_config()
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
        # The rows are written with today's models, then the schema is taken down to 0002
        # (later tables and columns dropped, these rows kept): a file as 0002 left it.
        factory = make_session_factory(engine)
        case_pk = seed_case(SimpleNamespace(session_factory=factory), patient_id="OLD")
        with factory() as session:
            session.add(TreatmentPlanRow(case_pk=case_pk, **plan_values))
            session.commit()
        downgrade(engine, "0002")
        assert current_revision(engine) == "0002"
        connection = sqlite3.connect(path)
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        connection.close()
        assert "procedure" not in tables
        before = _counts(path)

        result = upgrade_to_head(engine)

        assert (result.from_revision, result.to_revision) == ("0002", head_revision())
        assert result.backup_path is not None
        assert result.backup_path.is_file()
        assert _counts(path) == before
        with factory() as session:
            plan = session.scalars(select(TreatmentPlanRow)).one()
            assert {n: getattr(plan, n) for n in PLAN_COLUMNS} == plan_values
            plan_pk = plan.id
        planning = PlanningService(factory, "dr new", protocol=services.protocol)
        course = planning.course_history(case_pk)
        assert course.delivered_mg == 0.0
        assert course.planned_mg == pytest.approx(200.0)
        procedures = ProcedureService(
            factory, "dr new", clock=lambda: dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
        )
        item = procedures.log(
            case_pk,
            {"performed_on": "2026-03-16", "operator": "Dr A", "lot": "L", "expiry": "2027-01-01",
             "endpoint": "near-stasis", "delivered_fraction": 0.25, "lidocaine_mg": 40},
            plan_pk=plan_pk,
        )  # fmt: skip
        procedures.sign(item.pk)
        course = planning.course_history(case_pk)
        # 25 % of the two vials (100 + 0 mg), injected in order = half of vial 1 = 50 mg
        assert course.delivered_mg == pytest.approx(50.0)
        assert course.planned_mg == pytest.approx(100.0)
        connection = sqlite3.connect(path)
        triggers = {r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}  # fmt: skip
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        connection.close()
        assert triggers == {
            "procedure_revision_signed_no_update",
            "procedure_revision_signed_no_delete",
        }
    finally:
        engine.dispose()
