"""Queries and conversions of the follow-up service: rows of the store into its DTOs.

Used by :class:`tace_planner.services.followups.FollowupService` and
:class:`tace_planner.services.followup_sync.ScheduleSync`; the service owns the transactions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.resources
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Date, String, and_, bindparam, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.followup_ranges import followup_file_problems
from tace_planner.domain.schedule import FollowupParameters
from tace_planner.services.followup_dto import (
    FollowupChoiceItem,
    TimepointItem,
    categorise,
    week_end,
)
from tace_planner.services.planning_records import get_case
from tace_planner.services.visit_names import schedule_name
from tace_planner.store.assessment_rows import AssessmentRow
from tace_planner.store.followup_rows import FollowupScheduleRow
from tace_planner.store.models import (
    AuditEventRow,
    CaseRow,
    PatientRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)
from tace_planner.store.procedure_rows import ProcedureRevisionRow, ProcedureRow

FOLLOWUP_FILE = "followup.json"
OPEN = "scheduled"
DONE_STATES = ("done", "unscheduled")
IMAGING_MODALITIES = ("CT", "MR", "PT", "NM", "US", "XA", "CR", "DX")
"""Series modalities that name a study's imaging (not SEG, SR, RTSTRUCT, PR…)."""


def study_modality(study_pk: Any) -> Any:
    """The imaging modality of a study (the first by name when it holds several), as a
    scalar subquery on its series."""
    return (
        select(func.min(SeriesRow.modality))
        .where(SeriesRow.study_pk == study_pk, SeriesRow.modality.in_(IMAGING_MODALITIES))
        .scalar_subquery()
    )


def load_followup_parameters(folder: Path | None = None) -> FollowupParameters:
    """``folder/followup.json`` when it exists, else the packaged file; the field is named on
    error."""
    if folder is not None and (Path(folder) / FOLLOWUP_FILE).is_file():
        path = Path(folder) / FOLLOWUP_FILE
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        resource = importlib.resources.files("tace_planner.resources") / "parameters"
        text, origin = (resource / FOLLOWUP_FILE).read_text(encoding="utf-8"), FOLLOWUP_FILE
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidInputError(origin, f"is not valid JSON ({error})") from None
    parameters = FollowupParameters.from_dict(data, origin=origin)
    # an institution's file edited by hand: the same ranges as the form, or no schedule from it
    problems = followup_file_problems(data) if origin != FOLLOWUP_FILE else []
    if problems:
        raise InvalidInputError(origin, "; ".join(message for _, message in problems))
    return parameters


def label_of(tace_number: int, followup_number: int) -> str:
    """The timepoint label of a scheduled follow-up, e.g. "TACE 1 follow-up 2" (the name of
    its slot, :func:`~tace_planner.services.visit_names.schedule_name`)."""
    return schedule_name(tace_number, followup_number)


def slot_relaid_column() -> Any:
    """True when another timepoint of the row's case carries the name of the slot the row
    was placed in (:attr:`~tace_planner.services.followup_dto.TimepointItem.slot_relaid`);
    one lookup on the (case, label) index."""
    other = aliased(TimepointRow)
    slot = (
        literal("TACE ")
        + cast(TimepointRow.tace_number, String)
        + literal(" follow-up ")
        + cast(TimepointRow.followup_number, String)
    )
    return and_(
        TimepointRow.followup_number.is_not(None),
        exists().where(
            other.case_pk == TimepointRow.case_pk, other.id != TimepointRow.id, other.label == slot
        ),
    )


