"""Case service: each write leaves one audit event; field errors; timestamps stay aware UTC."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.progress import run_sync
from tace_planner.store.models import AuditEventRow, CaseRow

pytestmark = [pytest.mark.db, pytest.mark.dicom]


def _audits(services) -> list[AuditEventRow]:
    with services.session_factory() as session:
        return list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)))


def test_case_writes_are_audited_once_each(services, small_phantom: Path) -> None:
    run_sync(services.studies.import_paths([small_phantom / "baseline"]))
    before = len(_audits(services))
    case = services.cases.create_case(
        "TACE-DEMO-001", "Course 1", planned_tace_on=dt.date(2026, 3, 16)
    )
    audits = _audits(services)
    assert len(audits) == before + 1
    assert audits[-1].action == "create_case"
    assert audits[-1].user == "tester"
    assert audits[-1].after["title"] == "Course 1"
    assert audits[-1].at.tzinfo is not None

    study_uid = services.studies.studies_of_patient(case.patient_pk)[0].study_uid
    services.cases.link_study(
        case.pk, study_uid, timepoint_label="baseline", timepoint_kind="baseline"
    )
    assert len(_audits(services)) == before + 2
    # Linking again changes nothing and writes nothing.
    services.cases.link_study(
        case.pk, study_uid, timepoint_label="baseline", timepoint_kind="baseline"
    )
    assert len(_audits(services)) == before + 2
    with services.session_factory() as session:
        created = session.get(CaseRow, case.pk).created_at
    assert created.utcoffset() == dt.timedelta(0)


def test_bad_case_input_is_refused_and_nothing_saved(services) -> None:
    with pytest.raises(InvalidInputError, match="case title"):
        services.cases.create_case("X", "  ")
    with pytest.raises(NotFoundError, match="NOBODY"):
        services.cases.create_case("NOBODY", "Course")
    assert services.cases.list_cases() == []
    assert _audits(services) == []
