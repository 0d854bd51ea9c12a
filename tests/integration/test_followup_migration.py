"""A database made by the previous release (revision 0003) upgrades to the follow-up schema.

The file holds a patient, a case with its baseline study, a signed TACE and an old-style
follow-up timepoint at revision 0003 (written at head, then downgraded), then is upgraded
to head: every row survives, the new columns read as empty, and the case can be scheduled,
matched and closed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from alembic import command

from followup_seed import add_case, add_study, clock, sign_tace
from tace_planner.services.cases import CaseService
from tace_planner.services.followups import FollowupService
from tace_planner.store.db import make_engine, make_session_factory, sqlite_url_for
from tace_planner.store.upgrade import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade_to_head,
)

pytestmark = pytest.mark.db
TABLES = ("patient", "treatment_case", "timepoint", "study", "procedure", "procedure_revision",
          "audit_event")  # fmt: skip


def _columns(path: Path, table: str) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
    finally:
        connection.close()


def _counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        connection.close()


def test_a_0003_database_upgrades_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "old" / "tace-planner.sqlite"
    engine = make_engine(sqlite_url_for(path))
    try:
        cfg = alembic_config()
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
        factory = make_session_factory(engine)
        case_pk = add_case(factory, "OLD", baseline_on=dt.date(2026, 3, 2))
        sign_tace(factory, case_pk, dt.date(2026, 3, 16))
        add_study(factory, "OLD", "1.2.OLD.1", dt.date(2026, 5, 12))
        CaseService(factory, "dr old").link_study(
            case_pk, "1.2.OLD.1", timepoint_label="follow-up 1", timepoint_kind="follow_up"
        )
        add_study(factory, "OLD", "1.2.OLD.2", dt.date(2026, 8, 14))
        downgrade(engine, "0003")
        assert current_revision(engine) == "0003"
        assert "due_on" not in _columns(path, "timepoint")
        assert "closed_on" not in _columns(path, "treatment_case")
        before = _counts(path)

        result = upgrade_to_head(engine)

        assert (result.from_revision, result.to_revision) == ("0003", head_revision())
        assert result.backup_path is not None
        assert result.backup_path.is_file()
        assert _counts(path) == before
        assert {"due_on", "window_end_on", "status", "schedule_pk"} <= _columns(path, "timepoint")
        followups = FollowupService(factory, "dr new", clock=clock(dt.date(2026, 12, 2)))
        old_style = followups.case_timepoints(case_pk)
        assert old_style == []  # the linked "follow-up 1" is not a scheduled timepoint
        scheduled = followups.sync_case(case_pk)
        assert scheduled[0].due_on == dt.date(2026, 5, 11)
        assert followups.confirm_match("1.2.OLD.2").label == "TACE 1 follow-up 2"
        followups.close_case(case_pk, "lost", dt.date(2026, 11, 30))
        connection = sqlite3.connect(path)
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        connection.close()
    finally:
        engine.dispose()
