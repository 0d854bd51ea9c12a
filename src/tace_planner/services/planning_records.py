"""Planning records: rows of the store turned into the domain values and DTOs of planning.

Queries and conversions used by :class:`tace_planner.services.planning.PlanningService`;
the service owns the transactions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from tace_planner.domain.body import PATIENT_FIELDS, PatientInputs
from tace_planner.domain.catalogue import BeadCatalogue, BeadProduct
from tace_planner.domain.dosing import CourseHistory, SessionPlan
from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.domain.explanation import Advisory
from tace_planner.services.liver_containment import latest_outside_fractions
from tace_planner.services.planning_dto import (
    BurdenItem,
    ClinicalInputsItem,
    FocusItem,
    OverrideItem,
    PlanItem,
    PlanProposal,
    UnmeasuredItem,
)
from tace_planner.store.models import (
    CaseRow,
    ClinicalInputsRow,
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
    TreatmentPlanRow,
)
from tace_planner.store.procedure_rows import ProcedureRevisionRow, ProcedureRow


def dataclass_fields(value: Any) -> dict[str, Any]:
    """The fields of a dataclass instance as a dict (shallow)."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def get_case(session: Session, case_pk: int) -> CaseRow:
    """The case row.

    Raises
    ------
    NotFoundError
        No such case.
    """
    case = session.get(CaseRow, case_pk)
    if case is None:
        raise NotFoundError(f"case {case_pk} does not exist")
    return case


def inputs_row(session: Session, case_pk: int) -> ClinicalInputsRow | None:
    """The case's clinical-inputs row, if any."""
    return session.scalars(
        select(ClinicalInputsRow).where(ClinicalInputsRow.case_pk == case_pk)
    ).first()


def inputs_item(case_pk: int, row: ClinicalInputsRow | None) -> ClinicalInputsItem:
    """The clinical-inputs DTO of a row (all empty without one)."""
    if row is None:
        return ClinicalInputsItem(case_pk=case_pk, inputs=PatientInputs())
    return ClinicalInputsItem(
        case_pk=case_pk,
        inputs=PatientInputs(
            height_cm=row.height_cm,
            weight_kg=row.weight_kg,
            bilirubin_mg_dl=row.bilirubin_mg_dl,
            ecog=row.ecog,
            ugt1a1_status=row.ugt1a1_status or "",
            extrahepatic_disease=row.extrahepatic_disease,
            ia_lidocaine_planned=row.ia_lidocaine_planned,
            measured_on=row.measured_on,
        ),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        version=row.version,
    )


def coerce_patient_value(name: str, value: Any) -> Any:
    """Normalise a patient value from the CLI or UI (ISO date strings, ints as floats).

    Raises
    ------
    InvalidInputError
        Unknown field, or a date that is not YYYY-MM-DD.
    """
    if name not in PATIENT_FIELDS:
        raise InvalidInputError(name, f"is not a patient input (expected one of {PATIENT_FIELDS})")
    if name == "measured_on" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if name in ("height_cm", "weight_kg", "bilirubin_mg_dl") and isinstance(value, int):
        return float(value) if not isinstance(value, bool) else value
    if name == "ecog" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_TRUST_RANK = {"ok": 0, "warning": 1, "unmeasurable": 2}


def _trust_of(measurement: MeasurementRow, series: SeriesRow | None) -> tuple[str, str]:
    """Worst of the measurement's trust and its series' geometry, with the reason."""
    trust = measurement.trust if measurement.trust in _TRUST_RANK else "ok"
    reasons = []
    if trust != "ok":
        reasons.append(f"measurement marked {trust}")
    if series is not None and series.geometry_status in _TRUST_RANK:
        status = series.geometry_status
        if _TRUST_RANK[status] > _TRUST_RANK[trust]:
            trust = status
        if status != "ok":
            warnings = list((series.geometry_report or {}).get("warnings", ()))
            label = series.description or series.series_uid
            reasons.append(f"series {label}: " + ("; ".join(warnings[:2]) or f"geometry {status}"))
    return trust, "; ".join(reasons)


