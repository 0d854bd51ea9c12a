"""Store on a real SQLite file: migrations, drift, pragmas, backups, units of work."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, String, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import ConcurrentEditError, StoreError
from tace_planner.store.audit import json_safe, row_snapshot
from tace_planner.store.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    make_engine,
    make_session_factory,
    sqlite_file_of,
    sqlite_url_for,
)
from tace_planner.store.models import (
    AuditEventRow,
    Base,
    CaseRow,
    InstanceRow,
    PatientRow,
    SeriesRow,
    StudyRow,
)
from tace_planner.store.repositories import (
    existing_sop_uids,
    find_series,
    find_study,
    get_or_create_patient,
    list_patients_with_cases,
)
from tace_planner.store.unit_of_work import UnitOfWork
from tace_planner.store.upgrade import (
    current_revision,
    downgrade,
    head_revision,
    upgrade_to_head,
)

pytestmark = pytest.mark.db

APP_TABLES = set(Base.metadata.tables)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    # A folder that does not exist yet: make_engine must create it.
    return tmp_path / "data" / "tace.sqlite"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = make_engine(sqlite_url_for(db_path))
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    upgrade_to_head(engine)
    return engine


@pytest.fixture
def session_factory(migrated: Engine) -> sessionmaker[Session]:
    return make_session_factory(migrated)


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def add_patient_with_case(
    session_factory: sessionmaker[Session], title: str = "NET liver metastases"
) -> int:
    with UnitOfWork(session_factory, user="dr test") as uow:
        patient = PatientRow(patient_id="P1", issuer="", name="Doe^Jane")
        case = CaseRow(patient=patient, title=title)
        uow.session.add(case)
        uow.commit()
        return case.id


# --- migrations ---------------------------------------------------------------------


def test_empty_database_goes_to_head_down_to_base_and_up_again(
    engine: Engine, db_path: Path, tmp_path: Path
) -> None:
    head = head_revision()
    assert current_revision(engine) is None

    first = upgrade_to_head(engine)

    assert db_path.is_file()
    assert (first.from_revision, first.to_revision, first.backup_path) == (None, head, None)
    assert current_revision(engine) == head
    assert table_names(engine) == APP_TABLES | {"alembic_version"}

    downgrade(engine, "base")

    assert current_revision(engine) is None
    assert table_names(engine) == {"alembic_version"}

    again = upgrade_to_head(engine, backup_dir=tmp_path / "backups")

    assert again.to_revision == head
    assert current_revision(engine) == head
    assert table_names(engine) == APP_TABLES | {"alembic_version"}


def test_upgrade_at_head_does_nothing(migrated: Engine, db_path: Path) -> None:
    result = upgrade_to_head(migrated)

    assert result.from_revision == result.to_revision == head_revision()
    assert result.backup_path is None
    assert not list(db_path.parent.glob("*.bak.sqlite"))


def test_migrations_match_the_models(migrated: Engine) -> None:
    with migrated.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_drift_check_sees_a_changed_column_type(migrated: Engine) -> None:
    # Guards the test above against comparing nothing: a shorter patient name must show.
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["patient"].c["name"].type = String(100)

    with migrated.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), changed)

    assert [diff[0][0] for diff in differences] == ["modify_type"]


def test_sqlite_connections_have_wal_foreign_keys_and_busy_timeout(migrated: Engine) -> None:
    with migrated.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS


def test_foreign_keys_are_enforced_and_cascade(session_factory: sessionmaker[Session]) -> None:
    case_id = add_patient_with_case(session_factory)

    with session_factory() as session:
        session.add(CaseRow(patient_pk=9999, title="orphan"))
        with pytest.raises(IntegrityError):
            session.flush()

    with session_factory() as session:
        session.execute(text("DELETE FROM patient"))
        session.commit()
        assert session.get(CaseRow, case_id) is None


def test_older_database_is_backed_up_before_upgrading(
    engine: Engine, db_path: Path, tmp_path: Path
) -> None:
    upgrade_to_head(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE keepme (note TEXT)")
        connection.exec_driver_sql("INSERT INTO keepme VALUES ('saved before the upgrade')")
    downgrade(engine, "base")
    backup_dir = tmp_path / "backups"

    result = upgrade_to_head(engine, backup_dir=backup_dir)

    assert result.from_revision is None
    assert result.to_revision == head_revision()
    assert result.backup_path is not None
    assert result.backup_path.parent == backup_dir
    assert result.backup_path.name.startswith("tace.base.")
    assert result.backup_path.name.endswith(".bak.sqlite")
    copy = sqlite3.connect(result.backup_path)
    try:
        rows = copy.execute("SELECT note FROM keepme").fetchall()
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    finally:
        copy.close()
    assert rows == [("saved before the upgrade",)]
    assert "patient" not in tables  # the copy is the database as it was before
    assert table_names(engine) >= APP_TABLES


def test_backup_goes_beside_the_database_by_default(engine: Engine, db_path: Path) -> None:
    upgrade_to_head(engine)
    downgrade(engine, "base")

    result = upgrade_to_head(engine)

    assert result.backup_path is not None
    assert result.backup_path.parent == db_path.parent


def test_database_from_a_newer_app_is_refused_untouched(db_path: Path) -> None:
    engine = make_engine(sqlite_url_for(db_path))
    upgrade_to_head(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffffffff'")
    engine.dispose()  # the last connection checkpoints the WAL into the file
    before = db_path.read_bytes()

    engine = make_engine(sqlite_url_for(db_path))
    try:
        with pytest.raises(StoreError, match="ffffffff"):
            upgrade_to_head(engine)
    finally:
        engine.dispose()

    assert db_path.read_bytes() == before
    assert not list(db_path.parent.glob("*.bak.sqlite"))


def test_failed_upgrade_is_rolled_back_and_names_the_backup(engine: Engine) -> None:
    # audit_event is created last by 0001: every table before it must be rolled back.
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE audit_event (id INTEGER PRIMARY KEY)")

    with pytest.raises(StoreError, match=r"\.bak\.sqlite") as caught:
        upgrade_to_head(engine)

    assert "audit_event" in str(caught.value)
    assert table_names(engine) == {"audit_event"}
    assert current_revision(engine) is None
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_url_round_trips_awkward_file_names(tmp_path: Path) -> None:
    path = tmp_path / "odd #1 ?name% é.sqlite"

    assert sqlite_file_of(sqlite_url_for(path)) == path.resolve()
    assert sqlite_file_of("sqlite://") is None
    assert sqlite_file_of("postgresql+psycopg://u@host/tace") is None


# --- audit snapshots -----------------------------------------------------------------


def test_json_safe_converts_dates_bytes_and_non_finite_floats() -> None:
    value = {
        "on": dt.date(2024, 3, 1),
        "at": dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.UTC),
        "mask": b"\x00\x01\x02",
        "nested": [float("nan"), 1.5, (1, 2)],
    }

    safe = json_safe(value)

    assert safe["on"] == "2024-03-01"
    assert safe["at"] == "2024-03-01T08:30:00+00:00"
    assert safe["mask"]["bytes"] == 3
    assert len(safe["mask"]["sha256"]) == 16
    assert safe["nested"] == ["nan", 1.5, [1, 2]]


def test_row_snapshot_has_every_column(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        patient = PatientRow(patient_id="P9", issuer="HOSP", birth_on=dt.date(1960, 5, 4))
        session.add(patient)
        session.flush()

        snapshot = row_snapshot(patient)

    assert set(snapshot) == {c.key for c in inspect(PatientRow).column_attrs}
    assert snapshot["birth_on"] == "1960-05-04"
    assert snapshot["version"] == 1
    assert isinstance(snapshot["created_at"], str)


# --- unit of work --------------------------------------------------------------------


def test_write_with_audit_leaves_one_event_with_before_and_after(
    session_factory: sessionmaker[Session],
) -> None:
    case_id = add_patient_with_case(session_factory, title="before")

    with UnitOfWork(session_factory, user="dr x") as uow:
        case = uow.session.get_one(CaseRow, case_id)
        before = row_snapshot(case)
        case.title = "after"
        uow.audit(action="rename", entity_pk=case, before=before, after=case, summary="title")
        uow.commit()

    with session_factory() as session:
        events = session.scalars(select(AuditEventRow)).all()
    assert len(events) == 1
    (event,) = events
    assert (event.user, event.action, event.entity) == ("dr x", "rename", "treatment_case")
    assert event.entity_pk == case_id
    assert event.before is not None
    assert event.after is not None
    assert (event.before["title"], event.after["title"]) == ("before", "after")
    assert (event.before["version"], event.after["version"]) == (1, 2)
    assert event.summary == "title"


def test_audit_of_a_new_row_gets_its_id(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory, user="dr x") as uow:
        patient = PatientRow(patient_id="P2", issuer="")
        uow.session.add(patient)
        event = uow.audit(action="create", entity="patient", entity_pk=patient, after=patient)
        assert patient.id is not None
        assert event.entity_pk == patient.id
        uow.commit()


def test_exception_in_the_block_rolls_back_row_and_audit(
    session_factory: sessionmaker[Session],
) -> None:
    def create_then_fail() -> None:
        with UnitOfWork(session_factory, user="x") as uow:
            patient = PatientRow(patient_id="P3", issuer="")
            uow.session.add(patient)
            uow.audit(action="create", entity_pk=patient, after={"on": dt.date(2024, 1, 2)})
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        create_then_fail()

    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(PatientRow)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEventRow)) == 0


def test_leaving_without_commit_saves_nothing(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory, user="x") as uow:
        uow.session.add(PatientRow(patient_id="P4", issuer=""))
        uow.audit(action="create", entity="patient", entity_pk=1)

    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(PatientRow)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEventRow)) == 0


def test_stale_version_raises_concurrent_edit(session_factory: sessionmaker[Session]) -> None:
    case_id = add_patient_with_case(session_factory, title="original")

    with (
        UnitOfWork(session_factory, user="workstation a") as first,
        UnitOfWork(session_factory, user="workstation b") as second,
    ):
        case_a = first.session.get_one(CaseRow, case_id)
        case_b = second.session.get_one(CaseRow, case_id)
        case_a.title = "edited on a"
        case_b.title = "edited on b"
        first.commit()
        with pytest.raises(ConcurrentEditError, match="another workstation"):
            second.commit()

    with session_factory() as session:
        saved = session.get_one(CaseRow, case_id)
        assert (saved.title, saved.version) == ("edited on a", 2)


def test_stale_version_at_autoflush_raises_concurrent_edit(
    session_factory: sessionmaker[Session],
) -> None:
    case_id = add_patient_with_case(session_factory)
    with UnitOfWork(session_factory, user="a") as first:
        first.session.get_one(CaseRow, case_id).notes = "a"
        first.commit()

    def edit_after_another_workstation() -> None:
        with UnitOfWork(session_factory, user="b") as second:
            case = second.session.get_one(CaseRow, case_id)
            with session_factory() as other:  # another workstation, between read and write
                other.get_one(CaseRow, case_id).notes = "other"
                other.commit()
            case.notes = "b"
            second.session.scalars(select(PatientRow)).all()  # autoflush inside the block

    with pytest.raises(ConcurrentEditError):
        edit_after_another_workstation()


def test_unit_of_work_session_only_inside_the_block(
    session_factory: sessionmaker[Session],
) -> None:
    uow = UnitOfWork(session_factory, user="x")

    with pytest.raises(StoreError):
        _ = uow.session


# --- repositories --------------------------------------------------------------------


def test_get_or_create_patient_creates_once(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory, user="x") as uow:
        created, was_created = get_or_create_patient(uow.session, "P5", "", name="Roe^Ann")
        again, created_again = get_or_create_patient(uow.session, "P5", "", name="ignored")
        other, other_created = get_or_create_patient(uow.session, "P5", "OTHER HOSPITAL")
        uow.commit()

    assert was_created
    assert created.id is not None
    assert (again, created_again) == (created, False)
    assert again.name == "Roe^Ann"
    assert other_created
    assert other.id != created.id


def test_find_study_series_and_existing_sop_uids(session_factory: sessionmaker[Session]) -> None:
    stored = [f"1.2.826.0.1.3680043.2.1125.{n}" for n in range(1200)]
    with UnitOfWork(session_factory, user="x") as uow:
        patient, _ = get_or_create_patient(uow.session, "P6", "")
        study = StudyRow(patient=patient, study_uid="1.2.3")
        series = SeriesRow(study=study, series_uid="1.2.3.4")
        series.instances = [
            InstanceRow(sop_instance_uid=uid, stored_path=f"{n}.dcm")
            for n, uid in enumerate(stored)
        ]
        uow.session.add(series)
        uow.commit()

    asked = [*stored[::2], *stored[:10], "9.9.9", "9.9.8"]
    with session_factory() as session:
        found_study = find_study(session, "1.2.3")
        found_series = find_series(session, "1.2.3.4")
        existing = existing_sop_uids(session, iter(asked))

        assert find_study(session, "0.0") is None
        assert find_series(session, "0.0") is None
        assert existing_sop_uids(session, []) == set()
    assert found_study is not None
    assert found_study.study_uid == "1.2.3"
    assert found_series is not None
    assert found_series.study_pk == found_study.id
    assert existing == set(stored[::2]) | set(stored[:10])


def test_list_patients_with_cases_includes_patients_without_one(
    session_factory: sessionmaker[Session],
) -> None:
    with UnitOfWork(session_factory, user="x") as uow:
        zed, _ = get_or_create_patient(uow.session, "P7", "", name="Zed^Z")
        get_or_create_patient(uow.session, "P8", "", name="Abe^A")
        uow.session.add_all([CaseRow(patient=zed, title="one"), CaseRow(patient=zed, title="two")])
        uow.commit()

    with session_factory() as session:
        patients = list_patients_with_cases(session)

    # read after the session closed: the cases were loaded eagerly
    assert [p.name for p in patients] == ["Abe^A", "Zed^Z"]
    assert patients[0].cases == []
    assert sorted(c.title for c in patients[1].cases) == ["one", "two"]