def worklist_select(*, with_study: bool = True) -> Any:
    """The worklist's columns; open timepoints have no study, so their query skips that join
    (nor can one of them have been placed in a slot laid out again)."""
    linked = aliased(StudyRow)
    study_columns = (
        (linked.study_uid, linked.study_on)
        if with_study
        else (literal(None).label("study_uid"), literal(None).label("study_on"))
    )
    # appended (row[20], row[21]): the linked study as people know it; (row[22]) whether
    # the slot the row was placed in was laid out again for another timepoint
    study_names = (
        (
            linked.description.label("study_description"),
            study_modality(linked.id).label("study_modality"),
            slot_relaid_column().label("slot_relaid"),
        )
        if with_study
        else (
            literal(None).label("study_description"),
            literal(None).label("study_modality"),
            literal(False).label("slot_relaid"),
        )
    )
    query = (
        select(
            TimepointRow.id,
            TimepointRow.case_pk,
            PatientRow.patient_id,
            PatientRow.name,
            CaseRow.title,
            TimepointRow.tace_number,
            FollowupScheduleRow.anchor_on,
            TimepointRow.label,
            TimepointRow.followup_number,
            TimepointRow.due_on,
            TimepointRow.window_start_on,
            TimepointRow.window_end_on,
            TimepointRow.status,
            TimepointRow.modality,
            TimepointRow.radiologist,
            *study_columns,
            TimepointRow.progression_site,
            TimepointRow.imaged_on,
            PatientRow.id,
            *study_names,
        )
        .join(CaseRow, CaseRow.id == TimepointRow.case_pk)
        .join(PatientRow, PatientRow.id == CaseRow.patient_pk)
        .outerjoin(FollowupScheduleRow, FollowupScheduleRow.id == TimepointRow.schedule_pk)
    )
    return query.outerjoin(linked, linked.timepoint_pk == TimepointRow.id) if with_study else query


@functools.cache
def worklist_statement(
    category: str, *, radiologist: bool, modality: bool, case: bool, limit: bool
) -> Any:
    """The worklist query of one category with the filters asked for, built once.

    Its parameters are bound at execution: ``day``, ``sunday`` (end of the week),
    ``earliest_due`` (``day`` minus the widest window), ``radiologist``, ``modality``,
    ``case_pk`` and ``limit``. Each condition bounds ``due_on`` so that the query walks a
    range of the index on (status, due_on, window_end_on): a closed window implies a due
    date before today, an open one a due date at most the widest window ago.
    """
    day, sunday = bindparam("day", type_=Date), bindparam("sunday", type_=Date)
    open_ = TimepointRow.status == OPEN
    conditions = {
        "due": and_(
            open_,
            TimepointRow.due_on >= bindparam("earliest_due", type_=Date),
            TimepointRow.due_on <= sunday,
            TimepointRow.window_end_on >= day,
        ),
        "overdue": and_(open_, TimepointRow.due_on < day, TimepointRow.window_end_on < day),
        "upcoming": and_(open_, TimepointRow.due_on > sunday),
        "done": TimepointRow.status.in_(DONE_STATES),
        "all": TimepointRow.status.in_((OPEN, *DONE_STATES)),
    }
    query = worklist_select(with_study=category in ("done", "all")).where(conditions[category])
    if radiologist:
        query = query.where(TimepointRow.radiologist == bindparam("radiologist"))
    if modality:
        query = query.where(TimepointRow.modality == bindparam("modality"))
    if case:
        query = query.where(TimepointRow.case_pk == bindparam("case_pk"))
    query = query.order_by(TimepointRow.due_on, TimepointRow.id)
    return query.limit(bindparam("limit")) if limit else query


_ITEM_FIELDS = tuple(f.name for f in dataclasses.fields(TimepointItem))


def timepoint_item(
    row: Any,
    today: dt.date,
    proposal: tuple[Any, ...] | None = None,
    sunday: dt.date | None = None,
) -> TimepointItem:
    """A worklist row (the columns of :func:`worklist_select`) as its read model.

    The worklist makes thousands of these per query, so the frozen item is filled
    directly rather than through its ``__init__`` (one ``object.__setattr__`` per field
    costs three times as much); ``strict`` zipping refuses a field left out.
    """
    status = row[12]
    # the study's description and modality: columns 20-21 (a shorter row has none);
    # a proposal is (uid, date[, description, modality])
    description, modality = (*row[20:22], None, None)[:2]
    proposed = (*(proposal or ("", None)), "", "")
    values = (
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        status,
        categorise(status, row[9], row[11], today, sunday),
        row[13],
        row[14],
        row[15] or "",
        row[16] or (row[18] if status in DONE_STATES else None),
        proposed[0],
        proposed[1],
        row[17],
        description or "",
        modality or "",
        proposed[2] or "",
        proposed[3] or "",
        bool(row[22]) if len(row) > 22 else False,
    )
    item = object.__new__(TimepointItem)
    item.__dict__.update(zip(_ITEM_FIELDS, values, strict=True))
    return item


