"""A plan proposal identical to the case's latest draft is not stored again.

The rule lives in ``PlanningService.save_plan`` (not only in the plan panel's *Save
draft* button): the same proposal saved twice, from the window, the command line or a
script, leaves one version and one audit event. After an approved version the same
proposal is a new draft (the way an approved plan is approved again), and a proposal
going back to an older version after a different one was saved is a new version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from planning_seed import PATIENT_INPUTS, seed_case
from tace_planner.cli import main
from tace_planner.services.planning import PlanningService
from tace_planner.store.models import AuditEventRow, TreatmentPlanRow

pytestmark = pytest.mark.db


@pytest.fixture
def planning(services: Any) -> PlanningService:
    planning: PlanningService = services.planning
    return planning


@pytest.fixture
def case_pk(services: Any) -> int:
    """The phantom's baseline case with its patient inputs, in ``tmp_path / "data"``."""
    seeded = seed_case(services)
    services.planning.set_clinical_inputs(seeded, **PATIENT_INPUTS)
    return seeded


def _counts(services: Any, case_pk: int) -> tuple[int, int]:
    """(plan versions of the case, save_plan audit events)."""
    with services.session_factory() as session:
        versions = session.scalar(
            select(func.count())
            .select_from(TreatmentPlanRow)
            .where(TreatmentPlanRow.case_pk == case_pk)
        )
        saved = session.scalar(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.action == "save_plan")
        )
    return int(versions or 0), int(saved or 0)


def test_the_same_proposal_saved_twice_is_one_version(
    services: Any, planning: PlanningService, case_pk: int
) -> None:
    first = planning.save_plan(planning.propose(case_pk))
    again = planning.propose(case_pk)  # computed later, same content
    second = planning.save_plan(again)
    assert (second.pk, second.plan_version, second.status) == (first.pk, 1, "draft")
    assert _counts(services, case_pk) == (1, 1)  # no second row, no second audit event
    # the draft returned is approved as it is
    needed = [a.code for a in planning.warnings_to_acknowledge(second.pk)]
    approved = planning.approve(second.pk, needed)
    assert approved.pk == first.pk
    # after an approved version the same proposal is a new draft: how it is approved again
    redraft = planning.save_plan(planning.propose(case_pk))
    assert (redraft.plan_version, redraft.status) == (2, "draft")
    assert _counts(services, case_pk) == (2, 2)


def test_save_plan_if_changed_says_whether_it_wrote(
    services: Any, planning: PlanningService, case_pk: int
) -> None:
    item, written = planning.save_plan_if_changed(planning.propose(case_pk))
    assert (item.plan_version, written) == (1, True)
    same, written = planning.save_plan_if_changed(planning.propose(case_pk))
    assert (same.pk, written) == (item.pk, False)
    # another option is another plan: a new version
    fixed, written = planning.save_plan_if_changed(planning.propose(case_pk, model="fixed"))
    assert (fixed.plan_version, written) == (2, True)
    # back to the first proposal after a different one: a version of its own (only the
    # latest version is compared)
    back, written = planning.save_plan_if_changed(planning.propose(case_pk))
    assert (back.plan_version, written) == (3, True)
    assert _counts(services, case_pk) == (3, 3)


def test_a_changed_input_is_a_new_version(
    services: Any, planning: PlanningService, case_pk: int
) -> None:
    planning.save_plan(planning.propose(case_pk))
    planning.set_clinical_inputs(case_pk, ecog=2)
    changed = planning.save_plan(planning.propose(case_pk))
    assert changed.plan_version == 2
    assert planning.save_plan(planning.propose(case_pk)).pk == changed.pk
    assert _counts(services, case_pk) == (2, 2)


def test_approving_a_proposal_that_repeats_the_latest_draft_approves_that_draft(
    services: Any, planning: PlanningService, case_pk: int
) -> None:
    draft = planning.save_plan(planning.propose(case_pk))
    again = planning.propose(case_pk)  # e.g. the case opened again in the window
    needed = [a.code for a in again.advisories if a.severity in ("warning", "strong_warning")]
    approved = planning.approve_proposal(again, needed)
    assert (approved.pk, approved.plan_version, approved.status) == (draft.pk, 1, "approved")
    assert [(p.plan_version, p.status) for p in planning.list_plans(case_pk)] == [(1, "approved")]
    assert _counts(services, case_pk) == (1, 1)


NOTE = "note: nothing changed since plan version 1 was saved — not saved again"


def test_cli_plan_save_says_in_one_line_that_nothing_was_saved_again(
    tmp_path: Path, planning: PlanningService, case_pk: int, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = str(tmp_path / "data")  # the folder of the ``services`` fixture
    base = ["--data-dir", data_dir, "plan", "--case", str(case_pk), "--save"]
    assert main(base) == 0
    first = capsys.readouterr()
    assert "nothing changed" not in first.out + first.err
    assert main(base) == 0
    text = capsys.readouterr()
    assert [line for line in text.out.splitlines() if "nothing changed" in line] == [NOTE]
    assert text.err == ""
    # with --json the note goes to stderr, one line, and stdout stays one JSON document
    assert main([*base, "--json"]) == 0
    as_json = capsys.readouterr()
    assert as_json.err.splitlines() == [NOTE]
    assert json.loads(as_json.out)["plan"]["plan_version"] == 1
    assert [p.plan_version for p in planning.list_plans(case_pk)] == [1]
