"""A plan counts the course's treatments once: performed ones plus its own sessions.

The reviewer reopened a case whose approved plan has 2 sessions, neither performed:
the plan warned "This plan makes 4 treatments in the course; ≥ 3 treatments predicted
adverse events" (the approved plan's sessions counted as the course before the plan,
then again as the plan's own); ``tace-planner plan --case 1`` said the same. A plan of
the course (the approved plan proposed again, a draft replacing it) replaces the
sessions approved and not yet performed; performed (signed) treatments always count.

The case is the phantom's bilobar baseline (``planning_seed``): 2 sessions, 100 mg
loaded each (200 mg in the course plan), the course limits 400 mg and 3 treatments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from planning_seed import PATIENT_INPUTS, seed_case
from tace_planner.cli import main
from tace_planner.services.planning import PlanningService
from tace_planner.services.procedures import ProcedureService

pytestmark = pytest.mark.db

SIGNABLE = {
    "performed_on": "2026-03-16",
    "operator": "Dr Radiosurgeon",
    "lot": "LOT-42",
    "expiry": "2027-01-31",
    "endpoint": "near-stasis",
    "lidocaine_mg": 40,
    "delivered_fraction": 1.0,
}


@pytest.fixture
def planning(services: Any) -> PlanningService:
    return PlanningService(services.session_factory, "dr plan", protocol=services.protocol)


@pytest.fixture
def case_pk(services: Any, planning: PlanningService) -> int:
    pk = seed_case(services)
    planning.set_clinical_inputs(pk, **PATIENT_INPUTS)
    return pk


def _codes(advisories: Any) -> set[str]:
    return {a.code for a in advisories}


def _approve(planning: PlanningService, case_pk: int) -> Any:
    draft = planning.save_plan(planning.propose(case_pk))
    return planning.approve(draft.pk, [a.code for a in planning.warnings_to_acknowledge(draft.pk)])


def test_the_approved_plan_proposed_again_counts_its_sessions_once(
    planning: PlanningService, case_pk: int
) -> None:
    approved = _approve(planning, case_pk)
    assert len(approved.sessions) == 2
    assert "course.session_count" not in _codes(approved.advisories)
    # the case reopened: the plan is proposed again from the same inputs
    again = planning.propose(case_pk)
    assert len(again.sessions) == 2
    assert "course.session_count" not in _codes(again.advisories)  # 2 treatments, not 4
    assert "course.cumulative_dose" not in _codes(again.advisories)
    assert (again.course["procedures"], again.course["planned_sessions"]) == (0, 0)
    assert again.to_json()["totals"]["course_loaded_mg"] == pytest.approx(200.0)
    # a draft replacing it is judged the same way, and approves without a course warning
    draft = planning.save_plan(again)
    assert not any(a.code.startswith("course.") for a in planning.warnings_to_acknowledge(draft.pk))
    _, shown = planning.preview_proposal(again, {})
    assert not any(a.code.startswith("course.") for a in shown)
    replacing = planning.approve(draft.pk, [])
    assert replacing.status == "approved"
    assert "course.session_count" not in _codes(planning.propose(case_pk).advisories)
    # the procedure log's view of the course still sees the approved sessions to do
    assert planning.course_history(case_pk).planned_sessions >= 2


def test_performed_treatments_count_beside_the_plans_own_sessions(
    services: Any, planning: PlanningService, case_pk: int
) -> None:
    approved = _approve(planning, case_pk)
    procedures = ProcedureService(
        services.session_factory,
        "dr log",
        clock=lambda: dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC),
    )
    logged = procedures.log(case_pk, SIGNABLE, plan_pk=approved.pk, session_number=1)
    procedures.sign(logged.pk)
    # a new plan of 2 sessions after 1 treatment performed: 3 treatments in the course
    following = planning.propose(case_pk)
    assert (following.course["procedures"], following.course["planned_sessions"]) == (1, 0)
    count = next(a for a in following.advisories if a.code == "course.session_count")
    assert count.message.startswith("This plan makes 3 treatments in the course")
    delivered = following.course["delivered_mg"]
    assert delivered == pytest.approx(100.0)
    assert following.to_json()["totals"]["course_loaded_mg"] == pytest.approx(delivered + 200.0)


def test_the_command_line_plan_of_an_approved_case_counts_once(
    services: Any, planning: PlanningService, case_pk: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _approve(planning, case_pk)
    data_dir = Path(services.settings.data_dir)
    assert main(["--data-dir", str(data_dir), "plan", "--case", str(case_pk)]) == 0
    out = capsys.readouterr().out
    assert "Session 2" in out
    assert "treatments in the course" not in out


def test_approving_a_new_plan_replaces_the_sessions_of_the_approved_one(
    services: Any, planning: PlanningService, case_pk: int
) -> None:
    """The new plan was judged in place of the approved sessions not performed: once it is
    approved, the earlier plan's sessions are neither offered for logging nor counted (two
    approved plans of 2 sessions each would otherwise log 4 treatments, 400 mg, unwarned)."""
    procedures = ProcedureService(services.session_factory, "dr log")
    first = _approve(planning, case_pk)
    second = _approve(planning, case_pk)
    assert second.supersedes_pk == first.pk
    to_log = [(s.plan_pk, s.number) for s in procedures.approved_sessions(case_pk)]
    assert to_log == [(second.pk, 1), (second.pk, 2)]
    course = planning.course_history(case_pk)
    assert (course.planned_sessions, course.planned_mg) == (2, pytest.approx(200.0))
    # a third plan replaces the second, not the first again
    third = _approve(planning, case_pk)
    assert third.supersedes_pk == second.pk
    assert {s.plan_pk for s in procedures.approved_sessions(case_pk)} == {third.pk}
