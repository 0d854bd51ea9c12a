"""Linking a study elsewhere never strands its contours: a study whose series carry
contours at its timepoint is not moved, and a plan is never proposed from contours whose
study is no longer at the baseline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from followup_seed import add_study
from planning_seed import PATIENT_INPUTS, seed_case
from tace_planner.domain.errors import InvalidInputError
from tace_planner.store.models import AuditEventRow, StudyRow, TimepointRow

pytestmark = [pytest.mark.db]

BASELINE_UID = "1.2.3.P-1"  # planning_seed's baseline CT, with the liver and 7 foci contoured


def _timepoints(services: Any, case_pk: int) -> dict[str, list[str]]:
    detail = services.cases.case_detail(case_pk)
    return {t["label"]: [s["study_uid"] for s in t["studies"]] for t in detail["timepoints"]}


def _audit_count(services: Any) -> int:
    with services.session_factory() as session:
        return len(session.scalars(select(AuditEventRow.id)).all())


def test_a_contoured_study_is_not_moved_to_another_timepoint(services: Any) -> None:
    """Seen: the baseline CT moved to follow-up 1 left its 8 contours at a baseline with no
    study, and the plan still proposed a dose from them."""
    case_pk = seed_case(services)
    before = (_timepoints(services, case_pk), _audit_count(services))
    with pytest.raises(InvalidInputError) as refused:
        services.cases.link_study(
            case_pk, BASELINE_UID, timepoint_label="follow-up 1", timepoint_kind="follow_up"
        )
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    for words in (BASELINE_UID, "8 contours", "at baseline", "follow-up 1", "delete"):
        assert words in message
    assert "F1" in message
    assert "liver" in message
    assert (_timepoints(services, case_pk), _audit_count(services)) == before  # nothing changed
    assert services.planning.propose(case_pk).sessions  # the baseline plan is intact


def test_a_contoured_study_is_not_moved_to_another_case(services: Any) -> None:
    case_pk = seed_case(services)
    other = services.cases.create_case("P-1", "Second course")
    with pytest.raises(InvalidInputError, match="8 contours at baseline"):
        services.cases.link_study(
            other.pk, BASELINE_UID, timepoint_label="baseline", timepoint_kind="baseline"
        )
    assert _timepoints(services, case_pk)["baseline"] == [BASELINE_UID]
    assert _timepoints(services, other.pk) == {}


def test_a_study_without_contours_moves_and_leaves_no_empty_timepoint(services: Any) -> None:
    case_pk = seed_case(services)
    add_study(services.session_factory, "P-1", "1.2.9", dt.date(2026, 5, 11))
    cases = services.cases
    cases.link_study(case_pk, "1.2.9", timepoint_label="follow-up 2", timepoint_kind="follow_up")
    cases.link_study(case_pk, "1.2.9", timepoint_label="follow-up 1", timepoint_kind="follow_up")
    # follow-up 2 was made by linking and holds nothing now: it is removed.
    assert _timepoints(services, case_pk) == {"baseline": [BASELINE_UID], "follow-up 1": ["1.2.9"]}
    with services.session_factory() as session:
        event = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id.desc())).first()
    assert event.action == "link_study"
    assert event.after["removed_empty_timepoint"]["label"] == "follow-up 2"


def test_no_plan_from_baseline_contours_whose_study_left_the_baseline(services: Any) -> None:
    """A database written before the refusal: the baseline CT sits at follow-up 1 while its
    contours stay at the baseline, which has no study. The plan proposed 4 mL of beads from
    them; it must say why it proposes nothing."""
    case_pk = seed_case(services)
    services.planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    with services.session_factory() as session:
        study = session.scalars(select(StudyRow).where(StudyRow.study_uid == BASELINE_UID)).one()
        follow_up = TimepointRow(case_pk=case_pk, kind="follow_up", label="follow-up 1",
                                 ordinal=1, imaged_on=dt.date(2026, 5, 11))  # fmt: skip
        session.add(follow_up)
        session.flush()
        study.timepoint_pk = follow_up.id
        session.commit()
    proposal = services.planning.propose(case_pk)
    assert proposal.blocked
    assert not proposal.sessions
    (advisory,) = [a for a in proposal.advisories if a.code == "burden.contours_without_study"]
    assert advisory.severity == "block"
    assert "baseline has no study" in advisory.message
    assert "follow-up 1" in advisory.message
    burden = services.planning.burden_inputs(case_pk)
    assert burden.foci == ()
    assert burden.liver_volume_cm3 is None
    assert any("follow-up 1" in problem for problem in burden.problems)


def test_contours_on_a_study_moved_away_are_left_out_while_another_stays(services: Any) -> None:
    """The baseline keeps an MRI study, but the contoured CT moved to follow-up 1."""
    case_pk = seed_case(services)
    add_study(services.session_factory, "P-1", "1.2.8", dt.date(2026, 3, 4))
    services.cases.link_study(case_pk, "1.2.8", timepoint_label="baseline",
                              timepoint_kind="baseline")  # fmt: skip
    with services.session_factory() as session:
        study = session.scalars(select(StudyRow).where(StudyRow.study_uid == BASELINE_UID)).one()
        follow_up = TimepointRow(case_pk=case_pk, kind="follow_up", label="follow-up 1",
                                 ordinal=1, imaged_on=dt.date(2026, 5, 11))  # fmt: skip
        session.add(follow_up)
        session.flush()
        study.timepoint_pk = follow_up.id
        session.commit()
    proposal = services.planning.propose(case_pk)
    assert proposal.blocked
    (advisory,) = [a for a in proposal.advisories if a.code == "burden.contours_without_study"]
    assert "follow-up 1" in advisory.message
    assert "F1" in advisory.message
