"""The Plan workspace names the approved plan under way: sessions performed and to perform.

A reviewer opened a case whose plan v1 (200 mg in 2 lobar sessions) was approved and
whose session 1 was signed as TACE 1 (100 mg delivered). The live proposal showed
"Session 1 … 100 mg" again with "This plan makes 3 treatments in the course", and nothing
said that v1 was under way or that the proposal would be a new plan on top of it: it read
as the performed session counted twice and offered again. The progress is read from the
procedure log (signed procedures logged from the plan's sessions).

The case is the phantom's bilobar baseline (``planning_seed``): 2 sessions, 100 mg each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from plan_progress_seed import approve, log_session, seeded
from tace_planner.services.planning import PlanningService
from tace_planner.services.procedures import ProcedureService

pytestmark = pytest.mark.db


@pytest.fixture
def planning_case(services: Any) -> tuple[PlanningService, int]:
    return seeded(services)


def test_session_performed_and_session_to_perform(
    services: Any, planning_case: tuple[PlanningService, int]
) -> None:
    planning, case_pk = planning_case
    approved = approve(planning, case_pk)
    assert planning.plan_progress(case_pk) is None  # approved, nothing performed yet
    logged = log_session(services, approved, 1, sign=False)
    assert planning.plan_progress(case_pk) is None  # a draft procedure performs nothing
    log_session(services, approved, 2, on=dt.date(2026, 3, 19), sign=False)
    ProcedureService(services.session_factory, "dr log").sign(logged.pk)
    progress = planning.plan_progress(case_pk)
    assert progress is not None
    assert progress.plan_version == approved.plan_version
    assert progress.total_loaded_mg == pytest.approx(200.0)
    assert progress.treatments_performed == 1
    first, second = progress.sessions
    assert (first.number, first.status, first.tace_number) == (1, "performed", 1)
    assert first.performed_on == dt.date(2026, 3, 16)
    assert first.delivered_mg == pytest.approx(100.0)
    assert (second.number, second.status, second.tace_number) == (2, "draft", 2)
    line = progress.summary(on_screen=True)
    assert line.startswith(f"Plan v{approved.plan_version} approved (200 mg in 2 sessions): ")
    assert "session 1 performed as TACE 1 on 2026-03-16 (100 mg delivered)" in line
    assert "session 2 logged as TACE 2, not signed yet (Procedure workspace)." in line


def test_the_live_proposal_carries_the_progress_and_says_it_is_a_new_plan(
    services: Any, planning_case: tuple[PlanningService, int]
) -> None:
    planning, case_pk = planning_case
    approved = approve(planning, case_pk)
    assert planning.propose(case_pk).progress is None
    log_session(services, approved, 1)
    proposal = planning.propose(case_pk)
    progress = proposal.progress
    assert progress == planning.plan_progress(case_pk)
    assert progress.sessions[1].status == "to_perform"
    assert "session 2 to perform." in progress.summary()  # the printed sheet: no workspace
    note = progress.new_plan_note(proposal)
    version = approved.plan_version
    assert note.startswith(f"The proposal below is a new plan, not plan v{version}.")
    assert f"Approved, it would replace session 2 of plan v{version}" in note
    assert "counted after the 1 treatment performed" in note
    # the course-count warning's own words (one wording for one count)
    (warning,) = (a for a in proposal.advisories if a.code == "course.session_count")
    words = "3 treatments in the course (1 performed, 2 in this plan)"
    assert f"This plan makes {words};" in warning.message
    assert f"(institutional default), so its warnings count {words}." in note
    assert "proposed;" not in note
    assert "(session 1, right lobe" in note
    assert "performed as TACE 1): that session would be performed again" in note
    # saved plans hold no progress: the proposal's content is unchanged by it
    assert "progress" not in proposal.to_json()
    assert f"replacing session 2 of plan v{version}" in progress.approve_tip()
    assert "(TACE 1)" in progress.approve_tip()
    assert f"Plan v{version} stays the approved plan" in progress.save_draft_tip()


def test_a_new_approved_plan_with_nothing_performed_shows_no_progress(
    services: Any, planning_case: tuple[PlanningService, int]
) -> None:
    planning, case_pk = planning_case
    log_session(services, approve(planning, case_pk), 1)
    approve(planning, case_pk)  # the new plan replaces session 2; none of it performed
    assert planning.plan_progress(case_pk) is None


def test_the_plan_command_names_the_plan_under_way_also_for_a_saved_plan(
    services: Any,
    planning_case: tuple[PlanningService, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tace_planner.cli import main

    planning, case_pk = planning_case
    approved = approve(planning, case_pk)
    log_session(services, approved, 1)
    argv = ["--data-dir", str(services.settings.data_dir), "--user", "dr cli", "plan"]
    line = "session 1 performed as TACE 1 on 2026-03-16 (100 mg delivered); session 2 to perform"
    for extra in ([], ["--save"]):  # the live proposal, then the draft saved from it
        main([*argv, "--case", str(case_pk), *extra])
        out = capsys.readouterr().out
        assert line in out, extra
        assert "This plan is a new plan, not plan v1" in out
        assert "Procedure workspace" not in out  # a GUI place, not for the command line
