"""Revision 0006 creates its triggers with the keyword the PostgreSQL server knows.

PostgreSQL 10 accepts only ``EXECUTE PROCEDURE`` in CREATE TRIGGER; 11 added ``EXECUTE
FUNCTION`` (PostgreSQL 11 release notes, "CREATE TRIGGER ... EXECUTE FUNCTION"). The
revision is run here against a recording stand-in for Alembic's ``op`` so that the SQL it
would send to a server of each version can be read without one.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

import tace_planner.store.migrations as migrations

REVISION = Path(migrations.__file__).parent / "versions" / "0006_signed_records_on_postgresql.py"


def _revision():
    spec = importlib.util.spec_from_file_location("revision_0006", REVISION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _RecordingOp:
    def __init__(self, dialect: str, version: tuple[int, ...] | None) -> None:
        self.sent: list[str] = []
        self._bind = SimpleNamespace(
            dialect=SimpleNamespace(name=dialect, server_version_info=version)
        )

    def get_bind(self):
        return self._bind

    def execute(self, sql: str) -> None:
        self.sent.append(sql)


def _triggers(sent: list[str]) -> list[str]:
    return [sql for sql in sent if sql.startswith("CREATE TRIGGER")]


@pytest.mark.parametrize(
    ("version", "keyword"),
    [((10, 23), "PROCEDURE"), ((11, 0), "FUNCTION"), ((15, 4), "FUNCTION"), ((17,), "FUNCTION")],
)
def test_the_trigger_keyword_follows_the_server_version(monkeypatch, version, keyword):
    revision = _revision()
    recording = _RecordingOp("postgresql", version)
    monkeypatch.setattr(revision, "op", recording)
    revision.upgrade()
    triggers = _triggers(recording.sent)
    assert len(triggers) == 2
    for sql in triggers:
        assert f"FOR EACH ROW EXECUTE {keyword} procedure_revision_signed_refused()" in sql
    other = "FUNCTION" if keyword == "PROCEDURE" else "PROCEDURE"
    assert not any(f"EXECUTE {other}" in sql for sql in triggers)


def test_sqlite_gets_no_trigger_from_this_revision(monkeypatch):
    revision = _revision()
    recording = _RecordingOp("sqlite", (3, 45))
    monkeypatch.setattr(revision, "op", recording)
    revision.upgrade()
    assert recording.sent == []
