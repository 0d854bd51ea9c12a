"""The one-page PDF plan sheet: rendered with Qt, read back with poppler, rasterised to PNG.

Plans come from the real PlanningService on the phantom's baseline case (``planning_case``).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tace_planner.domain.explanation import Advisory
from tace_planner.services.planning import PlanningService
from tace_planner.services.planning_dto import DISCLAIMER
from tace_planner.ui.panels.plan_panel import PlanPanel
from tace_planner.ui.plan_sheet import plan_sheet_html, render_plan_pdf

POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")


def _key_image() -> np.ndarray:
    rows, cols = np.mgrid[:200, :200]
    image = np.full((200, 200, 3), 20, dtype=np.uint8)
    image[np.hypot(rows - 100, cols - 100) < 80] = 130
    image[np.abs(np.hypot(rows - 80, cols - 120) - 25) < 1.5] = (255, 70, 70)
    return image


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def _png(pdf: Path, stem: Path, dpi: int = 60) -> QImage:
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(stem),
        ],
        check=True,
    )
    image = QImage(str(stem.with_suffix(".png")))
    assert not image.isNull()
    return image


def _has_colour(image: QImage, rgb: tuple[int, int, int], tolerance: int = 40) -> bool:
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8)
    pixels = buffer.reshape(height, converted.bytesPerLine())[:, : width * 3].reshape(
        height, width, 3
    )
    return bool((np.abs(pixels.astype(int) - rgb).max(axis=2) < tolerance).any())


@needs_poppler
def test_plan_sheet_holds_the_plans_numbers_on_one_page(
    qapp: object, tmp_path: Path, planning_case: tuple[PlanningService, int]
) -> None:
    service, case_pk = planning_case
    service.set_clinical_inputs(case_pk, ia_lidocaine_planned=False)  # one warning to print
    proposal = service.propose(case_pk)
    pdf = render_plan_pdf(proposal, tmp_path / "plan.pdf", _key_image(), key_caption="test slice")
    assert _pages(pdf) == 1
    text = _text(pdf)
    for expected in (
        "DEBIRI treatment plan",
        "PROPOSAL — not saved",
        "TEST, Patient",  # DICOM PN "Test^Patient", readable
        "P-1",
        "1573 cm³",  # V_liv
        "113.8 cm³",  # V_mts
        "7.2 %",  # F
        "1.845 m²",  # BSA (Mosteller, 175 cm / 70 kg)
        "1305 cm³",  # SLV (Urata)
        "109.6",  # session 1 territory tumour volume
        "4.00",  # session 1 beads (mL)
        "0.50",  # session 2 beads (mL)
        "(vial 1: 100, vial 2: 0 — unloaded beads)",  # the 100 mg session limit
        "200",  # total loaded
        "125",  # total expected delivered (100 + 25)
        "session limit",
        "test slice",
        "Why these numbers",
        "Physician:",
    ):
        assert expected in text, expected
    assert " ".join(DISCLAIMER.split()) in " ".join(text.split())
    image = _png(pdf, tmp_path / "page")
    assert image.width() > 400
    assert _has_colour(image, (245, 194, 66))  # the warning label
    assert _has_colour(image, (255, 70, 70))  # the key image's contour


@needs_poppler
def test_approved_plan_shows_overrides_and_acknowledgements(
    qapp: object, tmp_path: Path, planning_case: tuple[PlanningService, int]
) -> None:
    service, case_pk = planning_case
    service.set_clinical_inputs(case_pk, ia_lidocaine_planned=False, ecog=3)
    draft = service.save_plan(service.propose(case_pk))
    approved = service.approve(
        draft.pk,
        ["premedication.no_ia_lidocaine"],
        {"session1.beads_ml": (3.0, "small feeder")},
        contraindication_reasons={"ecog.above_limit": "tumour board decision"},
    )
    text = " ".join(_text(render_plan_pdf(approved, tmp_path / "approved.pdf")).split())
    assert "APPROVED — plan version 1, approved by dr ui" in text
    assert "Session 1 bead volume (mL): 3 (proposed 4) — small feeder" in text
    assert "session1.beads_ml" not in text  # field names are for people
    assert "3.00" in text
    assert "✓ acknowledged" in text
    assert "overridden by the physician: tumour board decision" in text
    assert "WARNIN G" not in text
    assert "No key image" in text


@needs_poppler
def test_blocked_plan_says_why(
    qapp: object, tmp_path: Path, planning_case: tuple[PlanningService, int]
) -> None:
    service, case_pk = planning_case
    proposal = service.propose(case_pk, options={"product_code": "hepasphere"})
    text = " ".join(_text(render_plan_pdf(proposal, tmp_path / "blocked.pdf")).split())
    # The reason stands where the sessions would be, not only "see below".
    assert "No dose proposed: HepaSphere" in text
    assert "BLOCK" in text
    assert "no irinotecan loading capacity" in text


@needs_poppler
def test_many_warnings_still_fit_one_page(
    qapp: object, tmp_path: Path, planning_case: tuple[PlanningService, int]
) -> None:
    service, case_pk = planning_case
    proposal = service.propose(case_pk)
    extra = tuple(
        Advisory(f"test.{n}", "warning", f"Test warning number {n} with a long text " * 3, "test")
        for n in range(14)
    )
    crowded = dataclasses.replace(proposal, advisories=proposal.advisories + extra)
    pdf = render_plan_pdf(crowded, tmp_path / "crowded.pdf", _key_image())
    assert _pages(pdf) == 1
    assert "Test warning number 13" in _text(pdf)


def test_html_escapes_what_users_typed(
    qapp: object, planning_case: tuple[PlanningService, int]
) -> None:
    service, case_pk = planning_case
    proposal = service.propose(case_pk)
    hostile = dataclasses.replace(
        proposal, case=dataclasses.replace(proposal.case, patient_name="<b>Evil</b> & Co")
    )
    html = plan_sheet_html(hostile)
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in html
    assert "<b>Evil</b>" not in html


@needs_poppler
def test_panel_prints_the_current_plan(
    qtbot: QtBot, tmp_path: Path, planning_case: tuple[PlanningService, int]
) -> None:
    service, case_pk = planning_case
    panel = PlanPanel(service, key_image=lambda case_pk: _key_image())
    qtbot.addWidget(panel)
    panel.set_case(case_pk)
    pdf = panel.print_plan(tmp_path / "panel.pdf")
    assert _pages(pdf) == 1
    assert "4.00" in _text(pdf)


@needs_poppler
@pytest.mark.parametrize("size_pt", [12.0, 13.0])
def test_severity_labels_never_wrap_whatever_the_font_size(
    qapp: object,
    tmp_path: Path,
    planning_case: tuple[PlanningService, int],
    monkeypatch: pytest.MonkeyPatch,
    size_pt: float,
) -> None:
    import tace_planner.ui.plan_sheet as sheet

    service, case_pk = planning_case
    service.set_clinical_inputs(case_pk, ia_lidocaine_planned=False, ecog=3)
    proposal = service.propose(case_pk)
    # A larger sheet font (as a wider fallback font gives) must widen the severity
    # column, not break "WARNING" into "WARNIN G" or "CONTRAINDICATION" mid-word.
    monkeypatch.setattr(sheet, "FONT_SIZES_PT", (size_pt,))
    pdf = render_plan_pdf(proposal, tmp_path / "large.pdf")
    firsts = [line.split()[0] for line in _text(pdf).splitlines() if line.split()]
    assert {"CONTRAINDICATION", "CONTRA-", "WARNING"} & set(firsts)
    for broken in ("WARNIN", "WARNI", "STRON", "INDICATI", "INDICAT", "CONTRAINDICATI"):
        assert broken not in firsts, broken


@pytest.mark.parametrize(
    ("options", "model", "names"),
    [
        ({}, "burden", ("BSA (Mosteller)", "Standard liver volume (Urata)", "burden-scaled")),
        (
            {"bsa_formula": "dubois", "slv_formula": "vauthey"},
            "fixed",
            ("BSA (Du Bois)", "Standard liver volume (Vauthey)", "fixed dose"),
        ),
    ],
)
def test_the_sheet_names_formulas_and_model_for_people(
    qapp: object,
    planning_case: tuple[PlanningService, int],
    options: dict[str, str],
    model: str,
    names: tuple[str, ...],
) -> None:
    """The printed sheet said "BSA (mosteller)", "Standard liver volume (urata)" and
    "Model: burden": the program's keys, not the names a clinician reads."""
    service, case_pk = planning_case
    html = plan_sheet_html(service.propose(case_pk, model=model, options=options))
    for name in names:
        assert name in html, name
    for key in ("(mosteller)", "(urata)", "(dubois)", "(vauthey)", "<b>burden</b>", "<b>fixed</b>"):
        assert key not in html, key
    # two versioned files, each named (the procedure note speaks of "procedure checks")
    assert "planning parameters v" in html
    assert "bead catalogue v" in html
