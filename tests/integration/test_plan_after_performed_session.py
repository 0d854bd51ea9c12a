"""The proposal made after session 1 of an approved plan was performed, and Save draft's rule.

Plan v1 (2 lobar sessions, 200 mg) approved for the phantom's case, whose planned TACE
date is 2026-03-16; session 1 signed as TACE 1, performed that day. A review found:

* the new proposal dated its first session 2026-03-16 again, the day TACE 1 was
  performed: it is now dated one interval (21 days, the plan's lobar interval, Szemitko,
  J Clin Med 2021) after the last treatment performed, and its *why?* says so;
* its warning "This plan makes 3 treatments in the course" did not say that one was
  performed: "(1 performed, 2 in this plan)";
* the Plan panel kept *Save draft* disabled on a proposal equal to an APPROVED version
  while the service stores such a draft (how an approved plan is approved again). The
  rule is now one, :meth:`PlanItem.repeated_by`, read by the service and the panel.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from plan_progress_seed import approve, log_session, seeded

pytestmark = pytest.mark.db


def test_the_new_proposal_starts_one_interval_after_the_session_performed(services: Any) -> None:
    planning, case_pk = seeded(services)  # planned TACE 2026-03-16, plan v1 of 2 sessions
    before = planning.propose(case_pk)
    assert before.sessions[0].on == dt.date(2026, 3, 16)  # the case's planned TACE date
    log_session(services, approve(planning, case_pk), 1)  # performed on 2026-03-16
    first, second = planning.propose(case_pk).sessions
    assert first.on == dt.date(2026, 4, 6)
    assert second.on == dt.date(2026, 4, 27)
    why = first.explanations["day"].to_text()
    assert "last treatment performed = 2026-03-16" in why
    assert "interval = 21 days" in why
    assert "date planned = 2026-03-16" in why
    assert "(2026-04-06)" in why


def test_the_latest_of_several_treatments_dates_the_plan(services: Any) -> None:
    planning, case_pk = seeded(services)  # planned TACE 2026-03-16, plan v1 of 2 sessions
    plan = approve(planning, case_pk)
    log_session(services, plan, 1)
    log_session(services, plan, 2, on=dt.date(2026, 3, 19))
    assert planning.propose(case_pk).sessions[0].on == dt.date(2026, 4, 9)


def test_the_count_warning_says_one_treatment_was_performed(services: Any) -> None:
    planning, case_pk = seeded(services)  # planned TACE 2026-03-16, plan v1 of 2 sessions
    log_session(services, approve(planning, case_pk), 1)
    proposal = planning.propose(case_pk)
    (count,) = (a for a in proposal.advisories if a.code == "course.session_count")
    assert count.message.startswith(
        "This plan makes 3 treatments in the course (1 performed, 2 in this plan); "
    )
    # the progress note counts with the same numbers
    assert "count 3 treatments in the course (1 performed, 2 in this plan)" in (
        proposal.progress.new_plan_note(proposal)
    )


def test_save_draft_stores_the_inputs_of_an_approved_version_once(services: Any) -> None:
    planning, case_pk = seeded(services)
    approved = approve(planning, case_pk)
    proposal = planning.propose(case_pk)
    latest = planning.list_plans(case_pk)[-1]
    assert latest.plan_version == approved.plan_version
    assert not latest.repeated_by(proposal)  # approved: the same proposal is a new draft
    note = latest.save_draft_note(proposal)
    assert note.startswith(
        f"Stores a new draft with the inputs of approved plan v{approved.plan_version}"
    )
    draft, stored = planning.save_plan_if_changed(proposal)
    assert stored
    assert (draft.status, draft.plan_version) == ("draft", approved.plan_version + 1)
    # that draft is now the latest version: the same proposal stores nothing
    latest = planning.list_plans(case_pk)[-1]
    assert latest.repeated_by(proposal)
    assert (
        latest.save_draft_note(proposal)
        == f"Nothing changed since v{draft.plan_version} was saved."
    )
    again, stored = planning.save_plan_if_changed(proposal)
    assert (again.pk, stored) == (draft.pk, False)
