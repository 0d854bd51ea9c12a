"""Stored response assessments: write one row per criterion, supersede, read back.

Used by :class:`~tace_planner.services.assessment.AssessmentService`. One unit of work
per assessment, audited: each new row is an ``assess`` event, each older row of the same
case, timepoint and criterion that it replaces a ``supersede`` event (the older row is
kept with ``status = "superseded"`` and the id of the row that replaced it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.services.followup_records import follow_up_choices
from tace_planner.services.visit_names import names_by_pk
from tace_planner.store.assessment_rows import AssessmentRow
from tace_planner.store.audit import json_safe, row_snapshot
from tace_planner.store.models import TimepointRow
from tace_planner.store.unit_of_work import UnitOfWork

CURRENT = "current"
SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    """One stored criterion at one timepoint (a read model; no SQL)."""

    pk: int
    timepoint_pk: int
    timepoint: str
    imaged_on: dt.date | None
    criterion: str
    category: str
    rule: str
    status: str
    superseded_by_pk: int | None
    parameters_version: str
    created_by: str
    created_at: dt.datetime
    explanation: Mapping[str, Any]
    visit_name: str = ""
    """The visit as people read it (its schedule slot when placed in one, "TACE 1
    follow-up 1"; any other by its label, ``timepoint``, which the services are asked by):
    :func:`~tace_planner.services.visit_names.name_of`. "" when not given: a view shows
    ``visit_name or timepoint``."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data: dict[str, Any] = json_safe(
            {name: getattr(self, name) for name in self.__dataclass_fields__}
        )
        return data


def store_results(
    sessions: sessionmaker[Session],
    user: str,
    case_pk: int,
    timepoint_pk: int,
    results: Mapping[str, Mapping[str, Any]],
    parameters: Mapping[str, Any],
) -> dict[str, int]:
    """Store each criterion's result, superseding the current row of the same criterion.

    ``results``: criterion key → its JSON (``category`` and ``rule`` read from it, or
    from its ``overall``). Returns criterion → id of the new row.
    """
    stored: dict[str, int] = {}
    version = str(parameters.get("version", ""))
    with UnitOfWork(sessions, user=user) as uow:
        session = uow.session
        for criterion, data in results.items():
            verdict = data.get("overall") or data
            row = AssessmentRow(
                case_pk=case_pk,
                timepoint_pk=timepoint_pk,
                criterion=criterion,
                category=str(verdict.get("category", "")),
                rule=str(verdict.get("rule", "")),
                explanation=json_safe(dict(data)),
                parameters_version=version,
                parameters=json_safe(dict(parameters)),
                status=CURRENT,
                created_by=user,
            )
            session.add(row)
            uow.flush()
            older = session.scalars(
                select(AssessmentRow).where(
                    AssessmentRow.case_pk == case_pk,
                    AssessmentRow.timepoint_pk == timepoint_pk,
                    AssessmentRow.criterion == criterion,
                    AssessmentRow.status == CURRENT,
                    AssessmentRow.id != row.id,
                )
            ).all()
            for old in older:
                before = row_snapshot(old)
                old.status, old.superseded_by_pk = SUPERSEDED, row.id
                uow.audit(
                    action="supersede",
                    entity_pk=old,
                    before=before,
                    after=old,
                    summary=f"{criterion} {old.category} superseded by a re-assessment "
                    f"({row.category})",
                )
            uow.audit(
                action="assess",
                entity_pk=row,
                after=row,
                summary=f"case {case_pk}: {criterion} {row.category} stored",
            )
            stored[criterion] = row.id
        uow.commit()
    return stored


def stored_assessments(
    sessions: sessionmaker[Session], case_pk: int, *, include_superseded: bool = False
) -> list[StoredAssessment]:
    """The case's stored assessments, by imaging date, timepoint, criterion, newest first."""
    with sessions() as session:
        statement = (
            select(AssessmentRow, TimepointRow)
            .join(TimepointRow, TimepointRow.id == AssessmentRow.timepoint_pk)
            .where(AssessmentRow.case_pk == case_pk)
        )
        if not include_superseded:
            statement = statement.where(AssessmentRow.status == CURRENT)
        rows = session.execute(statement).all()
        # the day only decides a follow-up's readiness, never its name
        names = names_by_pk(follow_up_choices(session, case_pk, dt.date.today()))
        items = [
            StoredAssessment(
                pk=row.id,
                timepoint_pk=point.id,
                timepoint=point.label,
                imaged_on=point.imaged_on,
                criterion=row.criterion,
                category=row.category,
                rule=row.rule,
                status=row.status,
                superseded_by_pk=row.superseded_by_pk,
                parameters_version=row.parameters_version,
                created_by=row.created_by,
                created_at=row.created_at,
                explanation=dict(row.explanation),
                visit_name=names.get(point.id, point.label),
            )
            for row, point in rows
        ]
    items.sort(key=lambda a: (a.imaged_on or dt.date.max, a.timepoint, a.criterion, -a.pk))
    if not include_superseded:
        # Two workstations assessing at once may both leave a current row: the newer wins.
        newest: dict[tuple[int, str], StoredAssessment] = {}
        for item in items:  # newest first within a timepoint and criterion
            newest.setdefault((item.timepoint_pk, item.criterion), item)
        items = [a for a in items if newest[(a.timepoint_pk, a.criterion)] is a]
    return items


def current_categories(session: Session, case_pk: int, criterion: str = "recist") -> dict[int, str]:
    """Timepoint id → the current category of ``criterion`` (for the timeline)."""
    rows = session.execute(
        select(AssessmentRow.timepoint_pk, AssessmentRow.category)
        .where(
            AssessmentRow.case_pk == case_pk,
            AssessmentRow.criterion == criterion,
            AssessmentRow.status == CURRENT,
        )
        .order_by(AssessmentRow.id)
    ).all()
    return {timepoint_pk: category for timepoint_pk, category in rows}  # the newest wins