def read_burden(session: Session, case_pk: int) -> BurdenItem:
    """Every focus of the baseline, measured (latest measurement, with its trust) or not.

    A focus lesion counts at baseline when it has a baseline contour, or when it has
    no contour at any timepoint yet (created and not contoured); a lesion contoured
    only at a follow-up is a new lesion of that follow-up, not part of the baseline
    burden. A baseline focus without a volume is listed in ``unmeasured`` — never
    dropped — so that planning can refuse to rest on it.
    """
    timepoint = session.scalars(
        select(TimepointRow)
        .where(TimepointRow.case_pk == case_pk, TimepointRow.kind == "baseline")
        .order_by(TimepointRow.ordinal, TimepointRow.id)
    ).first()
    if timepoint is None:
        return BurdenItem(
            case_pk,
            None,
            problems=(
                "The case has no baseline imaging linked yet: import the baseline studies and "
                "link them to this case.",
            ),
        )
    lesions = session.scalars(
        select(LesionRow).where(LesionRow.case_pk == case_pk).order_by(LesionRow.name)
    ).all()
    linked_studies = set(
        session.scalars(select(StudyRow.id).where(StudyRow.timepoint_pk == timepoint.id))
    )
    stranded: list[tuple[str, str]] = []
    liver_stranded = False
    problems: list[str] = []
    liver: float | None = None
    liver_trust, liver_reason = "ok", ""
    foci: list[FocusItem] = []
    unmeasured: list[UnmeasuredItem] = []
    liver_source: tuple[dict[str, Any], dt.datetime | None] | None = None
    focus_sources: dict[str, tuple[dict[str, Any], dt.datetime | None]] = {}
    for lesion in lesions:
        segmentations = session.scalars(
            select(SegmentationRow).where(SegmentationRow.lesion_pk == lesion.id)
        ).all()
        at_baseline = [s for s in segmentations if s.timepoint_pk == timepoint.id]
        if not at_baseline:
            if lesion.kind != "liver" and not segmentations:
                unmeasured.append(
                    UnmeasuredItem(lesion.name, lesion.couinaud_segment, "not contoured")
                )
            continue
        segmentation = at_baseline[0]
        series = session.get(SeriesRow, segmentation.series_pk)
        if series is None or series.study_pk not in linked_studies:
            # its study was linked elsewhere: these volumes have no baseline imaging
            stranded.append((lesion.name, _where_now(session, series, case_pk)))
            liver_stranded = liver_stranded or lesion.kind == "liver"
            continue
        measurement = session.scalars(
            select(MeasurementRow)
            .where(
                MeasurementRow.segmentation_pk == segmentation.id,
                MeasurementRow.volume_cm3.is_not(None),
            )
            .order_by(MeasurementRow.measured_at.desc(), MeasurementRow.id.desc())
        ).first()
        if measurement is None or measurement.volume_cm3 is None:
            if lesion.kind == "liver":
                problems.append(f"{lesion.name}: contoured but not measured — contour it again.")
            else:
                unmeasured.append(
                    UnmeasuredItem(lesion.name, lesion.couinaud_segment, "contoured, not measured")
                )
            continue
        trust, reason = _trust_of(measurement, series)
        if trust != "ok":
            problems.append(f"{lesion.name}: volume from questionable geometry ({reason}).")
        if lesion.kind == "liver":
            if liver is not None:
                problems.append(f"{lesion.name}: a second liver contour; the first one is used.")
                continue
            liver = float(measurement.volume_cm3)
            liver_trust, liver_reason = trust, reason
            liver_source = (dict(measurement.details or {}), measurement.measured_at)
        else:
            focus_sources[lesion.name] = (dict(measurement.details or {}), measurement.measured_at)
            foci.append(
                FocusItem(
                    name=lesion.name,
                    couinaud_segment=lesion.couinaud_segment,
                    volume_cm3=float(measurement.volume_cm3),
                    method=measurement.method,
                    trust=trust,
                    measured_at=measurement.measured_at,
                    trust_reason=reason,
                )
            )
    for item in unmeasured:
        problems.append(f"{item.name}: no volume at baseline ({item.reason}).")
    outside = latest_outside_fractions(liver_source, focus_sources)
    if stranded:
        names = ", ".join(name for name, _ in stranded)
        places = " and ".join(sorted({where or "no timepoint" for _, where in stranded}))
        lead = "The baseline has no study linked; its" if not linked_studies else "The baseline"
        problems.insert(
            0,
            f"{lead} contours of {names} lie on a study now linked to {places}: they are left "
            "out and no dose is proposed — link that study to the baseline again.",
        )
    nothing_measured = liver is None and not foci and not unmeasured
    if not lesions or (nothing_measured and not stranded):
        problems.insert(
            0,
            "No measurements at baseline yet: contour the liver and the foci "
            "(volumes come from the contours).",
        )
    elif liver is None and not liver_stranded:
        problems.append("The liver is not contoured at baseline: tumour burden F is unknown.")
    return BurdenItem(
        case_pk,
        liver,
        tuple(foci),
        timepoint_label=timepoint.label,
        imaged_on=timepoint.imaged_on,
        problems=tuple(problems),
        unmeasured=tuple(unmeasured),
        liver_trust=liver_trust,
        liver_trust_reason=liver_reason,
        outside_liver=tuple(
            (name, share) for name, share in sorted(outside.items()) if share is not None
        ),
        stranded=tuple(stranded),
        liver_stranded=liver_stranded,
        baseline_has_study=bool(linked_studies),
    )