def latest_taces(session: Session) -> list[tuple[int, int, dt.date]]:
    """(case, TACE number, date) of every case's latest signed TACE, in one query."""
    rows = session.execute(
        select(ProcedureRow.case_pk, ProcedureRow.number, ProcedureRevisionRow.performed_on)
        .join(ProcedureRevisionRow, ProcedureRevisionRow.procedure_pk == ProcedureRow.id)
        .where(
            ProcedureRevisionRow.signed_at.is_not(None),
            ProcedureRevisionRow.performed_on.is_not(None),
        )
        .order_by(ProcedureRow.case_pk, ProcedureRow.number, ProcedureRevisionRow.revision)
    ).all()
    latest: dict[int, tuple[int, dt.date]] = {}
    for case_pk, number, on in rows:
        current = latest.get(case_pk)
        if current is None or (on, number) >= (current[1], current[0]):
            latest[case_pk] = (number, on)
    return [(pk, n, on) for pk, (n, on) in latest.items()]


def held_data(session: Session, timepoint: TimepointRow) -> list[str]:
    """What the timepoint holds that is not part of a schedule, e.g. ``["study 1.2.3",
    "2 contours"]``: linked studies, contours, stored assessments, a recorded progression,
    an imaging date. Empty when it holds nothing; otherwise it must never be deleted
    (contours and assessments would go with it)."""
    held = [
        f"study {uid}"
        for uid in session.scalars(
            select(StudyRow.study_uid)
            .where(StudyRow.timepoint_pk == timepoint.id)
            .order_by(StudyRow.study_uid)
        )
    ]
    for model, column, noun in (
        (SegmentationRow, SegmentationRow.timepoint_pk, "contour"),
        (AssessmentRow, AssessmentRow.timepoint_pk, "assessment"),
    ):
        count = int(
            session.scalar(select(func.count()).select_from(model).where(column == timepoint.id))
            or 0
        )
        if count:
            held.append(f"{count} {noun}{'' if count == 1 else 's'}")
    if timepoint.progression_site:
        held.append(f"progression ({timepoint.progression_site})")
    if timepoint.imaged_on is not None:
        held.append(f"imaged on {timepoint.imaged_on.isoformat()}")
    return held


PLACEABLE_STATES = ("", "unscheduled", "done")
"""Statuses of a timepoint holding imaging that may take a scheduled follow-up's place."""


def placeable(row: Any, schedule_pk: int) -> bool:
    """True when ``row`` (a timepoint holding imaging, or a row with its ``status``,
    ``schedule_pk``, ``label``, ``tace_number`` and ``followup_number``) may stand for a
    follow-up of schedule ``schedule_pk``: one linked by hand (no status), an unscheduled
    one, or one placed on an earlier layout of a schedule. A timepoint a schedule made
    ("TACE k follow-up n") keeps its place (its label says it)."""
    return row.status != "done" or (
        row.schedule_pk != schedule_pk
        and row.label != label_of(row.tace_number or 0, row.followup_number or 0)
    )


def imaged_followups(session: Session, case_pk: int, schedule_pk: int) -> list[TimepointRow]:
    """The case's follow-up timepoints that hold imaging and may stand for a due follow-up
    of schedule ``schedule_pk`` (:func:`placeable`), by imaging date."""
    rows = session.scalars(
        select(TimepointRow)
        .where(
            TimepointRow.case_pk == case_pk,
            TimepointRow.kind == "follow_up",
            TimepointRow.imaged_on.is_not(None),
            TimepointRow.status.in_(PLACEABLE_STATES),
        )
        .order_by(TimepointRow.imaged_on, TimepointRow.id)
    ).all()
    return [row for row in rows if placeable(row, schedule_pk)]


