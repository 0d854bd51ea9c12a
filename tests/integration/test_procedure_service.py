"""ProcedureService on a real SQLite database: log, sign, amend, the course totals.

The case is the phantom's bilobar baseline (``planning_seed``), planned with an
institution limit of 200 mg per session so that session 1 loads 200 mg in two vials.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from planning_seed import PATIENT_INPUTS, seed_case
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError
from tace_planner.domain.procedure import ProcedureFieldError, SignedRecordError
from tace_planner.services.planning import PlanningService
from tace_planner.services.procedures import ProcedureService
from tace_planner.store.models import AuditEventRow
from tace_planner.store.procedure_rows import ProcedureRevisionRow, ProcedureRow

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
SIGNABLE = {
    "performed_on": "2026-03-16",
    "operator": "Dr Radiosurgeon",
    "lot": "LOT-42",
    "expiry": "2027-01-31",
    "endpoint": "near-stasis",
    "lidocaine_mg": 40,
}


def _clock() -> dt.datetime:
    return NOW


@pytest.fixture
def planning(services: Any) -> PlanningService:
    params = PlanningParameters.from_dict(
        PlanningService(services.session_factory, "x").parameters.to_json()
    ).with_values(per_session_cap_mg=200.0)
    return PlanningService(
        services.session_factory, "dr plan", protocol=services.protocol, parameters=params
    )


@pytest.fixture
def procedures(services: Any) -> ProcedureService:
    return ProcedureService(services.session_factory, "dr log", clock=_clock)


@pytest.fixture
def case_pk(services: Any, planning: PlanningService) -> int:
    pk = seed_case(services)
    planning.set_clinical_inputs(pk, **PATIENT_INPUTS)
    return pk


def _approve(planning: PlanningService, case_pk: int) -> Any:
    draft = planning.save_plan(planning.propose(case_pk))
    codes = [a.code for a in planning.warnings_to_acknowledge(draft.pk)]
    return planning.approve(draft.pk, codes)


def _count(services: Any, row: type, **where: Any) -> int:
    with services.session_factory() as session:
        query = select(func.count()).select_from(row)
        for name, value in where.items():
            query = query.where(getattr(row, name) == value)
        return int(session.scalar(query) or 0)


def test_200_mg_loaded_60_percent_delivered_counts_120_mg_in_the_next_plan(
    planning: PlanningService, procedures: ProcedureService, case_pk: int
) -> None:
    plan = _approve(planning, case_pk)
    assert plan.sessions[0].irinotecan_loaded_mg == pytest.approx(200.0)
    before = planning.course_history(case_pk)
    assert before.planned_mg == pytest.approx(plan.total_loaded_mg)
    logged = procedures.log(
        case_pk, {**SIGNABLE, "delivered_fraction": 0.6}, plan_pk=plan.pk, session_number=1
    )
    assert (logged.loaded_mg, logged.delivered_mg) == (pytest.approx(200.0), pytest.approx(120.0))
    assert logged.status == "draft"
    assert logged.number == 1
    # a draft delivers nothing yet: the session still counts as planned
    assert planning.course_history(case_pk) == before
    signed = procedures.sign(logged.pk)
    assert signed.status == "signed"
    assert signed.signed_by == "dr log"
    course = planning.course_history(case_pk)
    assert course.delivered_mg == pytest.approx(120.0)
    assert course.procedures == 1
    others = plan.total_loaded_mg - 200.0
    assert course.planned_mg == pytest.approx(others)
    assert course.planned_sessions == len(plan.sessions) - 1
    following = planning.propose(case_pk)
    assert following.course["delivered_mg"] == pytest.approx(120.0)
    total = following.to_json()["totals"]["course_loaded_mg"]
    # the new plan replaces the approved sessions not performed: they are not counted again
    assert total == pytest.approx(120.0 + following.total_loaded_mg)
    assert total != pytest.approx(200.0 + following.total_loaded_mg)


def test_prefill_from_the_approved_session_and_differences_need_reasons(
    planning: PlanningService, procedures: ProcedureService, case_pk: int
) -> None:
    plan = _approve(planning, case_pk)
    (first, *_) = procedures.approved_sessions(case_pk)
    assert (first.plan_pk, first.number, first.loaded_mg) == (plan.pk, 1, 200.0)
    draft = procedures.prefill(case_pk, plan.pk, 1)
    assert draft.record.product_code == "dc_bead"
    assert draft.record.vials == 2
    assert draft.record.loaded_per_vial_mg == (100.0, 100.0)
    assert draft.differences == ()
    logged = procedures.log(
        case_pk,
        {**SIGNABLE, "delivered_fraction": 1.0, "vials": 1, "loaded_per_vial_mg": [100],
         "loaded_mg": 100},
        plan_pk=plan.pk,
        session_number=1,
    )  # fmt: skip
    assert {d.key for d in logged.differences} == {"vials", "loaded_mg"}
    with pytest.raises(ProcedureFieldError) as caught:
        procedures.sign(logged.pk)
    assert caught.value.field == "Vials prepared"
    explained = procedures.update_draft(
        logged.pk,
        {"difference_reasons": {"vials": "small feeder", "loaded_mg": "one vial only"}},
    )
    assert explained.unexplained_differences == ()
    assert procedures.sign(explained.pk).status == "signed"
    with pytest.raises(InvalidInputError, match="logged already"):
        procedures.log(case_pk, SIGNABLE, plan_pk=plan.pk, session_number=1)


def test_unplanned_procedure_is_allowed_and_flagged(
    procedures: ProcedureService, case_pk: int
) -> None:
    item = procedures.log(
        case_pk, {**SIGNABLE, "product_code": "dc_bead", "vials": 1, "loaded_mg": 100,
                  "delivered_fraction": 1}
    )  # fmt: skip
    assert item.unplanned
    assert item.differences[0].key == "plan"
    assert item.record.product_name.startswith("DC Bead")
    with pytest.raises(ProcedureFieldError, match="reason"):
        procedures.sign(item.pk)
    item = procedures.update_draft(item.pk, {"difference_reasons": {"plan": "urgent re-treatment"}})
    assert procedures.sign(item.pk).status == "signed"


@pytest.mark.parametrize(
    ("values", "label"),
    [
        ({"delivered_fraction": 1.5}, "Delivered fraction"),
        ({"delivered_fraction": -0.5}, "Delivered fraction"),
        ({"performed_on": "2026-03-01"}, "Date of the procedure"),  # before the baseline
        ({"performed_on": "2026-03-21"}, "Date of the procedure"),  # in the future
        ({"expiry": "2026-03-15"}, "Expiry date"),
        ({"loaded_mg": -200}, "Irinotecan loaded (mg)"),
        ({"contrast_ml": -3}, "Contrast volume (mL)"),
    ],
)
def test_refusals_name_the_field_and_lose_nothing(
    services: Any,
    planning: PlanningService,
    procedures: ProcedureService,
    case_pk: int,
    values: dict[str, Any],
    label: str,
) -> None:
    plan = _approve(planning, case_pk)
    kept = procedures.sign(
        procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 1}, plan_pk=plan.pk).pk
    )
    draft = procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 0.5}, plan_pk=plan.pk,
                           session_number=2)  # fmt: skip
    events = _count(services, AuditEventRow)
    with pytest.raises(ProcedureFieldError) as caught:
        procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 0.5, **values})
    assert caught.value.field == label
    with pytest.raises(ProcedureFieldError) as caught:
        procedures.update_draft(draft.pk, values)
    assert caught.value.field == label
    with pytest.raises(ProcedureFieldError) as caught:
        procedures.amend(kept.pk, "typo", values)
    assert caught.value.field == label
    assert _count(services, AuditEventRow) == events
    assert _count(services, ProcedureRow) == 2
    assert procedures.get(kept.pk) == kept
    assert procedures.get(draft.pk) == draft


def test_amendment_keeps_the_previous_version_and_is_audited(
    services: Any, planning: PlanningService, procedures: ProcedureService, case_pk: int
) -> None:
    plan = _approve(planning, case_pk)
    signed = procedures.sign(
        procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 0.6}, plan_pk=plan.pk).pk
    )
    with pytest.raises(ProcedureFieldError) as caught:
        procedures.amend(signed.pk, "  ", {"delivered_fraction": 0.5})
    assert caught.value.key == "amendment_reason"
    with pytest.raises(SignedRecordError):
        procedures.update_draft(signed.pk, {"delivered_fraction": 0.5})
    with pytest.raises(ConcurrentEditError):
        procedures.amend(signed.pk, "x", {"delivered_fraction": 0.5},
                         expected_version=signed.version + 1)  # fmt: skip
    amended = procedures.amend(
        signed.pk, "syringe residue measured", {"delivered_fraction": 0.5},
        expected_version=signed.version,
    )  # fmt: skip
    assert (amended.status, amended.revision, amended.delivered_mg) == ("amended", 2, 100.0)
    assert [r.revision for r in amended.revisions] == [1, 2]
    first = procedures.get(signed.pk, revision=1)
    assert first.delivered_mg == pytest.approx(120.0)
    assert not first.is_latest
    assert first.record == signed.record
    assert planning.course_history(case_pk).delivered_mg == pytest.approx(100.0)
    with services.session_factory() as session:
        event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "amend_procedure")
        ).one()
        assert event.before["delivered_mg"] == pytest.approx(120.0)
        assert event.after["delivered_mg"] == pytest.approx(100.0)
        assert event.after["amendment_reason"] == "syringe residue measured"
        actions = set(session.scalars(select(AuditEventRow.action)))
    assert {"log_procedure", "sign_procedure", "amend_procedure"} <= actions


def test_a_signed_record_cannot_be_changed_through_the_database_layer(
    services: Any, planning: PlanningService, procedures: ProcedureService, case_pk: int
) -> None:
    plan = _approve(planning, case_pk)
    signed = procedures.sign(
        procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 0.6}, plan_pk=plan.pk).pk
    )
    # through the ORM
    with services.session_factory() as session:
        row = session.scalars(
            select(ProcedureRevisionRow).where(ProcedureRevisionRow.procedure_pk == signed.pk)
        ).one()
        row.delivered_mg = 200.0
        with pytest.raises(SignedRecordError):
            session.commit()
        session.rollback()
        row = session.get(ProcedureRevisionRow, row.id)
        session.delete(row)
        with pytest.raises(SignedRecordError):
            session.commit()
    # through SQL (SQLite trigger)
    with services.session_factory() as session:
        with pytest.raises(DatabaseError, match="signed procedure record"):
            session.execute(
                update(ProcedureRevisionRow)
                .where(ProcedureRevisionRow.procedure_pk == signed.pk)
                .values(delivered_mg=200.0)
            )
        session.rollback()
        with pytest.raises(DatabaseError, match="signed procedure record"):
            session.execute(text("DELETE FROM procedure_revision"))
        session.rollback()
    assert procedures.get(signed.pk) == signed


def test_risk_factors_on_the_record(
    planning: PlanningService, procedures: ProcedureService, case_pk: int
) -> None:
    plan = _approve(planning, case_pk)
    planning.set_clinical_inputs(case_pk, bilirubin_mg_dl=2.4)
    first = procedures.sign(
        procedures.log(
            case_pk,
            {**SIGNABLE, "performed_on": "2026-03-05", "delivered_fraction": 1.0,
             "endpoint": "stasis", "lidocaine_mg": None},
            plan_pk=plan.pk,
        ).pk
    )  # fmt: skip
    codes = {r.code for r in first.risk_factors}
    assert codes == {
        "risk.delivered_above_limit",  # 200 mg delivered
        "risk.complete_stasis",
        "risk.no_ia_lidocaine",
        "risk.bilirubin",  # prefilled from the case's inputs
    }
    second = procedures.log(
        case_pk, {**SIGNABLE, "performed_on": "2026-03-15", "delivered_fraction": 0.4},
        plan_pk=plan.pk, session_number=2,
    )  # fmt: skip
    short = {r.code: r.message for r in second.risk_factors}
    assert "risk.short_interval" in short
    assert "10 days" in short["risk.short_interval"]
    assert "risk.procedure_count" not in short
    third = procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 0.4})
    assert "risk.procedure_count" in {r.code for r in third.risk_factors}


def test_course_summary_shows_sessions_done_and_the_next_due(
    planning: PlanningService, procedures: ProcedureService, case_pk: int
) -> None:
    plan = _approve(planning, case_pk)
    assert len(plan.sessions) == 2
    procedures.sign(
        procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 0.6}, plan_pk=plan.pk).pk
    )
    course = procedures.course(case_pk)
    assert (course.procedures, course.planned_sessions) == (1, 1)
    assert course.next_session == 2
    assert course.next_session_due_on == dt.date(2026, 3, 16) + dt.timedelta(days=21)
    assert course.to_json()["delivered_mg"] == pytest.approx(120.0)


def test_list_shows_status(
    planning: PlanningService, procedures: ProcedureService, case_pk: int
) -> None:
    plan = _approve(planning, case_pk)
    one = procedures.sign(procedures.log(case_pk, {**SIGNABLE, "delivered_fraction": 1},
                                         plan_pk=plan.pk).pk)  # fmt: skip
    procedures.amend(one.pk, "dose re-counted", {"delivered_fraction": 0.9})
    procedures.log(case_pk, {"performed_on": "2026-03-18"}, plan_pk=plan.pk, session_number=2)
    listed = procedures.list_procedures(case_pk)
    assert [(p.number, p.status) for p in listed] == [(1, "amended"), (2, "draft")]
