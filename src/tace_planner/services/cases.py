"""Patients and treatment cases: list, create, link studies to a case and a timepoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.services.contour_records import natural
from tace_planner.services.dto import CaseItem, PatientItem
from tace_planner.services.followup_sync import ScheduleSync
from tace_planner.store.assessment_rows import AssessmentRow
from tace_planner.store.audit import row_snapshot
from tace_planner.store.models import (
    CaseRow,
    LesionRow,
    PatientRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)
from tace_planner.store.unit_of_work import UnitOfWork


def _case_item(row: CaseRow, study_count: int) -> CaseItem:
    return CaseItem(
        pk=row.id,
        patient_pk=row.patient_pk,
        patient_id=row.patient.patient_id,
        patient_name=row.patient.name,
        title=row.title,
        planned_tace_on=row.planned_tace_on,
        study_count=study_count,
    )


class CaseService:
    """Creates and lists treatment cases; links studies to them.

    Parameters
    ----------
    session_factory : sessionmaker
        Opens database sessions.
    user : str
        Written into audit events.
    """

    def __init__(self, session_factory: sessionmaker[Session], user: str) -> None:
        self._sessions = session_factory
        self._user = user

    def list_cases(self) -> list[CaseItem]:
        """Every case with its patient, by patient name then case id."""
        with self._sessions() as session:
            counts = dict(
                session.execute(
                    select(StudyRow.case_pk, func.count())
                    .where(StudyRow.case_pk.is_not(None))
                    .group_by(StudyRow.case_pk)
                ).all()
            )
            rows = session.scalars(
                select(CaseRow).join(PatientRow).order_by(PatientRow.name, CaseRow.id)
            ).all()
            return [_case_item(row, counts.get(row.id, 0)) for row in rows]

    def find_case(self, patient_id: str, title: str) -> CaseItem | None:
        """The case of this title for the patient with this DICOM Patient ID, if any."""
        with self._sessions() as session:
            row = session.scalars(
                select(CaseRow)
                .join(PatientRow)
                .where(PatientRow.patient_id == patient_id, CaseRow.title == title)
            ).first()
            if row is None:
                return None
            count = session.scalar(
                select(func.count()).select_from(StudyRow).where(StudyRow.case_pk == row.id)
            )
            return _case_item(row, int(count or 0))

    def list_patients(self) -> list[PatientItem]:
        """Every imported patient, by name, with the number of cases and studies."""
        with self._sessions() as session:
            cases = dict(
                session.execute(
                    select(CaseRow.patient_pk, func.count()).group_by(CaseRow.patient_pk)
                ).all()
            )
            studies = dict(
                session.execute(
                    select(StudyRow.patient_pk, func.count()).group_by(StudyRow.patient_pk)
                ).all()
            )
            rows = session.scalars(select(PatientRow).order_by(PatientRow.name, PatientRow.id))
            return [
                PatientItem(
                    pk=row.id,
                    patient_id=row.patient_id,
                    name=row.name,
                    birth_on=row.birth_on,
                    sex=row.sex,
                    case_count=cases.get(row.id, 0),
                    study_count=studies.get(row.id, 0),
                )
                for row in rows
            ]

    def create_case(
        self,
        patient_id: str | None,
        title: str,
        *,
        patient_pk: int | None = None,
        planned_tace_on: dt.date | None = None,
        primary_site: str = "",
        grade: str = "",
    ) -> CaseItem:
        """Open a treatment case for an imported patient, given by Patient ID or key.

        Raises
        ------
        InvalidInputError
            The title is empty.
        NotFoundError
            No such patient has been imported.
        """
        if not title.strip():
            raise InvalidInputError("case title", "must not be empty")
        with UnitOfWork(self._sessions, user=self._user) as uow:
            if patient_pk is not None:
                patient = uow.session.get(PatientRow, patient_pk)
            else:
                patient = uow.session.scalars(
                    select(PatientRow).where(PatientRow.patient_id == patient_id)
                ).first()
            if patient is None:
                raise NotFoundError(f"no imported patient has Patient ID {patient_id!r}")
            row = CaseRow(
                patient=patient,
                title=title.strip(),
                planned_tace_on=planned_tace_on,
                primary_site=primary_site,
                grade=grade,
            )
            uow.session.add(row)
            uow.session.flush()
            uow.audit(
                action="create_case",
                entity="case",
                entity_pk=row,
                before=None,
                after=row_snapshot(row),
                summary=f"opened case {row.title!r}",
            )
            uow.commit()
            return _case_item(row, 0)

    def link_studies_by_date(self, case_pk: int, tace_on: dt.date) -> None:
        """Link the patient's studies to a case: up to the TACE date baseline, then follow-ups.

        Studies on the same later date share one follow-up timepoint. Studies
        already linked to another case are left alone.
        """
        with self._sessions() as session:
            case = session.get(CaseRow, case_pk)
            if case is None:
                raise NotFoundError(f"case {case_pk} does not exist")
            studies = session.scalars(
                select(StudyRow)
                .where(StudyRow.patient_pk == case.patient_pk)
                .where((StudyRow.case_pk.is_(None)) | (StudyRow.case_pk == case_pk))
                .order_by(StudyRow.study_on, StudyRow.id)
            ).all()
            dated = [(study.study_uid, study.study_on) for study in studies]
        follow_up_dates = sorted({when for _, when in dated if when is not None and when > tace_on})
        for study_uid, when in dated:
            if when is None or when <= tace_on:
                self.link_study(
                    case_pk,
                    study_uid,
                    timepoint_label="baseline",
                    timepoint_kind="baseline",
                    imaged_on=when,
                )
            else:
                number = follow_up_dates.index(when) + 1
                self.link_study(
                    case_pk,
                    study_uid,
                    timepoint_label=f"follow-up {number}",
                    timepoint_kind="follow_up",
                    imaged_on=when,
                )

    def case_detail(self, case_pk: int) -> dict[str, Any]:
        """A case with its timepoints and the studies linked to each (JSON-ready).

        Raises
        ------
        NotFoundError
            No such case.
        """
        with self._sessions() as session:
            case = session.get(CaseRow, case_pk)
            if case is None:
                raise NotFoundError(f"case {case_pk} does not exist")
            timepoints = sorted(case.timepoints, key=lambda t: (t.ordinal, t.id))
            studies = session.scalars(select(StudyRow).where(StudyRow.case_pk == case_pk)).all()
            return {
                "case_pk": case.id,
                "patient_id": case.patient.patient_id,
                "patient_name": case.patient.name,
                "title": case.title,
                "planned_tace_on": case.planned_tace_on.isoformat()
                if case.planned_tace_on
                else None,
                "timepoints": [
                    {
                        "label": t.label,
                        "kind": t.kind,
                        "imaged_on": t.imaged_on.isoformat() if t.imaged_on else None,
                        "studies": [
                            {
                                "study_uid": s.study_uid,
                                "description": s.description,
                                "study_on": s.study_on.isoformat() if s.study_on else None,
                            }
                            for s in studies
                            if s.timepoint_pk == t.id
                        ],
                    }
                    for t in timepoints
                ],
            }

    def link_study(
        self,
        case_pk: int,
        study_uid: str,
        *,
        timepoint_label: str,
        timepoint_kind: str,
        imaged_on: dt.date | None = None,
    ) -> None:
        """Attach a study to a case at a timepoint (created when new); no-op when already so.

        A study whose series carry contours at the timepoint it would leave is not
        moved: its contours (and their measurements) belong to that timepoint, and
        moving the study would leave them with no imaging while planning and
        response still read them. A timepoint made by linking that the move leaves
        with nothing (no study, contour or assessment) is removed. In the same unit of
        work the case's follow-up schedule is brought in step
        (:meth:`~tace_planner.services.followup_sync.ScheduleSync.settle`): a follow-up
        study in the window of an open scheduled follow-up takes its place at once.

        Raises
        ------
        NotFoundError
            No such case or study.
        InvalidInputError
            The study carries contours at the timepoint it would leave (field
            ``study``; the message names the study, the timepoint and the count).
        """
        with UnitOfWork(self._sessions, user=self._user) as uow:
            session = uow.session
            case = session.get(CaseRow, case_pk)
            if case is None:
                raise NotFoundError(f"case {case_pk} does not exist")
            study = session.scalars(select(StudyRow).where(StudyRow.study_uid == study_uid)).first()
            if study is None:
                raise NotFoundError(f"study {study_uid} is not in the database")
            timepoint = session.scalars(
                select(TimepointRow).where(
                    TimepointRow.case_pk == case_pk, TimepointRow.label == timepoint_label
                )
            ).first()
            if (
                timepoint is not None
                and study.case_pk == case_pk
                and study.timepoint_pk == timepoint.id
            ):
                return
            _refuse_if_contoured(session, study, case_pk, timepoint_label)
            if timepoint is None:
                ordinal = len(case.timepoints)
                timepoint = TimepointRow(
                    case=case,
                    kind=timepoint_kind,
                    label=timepoint_label,
                    ordinal=ordinal,
                    imaged_on=imaged_on if imaged_on is not None else study.study_on,
                )
                session.add(timepoint)
                session.flush()
            left = session.get(TimepointRow, study.timepoint_pk) if study.timepoint_pk else None
            before = {"case_pk": study.case_pk, "timepoint_pk": study.timepoint_pk}
            study.case_pk = case_pk
            study.timepoint_pk = timepoint.id
            session.flush()
            summary = f"study {study.description!r} linked to {timepoint_label}"
            after: dict[str, Any] = {"case_pk": case_pk, "timepoint_pk": timepoint.id}
            if left is not None and _is_empty_link_timepoint(session, left):
                after["removed_empty_timepoint"] = row_snapshot(left)
                summary += f"; the emptied timepoint {left.label!r} removed"
                session.delete(left)
            uow.audit(
                action="link_study",
                entity="study",
                entity_pk=study.id,
                before=before,
                after=after,
                summary=summary,
            )
            # the follow-up schedule at once: imaging in the window of an open follow-up
            # takes its place (audited), rather than at the next synchronisation
            ScheduleSync.settle(uow, case)
            uow.commit()


def _refuse_if_contoured(
    session: Session, study: StudyRow, case_pk: int, target_label: str
) -> None:
    """Raise when the study's series carry contours at the timepoint it would leave (or,
    for a study linked nowhere, at any timepoint other than the target)."""
    rows = session.execute(
        select(TimepointRow.label, TimepointRow.case_pk, LesionRow.name)
        .select_from(SegmentationRow)
        .join(SeriesRow, SeriesRow.id == SegmentationRow.series_pk)
        .join(TimepointRow, TimepointRow.id == SegmentationRow.timepoint_pk)
        .join(LesionRow, LesionRow.id == SegmentationRow.lesion_pk)
        .where(SeriesRow.study_pk == study.id)
        .order_by(TimepointRow.ordinal, TimepointRow.id)
    ).all()
    if study.timepoint_pk is not None:
        current = session.get(TimepointRow, study.timepoint_pk)
        if current is not None:
            rows = [r for r in rows if (r.case_pk, r.label) == (current.case_pk, current.label)]
    rows = [r for r in rows if (r.case_pk, r.label) != (case_pk, target_label)]
    if not rows:
        return
    label = rows[0].label
    names = ", ".join(sorted({r.name for r in rows if r.label == label}, key=natural))
    count = sum(1 for r in rows if r.label == label)
    contours = "contour" if count == 1 else "contours"
    raise InvalidInputError(
        "study",
        f"{study.description or 'the study'!s} ({study.study_uid}) carries {count} {contours} "
        f"at {label} ({names}); moving it to {target_label} would leave them without their "
        f"images — delete those contours first, or leave the study at {label}",
    )


def _is_empty_link_timepoint(session: Session, timepoint: TimepointRow) -> bool:
    """True for a timepoint made by linking that holds no study, contour or assessment."""
    if timepoint.status or timepoint.progression_site:
        return False  # a scheduled follow-up, or one with a recorded progression
    for model, column in (
        (StudyRow, StudyRow.timepoint_pk),
        (SegmentationRow, SegmentationRow.timepoint_pk),
        (AssessmentRow, AssessmentRow.timepoint_pk),
    ):
        if session.scalar(select(func.count()).select_from(model).where(column == timepoint.id)):
            return False
    return True
