"""Gather what a case record holds, as plain values, from the services and the store.

One :class:`CaseRecord` per case: the case attributes, every lesion measured at every
timepoint, the signed procedures, the therapy lines and the time to progression. The
writers (CSV, JSON, REDCap, SDTM) read only these values, so de-identification is done
once, here (:func:`deidentified`), and no writer can leak a field it was not given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from tace_planner.domain.response.day_zero import day_zero
from tace_planner.services.export.record import CaseRecord, Row
from tace_planner.store.models import (
    CaseRow,
    LesionRow,
    MeasurementRow,
    SegmentationRow,
    StudyRow,
    TimepointRow,
)


def gather_case(services: Any, case_pk: int) -> CaseRecord:
    """Read one case (raises ``NotFoundError`` when it does not exist)."""
    services.cases.case_detail(case_pk)  # NotFoundError first, in one line
    procedures = [p for p in services.procedures.list_procedures(case_pk) if p.locked]
    lines = services.therapy.list_lines(case_pk)
    ttp = services.therapy.ttp(case_pk)
    with services.session_factory() as session:
        case = session.get(CaseRow, case_pk)
        assert case is not None  # checked above
        patient = case.patient
        timepoints = {t.id: t for t in case.timepoints}
        baseline = min(
            (t.imaged_on for t in timepoints.values() if t.kind == "baseline" and t.imaged_on),
            default=None,
        )
        lesions = _lesion_rows(session, case_pk, timepoints)
        study_uids = tuple(
            session.scalars(select(StudyRow.study_uid).where(StudyRow.case_pk == case_pk))
        )
        attributes = {
            "title": case.title,
            "primary_site": case.primary_site,
            "grade": case.grade,
            "diagnosed_on": case.diagnosed_on,
            "liver_metastases_on": case.liver_metastases_on,
            "closed_on": case.closed_on,
            "closure_reason": case.closure_reason,
            "planned_tace_on": case.planned_tace_on,
        }
        patient_id, patient_name = patient.patient_id, patient.name
        birth_on, sex = patient.birth_on, patient.sex
    performed = [p.record.performed_on for p in procedures if p.record.performed_on]
    # the same day 0 as the Follow-up page's spider plot
    anchor_on, anchor = day_zero(performed, attributes["planned_tace_on"], baseline)
    groups = ttp["groups"]
    after_tace = [r for r in ttp["after_tace"] if r["scope"] == "anywhere"]
    first_ttp = after_tace[0] if after_tace else {}
    case_row: Row = {
        "sex": sex or None,
        "age_at_anchor_years": _age(birth_on, anchor_on),
        "primary_site": attributes["primary_site"] or None,
        "grade": attributes["grade"] or None,
        "metastases_timing": groups["metastases_timing"]["value"],
        "tace_sequence": groups["tace_sequence"]["value"],
        "diagnosed_on": attributes["diagnosed_on"],
        "liver_metastases_on": attributes["liver_metastases_on"],
        "first_tace_on": min(performed) if performed else None,
        "n_tace": len(procedures),
        "delivered_total_mg": _total(p.delivered_mg for p in procedures),
        "ttp_after_tace_days": first_ttp.get("days"),
        "progression_event": _event(first_ttp),
        "n_therapy_lines": len(lines),
        "closed_on": attributes["closed_on"],
        "closure_reason": attributes["closure_reason"] or None,
    }
    return CaseRecord(
        record_id=patient_id,
        case_pk=case_pk,
        patient_id=patient_id,
        patient_name=patient_name,
        birth_on=birth_on,
        anchor_on=anchor_on,
        anchor=anchor,
        case=case_row,
        lesions=lesions,
        procedures=[_procedure_row(p) for p in procedures],
        therapy_lines=[_line_row(line) for line in lines],
        ttp=[_ttp_row(r, "therapy_line") for r in ttp["after_therapy"]]
        + [_ttp_row(r, "tace") for r in ttp["after_tace"]],
        study_uids=study_uids,
    )


def _lesion_rows(session: Any, case_pk: int, timepoints: dict[int, TimepointRow]) -> list[Row]:
    found = session.execute(
        select(LesionRow, SegmentationRow, MeasurementRow)
        .join(SegmentationRow, SegmentationRow.lesion_pk == LesionRow.id)
        .join(MeasurementRow, MeasurementRow.segmentation_pk == SegmentationRow.id)
        .where(LesionRow.case_pk == case_pk)
        .order_by(MeasurementRow.measured_at, MeasurementRow.id)
    ).all()
    latest: dict[tuple[int, int], tuple[LesionRow, SegmentationRow, MeasurementRow]] = {}
    for lesion, mask, measurement in found:
        latest[(lesion.id, mask.timepoint_pk)] = (lesion, mask, measurement)
    rows = []
    for lesion, mask, measurement in latest.values():
        timepoint = timepoints.get(mask.timepoint_pk)
        if timepoint is None:
            continue
        details = measurement.details or {}
        rows.append(
            {
                "lesion": lesion.name,
                "lesion_kind": lesion.kind,
                "couinaud_segment": lesion.couinaud_segment or None,
                "is_target": bool(lesion.is_target),
                "timepoint": timepoint.label,
                "timepoint_kind": timepoint.kind,
                "timepoint_order": timepoint.ordinal,
                "imaged_on": timepoint.imaged_on,
                "volume_cm3": measurement.volume_cm3,
                "longest_axial_diameter_mm": measurement.longest_axial_diameter_mm,
                "short_axis_mm": measurement.short_axis_mm,
                "longest_3d_diameter_mm": details.get("longest_3d_diameter_mm"),
                "mean_hu": measurement.mean_hu,
                "enhancing_fraction": measurement.enhancing_fraction,
                "method": measurement.method,
                "trust": measurement.trust,
                "_timepoint_pk": timepoint.id,
                "_series_pk": mask.series_pk,
            }
        )
    rows.sort(key=lambda r: (r["timepoint_order"], r["_timepoint_pk"], r["lesion"]))
    visits = _visits(list(timepoints.values()))
    for row in rows:
        row["visit"] = visits[row["_timepoint_pk"]]
    return rows


def _visits(timepoints: list[TimepointRow]) -> dict[int, str]:
    """Timepoint id → "baseline" or "follow-up k" (k by imaging order): a label that holds
    neither a date nor free text, the same across patients (REDCap events, SDTM visits)."""
    order = sorted(
        timepoints,
        key=lambda t: (t.kind != "baseline", t.imaged_on or dt.date.max, t.ordinal, t.id),
    )
    out: dict[int, str] = {}
    baselines = follow_ups = 0
    for timepoint in order:
        if timepoint.kind == "baseline":
            baselines += 1
            out[timepoint.id] = "baseline" if baselines == 1 else f"baseline {baselines}"
        else:
            follow_ups += 1
            out[timepoint.id] = f"follow-up {follow_ups}"
    return out


def _procedure_row(item: Any) -> Row:
    record = item.record
    grades = [e.ctcae_grade for e in record.adverse_events]
    return {
        "tace_number": item.number,
        "performed_on": record.performed_on,
        "product_code": record.product_code or None,
        "vials": record.vials,
        "loaded_mg": item.loaded_mg,
        "delivered_fraction": record.delivered_fraction,
        "delivered_mg": item.delivered_mg,
        "segments": ";".join(record.segments) or None,
        "endpoint": record.endpoint or None,
        "contrast_ml": record.contrast_ml,
        "fluoroscopy_min": record.fluoroscopy_min,
        "dap_gy_cm2": record.dap_gy_cm2,
        "post_embolisation_syndrome": record.post_embolisation_syndrome,
        "stay_days": record.stay_days,
        "ae_count": len(grades),
        "ae_max_ctcae_grade": max(grades) if grades else None,
    }


def _line_row(line: Any) -> Row:
    return {
        "line_number": line.line_number,
        "drug": line.drug or None,
        "start_on": line.start_on,
        "stop_on": line.stop_on,
        "best_response": line.best_response or None,
        "progression_on": line.progression_on,
        "progression_site": line.progression_site or None,
    }


def _ttp_row(result: Row, after: str) -> Row:
    return {
        "after": after,
        "start": result["label"],
        "scope": result["scope"],
        "start_on": _date(result["start_on"]),
        "days": result["days"],
        "event": _event(result),
        # why there are no days (e.g. "not evaluable: no follow-up assessed"); never a date
        "note": "" if result.get("days") is not None else _not_evaluable(result),
    }


def _not_evaluable(result: Row) -> str:
    text = str((result.get("explanation") or {}).get("result") or "")
    return text if text.startswith("not evaluable") else "not evaluable"


def _event(result: Row) -> int | None:
    if not result or result.get("days") is None:
        return None
    return 1 if result.get("event") else 0


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _total(values: Any) -> float | None:
    known = [v for v in values if v is not None]
    return float(sum(known)) if known else None


def _age(birth_on: dt.date | None, on: dt.date | None) -> int | None:
    if birth_on is None or on is None:
        return None
    return on.year - birth_on.year - ((on.month, on.day) < (birth_on.month, birth_on.day))
