"""The approved plan under way: which of its sessions were performed, and what a new plan does.

A case's approved plan is carried out session by session, each logged and signed in
the procedure log (a procedure records the plan and the session it performs). Once one
is performed, the plan proposed on the Plan workspace is no longer that plan: saved or
approved, it is a new plan that replaces the approved sessions not yet performed, and
its course warnings count it after the treatments performed
(:meth:`~tace_planner.domain.dosing.CourseHistory.before_a_new_plan`). Without these
lines a clinician read "3 treatments" beside "Session 1 … 100 mg" as the performed
session counted twice and offered again.

:func:`read_plan_progress` reads it (an open session, no unit of work);
:class:`PlanProgress` holds it and words it for the panel, its buttons and the plan sheet.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tace_planner.domain.dosing_inputs import CourseHistory
from tace_planner.services.planning_records import plan_item, signed_procedures
from tace_planner.store.models import TreatmentPlanRow
from tace_planner.store.procedure_rows import ProcedureRow

__all__ = ["PlanProgress", "SessionProgress", "read_plan_progress"]

PROCEDURE_PLACE = "Procedure workspace"
"""Where a session still to perform is logged (named on the Plan workspace only)."""


@dataclass(frozen=True, slots=True)
class SessionProgress:
    """One session of the approved plan and what the procedure log holds for it.

    ``status`` is ``"performed"`` (a signed procedure records it), ``"draft"`` (logged,
    not signed yet) or ``"to_perform"``; ``tace_number``, ``performed_on`` and
    ``delivered_mg`` come from the signed procedure (the latest signed revision).
    """

    number: int
    territory_label: str
    loaded_mg: float
    status: str
    tace_number: int | None = None
    performed_on: dt.date | None = None
    delivered_mg: float | None = None

    def text(self) -> str:
        """ "session 1 performed as TACE 1 on 2026-03-16 (100 mg delivered)"."""
        if self.status == "performed":
            when = f" on {self.performed_on.isoformat()}" if self.performed_on else ""
            dose = "" if self.delivered_mg is None else f" ({self.delivered_mg:.0f} mg delivered)"
            return f"session {self.number} performed as TACE {self.tace_number}{when}{dose}"
        if self.status == "draft":
            return f"session {self.number} logged as TACE {self.tace_number}, not signed yet"
        return f"session {self.number} to perform"


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """The case's latest approved plan and its sessions performed (at least one).

    ``treatments_performed`` counts every signed procedure of the case (the course a
    new plan is judged against), not only this plan's.
    """

    plan_version: int
    total_loaded_mg: float
    sessions: tuple[SessionProgress, ...]
    treatments_performed: int

    @property
    def performed(self) -> tuple[SessionProgress, ...]:
        """The sessions a signed procedure records."""
        return tuple(s for s in self.sessions if s.status == "performed")

    @property
    def open(self) -> tuple[SessionProgress, ...]:
        """The sessions not performed yet (a new plan approved would replace them)."""
        return tuple(s for s in self.sessions if s.status != "performed")

    def summary(self, *, on_screen: bool = False) -> str:
        """One line: the plan, each session performed or to perform.

        "Plan v1 approved (200 mg in 2 sessions): session 1 performed as TACE 1 on
        2026-03-16 (100 mg delivered); session 2 to perform (Procedure workspace)."
        ``on_screen`` names where the open sessions are logged.
        """
        count = len(self.sessions)
        parts = "; ".join(s.text() for s in self.sessions)
        where = f" ({PROCEDURE_PLACE})" if on_screen and self.open else ""
        done = "" if self.open else "; every session performed"
        return (
            f"Plan v{self.plan_version} approved ({self.total_loaded_mg:.0f} mg in {count} "
            f"session{'s' if count != 1 else ''}): {parts}{where}{done}."
        )

    def repeats(self, proposal: Any) -> bool:
        """True when ``proposal``'s sessions are this plan's again (territory and dose)."""
        sessions = tuple(getattr(proposal, "sessions", ()) or ())
        mine = [(s.number, s.territory_label, round(s.loaded_mg)) for s in self.sessions]
        theirs = [(s.number, s.territory_label, round(s.irinotecan_loaded_mg)) for s in sessions]
        return bool(theirs) and mine == theirs

    def _open_numbers(self) -> str:
        """ "session 2" / "sessions 2, 3" (the sessions not yet performed; "" for none)."""
        numbers = [str(s.number) for s in self.open]
        if not numbers:
            return ""
        return f"session{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}"

    def new_plan_note(self, proposal: Any, subject: str = "The proposal below") -> str:
        """What the proposal below is: a new plan on top of the approved one ("" without one).

        Approved, it would replace the sessions not yet performed; it is counted after
        the treatments performed — which is why its warnings may count more treatments
        than the approved plan has sessions.
        """
        sessions = tuple(getattr(proposal, "sessions", ()) or ())
        if not sessions:
            return ""
        opened = self._open_numbers()
        # the course-count warning's numbers in its own words (domain), so the note and
        # the warning read the same: "3 treatments in the course (1 performed, 2 in this plan)"
        count = CourseHistory(procedures=self.treatments_performed).treatments_with(len(sessions))
        done = count.performed
        replace = (
            f" Approved, it would replace {opened} of plan v{self.plan_version} "
            "(not yet performed)."
            if opened
            else ""
        )
        again = "; ".join(
            f"session {s.number}, {s.territory_label}, performed as TACE {s.tace_number}"
            for s in self.performed
        )
        repeat = (
            f" It starts again from session 1 ({again}): that session would be performed again."
            if self.repeats(proposal)
            else ""
        )
        return (
            f"{subject} is a new plan, not plan v{self.plan_version}.{replace} "
            f"It is counted after the {done} treatment{'s' if done != 1 else ''} performed "
            f"(institutional default), so its warnings count {count.words()}.{repeat}"
        )

    def save_draft_tip(self) -> str:
        """What *Save draft* does while this plan is under way."""
        opened = self._open_numbers()
        open_part = f"; {opened} stays to perform until a new plan is approved" if opened else ""
        return (
            "Saves this proposal as a new draft version, not approved. "
            f"Plan v{self.plan_version} stays the approved plan{open_part}."
        )

    def approve_tip(self) -> str:
        """What *Approve…* does while this plan is under way."""
        done = ", ".join(f"TACE {s.tace_number}" for s in self.performed)
        opened = self._open_numbers()
        replaced = f", replacing {opened} of plan v{self.plan_version}" if opened else ""
        return (
            "Approving makes this proposal the course's new plan"
            f"{replaced}; the treatments performed ({done}) stay in the course "
            "and are counted before its sessions."
        )


def read_plan_progress(session: Session, case_pk: int) -> PlanProgress | None:
    """The progress of the case's latest approved plan, or None when none of its
    sessions is performed (no approved plan, or none logged and signed from it)."""
    rows = session.scalars(
        select(TreatmentPlanRow)
        .where(TreatmentPlanRow.case_pk == case_pk, TreatmentPlanRow.status == "approved")
        .order_by(TreatmentPlanRow.plan_version.desc(), TreatmentPlanRow.id.desc())
        .limit(1)
    ).all()
    if not rows:
        return None
    row = rows[0]
    performed = signed_procedures(session, case_pk)
    signed = {
        procedure.session_number: (procedure, revision)
        for procedure, revision in performed
        if procedure.plan_pk == row.id
    }
    if not signed:
        return None
    drafts = {
        procedure.session_number: procedure
        for procedure in session.scalars(
            select(ProcedureRow).where(
                ProcedureRow.case_pk == case_pk, ProcedureRow.plan_pk == row.id
            )
        )
    }
    item = plan_item(row)
    sessions = []
    for planned in item.sessions:
        base = (planned.number, planned.territory_label, planned.irinotecan_loaded_mg)
        if planned.number in signed:
            procedure, revision = signed[planned.number]
            sessions.append(
                SessionProgress(
                    *base,
                    status="performed",
                    tace_number=procedure.number,
                    performed_on=revision.performed_on,
                    delivered_mg=revision.delivered_mg,
                )
            )
        elif planned.number in drafts:
            sessions.append(
                SessionProgress(*base, status="draft", tace_number=drafts[planned.number].number)
            )
        else:
            sessions.append(SessionProgress(*base, status="to_perform"))
    return PlanProgress(
        plan_version=row.plan_version,
        total_loaded_mg=math.fsum(s.irinotecan_loaded_mg for s in item.sessions),
        sessions=tuple(sessions),
        treatments_performed=len(performed),
    )
