"""A new schedule preset lays the open follow-ups out again without losing what users set.

What a user set on an open timepoint (radiologist, a chosen modality) moves to the
timepoint of the new schedule with the same label; a timepoint the new schedule has no
place for is deleted with an audit event saying what it held; a timepoint that holds
data is never deleted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import scheduled_course
from tace_planner.services.followup_dto import TimepointItem
from tace_planner.services.followups import FollowupService
from tace_planner.store.assessment_rows import AssessmentRow
from tace_planner.store.models import AuditEventRow, TimepointRow

pytestmark = pytest.mark.db
D = dt.date


def _open(followups: FollowupService, case: int) -> dict[str, TimepointItem]:
    return {
        t.label: t for t in followups.case_timepoints(case) if t.status in ("scheduled", "ended")
    }


def _events(services: Any, action: str) -> list[AuditEventRow]:
    with services.session_factory() as session:
        return list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action == action)
                .order_by(AuditEventRow.id)
            )
        )


def test_assignment_survives_a_change_of_preset_and_back(services: Any) -> None:
    case, followups = scheduled_course(services.session_factory, "K1")
    fourth = _open(followups, case)["TACE 1 follow-up 4"]
    assert (fourth.due_on, fourth.modality) == (D(2027, 2, 11), "CT")
    followups.assign(fourth.pk, radiologist="Dr Rad", modality="MR")

    followups.set_preset(case, "society")  # 4 weeks, then every 3 months
    moved = _open(followups, case)["TACE 1 follow-up 4"]
    assert moved.due_on == D(2027, 1, 13)
    assert (moved.radiologist, moved.modality) == ("Dr Rad", "MR")
    assert moved.pk == fourth.pk  # the same row, so its audit history stays attached

    followups.set_preset(case, "protocol")
    back = _open(followups, case)["TACE 1 follow-up 4"]
    assert (back.due_on, back.radiologist, back.modality) == (D(2027, 2, 11), "Dr Rad", "MR")
    # a timepoint nobody assigned keeps the schedule's values
    third = _open(followups, case)["TACE 1 follow-up 3"]
    assert (third.radiologist, third.modality) == ("", "CT")
    moves = _events(services, "move_followup_timepoint")
    assert [(e.entity_pk, e.before["due_on"], e.after["due_on"]) for e in moves] == [
        (fourth.pk, "2027-02-11", "2027-01-13"),
        (fourth.pk, "2027-01-13", "2027-02-11"),
    ]
    assert "Dr Rad" in moves[0].summary


def test_a_chosen_modality_equal_to_the_new_presets_is_still_kept(services: Any) -> None:
    case, followups = scheduled_course(services.session_factory, "K2")
    second = _open(followups, case)["TACE 1 follow-up 2"]
    followups.assign(second.pk, modality="MR")  # the study protocol gives CT

    followups.set_preset(case, "months")  # gives MR itself
    points = _open(followups, case)
    assert points["TACE 1 follow-up 2"].modality == "MR"
    assert points["TACE 1 follow-up 1"].modality == "MR"  # from the preset

    followups.set_preset(case, "protocol")
    points = _open(followups, case)
    assert points["TACE 1 follow-up 2"].modality == "MR"  # the user's choice
    assert points["TACE 1 follow-up 1"].modality == "CT"  # the preset's again


def test_a_follow_up_missing_from_the_new_schedule_is_deleted_with_an_audit(
    services: Any,
) -> None:
    case, followups = scheduled_course(services.session_factory, "K3")
    before = _open(followups, case)
    assert len(before) == 12  # 8 weeks, then every 3 months, up to 36 months
    eleventh = before["TACE 1 follow-up 11"]
    followups.assign(eleventh.pk, radiologist="Dr Far", modality="MR")

    followups.set_preset(case, "months")  # 1, 3, 6, 9, 12 months, then every 6: 9 of them
    after = _open(followups, case)
    assert sorted(after) == sorted(f"TACE 1 follow-up {n}" for n in range(1, 10))
    deleted = _events(services, "delete_followup_timepoint")
    assert [e.before["label"] for e in deleted] == [f"TACE 1 follow-up {n}" for n in (10, 11, 12)]
    lost = next(e for e in deleted if e.entity_pk == eleventh.pk)
    assert lost.entity == "timepoint"
    assert (lost.before["radiologist"], lost.before["modality"]) == ("Dr Far", "MR")
    assert lost.after == {"user_settings_lost": {"radiologist": "Dr Far", "modality": "MR"}}
    assert "Dr Far" in lost.summary
    assert "TACE 1 follow-up 11" in lost.summary


def test_an_open_follow_up_holding_an_assessment_is_never_deleted(services: Any) -> None:
    case, followups = scheduled_course(services.session_factory, "K4")
    second = _open(followups, case)["TACE 1 follow-up 2"]
    factory = services.session_factory
    with factory() as session:
        session.add(
            AssessmentRow(
                case_pk=case,
                timepoint_pk=second.pk,
                criterion="mrecist",
                category="PR",
                parameters_version="1",
            )
        )
        session.commit()

    followups.set_preset(case, "society")
    with factory() as session:
        kept = session.get(TimepointRow, second.pk)
        assert kept is not None
        assert (kept.label, kept.status) == ("TACE 1 follow-up 2", "superseded")
        assessments = session.scalars(
            select(AssessmentRow.id).where(AssessmentRow.timepoint_pk == second.pk)
        ).all()
        assert len(assessments) == 1
    # the new schedule does not lay a second "follow-up 2" beside it
    labels = [t.label for t in followups.case_timepoints(case)]
    assert labels.count("TACE 1 follow-up 2") == 1
