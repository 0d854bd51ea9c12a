"""A response course whose first follow-up is a visit placed in a schedule slot under
another label (for the tests of the one visit name in the case report)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from followup_seed import add_response_course, sign_tace

PLACED = "TACE 1 follow-up 1"


def placed_response_course(services: Any, patient_id: str) -> tuple[int, int]:
    """:func:`followup_seed.add_response_course`, its first follow-up's CT linked as
    "follow-up 2" (placed in the slot "TACE 1 follow-up 1"), every follow-up assessed and
    stored: (case, that timepoint's id)."""
    from tace_planner.store.models import TimepointRow

    case, _ = add_response_course(services.session_factory, patient_id)
    sign_tace(services.session_factory, case, dt.date(2026, 5, 20), delivered_fraction=0.6)
    with services.session_factory() as session:
        point = session.query(TimepointRow).filter_by(case_pk=case, label=PLACED).one()
        point.label, pk = "follow-up 2", point.id
        session.commit()
    for point in services.contouring.lesions.timepoints(case):
        if point.kind != "baseline" and point.imaged_on is not None:
            services.assessments.assess(case, point.pk)
    return case, pk
