"""Planning parameters dialog: a form with units, ranges and sources; versions; unsaved edits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from tace_planner.domain.dosing_parameters import PlanningParameters
from tace_planner.domain.planning_ranges import PLANNING_SPECS, SPECS_BY_NAME
from tace_planner.ui.dialogs.parameters_dialog import ParametersDialog

pytestmark = pytest.mark.db

K = "embolic_capacity_ml_per_cm3"


def _saved(services: Any) -> dict[str, Any]:
    path = services.settings.data_dir / "parameters" / "planning.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def dialog(qtbot: QtBot, services: Any) -> ParametersDialog:
    widget = ParametersDialog(services.planning)
    qtbot.addWidget(widget)
    return widget


def _edit(dialog: ParametersDialog, name: str) -> QLineEdit:
    editor = dialog.form.value_edits[name]
    assert isinstance(editor, QLineEdit)
    return editor


def test_every_parameter_is_a_row_with_unit_range_and_source(dialog: ParametersDialog) -> None:
    assert "version 2" in dialog.origin_label.text()
    assert set(dialog.form.value_edits) == {spec.name for spec in PLANNING_SPECS}
    assert _edit(dialog, K).text() == "0.05"
    assert dialog.form.range_labels[K].text() == "0.005–0.2 mL/cm³"
    assert "4 × the default" in dialog.form.range_labels[K].toolTip()
    assert "institutional default" in dialog.form.source_edits[K].text()
    assert "Martin" in dialog.form.source_edits["per_session_warning_mg"].text()
    assert not dialog.is_dirty()


def test_out_of_range_value_is_red_and_refused_naming_the_parameter(
    dialog: ParametersDialog, services: Any
) -> None:
    _edit(dialog, K).setText("50")  # 1,000 × the default: the slip once saved
    assert dialog.form.is_invalid(K)
    assert "#b00020" in _edit(dialog, K).styleSheet()
    assert dialog.save() is False
    text = dialog.status_label.text()
    assert text.startswith("Not saved: Bead volume per cm³ of tumour: 50 is outside")
    assert K not in text
    assert not (services.settings.data_dir / "parameters" / "planning.json").exists()
    _edit(dialog, K).setText("abc")
    assert dialog.save() is False
    assert "Bead volume per cm³ of tumour: 'abc' is not a number" in dialog.status_label.text()
    _edit(dialog, "min_beads_per_session_ml").setText("3")
    _edit(dialog, "max_beads_per_session_ml").setText("2")
    _edit(dialog, K).setText("0.05")
    assert dialog.save() is False
    assert "Smallest bead volume per session: 3 is above" in dialog.status_label.text()


def test_every_save_that_changes_a_value_is_a_new_version(
    dialog: ParametersDialog, services: Any
) -> None:
    _edit(dialog, K).setText("0.06")
    assert dialog.is_dirty()
    assert dialog.save() is True
    saved = _saved(services)
    assert saved["version"] == "3"
    assert saved["values"][K]["value"] == 0.06
    assert saved["values"][K]["evidence"] == "institutional"
    assert "changed from 0.05 to 0.06" in saved["values"][K]["source"]
    assert "version 3" in dialog.status_label.text()
    assert "version 3" in dialog.origin_label.text()
    assert not dialog.is_dirty()
    assert services.planning.parameters.version == "3"
    assert services.planning.parameters.value(K) == 0.06
    # Saving again without a change writes nothing and keeps the version.
    assert dialog.save() is True
    assert "Nothing changed" in dialog.status_label.text()
    assert _saved(services)["version"] == "3"
    # A file that names an old version does not take it back: the next save is "4".
    _edit(dialog, K).setText("0.07")
    data = dialog.form.to_data()
    data["version"] = "1"
    services.planning.save_institution_file("planning", data)
    assert _saved(services)["version"] == "4"
    proposal_version = services.planning.parameters.to_json()["version"]
    assert proposal_version == "4"


def test_closing_with_unsaved_edits_asks_save_discard_or_cancel(
    dialog: ParametersDialog, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[str] = []

    def ask(self: ParametersDialog) -> str:
        answers.append("asked")
        return answer

    monkeypatch.setattr(ParametersDialog, "ask_unsaved", ask)
    dialog.show()
    _edit(dialog, "course_warning_mg").setText("500")
    answer = "cancel"
    dialog.reject()
    assert dialog.isVisible()
    assert answers == ["asked"]
    answer = "save"
    dialog.reject()
    assert not dialog.isVisible()
    assert _saved(services)["values"]["course_warning_mg"]["value"] == 500.0
    dialog.show()
    _edit(dialog, "course_warning_mg").setText("600")
    answer = "discard"
    dialog.reject()
    assert not dialog.isVisible()
    assert _saved(services)["values"]["course_warning_mg"]["value"] == 500.0
    dialog.show()
    answers.clear()
    dialog.reject()  # nothing edited: no question
    assert answers == []


def test_a_refused_save_keeps_the_dialog_open_on_close(
    dialog: ParametersDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ParametersDialog, "ask_unsaved", lambda self: "save")
    dialog.show()
    _edit(dialog, K).setText("50")
    dialog.reject()
    assert dialog.isVisible()
    assert "Bead volume per cm³ of tumour" in dialog.status_label.text()


def test_catalogue_numbers_are_a_form_with_ranges_per_product(
    dialog: ParametersDialog, services: Any
) -> None:
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("catalogue"))
    form = dialog.catalogue_form
    assert "bead catalogue version 2" in dialog.origin_label.text()
    form.product_box.setCurrentIndex(form.product_box.findData("dc_bead"))
    capacity = form.value_edits["irinotecan_capacity_mg_per_ml"]
    assert capacity.text() == "50"
    assert form.range_labels["irinotecan_capacity_mg_per_ml"].text() == "5–100 mg/mL"
    assert "Taylor" in form.source_edits["irinotecan_capacity_mg_per_ml"].text()
    capacity.setText("500")
    assert capacity.property("invalid")
    form.product_box.setCurrentIndex(form.product_box.findData("hepasphere"))
    assert form.value_edits["irinotecan_capacity_mg_per_ml"].text() == ""  # not known
    assert dialog.save() is False  # the DC Bead edit is kept and refused
    assert dialog.status_label.text().startswith(
        "Not saved: DC Bead (LC Bead in the US): Irinotecan capacity: 500 is outside"
    )
    form.product_box.setCurrentIndex(form.product_box.findData("dc_bead"))
    assert form.value_edits["irinotecan_capacity_mg_per_ml"].text() == "500"
    form.value_edits["irinotecan_capacity_mg_per_ml"].setText("40")
    assert dialog.save() is True
    saved = json.loads(
        (services.settings.data_dir / "parameters" / "bead_catalogue.json").read_text("utf-8")
    )
    assert saved["version"] == "3"
    dc_bead = next(p for p in saved["products"] if p["code"] == "dc_bead")
    assert dc_bead["irinotecan_capacity_mg_per_ml"]["value"] == 40
    assert dc_bead["irinotecan_capacity_mg_per_ml"]["evidence"] == "institutional"
    assert services.planning.catalogue.product("dc_bead").irinotecan_capacity_mg_per_ml.value == 40


def test_catalogue_text_for_the_other_fields(
    dialog: ParametersDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("catalogue_text"))
    assert dialog.kind == "catalogue_text"
    assert "HepaSphere" in dialog.editor.toPlainText()
    dialog.editor.setPlainText("{not json")
    assert not dialog.save()
    assert "not valid JSON" in dialog.status_label.text()
    # Switching with unsaved edits asks; Cancel stays where it is.
    monkeypatch.setattr(ParametersDialog, "ask_unsaved", lambda self: "cancel")
    dialog.kind_box.setCurrentIndex(0)
    assert dialog.kind == "catalogue_text"
    assert dialog.kind_box.currentData() == "catalogue_text"


def test_packaged_values_lie_within_their_ranges() -> None:
    from tace_planner.services.planning_parameters import load_planning_parameters

    params = load_planning_parameters()
    assert isinstance(params, PlanningParameters)
    assert set(params.values) == set(SPECS_BY_NAME)
    for spec in PLANNING_SPECS:
        assert spec.problem(params.value(spec.name)) is None, spec.name
        assert spec.reason, spec.name


def test_a_hand_edited_file_out_of_range_is_refused_naming_file_and_parameter(
    services: Any,
) -> None:
    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.services.planning_parameters import load_planning_parameters

    data = services.planning.parameters.to_json()
    data["values"][K]["value"] = 50.0
    path = services.settings.data_dir / "parameters" / "planning.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="Bead volume per cm³ of tumour: 50 is outside"):
        load_planning_parameters(path)


def test_a_refused_file_keeps_the_windows_open_and_says_what_to_correct(
    qtbot: QtBot, services: Any
) -> None:
    from tace_planner.ui.panels.plan_panel import PlanPanel

    data = services.planning.parameters.to_json()
    data["values"][K]["value"] = 50.0  # saved by an earlier version without ranges
    path = services.settings.data_dir / "parameters" / "planning.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    services.planning._parameters = None  # as at the next start
    from planning_seed import seed_case

    case_pk = seed_case(services)
    panel = PlanPanel(services.planning)
    qtbot.addWidget(panel)
    panel.set_case(case_pk)
    assert "Bead volume per cm³ of tumour: 50 is outside" in panel.options_error.text()
    assert "Case → Planning parameters" in panel.options_error.text()
    assert not panel.approve_button.isEnabled()
    assert panel.save_draft() is None
    dialog = ParametersDialog(services.planning)
    qtbot.addWidget(dialog)
    assert dialog.form.is_invalid(K)
    _edit(dialog, K).setText("0.05")
    assert dialog.save() is True
    _edit(dialog, K).setText("0.06")
    assert dialog.save() is True
    panel.set_case(case_pk)  # the main window does this when the dialog closes
    assert panel.options_error.text() == ""
    assert panel.approve_button.isEnabled()
    assert "k = 0.06 mL per cm³" in panel.model_note.text()


def test_a_dialog_left_open_does_not_put_back_a_colleagues_values(
    dialog: ParametersDialog, services: Any
) -> None:
    """Opened on version 2; a colleague saves version 3; saving the open form is refused."""
    theirs = json.loads(services.planning.parameter_file_text("planning")[1])
    theirs["values"]["max_beads_per_session_ml"]["value"] = 2.0
    services.planning.save_institution_file("planning", theirs, expected_version="2")
    assert _saved(services)["version"] == "3"
    _edit(dialog, K).setText("0.06")
    assert dialog.save() is False
    text = dialog.status_label.text()
    assert text.startswith("Not saved: the planning parameters were saved as version 3 on ")
    assert "after you opened version 2" in text
    saved = _saved(services)
    assert saved["version"] == "3"
    assert saved["values"]["max_beads_per_session_ml"]["value"] == 2.0
    assert saved["values"][K]["value"] == 0.05
    assert dialog.is_dirty()  # the edit is still in the form