def _where_now(session: Session, series: SeriesRow | None, case_pk: int) -> str:
    """The timepoint the series' study is linked to now ("" for none), naming another case."""
    study = session.get(StudyRow, series.study_pk) if series is not None else None
    if study is None or study.timepoint_pk is None:
        return ""
    timepoint = session.get(TimepointRow, study.timepoint_pk)
    if timepoint is None:
        return ""
    if timepoint.case_pk != case_pk:
        return f"{timepoint.label} of case {timepoint.case_pk}"
    return timepoint.label


def signed_procedures(
    session: Session, case_pk: int
) -> list[tuple[ProcedureRow, ProcedureRevisionRow]]:
    """Each procedure of the case with its latest signed revision, in course order."""
    rows = session.execute(
        select(ProcedureRow, ProcedureRevisionRow)
        .join(ProcedureRevisionRow, ProcedureRevisionRow.procedure_pk == ProcedureRow.id)
        .where(ProcedureRow.case_pk == case_pk, ProcedureRevisionRow.signed_at.is_not(None))
        .order_by(ProcedureRow.number, ProcedureRevisionRow.revision)
    ).all()
    latest: dict[int, tuple[ProcedureRow, ProcedureRevisionRow]] = {}
    for procedure, revision in rows:
        latest[procedure.id] = (procedure, revision)  # the highest signed revision wins
    return list(latest.values())


def read_course(session: Session, case_pk: int, *, exclude: int | None) -> CourseHistory:
    """The course before a plan: what signed procedures delivered, plus what approved plans
    (not superseded, nor ``exclude``) still plan.

    A signed procedure counts with its *delivered* dose (never its loaded dose); the
    plan session it records is no longer counted as planned. Every other session of
    an approved plan counts as planned, with its loaded dose.
    """
    performed = signed_procedures(session, case_pk)
    delivered = math.fsum(revision.delivered_mg or 0.0 for _, revision in performed)
    recorded = {
        (procedure.plan_pk, procedure.session_number)
        for procedure, _ in performed
        if procedure.plan_pk is not None
    }
    rows = session.scalars(
        select(TreatmentPlanRow).where(
            TreatmentPlanRow.case_pk == case_pk, TreatmentPlanRow.status == "approved"
        )
    ).all()
    superseded = {row.supersedes_pk for row in rows if row.supersedes_pk is not None}
    loaded = 0.0
    count = 0
    for row in rows:
        if row.id in superseded or row.id == exclude:
            continue
        for planned in plan_item(row).sessions:
            if (row.id, planned.number) in recorded:
                continue
            loaded += planned.irinotecan_loaded_mg
            count += 1
    return CourseHistory(
        delivered_mg=delivered,
        procedures=len(performed),
        planned_mg=loaded,
        planned_sessions=count,
    )


def read_course_for_plan(session: Session, case_pk: int) -> CourseHistory:
    """The course a plan of the case is judged against: the treatments performed.

    A plan proposed, saved or approved for the case replaces the sessions approved and
    not yet performed (:meth:`CourseHistory.before_a_new_plan`); :func:`read_course`
    keeps them for the procedure log's view of the course.
    """
    return read_course(session, case_pk, exclude=None).before_a_new_plan()


def product_from_snapshot(data: Mapping[str, Any]) -> BeadProduct:
    """The product of a plan's parameter snapshot (validated like the catalogue)."""
    catalogue = BeadCatalogue.from_dict(
        {"format": "tace-planner-bead-catalogue/1", "version": "snapshot", "products": [data]}
    )
    return catalogue.products[0]


def plan_item(row: TreatmentPlanRow) -> PlanItem:
    """The DTO of a plan row: the proposal as saved, effective sessions, warnings, overrides."""
    data = {**row.inputs, **row.results, "model": row.model, "parameters": row.parameters}
    proposal = PlanProposal.from_json(data)
    effective = row.results.get("effective_sessions")
    sessions = (
        tuple(SessionPlan.from_json(s) for s in effective)
        if effective is not None
        else proposal.sessions
    )
    shown = tuple(Advisory.from_json(a) for a in row.warnings.get("shown", []))
    return PlanItem(
        pk=row.id,
        case_pk=row.case_pk,
        plan_version=row.plan_version,
        supersedes_pk=row.supersedes_pk,
        status=row.status,
        proposal=proposal,
        sessions=sessions,
        advisories=shown,
        acknowledged=tuple(row.warnings.get("acknowledged", [])),
        contraindications_overridden=dict(row.warnings.get("contraindications_overridden", {})),
        overrides=tuple(
            OverrideItem(name, float(o["value"]), float(o["proposed"]), str(o["reason"]))
            for name, o in row.overrides.items()
        ),
        created_by=row.created_by,
        created_at=row.created_at,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        version=row.version,
        supersedes_version=(
            None
            if row.supersedes_pk is None or (session := object_session(row)) is None
            else session.scalar(
                select(TreatmentPlanRow.plan_version).where(
                    TreatmentPlanRow.id == row.supersedes_pk
                )
            )
        ),
    )
