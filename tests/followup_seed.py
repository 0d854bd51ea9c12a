"""Helpers of the follow-up tests: a patient with a case, studies, and signed TACEs."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from tace_planner.services.procedures import ProcedureService
from tace_planner.store.models import CaseRow, PatientRow, StudyRow, TimepointRow

if TYPE_CHECKING:
    from tace_planner.services.followups import FollowupService

TODAY = dt.date(2026, 12, 2)


def clock(day: dt.date = TODAY) -> Any:
    """A fixed aware UTC clock on ``day``."""
    return lambda: dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def add_case(factory: Any, patient_id: str = "P-1", baseline_on: dt.date | None = None) -> int:
    """A patient with one case (and a baseline study when ``baseline_on`` is given)."""
    with factory() as session:
        patient = session.query(PatientRow).filter_by(patient_id=patient_id).first()
        if patient is None:
            patient = PatientRow(patient_id=patient_id, name=f"Test^{patient_id}")
        case = CaseRow(patient=patient, title="DEBIRI course")
        session.add_all([patient, case])
        session.flush()
        if baseline_on is not None:
            timepoint = TimepointRow(case=case, kind="baseline", label="baseline",
                                     imaged_on=baseline_on)  # fmt: skip
            session.add(timepoint)
            session.flush()
            uid = f"1.2.{patient_id}.0"
            session.add(StudyRow(patient_pk=patient.id, case_pk=case.id,
                                 timepoint_pk=timepoint.id, study_uid=uid,
                                 study_on=baseline_on))  # fmt: skip
        session.commit()
        return case.id


def add_study(
    factory: Any, patient_id: str, uid: str, on: dt.date, modality: str | None = None
) -> None:
    """An imported, unlinked study of the patient; with ``modality`` ("CT", "MR") it holds
    one series of it read as one volume (``<uid>.1``), without images."""
    from tace_planner.store.models import SeriesRow

    with factory() as session:
        patient = session.query(PatientRow).filter_by(patient_id=patient_id).one()
        study = StudyRow(patient_pk=patient.id, study_uid=uid, study_on=on, description="CT")
        session.add(study)
        if modality is not None:
            session.flush()
            session.add(SeriesRow(study_pk=study.id, series_uid=f"{uid}.1", modality=modality))
        session.commit()


def sign_tace(factory: Any, case_pk: int, on: dt.date, delivered_fraction: float = 1.0) -> int:
    """Log and sign an unplanned TACE on ``on``; returns the procedure id."""
    procedures = ProcedureService(factory, "dr ir", clock=clock(max(on, TODAY)))
    item = procedures.log(
        case_pk,
        {"performed_on": on.isoformat(), "operator": "Dr A", "lot": "L1",
         "expiry": "2030-01-01", "endpoint": "near-stasis", "product_code": "dc_bead",
         "vials": 1, "loaded_mg": 100.0, "delivered_fraction": delivered_fraction,
         "lidocaine_mg": 40, "difference_reasons": {"plan": "treated without a plan"}},
    )  # fmt: skip
    procedures.sign(item.pk)
    return item.pk


def scheduled_course(
    factory: Any,
    patient_id: str,
    *,
    today: dt.date = TODAY,
    baseline_on: dt.date = dt.date(2026, 3, 2),
    tace_on: dt.date = dt.date(2026, 3, 16),
) -> tuple[int, FollowupService]:
    """A case with its baseline, TACE 1 signed on ``tace_on`` and the study protocol's
    schedule laid out (all open until imaging comes), seen on ``today``.

    With the defaults the schedule (8 weeks, then every 3 months) is due 11 May,
    11 August, 11 November 2026, 11 February 2027 … Returns the case id and the
    FollowupService (user "dr rad", clock on ``today``) that laid it out.
    """
    from tace_planner.services.followups import FollowupService

    case = add_case(factory, patient_id, baseline_on=baseline_on)
    sign_tace(factory, case, tace_on)
    followups = FollowupService(factory, "dr rad", clock=clock(today))
    followups.sync_case(case)
    return case, followups


def add_measurement(
    factory: Any, case_pk: int, study_uid: str, lesion: str, volume_cm3: float, diameter_mm: float
) -> None:
    """A focus measured on the study's timepoint (a series is made for the study if needed)."""
    from tace_planner.store.models import LesionRow, MeasurementRow, SegmentationRow, SeriesRow

    with factory() as session:
        study = session.query(StudyRow).filter_by(study_uid=study_uid).one()
        series = session.query(SeriesRow).filter_by(study_pk=study.id).first()
        if series is None:
            series = SeriesRow(study_pk=study.id, series_uid=f"{study_uid}.1", modality="CT")
            session.add(series)
            session.flush()
        row = session.query(LesionRow).filter_by(case_pk=case_pk, name=lesion).first()
        if row is None:
            row = LesionRow(case_pk=case_pk, name=lesion, kind="focus", is_target=True)
            session.add(row)
            session.flush()
        mask = SegmentationRow(lesion_pk=row.id, timepoint_pk=study.timepoint_pk,
                               series_pk=series.id, mask_packed=b"")  # fmt: skip
        session.add(mask)
        session.flush()
        session.add(MeasurementRow(segmentation_pk=mask.id, volume_cm3=volume_cm3,
                                   longest_axial_diameter_mm=diameter_mm))  # fmt: skip
        session.commit()


RESPONSE_FOLLOW_UPS = (dt.date(2026, 5, 11), dt.date(2026, 8, 11), dt.date(2026, 11, 11))


def add_response_course(factory: Any, patient_id: str) -> tuple[int, FollowupService]:
    """Targets F1 + F2: 165 → 63 → 65 → 90 mm (PR, continued PR, PD); F3 new at the third.

    Baseline 2026-03-01, TACE 2026-03-16, follow-ups on :data:`RESPONSE_FOLLOW_UPS`
    (studies ``1.2.<patient_id>.<n>``). Returns the case id and its FollowupService.
    """
    case, followups = scheduled_course(factory, patient_id, baseline_on=dt.date(2026, 3, 1))
    for number, on in enumerate(RESPONSE_FOLLOW_UPS, start=1):
        add_study(factory, patient_id, f"1.2.{patient_id}.{number}", on)
        followups.confirm_match(f"1.2.{patient_id}.{number}")
    sizes = {0: (100, 65, 40.0, 12.0), 1: (40, 23, 4.0, 1.0), 2: (41, 24, 4.2, 1.1),
             3: (50, 40, 8.0, 4.0)}  # fmt: skip
    for number, (d1, d2, v1, v2) in sizes.items():
        uid = f"1.2.{patient_id}.{number}"
        add_measurement(factory, case, uid, "F1", v1, d1)
        add_measurement(factory, case, uid, "F2", v2, d2)
    add_measurement(factory, case, f"1.2.{patient_id}.3", "F3", 2.0, 12)
    return case, followups
