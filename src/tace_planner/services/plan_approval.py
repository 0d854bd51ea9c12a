"""Approving a plan: overrides re-derived by the dosing kernel, then everything judged again.

:func:`preview_overrides` and :func:`approve_plan` share :func:`judge`: the
overrides are applied with :func:`tace_planner.domain.dosing_overrides.override_session`
and the sessions that will actually be approved are judged again, session and
course (against the course as it stands now), by
:func:`tace_planner.domain.dosing_overrides.rejudge`. Each warning of that list must
be acknowledged and each contraindication answered with the physician's reason;
an approved plan never changes again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.body import PATIENT_FIELD_WORDS, PATIENT_FIELDS
from tace_planner.domain.dosing import CourseHistory, SessionPlan
from tace_planner.domain.dosing_overrides import (
    OVERRIDABLE_FIELDS,
    field_label,
    missing_reason,
    override_session,
    rejudge,
)
from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.domain.explanation import Advisory
from tace_planner.services.planning_dto import BurdenItem, OverrideItem, PlanItem, PlanProposal
from tace_planner.services.planning_records import (
    inputs_item,
    inputs_row,
    plan_item,
    product_from_snapshot,
    read_burden,
    read_course_for_plan,
)
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import TreatmentPlanRow
from tace_planner.store.unit_of_work import UnitOfWork

ACKNOWLEDGE_SEVERITIES = ("warning", "strong_warning")
"""Advisories an approver must acknowledge (info needs none; a block cannot be approved)."""


def approve_plan(
    session_factory: sessionmaker[Session],
    user: str,
    clock: Callable[[], dt.datetime],
    plan_pk: int,
    acknowledged_warnings: Iterable[str],
    overrides: Mapping[str, tuple[float, str]] | None = None,
    *,
    contraindication_reasons: Mapping[str, str] | None = None,
    expected_version: int | None = None,
) -> PlanItem:
    """Approve a draft plan; afterwards it never changes.

    Parameters
    ----------
    plan_pk : int
        A draft plan.
    acknowledged_warnings : iterable of str
        Codes of every warning and strong warning of the sessions that will be
        approved (see :meth:`preview_overrides`, which judges them again).
    overrides : mapping, optional
        ``{"session1.beads_ml": (value, reason), …}`` for fields in
        ``OVERRIDABLE_FIELDS``; dependent numbers are re-derived by the dosing
        kernel, and the session and course checks run again on the result. An
        advisory the overrides raise or change has the code ``override.<code>``
        and must be acknowledged on its own.
    contraindication_reasons : mapping, optional
        ``{code: reason}`` for every contraindication shown: the physician's
        override of a contraindication, with the reason (recorded and printed).
    expected_version : int, optional
        The row version the approver saw; a different one means another
        workstation changed the plan.

    Raises
    ------
    InvalidInputError
        The plan is approved already, blocked, a warning is not acknowledged, a
        contraindication has no reason, or an override is impossible — a bead
        volume or vial count more than twice the per-session maximum among them
        (the field is named). Nothing is saved.
    ConcurrentEditError
        The plan changed since ``expected_version``.
    NotFoundError
        No such plan.
    """
    with UnitOfWork(session_factory, user=user) as uow:
        row = uow.session.get(TreatmentPlanRow, plan_pk)
        if row is None:
            raise NotFoundError(f"plan {plan_pk} does not exist")
        if expected_version is not None and row.version != expected_version:
            raise ConcurrentEditError(
                "this plan was changed on another workstation — reload and try again"
            )
        item = approve_row(
            uow,
            row,
            user,
            clock,
            acknowledged_warnings,
            overrides,
            contraindication_reasons=contraindication_reasons,
        )
        uow.commit()
        return item


def approve_row(
    uow: UnitOfWork,
    row: TreatmentPlanRow,
    user: str,
    clock: Callable[[], dt.datetime],
    acknowledged_warnings: Iterable[str],
    overrides: Mapping[str, tuple[float, str]] | None = None,
    *,
    contraindication_reasons: Mapping[str, str] | None = None,
) -> PlanItem:
    """Approve the draft ``row`` inside ``uow`` (audited; the caller commits).

    The checks and their errors are those of :func:`approve_plan`; a draft saved
    in the same unit of work (:meth:`PlanningService.approve_proposal`) is approved
    with it or, when a check fails, never saved.
    """
    acknowledged = set(acknowledged_warnings)
    reasons = {
        str(code): str(reason).strip() for code, reason in (contraindication_reasons or {}).items()
    }
    if row.status == "approved":
        raise InvalidInputError(
            "plan",
            f"version {row.plan_version} is approved and cannot change; "
            "revise it to make a new version",
        )
    item = plan_item(row)
    if item.blocked:
        reasons_text = "; ".join(a.message for a in item.advisories if a.severity == "block")
        raise InvalidInputError("plan", f"blocked, nothing to approve: {reasons_text}")
    if not item.proposal.sessions:
        raise InvalidInputError("plan", "has no session to approve")
    stale = changed_since_computed(uow.session, item.proposal)
    if stale:
        raise InvalidInputError(
            "plan", f"not approved: {stale}. Compute the plan again and check it before approving"
        )
    course = read_course_for_plan(uow.session, row.case_pk)
    sessions, shown, override_items = judge(item, overrides or {}, course, user)
    needed = {a.code for a in shown if a.severity in ACKNOWLEDGE_SEVERITIES}
    missing = [a for a in shown if a.code in needed - acknowledged]
    if missing:
        raise InvalidInputError(
            "acknowledged_warnings",
            "acknowledge every warning first: "
            + "; ".join(f"{a.code} ({a.message})" for a in missing),
        )
    unknown = sorted(acknowledged - needed)
    if unknown:
        raise InvalidInputError(
            "acknowledged_warnings", f"not shown with this plan: {', '.join(unknown)}"
        )
    contra = {a.code: a for a in shown if a.severity == "contraindication"}
    unanswered = [a for code, a in contra.items() if not reasons.get(code)]
    if unanswered:
        raise InvalidInputError(
            "contraindication_reasons",
            "a contraindication is approved only with the physician's reason: "
            + "; ".join(a.message for a in unanswered),
        )
    stray = sorted(set(reasons) - set(contra))
    if stray:
        raise InvalidInputError(
            "contraindication_reasons", f"not shown with this plan: {', '.join(stray)}"
        )
    before = row_snapshot(row)
    replaced = _replaced_plan(uow.session, row)
    if replaced is not None:
        # the course was judged with this plan in place of the approved sessions not
        # performed (read_course_for_plan): those of the plan it replaces are not offered
        # for logging, nor counted, any more
        row.supersedes_pk = replaced.id
    row.status = "approved"
    row.approved_at = clock()
    row.approved_by = user
    row.warnings = {
        "shown": [a.to_json() for a in shown],
        "acknowledged": sorted(acknowledged),
        "contraindications_overridden": {code: reasons[code] for code in sorted(contra)},
    }
    row.overrides = {o.field: o.to_json() for o in override_items}
    row.results = {
        **row.results,
        "effective_sessions": [s.to_json() for s in sessions],
        "course_at_approval": course.to_json(),
    }
    uow.flush()
    uow.audit(
        action="approve_plan",
        entity="treatment_plan",
        entity_pk=row,
        before=before,
        after=row_snapshot(row),
        summary=f"case {row.case_pk}: plan version {row.plan_version} approved"
        + (f" with {len(override_items)} override(s)" if override_items else "")
        + (f", {len(contra)} contraindication(s) overridden" if contra else "")
        + (
            f"; it replaces version {replaced.plan_version} (its sessions not performed)"
            if replaced is not None
            else ""
        ),
    )
    return plan_item(row)


def _replaced_plan(session: Session, row: TreatmentPlanRow) -> TreatmentPlanRow | None:
    """The case's current approved plan that approving ``row`` replaces, if any.

    ``row``'s own ``supersedes_pk`` (a revision) names it; else the latest approved plan
    of the case that no approved plan supersedes yet.
    """
    if row.supersedes_pk is not None:
        named = session.get(TreatmentPlanRow, row.supersedes_pk)
        return named if named is not None and named.status == "approved" else None
    approved = session.scalars(
        select(TreatmentPlanRow).where(
            TreatmentPlanRow.case_pk == row.case_pk,
            TreatmentPlanRow.status == "approved",
            TreatmentPlanRow.id != row.id,
        )
    ).all()
    superseded = {p.supersedes_pk for p in approved if p.supersedes_pk is not None}
    current = [p for p in approved if p.id not in superseded]
    return max(current, key=lambda p: (p.plan_version, p.id)) if current else None


def preview_overrides(
    session_factory: sessionmaker[Session],
    user: str,
    plan_pk: int,
    overrides: Mapping[str, tuple[float, str]],
) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...]]:
    """The sessions and every advisory that approving with ``overrides`` would show.

    The session and course checks run again on the overridden sessions and on
    the course as it stands now (nothing saved); pass ``{}`` to judge the plan
    as proposed against today's course.

    Raises
    ------
    InvalidInputError
        An override is impossible (the field is named).
    """
    with session_factory() as session:
        row = session.get(TreatmentPlanRow, plan_pk)
        if row is None:
            raise NotFoundError(f"plan {plan_pk} does not exist")
        item = plan_item(row)
        course = read_course_for_plan(session, row.case_pk)
    sessions, shown, _ = judge(item, overrides, course, user)
    return sessions, shown


def preview_proposal(
    session_factory: sessionmaker[Session],
    user: str,
    proposal: PlanProposal,
    overrides: Mapping[str, tuple[float, str]],
) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...]]:
    """As :func:`preview_overrides`, for a proposal that is not saved yet (nothing saved).

    Raises
    ------
    InvalidInputError
        An override is impossible (the field is named).
    """
    with session_factory() as session:
        course = read_course_for_plan(session, proposal.case.case_pk)
    sessions, shown, _ = judge_proposal(proposal, overrides, course, user)
    return sessions, shown


def judge(
    item: PlanItem,
    overrides: Mapping[str, tuple[float, str]],
    course: CourseHistory,
    user: str,
) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...], tuple[OverrideItem, ...]]:
    """Apply overrides, then judge the resulting sessions and the course again."""
    return judge_proposal(item.proposal, overrides, course, user)


def judge_proposal(
    proposal: PlanProposal,
    overrides: Mapping[str, tuple[float, str]],
    course: CourseHistory,
    user: str,
) -> tuple[tuple[SessionPlan, ...], tuple[Advisory, ...], tuple[OverrideItem, ...]]:
    """:func:`judge` on a proposal (saved or not)."""
    params = PlanningParameters.from_dict(proposal.parameters["planning"])
    product = product_from_snapshot(proposal.parameters["product"])
    sessions, records = apply_overrides(proposal, overrides, params, product, user)
    shown = rejudge(proposal.advisories, sessions, product, params, course)
    return sessions, shown, records


def apply_overrides(
    proposal: PlanProposal,
    overrides: Mapping[str, tuple[float, str]],
    params: PlanningParameters,
    product: Any,
    user: str,
) -> tuple[tuple[SessionPlan, ...], tuple[OverrideItem, ...]]:
    """The sessions with ``overrides`` applied, and one record per overridden number.

    Raises
    ------
    InvalidInputError
        A key that names no overridable field, a session the plan lacks, a blank
        reason, or a value :func:`override_session` refuses (not positive, a slip
        more than twice the per-session maximum, …). The field is the one the
        Approve dialog marks: :func:`field_label` of the key ("Session 1 bead
        volume (mL)") or the reason's (:func:`missing_reason`).
    """
    by_session: dict[int, dict[str, tuple[float, str]]] = {}
    for key, entry in overrides.items():
        head, _, name = key.partition(".")
        number = head.removeprefix("session")
        if not number.isdigit() or name not in OVERRIDABLE_FIELDS:
            raise InvalidInputError(key, f"expected session<n>.<{'|'.join(OVERRIDABLE_FIELDS)}>")
        if not isinstance(entry, tuple | list) or len(entry) != 2:
            raise InvalidInputError(field_label(key), "expected (value, reason)")
        by_session.setdefault(int(number), {})[name] = (entry[0], str(entry[1] or ""))
    numbers = {s.number for s in proposal.sessions}
    for number in by_session:
        if number not in numbers:
            raise InvalidInputError(f"Session {number}", "the plan has no such session")
    sessions = []
    records = []
    for session in proposal.sessions:
        changes = by_session.get(session.number)
        if not changes:
            sessions.append(session)
            continue
        blank = [n for n, (_, r) in changes.items() if not r.strip()]
        if blank:
            raise missing_reason(session.number, blank)
        reason = "; ".join(sorted({r.strip() for _, r in changes.values()}))
        updated = override_session(
            session,
            product,
            params,
            proposal.model,  # type: ignore[arg-type]
            {name: value for name, (value, _) in changes.items()},
            reason=reason,
            by=user,
            loading_mg_per_ml=proposal.options.loading_mg_per_ml,
        )
        sessions.append(updated)
        for name, (value, why) in changes.items():
            records.append(
                OverrideItem(
                    f"session{session.number}.{name}",
                    float(value),
                    float(getattr(session, name)),
                    why.strip(),
                )
            )
    return tuple(sessions), tuple(records)


def changed_since_computed(session: Session, proposal: PlanProposal) -> str:
    """What the plan rests on that is stored differently now ("" when nothing).

    An approval must rest on the stored, audited patient inputs and baseline volumes: a
    colleague's newer labs (or a re-contoured focus) after the plan was computed, or
    entries in the form that were never saved, are named here instead of being approved
    unseen.
    """
    case_pk = proposal.case.case_pk
    row = inputs_row(session, case_pk)
    stored = inputs_item(case_pk, row).inputs
    changed = [
        PATIENT_FIELD_WORDS.get(name, name)
        for name in PATIENT_FIELDS
        if getattr(stored, name) != getattr(proposal.patient, name)
    ]
    problems = []
    if changed:
        who = ""
        if row is not None and row.updated_by:
            who = f", last saved by {row.updated_by} on {row.updated_at:%Y-%m-%d %H:%M}"
        problems.append(
            f"the stored patient inputs are not those of this plan ({', '.join(changed)}{who});"
            " save or reload them"
        )
    if _volumes(read_burden(session, case_pk)) != _volumes(proposal.burden):
        problems.append(
            "the baseline contours were changed or measured again since the plan was computed"
        )
    return "; ".join(problems)


def _volumes(burden: BurdenItem) -> tuple[Any, ...]:
    """The burden's volumes and segments, to 0.01 cm³ (what the dose rests on)."""
    liver = None if burden.liver_volume_cm3 is None else round(burden.liver_volume_cm3, 2)
    foci = sorted((f.name, f.couinaud_segment, round(f.volume_cm3, 2)) for f in burden.foci)
    unmeasured = sorted((u.name, u.couinaud_segment) for u in burden.unmeasured)
    return liver, tuple(foci), tuple(unmeasured), tuple(sorted(burden.stranded))
