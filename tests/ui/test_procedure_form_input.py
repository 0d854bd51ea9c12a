"""Procedure form: typed input is not lost on a case change, every field error shows at
once, a decimal comma is read, and people read names (product, patient), not codes.

The case is the phantom's baseline (``planning_case``) with an approved plan: session 1
loads 100 mg in two vials (100 + 0 mg).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from unsaved_questions import answer, never_asked

from planning_seed import approve_plan, procedure_panel, procedure_service
from tace_planner.services.plan_key_image import KeyImage, KeyLabel
from tace_planner.services.procedures import ProcedureService
from tace_planner.ui.panels.procedure_panel import ProcedurePanel
from tace_planner.ui.procedure_note import procedure_note_html, render_procedure_pdf

POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None

pytestmark = pytest.mark.usefixtures("errors")  # tests/ui/conftest.py


# The procedure log on the approved plan, shared with test_procedure_panel.py (planning_seed).
approved = pytest.fixture(approve_plan, name="approved")
procedures = pytest.fixture(procedure_service, name="procedures")
panel = pytest.fixture(procedure_panel, name="panel")


@pytest.fixture
def window(qtbot: QtBot, services: Any, approved: Any) -> Any:
    from tace_planner.ui.main_window import MainWindow

    main = MainWindow(services)
    qtbot.addWidget(main)
    main.select_case(approved[1])
    yield main
    main.close()


def _type(panel: ProcedurePanel, **values: str) -> None:
    for key, text in values.items():
        panel.fields[key].setText(text)
    panel.refresh_preview()


def _shown_errors(panel: ProcedurePanel) -> dict[str, str]:
    return {k: e.text() for k, e in panel.errors.items() if e.isVisibleTo(panel) and e.text()}


# -- 1. a case change with unsaved input asks first ---------------------------------------


def _half_fill(window: Any) -> ProcedurePanel:
    panel = window.procedure_panel
    panel.log_selected_session()
    _type(panel, operator="Dr Hurried", performed_on="2026-03-16")
    return panel


def _click_patient_row(window: Any) -> None:
    window.case_list.setCurrentItem(window.case_list.topLevelItem(0))


def test_cancel_on_a_case_change_keeps_the_typed_input_and_the_case(window: Any) -> None:
    panel = _half_fill(window)
    case_pk = panel._case_pk
    asked = answer(panel, "cancel")
    _click_patient_row(window)
    assert asked == ["The new procedure record"]
    # where the user was: the case row, its form with what was typed
    assert window.case_list.currentItem().parent() is not None
    assert window._case_pk == case_pk == panel._case_pk
    assert panel.fields["operator"].text() == "Dr Hurried"
    assert panel.fields["performed_on"].text() == "2026-03-16"
    assert panel.plan_session is not None
    assert panel.has_unsaved_input()


def test_discard_empties_the_form_and_save_draft_keeps_a_draft(
    window: Any, procedures: ProcedureService
) -> None:
    panel = _half_fill(window)
    case_pk = panel._case_pk
    answer(panel, "discard")
    _click_patient_row(window)
    assert panel._case_pk is None
    window.select_case(case_pk)
    assert panel.fields["operator"].text() == ""
    assert window._services.procedures.list_procedures(case_pk) == []

    panel = _half_fill(window)
    answer(panel, "save")
    _click_patient_row(window)
    assert panel._case_pk is None  # saved, then the case changed
    saved = window._services.procedures.list_procedures(case_pk)
    assert [(p.status, p.record.operator) for p in saved] == [("draft", "Dr Hurried")]


def test_no_question_without_typed_input(window: Any) -> None:
    panel = window.procedure_panel
    panel.log_selected_session()  # prefilled from the plan, nothing typed
    never_asked(panel)
    _click_patient_row(window)
    assert panel._case_pk is None


# -- 2. every field's error at once, a decimal comma read, no dose from impossible input --


def test_every_field_error_shows_at_once_naming_its_field(panel: ProcedurePanel) -> None:
    panel.log_selected_session()
    _type(panel, performed_on="2026-13-45", vials="-2", delivered_fraction="1.5",
          end_time="25:99")  # fmt: skip
    shown = _shown_errors(panel)
    assert set(shown) == {"performed_on", "vials", "delivered_fraction", "end_time"}
    assert "is not a date" in shown["performed_on"]
    assert "between 0 and 1" in shown["delivered_fraction"]
    summary = panel.problems_label.text()
    assert panel.problems_label.isVisibleTo(panel)
    for name in ("Date of the procedure", "Vials prepared", "Delivered fraction", "End time"):
        assert f"{name}: " in summary
    # an impossible fraction gives no delivered dose, nor a risk factor computed from it
    assert "150" not in panel.delivered_label.text()
    assert "correct Delivered fraction" in panel.delivered_label.text()
    risks = [
        panel.risks_layout.itemAt(i).widget().text() for i in range(panel.risks_layout.count())
    ]
    assert not any("150 mg" in text for text in risks)
    assert panel.save() is None


def test_a_decimal_comma_is_read_as_the_plan_form_reads_it(panel: ProcedurePanel) -> None:
    panel.log_selected_session()
    _type(panel, performed_on="2026-03-16", delivered_fraction="0,8", lidocaine_mg="40,5")
    assert _shown_errors(panel) == {}
    # 80 % of the vials 100 + 0 mg, injected in order: vial 1 whole = 100 mg
    assert panel.delivered_label.text().startswith("Delivered: 100.0 mg = 80 % of 2 vials")
    assert panel.values()["lidocaine_mg"] == 40.5


# -- 3. names, not codes ----------------------------------------------------------------------


def test_the_form_shows_the_catalogue_name_and_keeps_the_code(
    panel: ProcedurePanel, procedures: ProcedureService
) -> None:
    panel.log_selected_session()
    combo = panel.fields["product_code"]
    assert combo.currentText() == "DC Bead (LC Bead in the US)"
    assert "dc_bead" not in [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(combo.findData("dc_bead_lumi"))
    panel.refresh_preview()
    rows = panel.differences_layout
    label = rows.itemAt(0, rows.ItemRole.LabelRole).widget().text()
    assert label == "Product: DC Bead (LC Bead in the US) → DC Bead LUMI (radiopaque)"
    values = panel.values()
    assert (values["product_code"], values["product_name"]) == (
        "dc_bead_lumi",
        "DC Bead LUMI (radiopaque)",
    )


def _signed(procedures: ProcedureService, approved: Any) -> Any:
    _, case_pk, plan = approved
    item = procedures.log(
        case_pk,
        {"performed_on": "2026-03-16", "operator": "Dr A", "lot": "L1", "expiry": "2027-01-31",
         "delivered_fraction": 0.6, "endpoint": "near-stasis", "lidocaine_mg": 40},
        plan_pk=plan.pk,
    )  # fmt: skip
    return procedures.sign(item.pk)


def test_the_note_prints_the_patient_name_as_the_plan_sheet(
    procedures: ProcedureService, approved: Any
) -> None:
    item = dataclasses.replace(_signed(procedures, approved), patient_name="Demo^Phantom")
    text = procedure_note_html(item)
    assert "DEMO, Phantom" in text
    assert "Demo^Phantom" not in text


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_the_note_key_image_has_labels_orientation_and_scale_bar(
    qtbot: QtBot, tmp_path: Path, procedures: ProcedureService, approved: Any
) -> None:
    item = _signed(procedures, approved)
    key = KeyImage(
        pixels=np.zeros((160, 160, 3), dtype=np.uint8),
        caption="Baseline slice 42/69 through F1",
        labels=(KeyLabel("F1", "#00ff00", "focus", 60, 60),),
        edges={"left": "R", "right": "L", "top": "A", "bottom": "P"},
        scale_bar_mm=50.0,
        scale_bar_px=40.0,
    )
    pdf = render_procedure_pdf(item, tmp_path / "note.pdf", key)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())  # the sheet's legend (its caption may wrap; -layout
    assert "contours in each" in flat  # then interleaves it with the column on the left)
    assert "lesion's colour: ■ F1" in flat
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf), str(tmp_path / "note")],
        check=True,
    )
    page = QImage(str(tmp_path / "note.png"))
    dark = [
        (x, y)
        for y in range(0, page.height(), 2)
        for x in range(page.width() // 2, page.width(), 2)
        if max(page.pixelColor(x, y).getRgb()[:3]) < 30
    ]
    x0, x1 = min(x for x, _ in dark) + 4, max(x for x, _ in dark) - 4
    y0, y1 = min(y for _, y in dark) + 4, max(y for _, y in dark) - 4
    inside = [page.pixelColor(x, y) for y in range(y0, y1, 2) for x in range(x0, x1, 2)]
    greens = sum(1 for c in inside if c.green() > 200 and c.red() < 80 and c.blue() < 80)
    whites = sum(1 for c in inside if min(c.red(), c.green(), c.blue()) > 230)
    assert greens > 5  # the label "F1" in its lesion's colour
    assert whites > 5  # the orientation letters and the scale bar