def cases_with_unplaced_imaging(session: Session) -> list[int]:
    """Cases holding follow-up imaging that lies in the window of an open follow-up of
    their current schedule without having taken its place (:func:`placeable`), e.g. a CT
    linked by hand (``case link``) after the schedule was laid out: a schedule
    synchronisation would place it (and delete the empty follow-up beside it).

    A case may be listed that synchronisation leaves as it is (the open follow-up holds
    data of its own, so it keeps its place): listing it costs one synchronisation that
    writes nothing.
    """
    imaged, slot = aliased(TimepointRow), aliased(TimepointRow)
    schedule = FollowupScheduleRow
    rows = session.execute(
        select(
            imaged.case_pk,
            imaged.status,
            imaged.schedule_pk,
            imaged.label,
            imaged.tace_number,
            imaged.followup_number,
            schedule.id,
        )
        .join(
            schedule,
            and_(schedule.case_pk == imaged.case_pk, schedule.status.in_(("active", "ended"))),
        )
        .where(
            imaged.kind == "follow_up",
            imaged.status.in_(PLACEABLE_STATES),
            imaged.imaged_on > schedule.anchor_on,
            # placed on this schedule already (the large majority): left out in SQL
            or_(
                imaged.status != "done",
                imaged.schedule_pk.is_(None),
                imaged.schedule_pk != schedule.id,
            ),
            exists().where(
                slot.schedule_pk == schedule.id,
                slot.status == OPEN,
                slot.window_start_on <= imaged.imaged_on,
                slot.window_end_on >= imaged.imaged_on,
            ),
        )
    ).all()
    return sorted({row.case_pk for row in rows if placeable(row, row.id)})


def follow_up_choices(session: Session, case_pk: int, today: dt.date) -> list[FollowupChoiceItem]:
    """The case's follow-up timepoints in the order of its timepoints (ordinal, id), each
    marked ready when it holds imaging (an imaging date, a linked study or contours), or
    with why not (see :class:`FollowupChoiceItem`)."""
    rows = session.scalars(
        select(TimepointRow)
        .where(TimepointRow.case_pk == case_pk, TimepointRow.kind != "baseline")
        .order_by(TimepointRow.ordinal, TimepointRow.id)
    ).all()
    pks = [row.id for row in rows]
    holding = set(
        session.scalars(select(StudyRow.timepoint_pk).where(StudyRow.timepoint_pk.in_(pks)))
    ) | set(
        session.scalars(
            select(SegmentationRow.timepoint_pk).where(SegmentationRow.timepoint_pk.in_(pks))
        )
    )
    sunday = week_end(today)
    labels = {row.label for row in rows}
    out = []
    for row in rows:
        if row.imaged_on is not None or row.id in holding:
            readiness = "ready"
        elif row.status in ("superseded", "ended"):
            readiness = row.status
        elif row.status == OPEN:
            category = categorise(row.status, row.due_on, row.window_end_on, today, sunday)
            readiness = "not_yet_due" if category == "upcoming" else category
        else:  # linked by hand, or done, yet holding nothing (its study moved away)
            readiness = "no_imaging"
        out.append(
            FollowupChoiceItem(
                pk=row.id,
                label=row.label,
                status=row.status,
                readiness=readiness,
                imaged_on=row.imaged_on,
                due_on=row.due_on,
                window_start_on=row.window_start_on,
                window_end_on=row.window_end_on,
                tace_number=row.tace_number,
                followup_number=row.followup_number,
                slot_relaid=row.followup_number is not None
                and row.label != label_of(row.tace_number or 0, row.followup_number)
                and label_of(row.tace_number or 0, row.followup_number) in labels,
            )
        )
    return out


def has_links(session: Session, timepoint_pk: int) -> bool:
    """True when the timepoint holds data (:func:`held_data`): it must not be deleted."""
    return bool(held_data(session, timepoint_row(session, timepoint_pk)))


def chosen_modalities(session: Session, timepoints: list[TimepointRow]) -> set[int]:
    """The timepoints whose current modality a user chose (an audited ``assign_followup``
    that changed it to this value, its latest such change), rather than the one their
    schedule gave them."""
    by_pk = {timepoint.id: timepoint for timepoint in timepoints}
    if not by_pk:
        return set()
    latest: dict[int, str] = {}
    for pk, before, after in session.execute(
        select(AuditEventRow.entity_pk, AuditEventRow.before, AuditEventRow.after)
        .where(
            AuditEventRow.action == "assign_followup",
            AuditEventRow.entity == "timepoint",
            AuditEventRow.entity_pk.in_(by_pk),
        )
        .order_by(AuditEventRow.id)
    ):
        timepoint = by_pk[pk]
        before, after = before or {}, after or {}
        # a key of a deleted timepoint can be reused by SQLite: same case and label only
        if (after.get("case_pk"), after.get("label")) != (timepoint.case_pk, timepoint.label):
            continue
        if after.get("modality") != before.get("modality"):
            latest[pk] = str(after.get("modality") or "")
    return {pk for pk, modality in latest.items() if modality == by_pk[pk].modality}


