"""A stored patient is written one way wherever a clinician reads it: the case list row,
the Assign dialog's list, the status line after a hand-over, the audit trail, the series'
"assigned by hand" warning and the import refusal that names the stored patient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from sqlalchemy import select

from reassign_seed import imported, write_series
from tace_planner.domain.progress import run_sync
from tace_planner.services.dto import PatientItem
from tace_planner.store.models import AuditEventRow
from tace_planner.ui.dialogs.assign_patient_dialog import AssignPatientChoice, AssignPatientDialog

pytestmark = [pytest.mark.dicom, pytest.mark.db]

JANE = "DOE, Jane [TACE-017]"
"""Doe^Jane, Patient ID TACE-017, as on her wristband and plan sheet, ID in brackets."""


def _case_list_row(window: Any, patient_id: str) -> str:
    rows = window.case_list
    texts = [rows.topLevelItem(i).text(0) for i in range(rows.topLevelItemCount())]
    (row,) = [text for text in texts if patient_id in text]
    return row


def test_every_place_writes_the_patient_as_the_case_list(
    qtbot: Any, open_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(tmp_path / "data")
    services = window._test_services
    orphan = imported(services, tmp_path / "orphan", "", "")
    jane_study = imported(services, tmp_path / "jane", "TACE-017", "Doe^Jane")
    window.refresh_cases()
    placeholder = services.study_reassign.placeholder_patient_pk()
    window.study_tree.show_studies(services.studies.studies_of_patient(placeholder))
    listed: list[str] = []

    def ask(label: str, patients: Any, assign: Any, *rest: Any) -> Any:
        dialog = AssignPatientDialog(label, patients)  # the entries the user picks from
        qtbot.addWidget(dialog)
        combo = dialog.patient_combo
        listed.extend(combo.itemText(i) for i in range(combo.count()))
        return assign(AssignPatientChoice(patient_pk=patients[0].pk))

    monkeypatch.setattr(AssignPatientDialog, "ask", ask)
    window.study_tree.assign_patient(orphan)

    row = _case_list_row(window, "TACE-017")
    assert listed == [f"{row} · 1 study"]
    assert window.statusBar().currentMessage().startswith(f"Study handed to {row};")
    with services.session_factory() as session:
        (event,) = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "reassign_study")
        )
        assert event.summary.endswith(f" to {row}")
    (series,) = [s for s in services.studies.list_series() if s.study_uid == orphan]
    assert f"assigned by hand to {row} (" in series.identity_warnings[-1]

    # another patient's series in Jane's study is refused, naming Jane the same way
    write_series(tmp_path / "john", "TACE-042", "Roe^John", jane_study)
    report = run_sync(services.studies.import_paths([tmp_path / "john"]))
    (refused,) = report.errors
    assert f"belongs to {row};" in refused.reason
    # … and that way is the wristband's name with the Patient ID in brackets
    assert row == JANE


@pytest.mark.parametrize(
    ("name", "patient_id", "issuer", "written"),
    [
        ("Doe^Jane", "TACE-017", "", "DOE, Jane [TACE-017]"),
        ("liver_17^patient", "A-1", "", "LIVER 17, patient [A-1]"),
        ("Doe^Jane", "TACE-017", "HOSP-A", "DOE, Jane [TACE-017] (issuer HOSP-A)"),
        ("", "TACE-017", "", "(no name) [TACE-017]"),
        ("", "(no patient id)", "", "(no name) ⚠ no Patient ID — check who these images are"),
    ],
)
def test_the_one_definition(name: str, patient_id: str, issuer: str, written: str) -> None:
    from tace_planner.services.dto import patient_list_label

    patient = PatientItem(1, patient_id, name, None, "", 0, 1, issuer=issuer)
    assert patient.list_label == patient_list_label(name, patient_id, issuer) == written


def test_a_wrong_name_in_the_dialog_is_answered_with_the_dialog_s_way_out(qtbot: Any) -> None:
    from tace_planner.services.dto import PatientNameMismatchError

    def assign(choice: AssignPatientChoice) -> None:
        raise PatientNameMismatchError("TACE-017", JANE, "ROE, John")

    jane = PatientItem(7, "TACE-017", "Doe^Jane", None, "F", 0, 1)
    dialog = AssignPatientDialog("The study “CT” of 2026-01-02", [jane], assign=assign)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.new.setChecked(True)
    dialog.id_edit.setText("TACE-017")
    dialog.name_edit.setText("Roe^John")
    dialog.accept()

    assert dialog.isVisible()
    text = dialog.error_label.text()
    assert text.startswith(f"Patient name: Patient ID TACE-017 is stored for {JANE}, not ")
    assert "or choose that patient under Stored patient" in text
    assert "--patient-name" not in text
