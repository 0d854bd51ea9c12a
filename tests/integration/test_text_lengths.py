"""Text longer than its column is refused in one line naming the field, on every database.

PostgreSQL refuses a value longer than its VARCHAR(n) ("unexpected DataError: value too long
for type character varying(200)" for a 300-character case title or drug on a department
server) where SQLite stored it silently: both now refuse it before anything is written.
Run with ``TACE_TEST_POSTGRES`` (tests/conftest.py) for the department's database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tace_planner.cli import main

pytestmark = [pytest.mark.db]


def _run(data_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), *args])
    return code, capsys.readouterr().err


@pytest.fixture
def patient_case(demo_data_dir: Path, tmp_path: Path) -> tuple[Path, int]:
    import shutil

    from tests.conftest import make_services

    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    services = make_services(data_dir)
    try:
        return data_dir, services.cases.list_cases()[0].pk
    finally:
        services.close()


def test_a_case_title_too_long_is_refused_naming_it_and_nothing_is_stored(
    patient_case: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import make_services

    data_dir, _ = patient_case
    services = make_services(data_dir)
    try:
        patient_id = services.cases.list_cases()[0].patient_id
        before = len(services.cases.list_cases())
    finally:
        services.close()
    code, err = _run(
        data_dir, capsys, "case", "new", "--patient-id", patient_id, "--title", "x" * 201
    )
    assert code == 1
    assert err == "error: case title: 201 characters; at most 200 can be stored\n"
    code, _ = _run(
        data_dir, capsys, "case", "new", "--patient-id", patient_id, "--title", "x" * 200
    )
    assert code == 0  # the limit itself is fine
    services = make_services(data_dir)
    try:
        assert len(services.cases.list_cases()) == before + 1
    finally:
        services.close()


def test_a_drug_name_too_long_is_refused_naming_it(
    patient_case: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, case_pk = patient_case
    args = ("therapy", "add", "--case", str(case_pk), "--start", "2025-01-01", "--drug")
    code, err = _run(data_dir, capsys, *args, "d" * 250)
    assert code == 1
    assert err.splitlines() == ["error: therapy drug: 250 characters; at most 200 can be stored"]
    code, err = _run(data_dir, capsys, "therapy", "list", "--case", str(case_pk))
    assert code == 0
    assert "d" * 50 not in capsys.readouterr().out


def test_every_bounded_text_column_is_checked(services: Any) -> None:
    """The guard is on every mapped table, not only the two above (an update too)."""
    from sqlalchemy import select

    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.store.models import PatientRow

    with services.session_factory() as session:
        session.add(PatientRow(patient_id="P-LEN", name="Short^Name"))
        session.commit()
        row = session.scalars(select(PatientRow).where(PatientRow.patient_id == "P-LEN")).one()
        row.name = "N" * 201
        with pytest.raises(InvalidInputError, match="patient name: 201 characters"):
            session.commit()
        session.rollback()
        assert session.get(PatientRow, row.id).name == "Short^Name"


def test_a_row_stored_too_long_by_an_older_version_can_still_change_its_other_fields(
    services: Any,
) -> None:
    """SQLite kept what an older version wrote beyond a length: only changed values count."""
    from sqlalchemy import select, text

    from tace_planner.store.models import PatientRow

    if services.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite can hold a value beyond its declared length")
    with services.session_factory() as session:
        session.add(PatientRow(patient_id="P-OLD", name="Old^Name"))
        session.commit()
        session.execute(
            text("UPDATE patient SET name = :n WHERE patient_id = 'P-OLD'"), {"n": "N" * 250}
        )
        session.commit()
    with services.session_factory() as session:
        row = session.scalars(select(PatientRow).where(PatientRow.patient_id == "P-OLD")).one()
        row.patient_id = "P-OLD-2"
        session.commit()  # the name is not changed, so not checked
        assert session.get(PatientRow, row.id).patient_id == "P-OLD-2"
