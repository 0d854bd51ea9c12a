"""Foci without a Couinaud segment: the plan says where to assign it, the sheet lists the blocks."""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import pytest

from tace_planner.services.planning import PlanningService
from tace_planner.ui.plan_sheet import plan_sheet_html, render_plan_pdf

WHERE = "assign it in the Lesions list (right-click → Set Couinaud segment…)"


def _clear(services, case_pk: int, names: set[str] | None = None) -> list[str]:
    cleared = []
    for item in services.contouring.list_lesions(case_pk):
        if not item.is_liver and (names is None or item.name in names):
            services.contouring.lesions.set_segment(item.pk, "")
            cleared.append(item.name)
    return cleared


def test_no_segment_at_all_blocks_and_the_sheet_lists_why(
    qapp: object, services, planning_case: tuple[PlanningService, int]
) -> None:
    planning, case_pk = planning_case
    cleared = _clear(services, case_pk)
    proposal = planning.propose(case_pk)
    assert not proposal.sessions
    block = next(a for a in proposal.advisories if a.code == "burden.unassigned_segment")
    assert block.severity == "block"
    assert WHERE in block.message
    assert all(name in block.message for name in cleared)
    page = html.unescape(plan_sheet_html(proposal))
    assert "No dose proposed:" in page
    assert f"<li>{block.message}</li>" in page


def test_a_focus_without_a_segment_is_a_warning_saying_where(
    qapp: object, services, planning_case: tuple[PlanningService, int]
) -> None:
    planning, case_pk = planning_case
    _clear(services, case_pk, {"F2"})
    proposal = planning.propose(case_pk)
    assert proposal.sessions
    warning = next(a for a in proposal.advisories if a.code == "burden.unassigned_segment")
    assert warning.severity == "warning"
    assert "(F2)" in warning.message
    assert WHERE in warning.message


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_pdf_lists_the_blocks_under_no_dose_proposed(
    qapp: object, tmp_path: Path, services, planning_case: tuple[PlanningService, int]
) -> None:
    planning, case_pk = planning_case
    _clear(services, case_pk)
    pdf = render_plan_pdf(planning.propose(case_pk), tmp_path / "blocked.pdf")
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "No dose proposed:" in text
    assert "No focus has a Couinaud segment" in text
    assert "right-click → Set Couinaud segment" in text
