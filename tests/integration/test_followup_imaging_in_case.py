"""Follow-up imaging the case already holds stands for the scheduled follow-up of its window.

The demo's course: follow-up CTs of 11 May, 16 August and 16 November 2026 linked by hand
("follow-up 1…3") before TACE 1 of 16 March 2026 was signed. The study protocol's schedule
(8 weeks, then every 3 months, window ± 14 days) lays out follow-ups due 11 May, 11 August
and 11 November: each of those CTs lies in one window, so that follow-up is done by it, and
no second, empty timepoint is laid out beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import add_case, add_study, clock, scheduled_course, sign_tace
from tace_planner.domain.errors import InvalidInputError
from tace_planner.services.followups import FollowupService
from tace_planner.store.models import AuditEventRow

pytestmark = pytest.mark.db
D = dt.date
TODAY = D(2026, 12, 7)
IMAGED = (D(2026, 5, 11), D(2026, 8, 16), D(2026, 11, 16))


def _link_by_hand(services: Any, case: int, patient_id: str) -> None:
    """The follow-up CTs imported and linked to the case as "follow-up n" (no schedule)."""
    for number, on in enumerate(IMAGED, start=1):
        uid = f"1.2.{patient_id}.{number}"
        add_study(services.session_factory, patient_id, uid, on)
        services.cases.link_study(
            case, uid, timepoint_label=f"follow-up {number}", timepoint_kind="follow_up"
        )


def _actions(services: Any, action: str) -> list[str]:
    with services.session_factory() as session:
        return list(
            session.scalars(
                select(AuditEventRow.summary)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.id)
            )
        )


def _assert_done_by_the_imaging(services: Any, followups: FollowupService, case: int) -> None:
    items = followups.worklist("all", case_pk=case)
    first = [(t.label, t.status, t.due_on, t.study_on) for t in items[:3]]
    assert first == [
        ("follow-up 1", "done", D(2026, 5, 11), D(2026, 5, 11)),
        ("follow-up 2", "done", D(2026, 8, 11), D(2026, 8, 16)),
        ("follow-up 3", "done", D(2026, 11, 11), D(2026, 11, 16)),
    ]
    assert [t.tace_number for t in items[:3]] == [1, 1, 1]
    assert followups.worklist("overdue", case_pk=case) == []
    assert [t.label for t in followups.worklist("done", case_pk=case)] == [
        "follow-up 1", "follow-up 2", "follow-up 3"
    ]  # fmt: skip
    # no duplicate: the schedule goes on with follow-up 4, nothing beside the real CTs
    labels = [t.label for t in services.contouring.lesions.timepoints(case)]
    assert labels[:5] == [
        "baseline", "follow-up 1", "follow-up 2", "follow-up 3", "TACE 1 follow-up 4"
    ]  # fmt: skip
    assert not {"TACE 1 follow-up 1", "TACE 1 follow-up 2", "TACE 1 follow-up 3"} & set(labels)
    assert len(labels) == len(set(labels))
    due = services.therapy.timeline(case).due
    assert min(t.due_on for t in due) == D(2027, 2, 11)  # no ○ due beside a real study


def test_imaging_linked_before_the_tace_is_done_by_the_new_schedule(services: Any) -> None:
    factory = services.session_factory
    case = add_case(factory, "H1", baseline_on=D(2026, 3, 2))
    _link_by_hand(services, case, "H1")
    sign_tace(factory, case, D(2026, 3, 16))
    followups = FollowupService(factory, "dr rad", clock=clock(TODAY))
    assert followups.sync_all() == 1  # opening the worklist lays the schedule out
    _assert_done_by_the_imaging(services, followups, case)
    placed = _actions(services, "place_followup_timepoint")
    assert placed[0] == (
        f"case {case}: follow-up 1 (imaged 2026-05-11) is TACE 1 follow-up 1 of the "
        "schedule (due 2026-05-11, window 2026-04-27 – 2026-05-25)"
    )
    assert len(placed) == 3
    assert _actions(services, "delete_followup_timepoint") == []  # none was laid out
    assert followups.sync_case(case) == followups.case_timepoints(case)  # settled


def test_a_schedule_laid_out_beside_the_imaging_is_put_right(services: Any) -> None:
    factory = services.session_factory
    case, followups = scheduled_course(factory, "H2", today=TODAY)  # TACE 1 follow-up 1…12
    followups.assign(followups.worklist("all", case_pk=case)[1].pk, radiologist="Dr R")
    _link_by_hand(services, case, "H2")  # the CTs come in by hand afterwards
    followups.sync_case(case)
    _assert_done_by_the_imaging(services, followups, case)
    # the open timepoints laid out for them are deleted, audited; what a user set is kept
    removed = _actions(services, "delete_followup_timepoint")
    assert [summary.split(":")[1].split(" removed")[0].strip() for summary in removed] == [
        "TACE 1 follow-up 1", "TACE 1 follow-up 2", "TACE 1 follow-up 3"
    ]  # fmt: skip
    assert followups.worklist("all", case_pk=case)[1].radiologist == "Dr R"


def test_assessing_a_follow_up_without_images_is_refused_and_nothing_stored(
    services: Any,
) -> None:
    factory = services.session_factory
    case = add_case(factory, "H3", baseline_on=D(2026, 3, 2))
    _link_by_hand(services, case, "H3")
    sign_tace(factory, case, D(2026, 3, 16))
    FollowupService(factory, "dr rad", clock=clock(TODAY)).sync_all()
    with pytest.raises(InvalidInputError) as refused:
        services.assessments.assess(case, "TACE 1 follow-up 4")
    message = str(refused.value)
    assert "\n" not in message
    assert message == (
        "timepoint: TACE 1 follow-up 4 has no images yet: link its study and confirm its "
        "contours, then assess (nothing stored)"
    )
    assert services.assessments.stored(case) == []
