"""*Assign to patient…*: a refusal stays in the dialog with what was typed, the patient is
written as the case list writes it, the emptied placeholder leaves the case list, and two
placeholder studies of the same description are told apart in the dialog's heading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QDialog, QDialogButtonBox

from reassign_seed import imported
from tace_planner.services.study_reassign import StudyReassignService
from tace_planner.ui.dialogs.assign_patient_dialog import (
    AssignPatientChoice,
    AssignPatientDialog,
    patient_label,
)
from tace_planner.ui.panels import study_tree
from tace_planner.ui.panels.study_tree import StudyTreePanel

pytestmark = [pytest.mark.dicom, pytest.mark.db]


def _fake_ask(asked: list[str], choose: Any) -> Any:
    """An ``ask`` that records the heading and answers ``choose(patients)`` (None: cancel),
    whether the dialog is given the hand-over to run (``assign``) or not."""

    def ask(label: str, patients: Any, *rest: Any) -> Any:
        asked.append(label)
        choice = choose(patients)
        if choice is None:
            return None
        return rest[0](choice) if rest and callable(rest[0]) else choice

    return ask


@pytest.fixture
def tree(qtbot: Any, services: Any) -> StudyTreePanel:
    panel = StudyTreePanel(assigner=StudyReassignService(services.session_factory, "dr tree"))
    qtbot.addWidget(panel)
    return panel


def test_a_refusal_keeps_the_dialog_open_with_the_input(
    qtbot: Any,
    services: Any,
    tree: StudyTreePanel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orphan = imported(services, tmp_path / "orphan", "", "")
    imported(services, tmp_path / "jane", "TACE-017", "Doe^Jane")
    placeholder = tree._assigner.placeholder_patient_pk()
    tree.show_studies(services.studies.studies_of_patient(placeholder))
    boxes: list[str] = []
    monkeypatch.setattr(study_tree, "show_error", lambda *args: boxes.append(str(args[-1])))
    seen: dict[str, Any] = {}

    def exec_(dialog: AssignPatientDialog[Any]) -> int:
        """The user: a new patient with Jane's Patient ID and another name, OK; then the
        stored patient, OK."""
        dialog.show()
        dialog.new.setChecked(True)
        dialog.id_edit.setText("TACE-017")
        dialog.name_edit.setText("Roe^John")
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        seen["after_refusal"] = (
            dialog.isVisible(),
            dialog.error_label.text(),
            dialog.id_edit.text(),
            dialog.name_edit.text(),
        )
        dialog.existing.setChecked(True)
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        seen["closed"] = not dialog.isVisible()
        return int(dialog.result())

    monkeypatch.setattr(AssignPatientDialog, "exec", exec_)
    result = tree.assign_patient(orphan)

    visible, error, typed_id, typed_name = seen["after_refusal"]
    assert visible  # the refusal did not close the dialog
    assert error.startswith("Patient name: Patient ID TACE-017 is stored for DOE, Jane [TACE-017]")
    assert error.endswith("check the Patient ID, or choose that patient under Stored patient")
    assert (typed_id, typed_name) == ("TACE-017", "Roe^John")
    assert boxes == []  # no message box after the dialog: the dialog said it
    assert seen["closed"]
    assert result is not None
    assert result.to_patient_id == "TACE-017"
    assert tree.topLevelItemCount() == 0


def test_ok_runs_the_hand_over_and_only_success_closes(qtbot: Any) -> None:
    calls: list[AssignPatientChoice] = []

    def assign(choice: AssignPatientChoice) -> str:
        calls.append(choice)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return "done"

    dialog = AssignPatientDialog("The study “CT” of 2026-01-02", [], assign=assign)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.id_edit.setText("NEW-1")
    dialog.name_edit.setText("Poe^Anna")
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.outcome is None
    assert "unexpected error" in dialog.error_label.text()
    assert "\n" not in dialog.error_label.text()
    dialog.accept()
    assert (dialog.outcome, dialog.result()) == ("done", QDialog.Accepted)
    assert calls == [AssignPatientChoice(None, "NEW-1", "Poe^Anna")] * 2


def _window_on_the_placeholder(open_window: Any, tmp_path: Path, *named: tuple[str, str]) -> Any:
    """The app with a study without Patient ID (and ``named`` patients' studies), its
    study tree on the placeholder patient's studies."""
    window = open_window(tmp_path / "data")
    services = window._test_services
    imported(services, tmp_path / "orphan", "", "")
    for patient_id, name in named:
        imported(services, tmp_path / patient_id, patient_id, name)
    window.refresh_cases()
    placeholder = services.study_reassign.placeholder_patient_pk()
    window.study_tree.show_studies(services.studies.studies_of_patient(placeholder))
    return window


def _case_list_rows(window: Any) -> list[str]:
    rows = window.case_list
    return [rows.topLevelItem(i).text(0) for i in range(rows.topLevelItemCount())]


def test_the_patient_is_written_as_the_case_list_writes_it(
    qtbot: Any, open_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window_on_the_placeholder(open_window, tmp_path, ("TACE-042", "Roe^Richard"))
    (case_list_row,) = [row for row in _case_list_rows(window) if "TACE-042" in row]
    listed: list[str] = []

    def choose(patients: Any) -> AssignPatientChoice:
        listed.extend(patient_label(p) for p in patients)
        return AssignPatientChoice(patient_pk=patients[0].pk)

    monkeypatch.setattr(AssignPatientDialog, "ask", _fake_ask([], choose))
    window.study_tree.assign_patient(window.study_tree._shown[0].study_uid)

    assert case_list_row == "ROE, Richard [TACE-042]"
    assert listed == [f"{case_list_row} · 1 study"]
    message = window.statusBar().currentMessage()
    assert message.startswith(f"Study handed to {case_list_row};")


def test_the_emptied_placeholder_leaves_the_case_list(
    qtbot: Any, open_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window_on_the_placeholder(open_window, tmp_path)
    assert len(_case_list_rows(window)) == 1
    monkeypatch.setattr(
        AssignPatientDialog,
        "ask",
        _fake_ask([], lambda patients: AssignPatientChoice(None, "TACE-042", "Roe^Richard")),
    )
    window.study_tree.assign_patient(window.study_tree._shown[0].study_uid)

    # no "(no name) ⚠ no Patient ID — check who these images are" row left
    assert _case_list_rows(window) == ["ROE, Richard [TACE-042]"]


def test_two_placeholder_studies_of_one_description_are_told_apart(
    services: Any, tree: StudyTreePanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = imported(services, tmp_path / "one", "", "", accession="ACC-1")
    two = imported(services, tmp_path / "two", "", "")
    imported(services, tmp_path / "two-b", "", "", two)  # a second series of study two
    tree.show_studies(services.studies.studies_of_patient(tree._assigner.placeholder_patient_pk()))
    assert {s.description for s in tree._shown} == {"CT abdomen anonymous"}
    asked: list[str] = []
    monkeypatch.setattr(AssignPatientDialog, "ask", _fake_ask(asked, lambda patients: None))

    assert tree.assign_patient(one) is None  # cancelled
    assert tree.assign_patient(two) is None

    first, second = asked
    assert first != second
    assert "(1 series, 3 images; accession number ACC-1)" in first
    assert "(2 series, 6 images)" in second
    assert "at 11:29" in first  # the first acquisition time (examples.ct: 11:29:36)
