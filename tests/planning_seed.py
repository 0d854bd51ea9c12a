"""Seed a planning case on a real database: the phantom's baseline truth as measurement rows.

Used by the planning service tests and by the UI tests of the plan panel and plan
sheet, which run against the real ``PlanningService`` on a temporary SQLite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tace_planner.imaging.phantom import phantom_truth
from tace_planner.store.models import (
    CaseRow,
    LesionRow,
    MeasurementRow,
    PatientRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)

TACE_ON = dt.date(2026, 3, 16)
RIGHT_LOBE = {"V", "VI", "VII", "VIII"}
PATIENT_INPUTS = {
    "height_cm": 175,
    "weight_kg": 70,
    "bilirubin_mg_dl": 0.8,
    "ecog": 1,
    "ugt1a1_status": "normal",
    "extrahepatic_disease": False,
    "ia_lidocaine_planned": True,
}


def _truth() -> tuple[float, list[dict[str, Any]]]:
    data = phantom_truth("full", 0).to_json()
    return data["liver_volume_cm3"], data["timepoints"][0]["foci"]


def seed_case(
    services: Any,
    *,
    unilobar: bool = False,
    measured: bool = True,
    imaged_on: dt.date = dt.date(2026, 3, 2),
    patient_id: str = "P-1",
) -> int:
    """A patient, a case with a baseline CT and, if ``measured``, liver and focus volumes."""
    liver_cm3, foci = _truth()
    if unilobar:
        foci = [f for f in foci if f["couinaud_segment"] in RIGHT_LOBE]
    with services.session_factory() as session:
        patient = PatientRow(patient_id=patient_id, name="Test^Patient")
        case = CaseRow(patient=patient, title="DEBIRI course", planned_tace_on=TACE_ON)
        timepoint = TimepointRow(case=case, kind="baseline", label="baseline", imaged_on=imaged_on)
        session.add_all([patient, case, timepoint])
        session.flush()
        study = StudyRow(
            patient_pk=patient.id,
            case_pk=case.id,
            timepoint_pk=timepoint.id,
            study_uid=f"1.2.3.{patient_id}",
            study_on=imaged_on,
        )
        session.add(study)
        session.flush()
        series = SeriesRow(
            study_pk=study.id,
            series_uid=f"1.2.3.{patient_id}.1",
            modality="CT",
            phase="venous",
            series_on=imaged_on,
            slice_thickness_mm=2.5,
        )
        session.add(series)
        session.flush()
        if measured:
            volumes = [("liver", "liver", "", liver_cm3)] + [
                (f["name"], "focus", f["couinaud_segment"], f["volume_cm3"]) for f in foci
            ]
            for name, kind, segment, volume in volumes:
                lesion = LesionRow(case_pk=case.id, name=name, kind=kind, couinaud_segment=segment)
                session.add(lesion)
                session.flush()
                mask = SegmentationRow(
                    lesion_pk=lesion.id,
                    timepoint_pk=timepoint.id,
                    series_pk=series.id,
                    mask_packed=b"",
                )
                session.add(mask)
                session.flush()
                session.add(
                    MeasurementRow(
                        segmentation_pk=mask.id,
                        volume_cm3=volume,
                        method="auto",
                        measured_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
                    )
                )
        session.commit()
        return case.id
