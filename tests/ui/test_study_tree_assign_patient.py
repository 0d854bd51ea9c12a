"""Study tree: *Assign to patient…* hands a study imported without a Patient ID to its patient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from reassign_seed import imported
from tace_planner.services.study_reassign import StudyReassignService
from tace_planner.ui.dialogs.assign_patient_dialog import (
    AssignPatientChoice,
    AssignPatientDialog,
)
from tace_planner.ui.panels import study_tree
from tace_planner.ui.panels.study_tree import StudyTreePanel

pytestmark = [pytest.mark.dicom, pytest.mark.db]


@pytest.fixture
def setup(qtbot: Any, services: Any, tmp_path: Path) -> dict[str, Any]:
    orphan = imported(services, tmp_path / "orphan", "", "")
    jane = imported(services, tmp_path / "jane", "TACE-017", "Doe^Jane")
    assigner = StudyReassignService(services.session_factory, "dr tree")
    tree = StudyTreePanel(assigner=assigner)
    qtbot.addWidget(tree)
    return {"orphan": orphan, "jane": jane, "assigner": assigner, "tree": tree}


def _actions(tree: StudyTreePanel, row: int) -> dict[str, Any]:
    menu = tree.context_menu(tree.topLevelItem(row))
    return {} if menu is None else {a.text(): a for a in menu.actions()}


def test_assign_to_patient_moves_the_study_and_refreshes_the_tree(
    qtbot: Any, services: Any, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, assigner = setup["tree"], setup["assigner"]
    placeholder = assigner.placeholder_patient_pk()
    tree.show_studies(services.studies.studies_of_patient(placeholder))
    assert tree.topLevelItemCount() == 1
    asked: list[tuple[str, list[str]]] = []

    def ask(label: str, patients: Any, assign: Any, parent: Any) -> Any:
        asked.append((label, [p.patient_id for p in patients]))
        return assign(AssignPatientChoice(patient_pk=patients[0].pk))

    monkeypatch.setattr(AssignPatientDialog, "ask", ask)
    actions = _actions(tree, 0)
    assert "Assign to patient…" in actions
    with qtbot.waitSignal(tree.study_reassigned) as signal:
        actions["Assign to patient…"].trigger()

    assert [patients for _label, patients in asked] == [["TACE-017"]]  # not the placeholder
    assert signal.args[0].to_patient_id == "TACE-017"
    assert tree.topLevelItemCount() == 0  # it left the placeholder's list
    jane = next(p for p in services.cases.list_patients() if p.patient_id == "TACE-017")
    assert setup["orphan"] in {s.study_uid for s in services.studies.studies_of_patient(jane.pk)}


def test_a_named_patients_study_offers_no_assignment(services: Any, setup: dict[str, Any]) -> None:
    tree = setup["tree"]
    jane = next(p for p in services.cases.list_patients() if p.patient_id == "TACE-017")
    tree.show_studies(services.studies.studies_of_patient(jane.pk))
    assert "Assign to patient…" not in _actions(tree, 0)
    series_menu = tree.context_menu(tree.topLevelItem(0).child(0))
    assert [a.text() for a in series_menu.actions()] == ["Correct classification…"]


def test_a_refusal_is_shown_in_one_line_and_the_tree_is_kept(
    services: Any, setup: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = setup["tree"]
    tree.show_studies(
        services.studies.studies_of_patient(setup["assigner"].placeholder_patient_pk())
    )
    shown: list[str] = []
    monkeypatch.setattr(
        study_tree, "show_error", lambda parent, title, error: shown.append(f"{title}: {error}")
    )
    monkeypatch.setattr(
        AssignPatientDialog,
        "ask",
        lambda label, patients, assign, parent: assign(AssignPatientChoice(None, "NEW-7", "")),
    )
    assert tree.assign_patient(setup["orphan"]) is None
    (line,) = shown
    assert line == (
        "Cannot assign the study: Patient name: no patient has Patient ID NEW-7; "
        "enter a name to create one"
    )
    assert tree.topLevelItemCount() == 1


def test_the_dialog_names_the_missing_field(qtbot: Any, services: Any) -> None:
    dialog = AssignPatientDialog("The study “CT” of 2026-01-02", [])
    qtbot.addWidget(dialog)
    assert dialog.new.isChecked()
    assert not dialog.existing.isEnabled()
    dialog.accept()
    assert dialog.error_label.text() == "Patient ID: enter the patient's Patient ID."
    dialog.id_edit.setText("TACE-1")
    dialog.accept()
    assert dialog.error_label.text() == "Patient name: enter the name of the new patient."
    dialog.name_edit.setText("Doe^Jane")
    assert dialog.problem() == ""
    assert dialog.choice() == AssignPatientChoice(None, "TACE-1", "Doe^Jane")


def test_the_window_lists_the_study_under_its_patient_after_the_assignment(
    qtbot: Any, open_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the app (not a bare tree): the action is offered, and the case list follows."""
    window = open_window(tmp_path / "data")
    services = window._test_services
    orphan = imported(services, tmp_path / "orphan", "", "")
    imported(services, tmp_path / "jane", "TACE-017", "Doe^Jane")
    window.refresh_cases()
    placeholder = services.study_reassign.placeholder_patient_pk()
    window.study_tree.show_studies(services.studies.studies_of_patient(placeholder))
    monkeypatch.setattr(
        AssignPatientDialog,
        "ask",
        lambda label, patients, assign, parent: assign(
            AssignPatientChoice(patient_pk=patients[0].pk)
        ),
    )
    actions = _actions(window.study_tree, 0)
    assert "Assign to patient…" in actions  # the window gave the tree its service
    actions["Assign to patient…"].trigger()

    assert "Doe, Jane" in window.statusBar().currentMessage() or "TACE-017" in (
        window.statusBar().currentMessage()
    )
    assert "audit" in window.statusBar().currentMessage()
    jane = next(p for p in services.cases.list_patients() if p.patient_id == "TACE-017")
    assert orphan in {s.study_uid for s in services.studies.studies_of_patient(jane.pk)}
    assert set(window._patients) == {p.pk for p in services.cases.list_patients()}
    # the window goes on to the patient the study was handed to, and shows it there
    assert window._context.patient is not None
    assert window._context.patient.pk == jane.pk
    shown = {
        window.study_tree.topLevelItem(i).data(0, 256)
        for i in range(window.study_tree.topLevelItemCount())
    }
    assert window.study_tree.topLevelItemCount() == 2, shown
