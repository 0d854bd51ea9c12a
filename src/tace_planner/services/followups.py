"""Follow-up use cases: schedule per case, the radiologist's worklist, matching new studies,
closing a case.

One unit of work per user action, each audited. The rules are pure
(:mod:`tace_planner.domain.schedule`); this service reads the signed procedures of a case,
stores the schedule with the parameter values it used and keeps the timepoints in step
(:mod:`tace_planner.services.followup_sync`); its queries are in
:mod:`tace_planner.services.followup_records`.

Therapy lines, time to progression and the timeline are in
:mod:`tace_planner.services.therapy_lines`.

Which calls repair the schedule: follow-up imaging linked to a case may lie in the window
of an open scheduled follow-up, which would then stand beside it, empty, as a duplicate.
A synchronisation (:class:`~tace_planner.services.followup_sync.ScheduleSync`) puts that
right, and every link makes one in its own unit of work: :meth:`CaseService.link_study`
(``case link``, the case dialog's linking by date) places the imaging in the case's
current schedule (``ScheduleSync.settle``), and ``confirm_match`` (the worklist's *Link
proposed study*, ``link_new_studies``, ``studies_imported``) synchronises the case. So do
``sync_case``, ``sync_all``, and the writes that synchronise their case (``set_preset``,
``close_case``, ``record_progression``, ``add_progression``, ``studies_imported``).
``sync_all`` takes the cases whose schedule is behind their signed TACEs *and* the cases
holding unplaced imaging (linked before this rule, or before the TACE was signed), so the
``followups`` command and the Follow-up page, which call it before listing, list the
repaired state; choosing a case on the page calls ``sync_case``. The reads (``worklist``,
``case_timepoints``, ``follow_up_choices``, ``match_study``, ``due_sessions``) never write
and show the state as last repaired (in a read-only session, a data folder that cannot be
written, as it was found).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.schedule import (
    MAX_WINDOW_DAYS,
    CaseEnd,
    FollowupParameters,
    SchedulePreset,
)
from tace_planner.domain.ttp import SITES
from tace_planner.services.followup_dto import (
    CATEGORIES,
    DueSession,
    FollowupChoiceItem,
    ImportedStudies,
    MatchCandidate,
    StudyMatch,
    TimepointItem,
    session_category,
    week_end,
)
from tace_planner.services.followup_records import (
    DONE_STATES,
    OPEN,
    cases_with_unplaced_imaging,
    follow_up_choices,
    latest_taces,
    load_followup_parameters,
    proposals,
    same_patient,
    study_by_uid,
    timepoint_item,
    timepoint_row,
    unscheduled_timepoint,
    worklist_select,
    worklist_statement,
)
from tace_planner.services.followup_sync import ScheduleSync
from tace_planner.services.planning_parameters import parameter_file_text, save_institution_file
from tace_planner.services.planning_records import get_case
from tace_planner.services.visit_lookup import listed, visit_matches
from tace_planner.store.audit import row_snapshot
from tace_planner.store.followup_rows import FollowupScheduleRow
from tace_planner.store.models import (
    CaseRow,
    PatientRow,
    StudyRow,
    TimepointRow,
    utc_now,
)
from tace_planner.store.unit_of_work import UnitOfWork


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
        self._keeper = ScheduleSync(lambda: self.parameters, user, clock)

    @property
    def parameters(self) -> FollowupParameters:
        """The follow-up parameters in use (the file is read once)."""
        if self._parameters is None:
            self._parameters = load_followup_parameters(self._parameters_dir)
        return self._parameters

    def parameter_file_text(self) -> tuple[str, str]:
        """The ``followup.json`` in use as (where it comes from, JSON text)."""
        return parameter_file_text("followup", self._parameters_dir)

    def save_parameters(
        self, data: Mapping[str, Any], *, expected_version: str | None = None
    ) -> Path | None:
        """Save the institution's ``followup.json`` (checked, a new version, audited).

        Schedules laid out from now on use the new values and store its version; schedules
        already laid out keep the values they were made with. Returns the path, or None
        when nothing changed.

        Raises
        ------
        InvalidInputError
            No parameters folder, or a value breaks its range (the parameter is named);
            nothing is written then.
        ConcurrentEditError
            The file in use is no longer ``expected_version`` (the version the editor
            was opened on): a colleague saved since; nothing is written.
        """
        path = save_institution_file(
            self._sessions,
            self._user,
            self._parameters_dir,
            "followup",
            data,
            expected_version=expected_version,
        )
        if path is not None:
            self._parameters = load_followup_parameters(self._parameters_dir)
        return path

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
        self._sync(case_pk)
        return self.case_timepoints(case_pk)

    def _sync(self, case_pk: int) -> bool:
        """Synchronise one case in its own unit of work; True when something changed."""
        with UnitOfWork(self._sessions, user=self._user) as uow:
            changed = self._keeper.sync(uow, get_case(uow.session, case_pk))
            if changed:
                uow.commit()
        return changed

    def sync_all(self) -> int:
        """Synchronise every case whose latest signed TACE has no current schedule, and
        every case holding follow-up imaging that has not yet taken the place of the open
        follow-up whose window holds it (linked by hand after the schedule was laid out;
        see the module docstring).

        Returns the number of cases changed.
        """
        with self._sessions() as session:
            latest = {case_pk: (n, on) for case_pk, n, on in latest_taces(session)}
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
            unplaced = cases_with_unplaced_imaging(session)
        stale = [pk for pk, tace in latest.items() if active.get(pk) != tace]
        for case_pk in stale:
            self._sync(case_pk)
        repaired = [pk for pk in sorted(set(unplaced) - set(stale)) if self._sync(pk)]
        return len(stale) + len(repaired)

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
                self._keeper.sync(uow, case)
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
            self._keeper.sync(uow, case)
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
        statement = worklist_statement(
            category,
            radiologist=bool(radiologist),
            modality=bool(modality),
            case=case_pk is not None,
            limit=limit is not None,
        )
        values = {
            "day": day,
            "sunday": sunday,
            # no window reaches further back than MAX_WINDOW_DAYS: bounds the index range
            "earliest_due": day - dt.timedelta(days=MAX_WINDOW_DAYS),
            "radiologist": radiologist,
            "modality": modality,
            "case_pk": case_pk,
            "limit": limit,
        }
        with self._sessions() as session:
            # Core execution of a prepared statement: no ORM row loading (PERF, issue 14)
            rows = session.connection().execute(statement, values).all()
            proposed = proposals(session, [r for r in rows if r[12] == OPEN])
        return [timepoint_item(row, day, proposed.get(row[0]), sunday) for row in rows]

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
            worklist_select()
            .where(TimepointRow.case_pk == case_pk, TimepointRow.status != "")
            .order_by(TimepointRow.due_on, TimepointRow.imaged_on, TimepointRow.id)
        )
        with self._sessions() as session:
            get_case(session, case_pk)
            return [timepoint_item(row, day) for row in session.execute(query).all()]

    def follow_up_choices(self, case_pk: int) -> list[FollowupChoiceItem]:
        """The case's follow-ups as the Follow-up box offers them (baseline left out, in
        the order of the case's timepoints), each ready (it holds imaging: contours can be
        proposed and the response assessed) or marked with why not: not yet due, due,
        overdue, ended, superseded (:class:`FollowupChoiceItem`).

        Raises
        ------
        NotFoundError
            No such case.
        """
        with self._sessions() as session:
            get_case(session, case_pk)
            return follow_up_choices(session, case_pk, self.today())

    def follow_up_pk(self, case_pk: int, timepoint: str) -> int:
        """The id of a case's follow-up as a user types it, in this order
        (:func:`~tace_planner.services.visit_lookup.visit_matches`): its stored label
        ("follow-up 2"), its visit name ("TACE 1 follow-up 1", as the worklist shows it),
        its id, then "follow-up N" for the N-th follow-up of a schedule ("TACE k follow-up
        N") when the case has exactly one. Case and spacing do not matter.

        Raises
        ------
        NotFoundError
            No such case.
        InvalidInputError
            (field ``timepoint``) no follow-up of the case is named so, or several are
            (the message lists them by name, the label in brackets, with their ids).
        """
        with self._sessions() as session:
            get_case(session, case_pk)
            choices = follow_up_choices(session, case_pk, self.today())
        found = visit_matches(timepoint, choices, shorthand=True)
        if len(found) > 1:
            raise InvalidInputError(
                "timepoint",
                f"{timepoint!r} names {len(found)} follow-ups of case {case_pk}: "
                f"{listed(found, with_ids=True)}; give the full name or the id",
            )
        if not found:
            raise InvalidInputError(
                "timepoint",
                f"case {case_pk} has no follow-up {timepoint!r} (its follow-ups: "
                f"{listed(choices)})",
            )
        return found[0].pk

    def assign(
        self, timepoint_pk: int, *, radiologist: str | None = None, modality: str | None = None
    ) -> TimepointItem:
        """Set the radiologist and/or the modality of a timepoint (audited)."""
        if modality is not None and modality not in ("CT", "MR"):
            raise InvalidInputError("modality", "must be CT or MR")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            timepoint = timepoint_row(uow.session, timepoint_pk)
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
        """Record progression seen at a done timepoint ("" clears it); audited. The
        schedule's timepoints due after it end (a new treatment lays out a new schedule).

        Works on scheduled follow-ups with their study and on follow-ups linked by hand
        (``case link``, no schedule).

        Raises
        ------
        InvalidInputError
            Unknown site, the baseline, or the timepoint has no study (field ``timepoint``).
        NotFoundError
            No such timepoint.
        """
        return self._store_progression(timepoint_pk, site, widen=False)[1]

    def add_progression(self, timepoint_pk: int, site: str) -> tuple[str, TimepointItem]:
        """Add progression found at ``site`` to what is recorded at a done timepoint without
        ever narrowing it (see :func:`widened_site`): liver found where extrahepatic is
        recorded gives "both"; a site already covered is kept and nothing is written.

        Returns the site recorded before and the timepoint as it is now.

        Raises
        ------
        InvalidInputError
            As :meth:`record_progression`; ``site`` must not be empty.
        """
        if not site:
            raise InvalidInputError("progression site", f"expected one of {SITES}")
        return self._store_progression(timepoint_pk, site, widen=True)

    def _store_progression(
        self, timepoint_pk: int, site: str, *, widen: bool
    ) -> tuple[str, TimepointItem]:
        """Write the progression site in one unit of work (the recorded one is read in it)."""
        if site and site not in SITES:
            raise InvalidInputError("progression site", f"expected one of {SITES}")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            timepoint = timepoint_row(uow.session, timepoint_pk)
            if site and timepoint.kind == "baseline":
                raise InvalidInputError(
                    "timepoint",
                    f"{timepoint.label} is the imaging before treatment: record progression "
                    "at a follow-up",
                )
            if timepoint.status not in DONE_STATES and timepoint.status != "":
                raise InvalidInputError(
                    "timepoint", f"{timepoint.label} has no study yet: link its study first"
                )
            recorded = timepoint.progression_site
            case_pk = timepoint.case_pk
            chosen = widened_site(recorded, site) if widen else site
            if not (widen and chosen == recorded):
                timepoint.progression_site = chosen
                uow.flush()
                # progression ends the schedule after this follow-up (clearing it re-opens it)
                self._keeper.sync(uow, get_case(uow.session, case_pk))
                uow.audit(
                    action="record_progression",
                    entity="timepoint",
                    entity_pk=timepoint,
                    before={"progression_site": recorded},
                    after={"progression_site": chosen},
                    summary=f"{timepoint.label}: progression {chosen or 'cleared'}",
                )
                uow.commit()
        return recorded, self._one(case_pk, timepoint_pk)

    def _one(self, case_pk: int, timepoint_pk: int) -> TimepointItem:
        """One timepoint of the case as its read model, whatever its status (a follow-up
        linked by hand has none)."""
        query = worklist_select().where(
            TimepointRow.id == timepoint_pk, TimepointRow.case_pk == case_pk
        )
        columns = query.selected_columns
        with self._sessions() as session:
            row = session.execute(query.order_by(columns.study_on, columns.study_uid)).first()
        if row is None:
            raise NotFoundError(f"timepoint {timepoint_pk} does not exist in case {case_pk}")
        return timepoint_item(row, self.today())

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
            study = study_by_uid(session, study_uid)
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
                worklist_select().where(
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
            (
                MatchCandidate(timepoint_item(r, today), abs((study.study_on - r[9]).days))
                for r in rows
            ),
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
            study = study_by_uid(session, study_uid)
            if timepoint_pk is not None:
                timepoint = timepoint_row(session, timepoint_pk)
                same_patient(session, study, timepoint.case_pk)
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
                same_patient(session, study, case.id)
                timepoint = unscheduled_timepoint(session, case, study)
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
            # an unscheduled timepoint in the window of an open follow-up takes its place
            self._keeper.sync(uow, get_case(session, timepoint.case_pk))
            uow.commit()
            result_case, result_pk = timepoint.case_pk, timepoint.id
        return self._one(result_case, result_pk)

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

    def studies_imported(
        self, study_uids: Iterable[str], *, link_at_once: bool = False
    ) -> ImportedStudies:
        """After an import: where each new study of a patient in follow-up belongs.

        With ``link_at_once`` (the saved setting "link newly imported studies to their
        expected follow-up at once") a study whose date lies in exactly one open window of
        its patient is linked (audited, as :meth:`confirm_match`); every other study of a
        patient with an open follow-up is returned to be confirmed by the user. Studies
        already linked, and studies of patients without an open follow-up, are left alone.
        The schedules of the patients' cases are first brought in step with their signed
        TACEs.
        """
        wanted = set(study_uids)
        if not wanted:
            return ImportedStudies()
        with self._sessions() as session:
            patient_pks = set(
                session.scalars(
                    select(StudyRow.patient_pk).where(StudyRow.study_uid.in_(sorted(wanted)))
                )
            )
            case_pks = sorted(
                session.scalars(select(CaseRow.id).where(CaseRow.patient_pk.in_(patient_pks)))
            )
        for case_pk in case_pks:  # schedules in step with the signed TACEs first
            self.sync_case(case_pk)
        linked, to_confirm = [], []
        for match in self.unmatched_studies(patient_pks):
            if match.study_uid not in wanted:
                continue
            if link_at_once and len(match.candidates) == 1:
                linked.append(
                    self.confirm_match(
                        match.study_uid, timepoint_pk=match.candidates[0].timepoint.pk
                    )
                )
            else:
                to_confirm.append(match)
        return ImportedStudies(tuple(linked), tuple(to_confirm))

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


def widened_site(recorded: str, found: str) -> str:
    """The progression site after adding ``found`` to the ``recorded`` one, never narrower.

    Nothing recorded: ``found``. Liver and extrahepatic together: "both". A site recorded
    without its place ("unspecified") is kept: the progression may lie outside the liver,
    which a liver assessment cannot tell.
    """
    if not recorded or recorded == found or found == "unspecified":
        return recorded or found
    if recorded in ("both", "unspecified"):
        return recorded
    return "both"  # liver with extrahepatic, or either with both