def proposals(session: Session, rows: list[Any]) -> dict[int, tuple[str, dt.date, str, str]]:
    """Unlinked studies of the rows' patients within each row's window (closest first):
    (Study Instance UID, date, description, modality)."""
    if not rows:
        return {}
    patients = {r[19] for r in rows}
    starts = [r[10] for r in rows if r[10] is not None]
    ends = [r[11] for r in rows if r[11] is not None]
    if not starts or not ends:
        return {}
    # unlinked studies are few: select them by date (index on timepoint_pk), then keep
    # the rows' patients here rather than sending thousands of patient keys to SQL
    studies = [
        study
        for study in session.execute(
            select(
                StudyRow.patient_pk,
                StudyRow.study_uid,
                StudyRow.study_on,
                StudyRow.description,
                study_modality(StudyRow.id),
            ).where(
                StudyRow.timepoint_pk.is_(None),
                StudyRow.study_on >= min(starts),
                StudyRow.study_on <= max(ends),
            )
        ).all()
        if study[0] in patients
    ]
    out: dict[int, tuple[str, dt.date, str, str]] = {}
    for row in rows:
        inside = [
            (abs((on - row[9]).days), uid, on, description or "", modality or "")
            for patient, uid, on, description, modality in studies
            if patient == row[19] and row[10] <= on <= row[11]
        ]
        if inside:
            _, uid, on, description, modality = min(inside)
            out[row[0]] = (uid, on, description, modality)
    return out


def timepoint_row(session: Session, timepoint_pk: int) -> TimepointRow:
    """The timepoint row; NotFoundError when there is none."""
    timepoint = session.get(TimepointRow, timepoint_pk)
    if timepoint is None:
        raise NotFoundError(f"timepoint {timepoint_pk} does not exist")
    return timepoint


def study_by_uid(session: Session, study_uid: str) -> StudyRow:
    """The study row of a Study Instance UID; NotFoundError when it is not imported."""
    study = session.scalars(select(StudyRow).where(StudyRow.study_uid == study_uid)).first()
    if study is None:
        raise NotFoundError(f"study {study_uid} is not in the database")
    return study


def same_patient(session: Session, study: StudyRow, case_pk: int) -> None:
    """Refuse a study of another patient than the case's (field ``study``, both IDs named)."""
    case = get_case(session, case_pk)
    if study.patient_pk != case.patient_pk:
        theirs = session.get(PatientRow, study.patient_pk)
        ours = session.get(PatientRow, case.patient_pk)
        raise InvalidInputError(
            "study",
            f"{study.study_uid} belongs to patient "
            f"{theirs.patient_id if theirs else '?'}, not to the patient of case "
            f"{case_pk} ({ours.patient_id if ours else '?'}); refused",
        )


def unscheduled_timepoint(session: Session, case: CaseRow, study: StudyRow) -> TimepointRow:
    """A new timepoint for a study outside every window ("unscheduled <date>"), attached to
    the case's latest schedule."""
    latest = session.scalars(
        select(FollowupScheduleRow)
        .where(FollowupScheduleRow.case_pk == case.id)
        .order_by(FollowupScheduleRow.id.desc())
    ).first()
    when = study.study_on.isoformat() if study.study_on else study.study_uid[-12:]
    label, n = f"unscheduled {when}", 1
    taken = set(session.scalars(select(TimepointRow.label).where(TimepointRow.case_pk == case.id)))
    while label in taken:
        n += 1
        label = f"unscheduled {when} ({n})"
    count = session.scalar(
        select(func.count()).select_from(TimepointRow).where(TimepointRow.case_pk == case.id)
    )
    timepoint = TimepointRow(
        case_pk=case.id,
        kind="follow_up",
        label=label,
        ordinal=int(count or 0) + 1,
        schedule_pk=latest.id if latest else None,
        tace_number=latest.tace_number if latest else None,
        status="unscheduled",
    )
    session.add(timepoint)
    session.flush()
    return timepoint
