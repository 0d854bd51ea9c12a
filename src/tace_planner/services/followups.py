"""Follow-up use cases: schedule per case, the radiologist's worklist, matching new studies,
closing a case.

One unit of work per user action, each audited. The rules are pure
(:mod:`tace_planner.domain.schedule`); this service reads the signed procedures of a case,
stores the schedule with the parameter values it used (a snapshot: a changed
``followup.json`` changes new schedules only) and keeps the timepoints in step:

* every signed TACE restarts the schedule (open timepoints of the earlier TACE due on or
  after it are superseded);
* a preset chosen for the case replaces the open timepoints of the current TACE;
* closing the case (death, progression, withdrawal, lost) ends the timepoints due after it.

Therapy lines, time to progression and the timeline are in
:mod:`tace_planner.services.therapy_lines`.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.schedule import (
    CaseEnd,
    FollowupParameters,
    SchedulePreset,
    TaceDate,
    schedule_after,
)
from tace_planner.domain.ttp import SITES
from tace_planner.services.followup_dto import (
    CATEGORIES,
    DueSession,
    MatchCandidate,
    StudyMatch,
    TimepointItem,
    categorise,
    session_category,
    week_end,
)
from tace_planner.services.planning_records import get_case, signed_procedures
from tace_planner.store.audit import row_snapshot
from tace_planner.store.followup_rows import FollowupScheduleRow
from tace_planner.store.models import (
    CaseRow,
    PatientRow,
    SegmentationRow,
    StudyRow,
    TimepointRow,
    utc_now,
)
from tace_planner.store.unit_of_work import UnitOfWork

FOLLOWUP_FILE = "followup.json"
OPEN = "scheduled"
DONE_STATES = ("done", "unscheduled")


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
    return FollowupParameters.from_dict(data, origin=origin)


def label_of(tace_number: int, followup_number: int) -> str:
    """The timepoint label of a scheduled follow-up, e.g. "TACE 1 follow-up 2"."""
    return f"TACE {tace_number} follow-up {followup_number}"


def _worklist_select(*, with_study: bool = True) -> Any:
    """The worklist's columns; open timepoints have no study, so their query skips that join."""
    linked = aliased(StudyRow)
    study_columns = (
        (linked.study_uid, linked.study_on)
        if with_study
        else (literal(None).label("study_uid"), literal(None).label("study_on"))
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
        )
        .join(CaseRow, CaseRow.id == TimepointRow.case_pk)
        .join(PatientRow, PatientRow.id == CaseRow.patient_pk)
        .outerjoin(FollowupScheduleRow, FollowupScheduleRow.id == TimepointRow.schedule_pk)
    )
    return query.outerjoin(linked, linked.timepoint_pk == TimepointRow.id) if with_study else query


def _item(
    row: Any,
    today: dt.date,
    proposal: tuple[str, dt.date] | None = None,
    sunday: dt.date | None = None,
) -> TimepointItem:
    return TimepointItem(
        pk=row[0],
        case_pk=row[1],
        patient_id=row[2],
        patient_name=row[3],
        case_title=row[4],
        tace_number=row[5],
        tace_on=row[6],
        label=row[7],
        followup_number=row[8],
        due_on=row[9],
        window_start_on=row[10],
        window_end_on=row[11],
        status=row[12],
        category=categorise(row[12], row[9], row[11], today, sunday),
        modality=row[13],
        radiologist=row[14],
        study_uid=row[15] or "",
        study_on=row[16] or (row[18] if row[12] in DONE_STATES else None),
        proposed_study_uid=proposal[0] if proposal else "",
        proposed_study_on=proposal[1] if proposal else None,
        progression_site=row[17],
    )


