"""Procedure panel, dock and procedure note (pytest-qt, offscreen) on the real services.

The case is the phantom's baseline (``planning_case``) with an approved plan: session
1 loads 100 mg in two vials (100 + 0 mg), session 2 100 mg in one vial.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from planning_seed import approve_plan, procedure_panel, procedure_service
from tace_planner.services.procedures import ProcedureService
from tace_planner.ui.panels.procedure_panel import ProcedurePanel
from tace_planner.ui.procedure_note import render_procedure_pdf

POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None
SIGNABLE = {
    "performed_on": "2026-03-16",
    "operator": "Dr Radiosurgeon",
    "lot": "LOT-42",
    "expiry": "2027-01-31",
    "lidocaine_mg": "40",
}

pytestmark = pytest.mark.usefixtures("errors")  # tests/ui/conftest.py


# The procedure log on the approved plan, shared with test_procedure_form_input.py (planning_seed).
approved = pytest.fixture(approve_plan, name="approved")
procedures = pytest.fixture(procedure_service, name="procedures")
panel = pytest.fixture(procedure_panel, name="panel")


def _type(panel: ProcedurePanel, **values: str) -> None:
    for key, text in values.items():
        widget = panel.fields[key]
        if hasattr(widget, "setText"):
            widget.setText(text)
        else:
            widget.setCurrentIndex(widget.findData(text))
    panel.refresh_preview()


def test_log_this_session_prefills_validates_saves_signs_and_amends(
    panel: ProcedurePanel, procedures: ProcedureService, approved: Any
) -> None:
    case_pk = approved[1]
    assert panel.session_combo.count() == 2
    assert panel.log_session_button.isEnabled()
    panel.log_selected_session()
    # the catalogue's name is shown, the record keeps the code
    assert panel.fields["product_code"].currentText() == "DC Bead (LC Bead in the US)"
    assert panel.fields["product_code"].currentData() == "dc_bead"
    assert panel.fields["vials"].text() == "2"
    assert panel.fields["loaded_per_vial_mg"].text() == "100, 0"
    assert "New record from plan" in panel.status_label.text()
    # nothing delivered entered yet: say what is missing, in words ("— = …" before)
    panel.refresh_preview()
    assert panel.delivered_label.text().startswith("Delivered: not known yet — enter the")
    assert "CTCAE" in panel.fields["adverse_events"].toolTip()  # the format, with its sources
    # impossible: shown beside the field, refused
    _type(panel, delivered_fraction="1.5")
    error = panel.errors["delivered_fraction"]
    assert error.isVisibleTo(panel)
    assert "between 0 and 1" in error.text()
    assert "b00020" in error.styleSheet()
    assert panel.save() is None
    assert procedures.list_procedures(case_pk) == []
    # the delivered dose is the service's answer: 30 % of the vials 100 + 0 mg, injected in
    # order, is 60 % of vial 1 = 60 mg (the plan's delivery model)
    _type(panel, delivered_fraction="0.3", endpoint="near-stasis", **SIGNABLE)
    assert not panel.errors["delivered_fraction"].isVisibleTo(panel)
    assert "60.0 mg" in panel.delivered_label.text()
    saved = panel.save()
    assert saved.status == "draft"
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 2).text() == "draft"
    assert panel.session_combo.count() == 1  # session 1 is logged now
    signed = panel.sign()
    assert signed.status == "signed"
    assert panel.table.item(0, 2).text() == "signed"
    assert not panel.save_button.isEnabled()
    assert panel.amend_button.isEnabled()
    assert panel.save() is None  # a signed record is not saved in place
    _type(panel, lidocaine_mg="60")
    panel.ask_reason = lambda: "dose re-read from the syringe label"
    amended = panel.amend()
    assert (amended.status, amended.revision) == ("amended", 2)
    assert panel.table.item(0, 2).text() == "amended"
    assert "earlier versions kept" in panel.status_label.text()
    assert procedures.get(signed.pk, revision=1).record.lidocaine_mg == 40.0
    assert "1 TACE signed, 60 mg delivered" in panel.header.text()


def test_differences_need_reasons_in_the_form(
    panel: ProcedurePanel, procedures: ProcedureService, errors: list[str]
) -> None:
    # before a record is edited the two boxes hold nothing: hidden, not empty grey bars
    assert not panel.differences_box.isVisibleTo(panel)
    assert not panel.risks_box.isVisibleTo(panel)
    panel.log_selected_session()
    _type(panel, vials="1", loaded_per_vial_mg="100", delivered_fraction="1",
          endpoint="near-stasis", **SIGNABLE)  # fmt: skip
    assert set(panel.reason_edits) == {"vials"}
    assert panel.differences_box.isVisibleTo(panel)
    panel.save()
    assert panel.sign() is None  # no reason yet
    assert "Vials prepared" in errors[-1]
    panel.reason_edits["vials"].setText("one vial was enough")
    item = panel.sign()
    assert item.status == "signed"
    assert item.differences[0].reason == "one vial was enough"


def test_implausible_values_are_confirmed(
    panel: ProcedurePanel, procedures: ProcedureService, approved: Any
) -> None:
    panel.new_unplanned()
    assert "UNPLANNED" in panel.status_label.text()
    _type(panel, fluoroscopy_min="400", delivered_fraction="0.5", loaded_mg="100")
    assert "8a5a00" in panel.errors["fluoroscopy_min"].styleSheet()
    asked: list[str] = []
    panel.confirm = lambda title, text: asked.append(text) or False
    assert panel.save() is None
    assert "Fluoroscopy time" in asked[0]
    panel.confirm = lambda title, text: True
    item = panel.save()
    assert item.record.fluoroscopy_min == 400.0
    assert item.confirmed_implausible == ("fluoroscopy_min",)


def test_risk_factors_are_shown_with_sources(panel: ProcedurePanel) -> None:
    panel.log_selected_session()
    _type(panel, endpoint="stasis", delivered_fraction="1", performed_on="2026-03-16")
    texts = [
        panel.risks_layout.itemAt(i).widget().text() for i in range(panel.risks_layout.count())
    ]
    assert any("complete stasis" in t and "Martin" in t for t in texts)
    assert any("lidocaine" in t for t in texts)


def test_the_main_window_has_a_procedure_dock_following_the_case(
    qtbot: QtBot, services: Any, approved: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tace_planner.ui.main_window import MainWindow

    # the seeded case has no image files: the window's other panels say so in a box
    monkeypatch.setattr("tace_planner.ui.main_window.show_error", lambda *args: None)

    window = MainWindow(services)
    qtbot.addWidget(window)
    try:
        assert window.procedure_dock.windowTitle() == "Procedure"
        window.case_list.case_selected.emit(approved[1])
        assert window.procedure_panel._case_pk == approved[1]
        assert window.procedure_panel.session_combo.count() == 2
    finally:
        window.close()


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_procedure_note_pdf_shows_delivered_events_and_signatures(
    tmp_path: Path, procedures: ProcedureService, approved: Any
) -> None:
    _, case_pk, plan = approved
    item = procedures.log(
        case_pk,
        {**SIGNABLE, "delivered_fraction": 0.6, "endpoint": "stasis",
         "adverse_events": [{"term": "Abdominal pain", "ctcae_grade": 2, "cirse_grade": 1,
                             "onset_day": 0}]},
        plan_pk=plan.pk,
    )  # fmt: skip
    item = procedures.sign(item.pk)
    image = np.full((120, 120, 3), 40, dtype=np.uint8)
    image[30:90, 30:90] = (255, 70, 70)
    pdf = render_procedure_pdf(item, tmp_path / "note.pdf", image)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "TACE 1 — procedure note" in flat
    # 60 % of the vials 100 + 0 mg, injected in order: vial 1 whole = 100 mg (as the plan counts)
    assert "Irinotecan DELIVERED 100.0 mg" in flat
    assert "Irinotecan loaded 100.0 mg" in flat
    assert "Abdominal pain: CTCAE 2 (moderate); CIRSE 1" in flat
    assert "signed by dr ui" in flat
    assert "Martin, Cardiovasc Intervent Radiol 2010" in flat
    assert "not a prescription" in flat
    for word in ("clinical-reference", "§", "[D]", "NOT FOUND"):
        assert word not in flat
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", pages.stdout, re.MULTILINE)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-singlefile", str(pdf), str(tmp_path / "note")],
        check=True,
    )
    png = QImage(str(tmp_path / "note.png"))
    assert not png.isNull()
    reds = sum(
        1
        for y in range(0, png.height(), 4)
        for x in range(0, png.width(), 4)
        if png.pixelColor(x, y).red() > 200 and png.pixelColor(x, y).green() < 120
    )
    assert reds > 5  # the key image is on the page


def test_the_delivered_line_says_what_is_missing(panel: ProcedurePanel) -> None:
    """With a fraction but no loaded dose it asked for the fraction it had."""
    panel.new_unplanned()
    _type(panel, delivered_fraction="0.5")
    assert panel.delivered_label.text().startswith(
        "Delivered: not known yet — enter the irinotecan loaded"
    )
    _type(panel, loaded_mg="100")
    assert panel.delivered_label.text().startswith("Delivered: 50.0 mg = loaded 100 mg")
