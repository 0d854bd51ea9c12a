"""Seed a planning case on a real database: the phantom's baseline truth as measurement rows.

Used by the planning service tests and by the UI tests of the plan panel and plan
sheet, which run against the real ``PlanningService`` on a temporary SQLite. The row
helpers (``add_baseline_study``, ``add_series``, ``add_lesion``, ``add_contour``,
``add_measurement``) write one row the way contouring writes it, for tests that build
a case of their own (tests/integration/test_planning_trust.py). The procedure helpers at
the end are the procedure UI tests' shared fixtures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tace_planner.imaging.phantom import phantom_truth
from tace_planner.services.procedures import ProcedureService
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
MEASURED_AT = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
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
        case, timepoint, study = add_baseline_study(session, patient_id, imaged_on=imaged_on)
        series = add_series(session, study.id, f"1.2.3.{patient_id}.1", imaged_on=imaged_on)
        if measured:
            volumes = [("liver", "liver", "", liver_cm3)] + [
                (f["name"], "focus", f["couinaud_segment"], f["volume_cm3"]) for f in foci
            ]
            for name, kind, segment, volume in volumes:
                add_lesion(
                    session,
                    case.id,
                    name,
                    segment,
                    kind=kind,
                    timepoint_pk=timepoint.id,
                    series_pk=series.id,
                    volume_cm3=volume,
                )
        session.commit()
        return case.id


# -- rows one at a time, in an open session (flushed, not committed) ----------------------


def add_baseline_study(
    session: Any,
    patient_id: str,
    *,
    imaged_on: dt.date,
    name: str = "Test^Patient",
    study_uid: str | None = None,
) -> tuple[CaseRow, TimepointRow, StudyRow]:
    """A patient and a case (TACE planned on ``TACE_ON``) with a baseline study."""
    patient = PatientRow(patient_id=patient_id, name=name)
    case = CaseRow(patient=patient, title="DEBIRI course", planned_tace_on=TACE_ON)
    timepoint = TimepointRow(case=case, kind="baseline", label="baseline", imaged_on=imaged_on)
    session.add_all([patient, case, timepoint])
    session.flush()
    study = StudyRow(
        patient_pk=patient.id,
        case_pk=case.id,
        timepoint_pk=timepoint.id,
        study_uid=study_uid or f"1.2.3.{patient_id}",
        study_on=imaged_on,
    )
    session.add(study)
    session.flush()
    return case, timepoint, study


def add_series(
    session: Any, study_pk: int, series_uid: str, *, imaged_on: dt.date, geometry_status: str = ""
) -> SeriesRow:
    """A venous CT series of 2.5 mm slices; a geometry status other than "ok" or ""
    (not checked), such as "warning", carries that warning in its report."""
    series = SeriesRow(
        study_pk=study_pk,
        series_uid=series_uid,
        modality="CT",
        phase="venous",
        series_on=imaged_on,
        slice_thickness_mm=2.5,
        geometry_status=geometry_status,
        geometry_report=(
            {"warnings": [f"geometry {geometry_status} (test)"]}
            if geometry_status not in ("", "ok")
            else {}
        ),
    )
    session.add(series)
    session.flush()
    return series


def add_contour(session: Any, lesion_pk: int, timepoint_pk: int, series_pk: int) -> SegmentationRow:
    """A contour (an empty mask: the tests read its measurement, not its voxels)."""
    mask = SegmentationRow(
        lesion_pk=lesion_pk, timepoint_pk=timepoint_pk, series_pk=series_pk, mask_packed=b""
    )
    session.add(mask)
    session.flush()
    return mask


def add_measurement(
    session: Any,
    segmentation_pk: int,
    volume_cm3: float,
    *,
    method: str = "auto",
    trust: str = "ok",
    measured_at: dt.datetime = MEASURED_AT,
) -> None:
    """The volume of a contour, as contouring measures it."""
    session.add(
        MeasurementRow(
            segmentation_pk=segmentation_pk,
            volume_cm3=volume_cm3,
            method=method,
            trust=trust,
            measured_at=measured_at,
        )
    )


def add_lesion(
    session: Any,
    case_pk: int,
    name: str,
    segment: str = "",
    *,
    kind: str = "focus",
    timepoint_pk: int | None = None,
    series_pk: int | None = None,
    volume_cm3: float | None = None,
    trust: str = "ok",
) -> LesionRow:
    """A lesion; with a timepoint and series a contour; with ``volume_cm3`` a measurement."""
    lesion = LesionRow(case_pk=case_pk, name=name, kind=kind, couinaud_segment=segment)
    session.add(lesion)
    session.flush()
    if timepoint_pk is not None and series_pk is not None:
        mask = add_contour(session, lesion.id, timepoint_pk, series_pk)
        if volume_cm3 is not None:
            add_measurement(session, mask.id, volume_cm3, trust=trust)
    return lesion


# -- the procedure log on an approved plan: fixtures of the procedure UI tests -------------
# tests/ui/test_procedure_panel.py and test_procedure_form_input.py register these as their
# fixtures (``pytest.fixture(approve_plan, name="approved")``): the parameter names are
# fixture names, resolved by pytest.

PROCEDURE_NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def approve_plan(planning_case: tuple[Any, int]) -> tuple[Any, int, Any]:
    """(planning service, case pk, plan): the case's proposed plan saved and approved, every
    warning acknowledged. On the phantom's baseline, session 1 loads 100 mg in two vials."""
    planning, case_pk = planning_case
    draft = planning.save_plan(planning.propose(case_pk))
    plan = planning.approve(draft.pk, [a.code for a in planning.warnings_to_acknowledge(draft.pk)])
    return planning, case_pk, plan


def procedure_service(services: Any) -> ProcedureService:
    """The real procedure service as "dr ui", its clock stopped at ``PROCEDURE_NOW``."""
    return ProcedureService(services.session_factory, "dr ui", clock=lambda: PROCEDURE_NOW)


def procedure_panel(qtbot: Any, procedures: ProcedureService, approved: tuple[Any, ...]) -> Any:
    """The procedure panel on ``procedures``, showing the approved plan's case (Qt: imported
    here, so that the tests without Qt can import this module)."""
    from tace_planner.ui.panels.procedure_panel import ProcedurePanel

    widget = ProcedurePanel(procedures)
    qtbot.addWidget(widget)
    widget.set_case(approved[1])
    return widget