class FollowupService:
    """Schedules follow-ups, lists the worklist, matches studies to timepoints, closes cases.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    user : str
        Written into the audit trail.
    parameters : FollowupParameters, optional
        Explicit parameters (tests); default ``parameters_dir/followup.json`` or the
        packaged file, read when first needed.
    parameters_dir : Path, optional
        The institution's parameter folder.
    clock : callable, optional
        Aware UTC now (tests); "today" is its date.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        *,
        parameters: FollowupParameters | None = None,
        parameters_dir: Path | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self._parameters = parameters
        self._parameters_dir = parameters_dir
        self._clock = clock

    @property
    def parameters(self) -> FollowupParameters:
        """The follow-up parameters in use (the file is read once)."""
        if self._parameters is None:
            self._parameters = load_followup_parameters(self._parameters_dir)
        return self._parameters

    def today(self) -> dt.date:
        """Today by the service's clock."""
        return self._clock().date()

    # -- schedule ----------------------------------------------------------------

    def sync_case(self, case_pk: int) -> list[TimepointItem]:
        """Bring the case's schedule in step with its signed procedures, preset and closure.

        Returns the case's follow-up timepoints. Writes (audited) only when something
        changed.

        Raises
        ------
        NotFoundError
            No such case.
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            changed = self._sync(uow, get_case(uow.session, case_pk))
            if changed:
                uow.commit()
        return self.case_timepoints(case_pk)

    def sync_all(self) -> int:
        """Synchronise every case whose latest signed TACE has no current schedule.

        Returns the number of cases changed.
        """
        with self._sessions() as session:
            latest = {case_pk: (n, on) for case_pk, n, on in self._latest_taces(session)}
            active = {
                row.case_pk: (row.tace_number, row.anchor_on)
                for row in session.execute(
                    select(
                        FollowupScheduleRow.case_pk,
                        FollowupScheduleRow.tace_number,
                        FollowupScheduleRow.anchor_on,
                    ).where(FollowupScheduleRow.status.in_(("active", "ended")))
                )
            }
        stale = [pk for pk, tace in latest.items() if active.get(pk) != tace]
        for case_pk in stale:
            self.sync_case(case_pk)
        return len(stale)

    @staticmethod
    def _latest_taces(session: Session) -> list[tuple[int, int, dt.date]]:
        from tace_planner.store.procedure_rows import ProcedureRevisionRow, ProcedureRow

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

    def _taces(self, session: Session, case_pk: int) -> list[tuple[TaceDate, int]]:
        return [
            (TaceDate(procedure.number, revision.performed_on), procedure.id)
            for procedure, revision in signed_procedures(session, case_pk)
            if revision.performed_on is not None
        ]

    def _sync(self, uow: UnitOfWork, case: CaseRow) -> bool:
        session = uow.session
        taces = self._taces(session, case.id)
        schedules = session.scalars(
            select(FollowupScheduleRow)
            .where(
                FollowupScheduleRow.case_pk == case.id,
                FollowupScheduleRow.status.in_(("active", "ended")),
            )
            .order_by(FollowupScheduleRow.id)
        ).all()
        current = schedules[-1] if schedules else None
        changed = False
        if taces:
            latest, procedure_pk = max(taces, key=lambda t: (t[0].on, t[0].number))
            preset_key = case.followup_preset or self.parameters.default_preset
            same_tace = current is not None and (current.tace_number, current.anchor_on) == (
                latest.number,
                latest.on,
            )
            if not (same_tace and current is not None and current.preset == preset_key):
                reason = (
                    f"preset changed to {preset_key}"
                    if same_tace
                    else f"TACE {latest.number} on {latest.on.isoformat()} restarted the schedule"
                )
                for old in schedules:
                    self._supersede(session, old, latest.on, reason, drop_open=same_tace)
                current = self._new_schedule(uow, case, latest, procedure_pk, preset_key)
                changed = True
        if current is not None and case.closed_on is not None:
            changed |= self._end(session, current, case.closed_on, case.closure_reason)
        return changed

    def _supersede(
        self,
        session: Session,
        schedule: FollowupScheduleRow,
        on: dt.date,
        reason: str,
        *,
        drop_open: bool,
    ) -> None:
        schedule.status = "superseded"
        schedule.ended_on = on
        schedule.end_reason = reason
        for timepoint in session.scalars(
            select(TimepointRow).where(
                TimepointRow.schedule_pk == schedule.id, TimepointRow.status.in_((OPEN, "ended"))
            )
        ):
            if drop_open and not self._has_links(session, timepoint.id):
                session.delete(timepoint)
            elif drop_open or (timepoint.due_on is not None and timepoint.due_on >= on):
                timepoint.status = "superseded"
        session.flush()

    @staticmethod
    def _has_links(session: Session, timepoint_pk: int) -> bool:
        study = session.scalar(select(StudyRow.id).where(StudyRow.timepoint_pk == timepoint_pk))
        mask = session.scalar(
            select(SegmentationRow.id).where(SegmentationRow.timepoint_pk == timepoint_pk)
        )
        return study is not None or mask is not None

    def _new_schedule(
        self,
        uow: UnitOfWork,
        case: CaseRow,
        tace: TaceDate,
        procedure_pk: int,
        preset_key: str,
    ) -> FollowupScheduleRow:
        session = uow.session
        parameters = self.parameters
        preset = parameters.preset(preset_key)
        schedule = FollowupScheduleRow(
            case_pk=case.id,
            procedure_pk=procedure_pk,
            tace_number=tace.number,
            anchor_on=tace.on,
            preset=preset.key,
            parameters={
                "file_version": parameters.version,
                "preset": preset.to_json(),
                "horizon_months": parameters.horizon_months,
            },
            status="active",
            end_reason="",
            created_at=self._clock(),
            created_by=self._user,
        )
        session.add(schedule)
        session.flush()
        taken = set(
            session.scalars(select(TimepointRow.label).where(TimepointRow.case_pk == case.id))
        )
        ordinal = len(taken)
        for due in schedule_after(tace.on, preset, parameters.horizon_months):
            label = label_of(tace.number, due.number)
            if label in taken:
                continue
            ordinal += 1
            session.add(
                TimepointRow(
                    case_pk=case.id,
                    kind="follow_up",
                    label=label,
                    ordinal=ordinal,
                    schedule_pk=schedule.id,
                    tace_number=tace.number,
                    followup_number=due.number,
                    due_on=due.due_on,
                    window_start_on=due.window_start_on,
                    window_end_on=due.window_end_on,
                    status=OPEN,
                    modality=preset.modality,
                )
            )
        uow.audit(
            action="schedule_followups",
            entity="followup_schedule",
            entity_pk=schedule,
            after=row_snapshot(schedule),
            summary=f"case {case.id}: follow-up after TACE {tace.number} "
            f"({tace.on.isoformat()}) scheduled: {preset.describe()} "
            f"(parameters version {parameters.version})",
        )
        return schedule

    @staticmethod
    def _end(session: Session, schedule: FollowupScheduleRow, on: dt.date, reason: str) -> bool:
        changed = False
        for timepoint in session.scalars(
            select(TimepointRow).where(
                TimepointRow.schedule_pk == schedule.id,
                TimepointRow.status == OPEN,
                TimepointRow.due_on > on,
            )
        ):
            timepoint.status = "ended"
            changed = True
        if schedule.status != "ended":
            schedule.status = "ended"
            schedule.ended_on = on
            schedule.end_reason = reason
            changed = True
        session.flush()
        return changed

    def schedule_preset(self, case_pk: int) -> tuple[SchedulePreset, str]:
        """The preset of the case's current schedule (its snapshot) and the parameter version;
        the case's chosen preset from the file when no schedule exists yet."""
        with self._sessions() as session:
            case = get_case(session, case_pk)
            row = session.scalars(
                select(FollowupScheduleRow)
                .where(FollowupScheduleRow.case_pk == case_pk)
                .order_by(FollowupScheduleRow.id.desc())
            ).first()
            if row is None:
                return self.parameters.preset(case.followup_preset), self.parameters.version
            snapshot = row.parameters
            preset = SchedulePreset.from_json(snapshot["preset"], origin="stored schedule")
            return preset, str(snapshot.get("file_version", ""))

    def set_preset(self, case_pk: int, preset: str) -> list[TimepointItem]:
        """Choose the case's schedule preset (audited); open timepoints are laid out again.

        Raises
        ------
        InvalidInputError
            No such preset (field ``preset``).
        """
        chosen = self.parameters.preset(preset)
        with UnitOfWork(self._sessions, user=self._user) as uow:
            case = get_case(uow.session, case_pk)
            before = case.followup_preset
            if before != chosen.key:
                case.followup_preset = chosen.key
                uow.audit(
                    action="choose_followup_preset",
                    entity="case",
                    entity_pk=case,
                    before={"followup_preset": before},
                    after={"followup_preset": chosen.key},
                    summary=f"case {case_pk}: follow-up preset {chosen.label}",
                )
                self._sync(uow, case)
                uow.commit()
        return self.case_timepoints(case_pk)

    # -- closing -----------------------------------------------------------------

    def close_case(self, case_pk: int, reason: str, on: dt.date) -> list[TimepointItem]:
        """End the case's follow-up for ``reason`` on ``on`` (audited).

        Raises
        ------
        InvalidInputError
            Unknown reason (field ``reason``) or a date in the future (field ``date``).
        """
        CaseEnd(on, reason)
        if on > self.today():
            raise InvalidInputError("date", f"{on.isoformat()} is in the future")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            case = get_case(uow.session, case_pk)
            before = {"closed_on": case.closed_on, "closure_reason": case.closure_reason}
            case.closed_on, case.closure_reason = on, reason
            # a closure date earlier than before re-opens nothing: re-end from the new date
            self._sync(uow, case)
            uow.audit(
                action="close_case",
                entity="case",
                entity_pk=case,
                before=before,
                after={"closed_on": on, "closure_reason": reason},
                summary=f"case {case_pk}: follow-up ended on {on.isoformat()} ({reason})",
            )
            uow.commit()
        return self.case_timepoints(case_pk)

    # -- worklist ----------------------------------------------------------------

    def worklist(
        self,
        category: str = "due",
        *,
        today: dt.date | None = None,
        radiologist: str | None = None,
        modality: str | None = None,
        case_pk: int | None = None,
        limit: int | None = None,
    ) -> list[TimepointItem]:
        """Follow-up timepoints of one category (``due`` this week, ``overdue``,
        ``upcoming``, ``done`` or ``all``), filtered, by due date.

        Scheduled rows carry the study proposed for them (same patient, not linked yet,
        dated within the window), to be confirmed.

        Raises
        ------
        InvalidInputError
            Unknown category.
        """
        if category not in (*CATEGORIES, "all"):
            raise InvalidInputError("category", f"expected one of {[*CATEGORIES, 'all']}")
        day = today or self.today()
        sunday = week_end(day)
        earliest_due = day - dt.timedelta(days=90)  # no window reaches further (MAX_WINDOW_DAYS)
        open_ = TimepointRow.status == OPEN
        conditions = {
            "due": and_(
                open_,
                TimepointRow.due_on >= earliest_due,
                TimepointRow.due_on <= sunday,
                TimepointRow.window_end_on >= day,
            ),
            "overdue": and_(open_, TimepointRow.window_end_on < day),
            "upcoming": and_(open_, TimepointRow.due_on > sunday),
            "done": TimepointRow.status.in_(DONE_STATES),
            "all": TimepointRow.status.in_((OPEN, *DONE_STATES)),
        }
        query = _worklist_select(with_study=category in ("done", "all")).where(conditions[category])
        if radiologist:
            query = query.where(TimepointRow.radiologist == radiologist)
        if modality:
            query = query.where(TimepointRow.modality == modality)
        if case_pk is not None:
            query = query.where(TimepointRow.case_pk == case_pk)
        query = query.order_by(TimepointRow.due_on, TimepointRow.id)
        if limit is not None:
            query = query.limit(limit)
        with self._sessions() as session:
            rows = session.execute(query).all()
            proposals = self._proposals(session, [r for r in rows if r[12] == OPEN])
        return [_item(row, day, proposals.get(row[0]), sunday) for row in rows]

    @staticmethod
    def _proposals(session: Session, rows: list[Any]) -> dict[int, tuple[str, dt.date]]:
        """Unlinked studies of the rows' patients within each row's window (closest first)."""
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
                select(StudyRow.patient_pk, StudyRow.study_uid, StudyRow.study_on).where(
                    StudyRow.timepoint_pk.is_(None),
                    StudyRow.study_on >= min(starts),
                    StudyRow.study_on <= max(ends),
                )
            ).all()
            if study[0] in patients
        ]
        out: dict[int, tuple[str, dt.date]] = {}
        for row in rows:
            inside = [
                (abs((on - row[9]).days), uid, on)
                for patient, uid, on in studies
                if patient == row[19] and row[10] <= on <= row[11]
            ]
            if inside:
                _, uid, on = min(inside)
                out[row[0]] = (uid, on)
        return out

    def due_sessions(
        self,
        category: str = "all",
        *,
        today: dt.date | None = None,
        case_pk: int | None = None,
    ) -> list[DueSession]:
        """Planned TACE sessions not performed yet (the second lobe of a sequential plan),
        due on the previous TACE plus the plan's interval; ``category`` as the worklist's.
        """
        from tace_planner.services.procedures import ProcedureService
        from tace_planner.store.models import TreatmentPlanRow

        day = today or self.today()
        with self._sessions() as session:
            query = select(TreatmentPlanRow.case_pk).where(TreatmentPlanRow.status == "approved")
            if case_pk is not None:
                query = query.where(TreatmentPlanRow.case_pk == case_pk)
            case_pks = sorted(set(session.scalars(query)))
            rows = {
                row.id: (row.patient.patient_id, row.patient.name, row.title, row.closed_on)
                for row in session.scalars(select(CaseRow).where(CaseRow.id.in_(case_pks)))
            }
        procedures = ProcedureService(self._sessions, self._user, clock=self._clock)
        out = []
        for pk in case_pks:
            patient_id, name, title, closed_on = rows[pk]
            if closed_on is not None:
                continue
            course = procedures.course(pk)
            if course.next_session is None:
                continue
            item = DueSession(
                case_pk=pk,
                patient_id=patient_id,
                patient_name=name,
                case_title=title,
                session_number=course.next_session,
                territory=course.next_session_label,
                due_on=course.next_session_due_on,
                category=session_category(course.next_session_due_on, day),
                after_tace=course.procedures or None,
            )
            if category in ("all", item.category):
                out.append(item)
        return sorted(out, key=lambda s: (s.due_on or day, s.case_pk))

    def case_timepoints(self, case_pk: int) -> list[TimepointItem]:
        """Every scheduled or done follow-up timepoint of a case (superseded and ended too)."""
        day = self.today()
        query = (
            _worklist_select()
            .where(TimepointRow.case_pk == case_pk, TimepointRow.status != "")
            .order_by(TimepointRow.due_on, TimepointRow.imaged_on, TimepointRow.id)
        )
        with self._sessions() as session:
            get_case(session, case_pk)
            return [_item(row, day) for row in session.execute(query).all()]

    def assign(
        self, timepoint_pk: int, *, radiologist: str | None = None, modality: str | None = None
    ) -> TimepointItem:
        """Set the radiologist and/or the modality of a timepoint (audited)."""
        if modality is not None and modality not in ("CT", "MR"):
            raise InvalidInputError("modality", "must be CT or MR")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            timepoint = self._timepoint(uow.session, timepoint_pk)
            before = row_snapshot(timepoint)
            if radiologist is not None:
                timepoint.radiologist = radiologist.strip()
            if modality is not None:
                timepoint.modality = modality
            uow.audit(
                action="assign_followup",
                entity="timepoint",
                entity_pk=timepoint,
                before=before,
                after=row_snapshot(timepoint),
                summary=f"{timepoint.label}: radiologist {timepoint.radiologist or '—'}, "
                f"{timepoint.modality}",
            )
            uow.commit()
            case_pk = timepoint.case_pk
        return self._one(case_pk, timepoint_pk)

    def record_progression(self, timepoint_pk: int, site: str) -> TimepointItem:
        """Record progression seen at a done timepoint ("" clears it); audited.

        Raises
        ------
        InvalidInputError
            Unknown site, or the timepoint has no study (field ``timepoint``).
        """
        if site and site not in SITES:
            raise InvalidInputError("progression site", f"expected one of {SITES}")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            timepoint = self._timepoint(uow.session, timepoint_pk)
            if timepoint.status not in DONE_STATES and timepoint.status != "":
                raise InvalidInputError(
                    "timepoint", f"{timepoint.label} has no study yet: link its study first"
                )
            before = {"progression_site": timepoint.progression_site}
            timepoint.progression_site = site
            uow.audit(
                action="record_progression",
                entity="timepoint",
                entity_pk=timepoint,
                before=before,
                after={"progression_site": site},
                summary=f"{timepoint.label}: progression {site or 'cleared'}",
            )
            uow.commit()
            case_pk = timepoint.case_pk
        return self._one(case_pk, timepoint_pk)

    def _one(self, case_pk: int, timepoint_pk: int) -> TimepointItem:
        return next(t for t in self.case_timepoints(case_pk) if t.pk == timepoint_pk)

    @staticmethod
    def _timepoint(session: Session, timepoint_pk: int) -> TimepointRow:
        timepoint = session.get(TimepointRow, timepoint_pk)
        if timepoint is None:
            raise NotFoundError(f"timepoint {timepoint_pk} does not exist")
        return timepoint

    # -- matching ----------------------------------------------------------------

    def match_study(self, study_uid: str) -> StudyMatch:
        """Where a study belongs: open timepoints of its patient whose window holds its date
        (closest due date first), else the patient's open cases for an unscheduled timepoint.

        Raises
        ------
        NotFoundError
            The study is not in the database.
        """
        with self._sessions() as session:
            study = self._study(session, study_uid)
            patient = session.get(PatientRow, study.patient_pk)
            patient_id = patient.patient_id if patient else ""
            if study.timepoint_pk is not None:
                timepoint = session.get(TimepointRow, study.timepoint_pk)
                label = timepoint.label if timepoint else ""
                return StudyMatch(
                    study_uid, study.study_on, patient_id, (), linked_to=label,
                    message=f"already linked to {label}",
                )  # fmt: skip
            if study.study_on is None:
                return StudyMatch(
                    study_uid, None, patient_id, (),
                    message="the study has no date: link it to a timepoint by hand",
                )  # fmt: skip
            rows = session.execute(
                _worklist_select().where(
                    CaseRow.patient_pk == study.patient_pk,
                    TimepointRow.status == OPEN,
                    TimepointRow.window_start_on <= study.study_on,
                    TimepointRow.window_end_on >= study.study_on,
                )
            ).all()
            cases = session.scalars(
                select(CaseRow.id).where(
                    CaseRow.patient_pk == study.patient_pk, CaseRow.closed_on.is_(None)
                )
            ).all()
        today = self.today()
        candidates = sorted(
            (MatchCandidate(_item(r, today), abs((study.study_on - r[9]).days)) for r in rows),
            key=lambda c: (c.days_from_due, c.timepoint.pk),
        )
        message = (
            f"matches {candidates[0].timepoint.label} of case {candidates[0].timepoint.case_pk}"
            if candidates
            else "outside every follow-up window: offered as an unscheduled timepoint"
        )
        return StudyMatch(
            study_uid,
            study.study_on,
            patient_id,
            tuple(candidates),
            unscheduled_case_pks=() if candidates else tuple(cases),
            message=message,
        )

    def confirm_match(
        self,
        study_uid: str,
        *,
        timepoint_pk: int | None = None,
        case_pk: int | None = None,
    ) -> TimepointItem:
        """Link a study to a follow-up timepoint (the best candidate by default), or, outside
        every window, to a new unscheduled timepoint of the patient's case; audited.

        Raises
        ------
        InvalidInputError
            The study belongs to another patient than the case (field ``study``); no
            candidate and the patient has no or several open cases (field ``case``).
        """
        match = self.match_study(study_uid)
        if match.linked_to:
            raise InvalidInputError("study", f"{study_uid} is already linked to {match.linked_to}")
        if timepoint_pk is None and case_pk is None and match.candidates:
            timepoint_pk = match.candidates[0].timepoint.pk
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            study = self._study(session, study_uid)
            if timepoint_pk is not None:
                timepoint = self._timepoint(session, timepoint_pk)
                self._same_patient(session, study, timepoint.case_pk)
                if timepoint.status not in (OPEN, "ended", "superseded", ""):
                    raise InvalidInputError("timepoint", f"{timepoint.label} has its study already")
                before = row_snapshot(timepoint)
                timepoint.status = "done"
            else:
                chosen = case_pk
                if chosen is None:
                    if len(match.unscheduled_case_pks) != 1:
                        raise InvalidInputError(
                            "case",
                            "give the case (the patient has "
                            f"{len(match.unscheduled_case_pks)} open cases)",
                        )
                    chosen = match.unscheduled_case_pks[0]
                case = get_case(session, chosen)
                self._same_patient(session, study, case.id)
                timepoint = self._unscheduled(session, case, study)
                before = {}
            timepoint.imaged_on = study.study_on
            study.case_pk, study.timepoint_pk = timepoint.case_pk, timepoint.id
            uow.audit(
                action="link_followup_study",
                entity="timepoint",
                entity_pk=timepoint,
                before=before,
                after={**row_snapshot(timepoint), "study_uid": study_uid},
                summary=f"study {study_uid} linked to {timepoint.label}",
            )
            uow.commit()
            result_case, result_pk = timepoint.case_pk, timepoint.id
        return self._one(result_case, result_pk)

    @staticmethod
    def _study(session: Session, study_uid: str) -> StudyRow:
        study = session.scalars(select(StudyRow).where(StudyRow.study_uid == study_uid)).first()
        if study is None:
            raise NotFoundError(f"study {study_uid} is not in the database")
        return study

    @staticmethod
    def _same_patient(session: Session, study: StudyRow, case_pk: int) -> None:
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

    def _unscheduled(self, session: Session, case: CaseRow, study: StudyRow) -> TimepointRow:
        latest = session.scalars(
            select(FollowupScheduleRow)
            .where(FollowupScheduleRow.case_pk == case.id)
            .order_by(FollowupScheduleRow.id.desc())
        ).first()
        when = study.study_on.isoformat() if study.study_on else study.study_uid[-12:]
        label, n = f"unscheduled {when}", 1
        taken = set(
            session.scalars(select(TimepointRow.label).where(TimepointRow.case_pk == case.id))
        )
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

    def link_new_studies(self) -> list[TimepointItem]:
        """Link every unlinked study whose date lies in exactly one open window of its patient
        (the "link at once" setting; ambiguous and unscheduled studies wait for the user)."""
        linked = []
        for match in self.unmatched_studies():
            if len(match.candidates) == 1:
                linked.append(
                    self.confirm_match(
                        match.study_uid, timepoint_pk=match.candidates[0].timepoint.pk
                    )
                )
        return linked

    def unmatched_studies(self, patient_pks: Iterable[int] | None = None) -> list[StudyMatch]:
        """Studies not linked to any timepoint whose patient has an open follow-up, each with
        where it would go (the automatic matching of newly imported studies)."""
        with self._sessions() as session:
            query = (
                select(StudyRow.study_uid)
                .join(CaseRow, CaseRow.patient_pk == StudyRow.patient_pk)
                .join(TimepointRow, TimepointRow.case_pk == CaseRow.id)
                .where(StudyRow.timepoint_pk.is_(None), TimepointRow.status == OPEN)
                .distinct()
            )
            if patient_pks is not None:
                query = query.where(StudyRow.patient_pk.in_(list(patient_pks)))
            uids = sorted(session.scalars(query).all())
        return [self.match_study(uid) for uid in uids]
