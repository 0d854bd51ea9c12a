"""Helpers of the plan-progress tests: the phantom case's plan approved, its sessions logged.

``seeded`` is the phantom's bilobar baseline with the worked example's patient inputs
(``planning_seed``): its plan has 2 sessions of 100 mg each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from planning_seed import PATIENT_INPUTS, approve_plan, seed_case
from tace_planner.services.planning import PlanningService
from tace_planner.services.procedures import ProcedureService

PERFORMED_ON = dt.date(2026, 3, 16)
LOGGED_AT = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)


def seeded(services: Any) -> tuple[PlanningService, int]:
    """(planning service as "dr plan", case pk) of the phantom's baseline case."""
    planning = PlanningService(services.session_factory, "dr plan", protocol=services.protocol)
    case_pk = seed_case(services)
    planning.set_clinical_inputs(case_pk, **PATIENT_INPUTS)
    return planning, case_pk


def approve(planning: PlanningService, case_pk: int) -> Any:
    """The case's proposal saved and approved, every warning acknowledged."""
    return approve_plan((planning, case_pk))[2]


def log_session(
    services: Any, plan: Any, number: int, *, on: dt.date = PERFORMED_ON, sign: bool = True
) -> Any:
    """Log session ``number`` of ``plan`` as performed on ``on`` (delivered in full), and
    sign it unless ``sign`` is False; returns the procedure item."""
    procedures = ProcedureService(services.session_factory, "dr log", clock=lambda: LOGGED_AT)
    record = {"performed_on": on.isoformat(), "operator": "Dr IR", "lot": "LOT-7",
              "expiry": "2027-06-30", "endpoint": "near-stasis", "lidocaine_mg": 40,
              "delivered_fraction": 1.0}  # fmt: skip
    item = procedures.log(plan.case_pk, record, plan_pk=plan.pk, session_number=number)
    return procedures.sign(item.pk) if sign else item
