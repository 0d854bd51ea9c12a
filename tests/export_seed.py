"""A registry with two patients for the export tests: studies, measurements, signed TACEs,
therapy lines and case attributes, with identifiers easy to scan for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.followup_seed import add_case, add_measurement, sign_tace

from tace_planner.store.models import PatientRow, StudyRow, TimepointRow

D = dt.date
NAMES = {"EXP-4711": "Kowalski^Jan", "EXP-0815": "Ivanova^Maria"}
BIRTH = {"EXP-4711": D(1961, 3, 14), "EXP-0815": D(1958, 11, 2)}


def _follow_up(
    factory: Any, case_pk: int, patient_id: str, uid: str, on: dt.date, n: int, label: str = ""
) -> None:
    with factory() as session:
        patient = session.query(PatientRow).filter_by(patient_id=patient_id).one()
        timepoint = TimepointRow(case_pk=case_pk, kind="follow_up", label=label or f"follow-up {n}",
                                 ordinal=n, imaged_on=on)  # fmt: skip
        session.add(timepoint)
        session.flush()
        session.add(StudyRow(patient_pk=patient.id, case_pk=case_pk, timepoint_pk=timepoint.id,
                             study_uid=uid, study_on=on))  # fmt: skip
        session.commit()


def seed_registry(services: Any) -> list[int]:
    """Two cases; returns their ids."""
    factory = services.session_factory
    cases = []
    for k, (patient_id, name) in enumerate(NAMES.items()):
        start = D(2025, 3, 4) + dt.timedelta(days=40 * k)
        case = add_case(factory, patient_id, baseline_on=start - dt.timedelta(days=10))
        with factory() as session:
            patient = session.query(PatientRow).filter_by(patient_id=patient_id).one()
            patient.name, patient.birth_on, patient.sex = name, BIRTH[patient_id], "F" if k else "M"
            session.commit()
        sign_tace(factory, case, start)
        seen = start + dt.timedelta(days=56)
        # the second patient's follow-up was unscheduled: its label holds the study date
        label = f"unscheduled {seen.isoformat()}" if k else ""
        _follow_up(factory, case, patient_id, f"1.2.{patient_id}.8", seen, 1, label)
        add_measurement(factory, case, f"1.2.{patient_id}.0", "F1", 12.5 + k, 31.0)
        add_measurement(factory, case, f"1.2.{patient_id}.8", "F1", 9.25 + k, 27.5)
        add_measurement(factory, case, f"1.2.{patient_id}.0", 'F2, "cyst"', 3.0, 15.0)
        services.therapy.add_line(case, "CAPTEM", start - dt.timedelta(days=200),
                                  stop_on=start - dt.timedelta(days=20),
                                  progression_on=start - dt.timedelta(days=20),
                                  progression_site="liver")  # fmt: skip
        services.therapy.set_case_attributes(
            case, diagnosed_on=D(2024, 5, 6), liver_metastases_on=D(2024, 5, 20),
            tace_sequence="after_chemotherapy" if k == 0 else "immediate",
        )  # fmt: skip
        cases.append(case)
    return cases
