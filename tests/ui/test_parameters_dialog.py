"""Planning parameters dialog: shows the file in use, refuses invalid edits, saves valid ones."""

from __future__ import annotations

import json

import pytest

from tace_planner.ui.dialogs.parameters_dialog import ParametersDialog

pytestmark = pytest.mark.db


def test_edit_catalogue_and_planning_parameters(qtbot, services) -> None:
    dialog = ParametersDialog(services.planning)
    qtbot.addWidget(dialog)
    assert "packaged planning.json" in dialog.origin_label.text()
    original = json.loads(dialog.editor.toPlainText())

    dialog.editor.setPlainText("{not json")
    assert not dialog.save()
    assert "not valid JSON" in dialog.status_label.text()

    broken = dict(original)
    broken.pop("version", None)
    dialog.editor.setPlainText(json.dumps(broken))
    assert not dialog.save()
    assert "Not saved" in dialog.status_label.text()
    assert not (services.settings.data_dir / "parameters" / "planning.json").exists()

    dialog.editor.setPlainText(json.dumps(original))
    assert dialog.save()
    saved = services.settings.data_dir / "parameters" / "planning.json"
    assert saved.is_file()
    assert json.loads(saved.read_text(encoding="utf-8")) == original
    assert str(saved) in dialog.origin_label.text()

    dialog.kind_box.setCurrentIndex(1)
    assert "bead_catalogue.json" in dialog.origin_label.text()
    assert "HepaSphere" in dialog.editor.toPlainText()
