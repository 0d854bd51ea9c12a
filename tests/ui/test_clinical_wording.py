"""Text a clinician reads is clinical text: no internal wording, fields named for people.

Every text of a plan on the planning seed is collected as the user meets it — the
panel's banners and *why?* boxes, the approval dialog (warnings to acknowledge,
problems, overrides), field errors, and the printed sheet read back with
``pdftotext`` — over several plans that raise different advisories, and checked
for the team's internal wording: reference-file names, section signs, evidence
tags, "NOT FOUND", "brief", and file keys such as ``session1.beads_ml``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel
from pytestqt.qtbot import QtBot

from tace_planner.services.planning import PlanningService
from tace_planner.ui.dialogs.approve_plan_dialog import ApprovePlanDialog
from tace_planner.ui.panels.plan_panel import PlanPanel
from tace_planner.ui.plan_sheet import render_plan_pdf

INTERNAL_WORDS = (
    "clinical-reference",
    "clinical_reference",
    "product brief",
    "brief",
    "§",
    "NOT FOUND",
    "[D]",
    "[S]",
    "[M]",
    "[G]",
    "NOT retrieved",
)
# A file key: "session1.beads_ml", "values.per_session_cap_mg", or a bare key with two
# or more underscores ("per_session_cap_mg"); formula symbols such as V_liv or c_load
# have one.
FILE_KEY = re.compile(r"\b[a-z]+\d*\.[a-z]+_[a-z0-9_]+\b|\b[a-z]+(?:_[a-z0-9]+){2,}\b")

SCENARIOS = [
    pytest.param({}, {}, id="default"),
    pytest.param({"model": "fixed"}, {"ecog": 3, "bilirubin_mg_dl": 5.0}, id="contraindicated"),
    pytest.param(
        {"product_code": "hepasphere"},
        {"ia_lidocaine_planned": None, "ugt1a1_status": "reduced"},
        id="blocked-product",
    ),
    pytest.param(
        {"product_code": "dc_bead_m1", "delivery": "segmental", "segments": ["VI"]},
        {"ia_lidocaine_planned": False},
        id="segmental",
    ),
]


def internal_wording(text: str) -> list[str]:
    """The internal words and file keys found in ``text``."""
    found = [word for word in INTERNAL_WORDS if word in text]
    found += FILE_KEY.findall(text)
    return found


def test_the_checker_catches_what_it_should() -> None:
    assert internal_wording("as stated in the product brief (§8)") == [
        "product brief",
        "brief",
        "§",
    ]
    assert internal_wording("session1.beads_ml: must be positive") == ["session1.beads_ml"]
    assert internal_wording("values.per_session_cap_mg") != []
    assert internal_wording("Session 1 bead volume (mL): 3 (proposed 4) — V_liv, c_load") == []
    assert internal_wording("Taylor, Eur J Pharm Sci 2007; 0.05 mL/cm³; e.g. 200 mg") == []


def _widget_texts(widget: Any) -> list[str]:
    texts = [label.text() for label in widget.findChildren(QLabel)]
    texts += [box.text() for box in widget.findChildren(QCheckBox)]
    texts += [w.toolTip() for w in widget.findChildren(QLabel) + widget.findChildren(QCheckBox)]
    return [t for t in texts if t]


@pytest.mark.parametrize(("options", "changes"), SCENARIOS)
def test_plan_texts_read_as_clinical_text(
    qtbot: QtBot,
    planning_case: tuple[PlanningService, int],
    tmp_path: Path,
    options: dict[str, Any],
    changes: dict[str, Any],
) -> None:
    service, case_pk = planning_case
    service.set_clinical_inputs(case_pk, **changes)
    panel = PlanPanel(service)
    qtbot.addWidget(panel)
    panel.set_case(case_pk)
    for name, value in options.items():
        if name == "segments":
            panel.segments_edit.setText(", ".join(value))
        else:
            combo = {
                "model": panel.model_combo,
                "product_code": panel.product_combo,
                "delivery": panel.delivery_combo,
            }[name]
            combo.setCurrentIndex(combo.findData(value))
    panel.recompute()
    proposal = panel.proposal
    assert proposal is not None
    texts = _widget_texts(panel)
    texts += [panel.explanation_text(key) for key in panel.why_buttons]
    assert any(text for text in texts)
    if proposal.sessions and not proposal.blocked:
        dialog = ApprovePlanDialog(
            proposal, preview=lambda overrides: service.preview_proposal(proposal, overrides)
        )
        qtbot.addWidget(dialog)
        dialog.value_edits["session1.beads_ml"].setText("-1")
        texts += _widget_texts(dialog)
        assert "Session 1 bead volume (mL)" in dialog.problem_label.text()
        dialog.value_edits["session1.beads_ml"].setText("30")
        dialog.reason_edits["session1"].setText("feeder")
        texts += _widget_texts(dialog)
        dialog.close()
    if shutil.which("pdftotext") is not None:
        pdf = render_plan_pdf(proposal, tmp_path / "plan.pdf")
        texts.append(
            subprocess.run(
                ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout
        )
    for text in texts:
        assert internal_wording(text) == [], text


def test_field_errors_name_the_field_for_people(
    qtbot: QtBot, planning_case: tuple[PlanningService, int]
) -> None:
    service, case_pk = planning_case
    panel = PlanPanel(service)
    qtbot.addWidget(panel)
    panel.set_case(case_pk)
    for edit, text, expected in (
        (panel.capacity_edit, "0", "Capacity (mg/mL)"),
        (panel.vial_edit, "-2", "Vial volume (mL)"),
    ):
        edit.setText(text)
        panel.recompute()
        assert expected in panel.options_error.text()
        assert internal_wording(panel.options_error.text()) == []
        panel.save_draft()
        assert expected in panel.action_message.text()
        edit.setText("")


@pytest.mark.db
def test_contouring_a_study_without_a_case_says_create_a_case_first(services: Any) -> None:
    import datetime as dt

    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.services.contour_records import series_context
    from tace_planner.store.models import PatientRow, SeriesRow, StudyRow

    with services.session_factory() as session:
        patient = PatientRow(patient_id="P-9", name="Loose^Study")
        session.add(patient)
        session.flush()
        study = StudyRow(patient_pk=patient.id, study_uid="1.2.9", study_on=dt.date(2026, 3, 2))
        session.add(study)
        session.flush()
        session.add(SeriesRow(study_pk=study.id, series_uid="1.2.9.1", modality="CT"))
        session.commit()
        with pytest.raises(InvalidInputError) as caught:
            series_context(session, "1.2.9.1")
    message = str(caught.value)
    assert "create a case first (Case → New case…) and link this study to it" in message
    assert "timepoint" not in message


def test_naming_a_focus_liver_is_refused_without_a_command_line_word() -> None:
    from tace_planner.domain.errors import InvalidInputError
    from tace_planner.services.contour_records import check_name

    with pytest.raises(InvalidInputError) as caught:
        check_name(" Liver ")
    message = str(caught.value)
    assert "whole-liver contour" in message
    assert "contour liver" not in message  # a command, not what the window calls it
    assert internal_wording(message) == []
