"""Systemic therapy lines, the case's group dates, time to progression and the case timeline.

One unit of work per change, each audited. The rules are pure
(:mod:`tace_planner.domain.ttp`): a therapy line with a stop or progression date before
its start is refused with the field named; TTP is an event or censored at the last
adequate assessment (the last follow-up with a stored response assessment: imaging linked
but never assessed does not censor), with the rule in its explanation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import ConcurrentEditError, InvalidInputError, NotFoundError
from tace_planner.domain.response.recist import TargetMeasurement, sum_of_diameters_mm
from tace_planner.domain.schedule import CaseEnd, FollowupParameters, TaceDate
from tace_planner.domain.ttp import (
    SEQUENCES,
    TIMINGS,
    Assessment,
    TherapyLine,
    case_ttp,
    detection_interval,
    metastases_timing,
    tace_sequence,
    validate_therapy_line,
)
from tace_planner.services.assessment_records import CURRENT, current_categories
from tace_planner.services.contour_records import segmentation_item
from tace_planner.services.followup_dto import (
    TherapyLineItem,
    TimelineData,
    TimelinePoint,
    TimelineTace,
)
from tace_planner.services.followup_records import follow_up_choices
from tace_planner.services.planning_records import get_case, signed_procedures
from tace_planner.services.visit_names import name_of
from tace_planner.store.assessment_rows import AssessmentRow
from tace_planner.store.audit import row_snapshot
from tace_planner.store.followup_rows import TherapyLineRow
from tace_planner.store.models import (
    CaseRow,
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    StudyRow,
    TimepointRow,
    utc_now,
)
from tace_planner.store.unit_of_work import UnitOfWork

LINE_FIELDS = (
    "drug", "start_on", "stop_on", "best_response", "progression_on", "progression_site",
    "progression_established", "note",
)  # fmt: skip
CASE_FIELDS = ("diagnosed_on", "liver_metastases_on", "metastases_timing", "tace_sequence")


def _line_item(row: TherapyLineRow) -> TherapyLineItem:
    return TherapyLineItem(
        pk=row.id,
        case_pk=row.case_pk,
        line_number=row.line_number,
        drug=row.drug,
        start_on=row.start_on,
        stop_on=row.stop_on,
        best_response=row.best_response,
        progression_on=row.progression_on,
        progression_site=row.progression_site,
        progression_established=row.progression_established,
        note=row.note,
        version=row.version,
    )


def _domain_line(row: TherapyLineRow) -> TherapyLine:
    return TherapyLine(
        number=row.line_number,
        drug=row.drug,
        start_on=row.start_on,
        stop_on=row.stop_on,
        progression_on=row.progression_on,
        progression_site=row.progression_site or "unspecified",
        established=row.progression_established,
        best_response=row.best_response,
    )


class TherapyService:
    """Therapy lines (add, change, remove), the case's group dates, TTP and the timeline.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    user : str
        Written into the audit trail.
    parameters : callable
        Returns the follow-up parameters (shared with the follow-up service).
    clock : callable, optional
        Aware UTC now (tests); "today" is its date.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user: str,
        parameters: Callable[[], FollowupParameters],
        *,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._sessions = session_factory
        self._user = user
        self._parameters = parameters
        self._clock = clock

    # -- therapy lines -----------------------------------------------------------

    def list_lines(self, case_pk: int) -> list[TherapyLineItem]:
        """The case's therapy lines by start date."""
        with self._sessions() as session:
            get_case(session, case_pk)
            return [_line_item(r) for r in self._lines(session, case_pk)]

    @staticmethod
    def _lines(session: Session, case_pk: int) -> list[TherapyLineRow]:
        return list(
            session.scalars(
                select(TherapyLineRow)
                .where(TherapyLineRow.case_pk == case_pk)
                .order_by(TherapyLineRow.start_on, TherapyLineRow.line_number)
            )
        )

    def add_line(
        self,
        case_pk: int,
        drug: str,
        start_on: dt.date | None,
        *,
        stop_on: dt.date | None = None,
        progression_on: dt.date | None = None,
        progression_site: str = "unspecified",
        progression_established: str = "",
        best_response: str = "",
        note: str = "",
    ) -> TherapyLineItem:
        """Add a therapy line (numbered in start order of entry); audited.

        Raises
        ------
        InvalidInputError
            Stop or progression before the start, no drug, no start; the field is named.
        """
        validate_therapy_line(
            drug, start_on, stop_on, progression_on, progression_site, progression_established
        )
        assert start_on is not None
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            get_case(session, case_pk)
            number = 1 + max((r.line_number for r in self._lines(session, case_pk)), default=0)
            now = self._clock()
            row = TherapyLineRow(
                case_pk=case_pk,
                line_number=number,
                drug=drug.strip(),
                start_on=start_on,
                stop_on=stop_on,
                progression_on=progression_on,
                progression_site=progression_site,
                progression_established=progression_established,
                best_response=best_response,
                note=note,
                created_at=now,
                created_by=self._user,
                updated_at=now,
            )
            session.add(row)
            uow.audit(
                action="add_therapy_line",
                entity="therapy_line",
                entity_pk=row,
                after=row_snapshot(row),
                summary=f"case {case_pk}: therapy line {number} {row.drug} from "
                f"{start_on.isoformat()}",
            )
            uow.commit()
            return _line_item(row)

    def update_line(
        self, line_pk: int, *, expected_version: int | None = None, **changes: Any
    ) -> TherapyLineItem:
        """Change fields of a therapy line (audited); the whole line is checked again.

        Raises
        ------
        InvalidInputError
            An unknown field, or the changed line is impossible (the field is named).
        ConcurrentEditError
            The line changed since ``expected_version``.
        """
        unknown = sorted(set(changes) - set(LINE_FIELDS))
        if unknown:
            raise InvalidInputError(unknown[0], f"is not a therapy-line field ({LINE_FIELDS})")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            row = self._line(uow.session, line_pk)
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentEditError(
                    "this therapy line was changed on another workstation — reload and try again"
                )
            merged = {name: getattr(row, name) for name in LINE_FIELDS} | changes
            validate_therapy_line(
                merged["drug"],
                merged["start_on"],
                merged["stop_on"],
                merged["progression_on"],
                merged["progression_site"],
                merged["progression_established"],
            )
            before = row_snapshot(row)
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = self._clock()
            uow.audit(
                action="update_therapy_line",
                entity="therapy_line",
                entity_pk=row,
                before=before,
                after=row_snapshot(row),
                summary=f"case {row.case_pk}: therapy line {row.line_number} changed: "
                + ", ".join(sorted(changes)),
            )
            uow.commit()
            return _line_item(row)

    def remove_line(self, line_pk: int, reason: str) -> None:
        """Delete a therapy line entered by mistake (audited with the reason).

        Raises
        ------
        InvalidInputError
            No reason given (field ``reason``).
        """
        if not reason.strip():
            raise InvalidInputError("reason", "say why the line is removed")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            row = self._line(uow.session, line_pk)
            before = row_snapshot(row)
            uow.session.delete(row)
            uow.audit(
                action="remove_therapy_line",
                entity="therapy_line",
                entity_pk=line_pk,
                before=before,
                summary=f"case {row.case_pk}: therapy line {row.line_number} removed: {reason}",
            )
            uow.commit()

    @staticmethod
    def _line(session: Session, line_pk: int) -> TherapyLineRow:
        row = session.get(TherapyLineRow, line_pk)
        if row is None:
            raise NotFoundError(f"therapy line {line_pk} does not exist")
        return row

    # -- case group dates --------------------------------------------------------

    def case_attributes(self, case_pk: int) -> dict[str, Any]:
        """The dates and entered groups of a case as stored ("" for a group left to derive)."""
        with self._sessions() as session:
            case = get_case(session, case_pk)
            return {
                "diagnosed_on": case.diagnosed_on,
                "liver_metastases_on": case.liver_metastases_on,
                "metastases_timing": case.metastases_timing or "",
                "tace_sequence": case.tace_sequence or "",
            }

    def set_case_attributes(self, case_pk: int, **values: Any) -> dict[str, Any]:
        """Record the diagnosis and liver-metastasis dates and the entered groups (audited).

        Raises
        ------
        InvalidInputError
            Unknown field or value; detection before diagnosis is allowed (found first).
        """
        unknown = sorted(set(values) - set(CASE_FIELDS))
        if unknown:
            raise InvalidInputError(unknown[0], f"is not a case attribute ({CASE_FIELDS})")
        if values.get("metastases_timing") not in (None, "", *TIMINGS):
            raise InvalidInputError("metastases timing", f"expected one of {TIMINGS}")
        if values.get("tace_sequence") not in (None, "", *SEQUENCES):
            raise InvalidInputError("TACE sequence", f"expected one of {SEQUENCES}")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            case = get_case(uow.session, case_pk)
            before = {name: getattr(case, name) for name in values}
            for name, value in values.items():
                setattr(case, name, value)
            uow.audit(
                action="set_case_attributes",
                entity="case",
                entity_pk=case,
                before=before,
                after=values,
                summary=f"case {case_pk}: " + ", ".join(sorted(values)),
            )
            uow.commit()
        return self.ttp(case_pk)["groups"]

    # -- TTP and timeline --------------------------------------------------------

    def _inputs(
        self, session: Session, case_pk: int
    ) -> tuple[CaseRow, list[TaceDate], list[TherapyLineRow], list[Assessment], CaseEnd | None]:
        case = get_case(session, case_pk)
        taces = [
            TaceDate(p.number, r.performed_on)
            for p, r in signed_procedures(session, case_pk)
            if r.performed_on is not None
        ]
        lines = self._lines(session, case_pk)
        studied = set(
            session.scalars(
                select(StudyRow.timepoint_pk).where(
                    StudyRow.case_pk == case_pk, StudyRow.timepoint_pk.is_not(None)
                )
            )
        )
        assessed = set(  # a current response assessment (any criterion) read the imaging
            session.scalars(
                select(AssessmentRow.timepoint_pk).where(
                    AssessmentRow.case_pk == case_pk, AssessmentRow.status == CURRENT
                )
            )
        )
        assessments = [
            Assessment(t.imaged_on, t.label, t.progression_site, assessed=t.id in assessed)
            for t in session.scalars(select(TimepointRow).where(TimepointRow.case_pk == case_pk))
            if (t.id in studied or t.id in assessed) and t.imaged_on is not None
        ]
        end = CaseEnd(case.closed_on, case.closure_reason) if case.closed_on else None
        return case, taces, lines, assessments, end

    def ttp(self, case_pk: int) -> dict[str, Any]:
        """TTP after each therapy line and each TACE course (liver and anywhere), the interval
        from detection to TACE, and the case's groups, each with its rule (JSON-ready)."""
        parameters = self._parameters()
        with self._sessions() as session:
            case, taces, rows, assessments, end = self._inputs(session, case_pk)
            lines = [_domain_line(r) for r in rows]
            report = case_ttp(
                taces=taces,
                lines=lines,
                assessments=assessments,
                end=end,
                today=self._clock().date(),
                course_gap_days=parameters.course_gap_days,
            )
            first = min((t.on for t in taces), default=None)
            days, interval = detection_interval(case.liver_metastases_on, first, parameters)
            groups = {
                "metastases_timing": metastases_timing(
                    case.metastases_timing, case.diagnosed_on, case.liver_metastases_on, parameters
                ).to_json(),
                "tace_sequence": tace_sequence(case.tace_sequence, first, lines).to_json(),
                "detection_to_tace": {**interval.to_json(), "days": days},
            }
        return {"case_pk": case_pk, **report.to_json(), "groups": groups}

    def timeline(self, case_pk: int) -> TimelineData:
        """Therapy lines, TACEs with delivered dose, imaging timepoints with the total volume
        of the foci and the RECIST 1.1 sum of the target diameters, and the open due dates
        of a case. Each imaging point carries its visit name (``name``: its schedule slot
        when placed in one, as the worklist names it; the baseline and any other visit by
        its label); a due follow-up's is its ``visit_name``."""
        from tace_planner.services.followups import FollowupService

        with self._sessions() as session:
            case, _, rows, _, _ = self._inputs(session, case_pk)
            taces = tuple(
                TimelineTace(p.number, r.performed_on, r.delivered_mg)
                for p, r in signed_procedures(session, case_pk)
                if r.performed_on is not None
            )
            names = {
                choice.pk: name_of(choice)
                for choice in follow_up_choices(session, case_pk, self._clock().date())
            }
            points = self._points(session, case_pk, names)
            title = f"{case.title} — {case.patient.patient_id}"
            closed_on, reason = case.closed_on, case.closure_reason
        due = tuple(
            t
            for t in FollowupService(self._sessions, self._user, clock=self._clock).case_timepoints(
                case_pk
            )
            if t.status == "scheduled"
        )
        return TimelineData(
            case_pk=case_pk,
            title=title,
            lines=tuple(_line_item(r) for r in rows),
            taces=taces,
            points=points,
            due=due,
            closed_on=closed_on,
            closure_reason=reason,
        )

    @staticmethod
    def _points(session: Session, case_pk: int, names: dict[int, str]) -> tuple[TimelinePoint, ...]:
        """Imaged timepoints with the total volume of the foci contoured there and the
        RECIST 1.1 sum of the target diameters (Eisenhauer et al., Eur J Cancer 2009; None
        without targets or where a target has no value, 0 mm for one that disappeared),
        from the latest measurement of each contour, and the stored RECIST 1.1 overall
        response (the current one) as the label; each named by ``names`` (timepoint id →
        visit name; a timepoint not in it, the baseline, by its label)."""
        timepoints = session.scalars(
            select(TimepointRow)
            .where(TimepointRow.case_pk == case_pk, TimepointRow.imaged_on.is_not(None))
            .order_by(TimepointRow.imaged_on, TimepointRow.id)
        ).all()
        lesions = {
            row.id: row
            for row in session.scalars(
                select(LesionRow).where(LesionRow.case_pk == case_pk, LesionRow.kind != "liver")
            )
        }
        targets = [str(pk) for pk, lesion in lesions.items() if lesion.is_target]
        responses = current_categories(session, case_pk, "recist")
        measured = session.execute(
            select(SegmentationRow.timepoint_pk, SegmentationRow.lesion_pk, MeasurementRow)
            .join(MeasurementRow, MeasurementRow.segmentation_pk == SegmentationRow.id)
            .where(SegmentationRow.lesion_pk.in_(list(lesions) or [-1]))
            .order_by(MeasurementRow.measured_at, MeasurementRow.id)
        ).all()
        latest: dict[tuple[int, int], MeasurementRow] = {}
        for timepoint_pk, lesion_pk, measurement in measured:
            latest[(timepoint_pk, lesion_pk)] = measurement  # the latest wins
        # an empty contour is not measured: the lesion disappeared there (0 mm)
        disappeared = {
            (seg.timepoint_pk, seg.lesion_pk)
            for seg in session.scalars(
                select(SegmentationRow).where(
                    SegmentationRow.lesion_pk.in_([int(pk) for pk in targets] or [-1])
                )
            )
            if segmentation_item(seg, "").is_empty
        }
        points = []
        for timepoint in timepoints:
            here = [(lp, m) for (tp, lp), m in latest.items() if tp == timepoint.id]
            volumes = [m.volume_cm3 for _, m in here if m.volume_cm3 is not None]
            diameters = {str(lp): m.longest_axial_diameter_mm for lp, m in here}
            for tp, lp in disappeared:
                if tp == timepoint.id:
                    diameters.setdefault(str(lp), 0.0)
            points.append(
                TimelinePoint(
                    label=timepoint.label,
                    on=timepoint.imaged_on,
                    status=timepoint.status or "imaged",
                    total_volume_cm3=sum(volumes) if volumes else None,
                    sum_of_diameters_mm=sum_of_diameters_mm(
                        [TargetMeasurement(t, diameters.get(t)) for t in targets], targets
                    ),
                    response=responses.get(timepoint.id, ""),
                    progression_site=timepoint.progression_site,
                    name=names.get(timepoint.id, timepoint.label),
                )
            )
        return tuple(points)
