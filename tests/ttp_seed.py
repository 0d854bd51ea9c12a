"""Helpers of the time-to-progression tests: follow-ups imaged, and read or not."""

from __future__ import annotations

import datetime as dt
from typing import Any

from followup_seed import add_case, add_study, sign_tace
from tace_planner.services.assessment_records import store_results
from tace_planner.store.models import TimepointRow

TACE_ON = dt.date(2026, 1, 5)
FOLLOW_UPS = (
    ("1.2.R1.1", dt.date(2026, 3, 2)),  # day 56
    ("1.2.R1.2", dt.date(2026, 6, 3)),  # day 149
    ("1.2.R1.3", dt.date(2026, 9, 7)),  # day 245
)


def imaged_case(services: Any, patient_id: str = "R1") -> tuple[int, list[int]]:
    """TACE on 5 Jan 2026 and three follow-up studies imported and linked (days 56, 149
    and 245), none assessed; returns the case id and the follow-ups' timepoint ids."""
    factory = services.session_factory
    case = add_case(factory, patient_id, baseline_on=TACE_ON - dt.timedelta(days=7))
    sign_tace(factory, case, TACE_ON)
    services.followups.sync_case(case)
    points = []
    for uid, on in FOLLOW_UPS:
        uid = uid.replace("R1", patient_id)
        add_study(factory, patient_id, uid, on)
        points.append(services.followups.confirm_match(uid, case_pk=case).pk)
    return case, points


def assess(services: Any, case_pk: int, timepoint_pk: int, category: str = "SD") -> None:
    """Store a RECIST 1.1 response assessment for the timepoint (as the radiologist does)."""
    store_results(
        services.session_factory, "dr rad", case_pk, timepoint_pk,
        {"recist": {"category": category, "rule": "stored by the test"}}, {"version": "test"},
    )  # fmt: skip


def assess_follow_ups(services: Any, case_pk: int) -> None:
    """Store an assessment at every imaged follow-up of the case."""
    with services.session_factory() as session:
        points = session.query(TimepointRow).filter(
            TimepointRow.case_pk == case_pk,
            TimepointRow.kind != "baseline",
            TimepointRow.imaged_on.is_not(None),
        )
        pks = [p.id for p in points]
    for pk in pks:
        assess(services, case_pk, pk)
