"""A study imported without a Patient ID is handed to its patient (audited), or refused.

Series without a (0010,0020) Patient ID are filed under the placeholder patient; the
study could not be given to the real patient afterwards. ``StudyReassignService``
does it in one transaction, and refuses (changing nothing) a study of a named
patient, a study linked to another patient's case, or the same patient.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reassign_seed import imported
from tace_planner.domain.errors import InvalidInputError, NotFoundError
from tace_planner.services.dto import NO_PATIENT_ID, PatientNameMismatchError
from tace_planner.services.study_reassign import StudyReassignService
from tace_planner.store.models import (
    AuditEventRow,
    LesionRow,
    PatientRow,
    SegmentationRow,
    SeriesRow,
    StudyRow,
    TimepointRow,
)

pytestmark = [pytest.mark.db, pytest.mark.dicom]


@pytest.fixture
def world(services: Any, tmp_path: Path) -> dict[str, Any]:
    """A placeholder study and two named patients (Jane Doe, John Roe) with a study each."""
    return {
        "orphan": imported(services, tmp_path / "orphan", "", ""),
        "jane_study": imported(services, tmp_path / "jane", "TACE-017", "Doe^Jane"),
        "john_study": imported(services, tmp_path / "john", "TACE-018", "Roe^John"),
        "service": StudyReassignService(services.session_factory, "dr reassign"),
    }


def patient_of(services: Any, study_uid: str) -> tuple[str, str]:
    with services.session_factory() as session:
        study = session.scalar(select(StudyRow).where(StudyRow.study_uid == study_uid))
        return study.patient.patient_id, study.patient.name


def audit(services: Any, action: str) -> list[AuditEventRow]:
    with services.session_factory() as session:
        return list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))


def patient_ids(services: Any) -> set[str]:
    with services.session_factory() as session:
        return set(session.scalars(select(PatientRow.patient_id)))


def test_a_placeholder_study_is_handed_to_a_stored_patient_with_an_audit_entry(
    services: Any, world: dict[str, Any]
) -> None:
    orphan = world["orphan"]
    assert patient_of(services, orphan)[0] == NO_PATIENT_ID
    paths = {
        s.series_uid: services.studies.series_files(s.series_uid)
        for s in services.studies.list_series()
        if s.study_uid == orphan
    }
    assert paths

    result = world["service"].reassign(orphan, patient_id="TACE-017")

    assert patient_of(services, orphan) == ("TACE-017", "Doe^Jane")
    assert (result.to_patient_id, result.created_patient, result.series_count) == (
        "TACE-017",
        False,
        1,
    )
    assert result.image_count == 3
    jane = next(p for p in services.cases.list_patients() if p.patient_id == "TACE-017")
    assert {s.study_uid for s in services.studies.studies_of_patient(jane.pk)} == {
        world["jane_study"],
        orphan,
    }
    (event,) = audit(services, "reassign_study")
    assert event.user == "dr reassign"
    assert event.before["patient_id"] == NO_PATIENT_ID
    assert event.after["patient_id"] == "TACE-017"
    assert event.before["study_uid"] == event.after["study_uid"] == orphan
    assert orphan in event.summary
    assert "DOE, Jane" in event.summary
    # the store is keyed by UIDs: the files stay where they are, and are still found
    for uid, before in paths.items():
        assert services.studies.series_files(uid) == before
        assert all(path.is_file() for path in before)
    # the series' warning no longer says "filed under the placeholder"
    (series,) = [s for s in services.studies.list_series() if s.study_uid == orphan]
    assert series.identity_warnings
    assert not any("placeholder" in w for w in series.identity_warnings)
    assert "assigned by hand to DOE, Jane [TACE-017]" in series.identity_warnings[-1]


def test_a_placeholder_study_is_handed_to_a_new_patient_given_id_and_name(
    services: Any, world: dict[str, Any]
) -> None:
    result = world["service"].reassign(
        world["orphan"], patient_id=" TACE-099 ", patient_name="Poe^Anna"
    )

    assert result.created_patient
    assert patient_of(services, world["orphan"]) == ("TACE-099", "Poe^Anna")
    (created,) = audit(services, "create_patient")
    assert created.after["patient_id"] == "TACE-099"
    assert len(audit(services, "reassign_study")) == 1


def _refused(services: Any, world: dict[str, Any], pattern: str, **target: Any) -> None:
    """The hand-over is refused with ``pattern`` in one line, and nothing changed."""
    study_uid = target.pop("study", world["orphan"])
    before_patient = patient_of(services, study_uid)
    before_ids = patient_ids(services)
    with pytest.raises(InvalidInputError, match=pattern) as refused:
        world["service"].reassign(study_uid, **target)
    assert "\n" not in str(refused.value)
    assert patient_of(services, study_uid) == before_patient
    assert patient_ids(services) == before_ids
    assert audit(services, "reassign_study") == []
    assert audit(services, "create_patient") == []


def test_the_same_patient_is_refused(services: Any, world: dict[str, Any]) -> None:
    placeholder = world["service"].placeholder_patient_pk()
    _refused(services, world, "is already filed under", patient_pk=placeholder)


def test_a_study_of_a_named_patient_is_not_moved_to_another(
    services: Any, world: dict[str, Any]
) -> None:
    _refused(
        services,
        world,
        r"belongs to ROE, John \[TACE-018\].*wrong-patient correction",
        study=world["john_study"],
        patient_id="TACE-017",
    )


def test_a_study_linked_to_another_patients_case_is_refused_naming_the_case(
    services: Any, world: dict[str, Any]
) -> None:
    case = services.cases.create_case("TACE-018", "John's DEBIRI course")
    services.cases.link_study(
        case.pk, world["orphan"], timepoint_label="baseline", timepoint_kind="baseline"
    )
    _refused(
        services,
        world,
        r"linked to the case \"John's DEBIRI course\" of ROE, John",
        patient_id="TACE-017",
    )
    # a new patient is not created either when the move is refused
    _refused(services, world, "linked to the case", patient_id="NEW-1", patient_name="New^One")


def test_a_study_linked_to_the_target_patients_case_is_handed_over(
    services: Any, world: dict[str, Any]
) -> None:
    case = services.cases.create_case("TACE-017", "Jane's DEBIRI course")
    services.cases.link_study(
        case.pk, world["orphan"], timepoint_label="baseline", timepoint_kind="baseline"
    )
    result = world["service"].reassign(world["orphan"], patient_id="TACE-017")
    assert result.case_title == "Jane's DEBIRI course"
    assert patient_of(services, world["orphan"])[0] == "TACE-017"


def test_contours_on_the_study_in_another_patients_case_are_refused(
    services: Any, world: dict[str, Any]
) -> None:
    case = services.cases.create_case("TACE-018", "John's course")
    with services.session_factory() as session:
        series = session.scalar(
            select(SeriesRow).join(StudyRow).where(StudyRow.study_uid == world["orphan"])
        )
        timepoint = TimepointRow(case_pk=case.pk, kind="baseline", label="baseline")
        lesion = LesionRow(case_pk=case.pk, name="F1")
        session.add_all([timepoint, lesion])
        session.flush()
        session.add(
            SegmentationRow(
                lesion_pk=lesion.id,
                timepoint_pk=timepoint.id,
                series_pk=series.id,
                mask_packed=b"",
            )
        )
        session.commit()
    _refused(services, world, r'linked to the case "John\'s course"', patient_id="TACE-017")


@pytest.mark.parametrize(
    ("target", "pattern"),
    [
        ({"patient_id": "  "}, "^Patient ID: enter the patient's Patient ID"),
        ({"patient_id": NO_PATIENT_ID}, "^Patient ID: .*placeholder"),
        ({"patient_id": "X" * 65}, "^Patient ID: at most 64 characters"),
        ({"patient_id": "NEW-2"}, "^Patient name: no patient has Patient ID NEW-2"),
        (
            {"patient_id": "TACE-017", "patient_name": "Roe^John"},
            r"^Patient name: Patient ID TACE-017 is stored for DOE, Jane \[TACE-017\]",
        ),
    ],
)
def test_bad_patient_input_names_the_field(
    services: Any, world: dict[str, Any], target: dict[str, str], pattern: str
) -> None:
    _refused(services, world, pattern, **target)


def test_an_unknown_study_is_not_found(services: Any, world: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError, match=r"1\.2\.3\.4 is not in the database"):
        world["service"].reassign("1.2.3.4", patient_id="TACE-017")


def test_named_patients_leave_out_the_placeholder(services: Any, world: dict[str, Any]) -> None:
    named = world["service"].named_patients()
    assert [p.patient_id for p in named] == ["TACE-017", "TACE-018"]
    assert world["service"].placeholder_patient_pk() is not None


def test_a_name_not_the_stored_patients_advises_what_the_dialog_allows(
    services: Any, world: dict[str, Any]
) -> None:
    """The service's refusal is neutral and typed: each front end adds its own way to the
    stored patient (the dialog: Stored patient; the command line: no --patient-name)."""
    with pytest.raises(PatientNameMismatchError) as refused:
        world["service"].reassign(world["orphan"], patient_id="TACE-017", patient_name="Roe^Ann")
    message = str(refused.value)
    assert "leave the name" not in message
    assert "Stored patient" not in message
    assert "--patient-name" not in message
    assert message.endswith("check the Patient ID")
    assert refused.value.stored_label == "DOE, Jane [TACE-017]"
    assert refused.value.field == "Patient name"


def test_the_placeholder_left_without_a_study_is_removed_audited(
    services: Any, world: dict[str, Any], tmp_path: Path
) -> None:
    second = imported(services, tmp_path / "orphan2", "", "")
    service = world["service"]
    placeholder = service.placeholder_patient_pk()

    first = service.reassign(world["orphan"], patient_id="TACE-017")
    assert service.placeholder_patient_pk() == placeholder  # one study is still its

    last = service.reassign(second, patient_id="TACE-099", patient_name="Poe^Anna")

    assert service.placeholder_patient_pk() is None
    assert NO_PATIENT_ID not in {p.patient_id for p in services.cases.list_patients()}
    assert (first.placeholder_removed, last.placeholder_removed) == (False, True)
    (removed,) = audit(services, "delete_patient")
    assert (removed.entity, removed.entity_pk) == ("patient", placeholder)
    assert removed.before["patient_id"] == NO_PATIENT_ID
    assert removed.after is None
    assert "POE, Anna" in removed.summary
    # the next file without a Patient ID is filed under a new placeholder
    again = imported(services, tmp_path / "orphan3", "", "")
    assert patient_of(services, again)[0] == NO_PATIENT_ID


def test_a_placeholder_with_a_case_is_kept(services: Any, world: dict[str, Any]) -> None:
    services.cases.create_case(NO_PATIENT_ID, "Unknown patient's course")
    result = world["service"].reassign(world["orphan"], patient_id="TACE-017")
    assert not result.placeholder_removed
    assert world["service"].placeholder_patient_pk() is not None
    assert audit(services, "delete_patient") == []


def test_the_result_names_the_patient_as_the_case_list_does(
    services: Any, world: dict[str, Any]
) -> None:
    result = world["service"].reassign(world["orphan"], patient_id="TACE-017")
    jane = next(p for p in services.cases.list_patients() if p.patient_id == "TACE-017")
    case_list_row = jane.list_label  # ui/panels/case_list.py
    assert result.patient_label == case_list_row == "DOE, Jane [TACE-017]"
