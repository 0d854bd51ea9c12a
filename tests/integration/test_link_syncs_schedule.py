"""Linking a follow-up study to a case brings the follow-up schedule in step at once.

A CT linked as "follow-up 1" (``case link``, the case dialog) whose date lies in the window
of the open scheduled follow-up takes its place in the same unit of work: the slot is done
by that study, and the empty timepoint laid out for it is removed, with no other action
(no ``sync_case`` / ``sync_all``) in between. The same for a study linked from the
worklist to a new unscheduled timepoint inside an open window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import add_study, scheduled_course
from tace_planner.store.models import AuditEventRow

pytestmark = pytest.mark.db
D = dt.date
TODAY = D(2026, 12, 7)


def _audited(services: Any, action: str) -> list[str]:
    """The summaries of the audit events of ``action``, oldest first."""
    query = select(AuditEventRow.action, AuditEventRow.summary).order_by(AuditEventRow.id)
    with services.session_factory() as session:
        return [summary for done, summary in session.execute(query) if done == action]


def test_a_study_linked_by_hand_takes_its_schedule_slot_at_once(services: Any) -> None:
    case, followups = scheduled_course(services.session_factory, "L1", today=TODAY)
    first = followups.worklist("all", case_pk=case)[0]  # the schedule laid out, all open
    assert (first.label, first.status, first.due_on) == (
        "TACE 1 follow-up 1", "scheduled", D(2026, 5, 11)
    )  # fmt: skip
    add_study(services.session_factory, "L1", "1.2.L1.1", D(2026, 5, 14))
    services.cases.link_study(
        case, "1.2.L1.1", timepoint_label="follow-up 1", timepoint_kind="follow_up"
    )
    # read only: no synchronisation between the link and the listing
    first = followups.worklist("all", case_pk=case)[0]
    assert (first.label, first.status, first.due_on, first.study_on) == (
        "follow-up 1", "done", D(2026, 5, 11), D(2026, 5, 14)
    )  # fmt: skip
    assert first.tace_number == 1
    labels = [t.label for t in services.contouring.lesions.timepoints(case)]
    assert "TACE 1 follow-up 1" not in labels  # no empty duplicate beside the real CT
    assert labels[:3] == ["baseline", "follow-up 1", "TACE 1 follow-up 2"]
    assert len(_audited(services, "place_followup_timepoint")) == 1
    assert _audited(services, "delete_followup_timepoint")[0].startswith(
        f"case {case}: TACE 1 follow-up 1 removed"
    )
    assert not followups.sync_all()  # nothing left for the next synchronisation
    # a CT outside every window stays an unplaced timepoint: the schedule is left as it was
    before = [(t.label, t.status) for t in followups.worklist("all", case_pk=case)]
    add_study(services.session_factory, "L1", "1.2.L1.2", D(2026, 6, 20))
    services.cases.link_study(
        case, "1.2.L1.2", timepoint_label="follow-up 2", timepoint_kind="follow_up"
    )
    assert [(t.label, t.status) for t in followups.worklist("all", case_pk=case)] == before
    assert len(_audited(services, "place_followup_timepoint")) == 1


def test_a_worklist_link_to_an_unscheduled_timepoint_in_a_window_takes_the_slot(
    services: Any,
) -> None:
    case, followups = scheduled_course(services.session_factory, "L3", today=TODAY)
    add_study(services.session_factory, "L3", "1.2.L3.1", D(2026, 5, 12))
    linked = followups.confirm_match("1.2.L3.1", case_pk=case)  # the user chose the case
    assert (linked.status, linked.due_on, linked.tace_number) == ("done", D(2026, 5, 11), 1)
    labels = [t.label for t in services.contouring.lesions.timepoints(case)]
    assert "TACE 1 follow-up 1" not in labels
    assert len(_audited(services, "delete_followup_timepoint")) == 1
