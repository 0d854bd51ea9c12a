"""The Plan panel names the approved plan under way above the proposal (pytest-qt, offscreen).

Plan v1 (2 lobar sessions, 200 mg) approved, session 1 signed as TACE 1 (100 mg): the
panel showed the live proposal "Session 1 … 100 mg" beside "This plan makes 3 treatments
in the course" with nothing saying that v1 is under way. It now says which session was
performed and which is to perform, that the proposal below is a new plan counted after
the treatment performed, and the *Save draft* / *Approve…* tooltips say what they would
do; the printed sheet carries the same line. A case with no session performed shows none.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from plan_panel_open import open_plan_panel
from plan_progress_seed import approve, log_session

pytestmark = [pytest.mark.ui, pytest.mark.db]


def _plain(panel: Any) -> str:
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(panel.progress_label.text())
    return " ".join(document.toPlainText().split())


def test_the_session_performed_is_named_above_the_proposal(
    qtbot: Any, services: Any, planning_case: tuple[Any, int]
) -> None:
    planning, case_pk = planning_case
    plan = approve(planning, case_pk)
    log_session(services, plan, 1)
    panel = open_plan_panel(qtbot, planning, case_pk)
    assert not panel.progress_label.isHidden()
    text = _plain(panel)
    assert text.startswith(f"Plan v{plan.plan_version} approved (200 mg in 2 sessions): ")
    assert "session 1 performed as TACE 1 on 2026-03-16 (100 mg delivered)" in text
    assert "session 2 to perform (Procedure workspace)." in text
    assert f"The proposal below is a new plan, not plan v{plan.plan_version}." in text
    # in the words of the course-count warning below it
    assert "count 3 treatments in the course (1 performed, 2 in this plan)." in text
    assert "proposed;" not in text
    count = next(b.text() for b in panel.banners if "This plan makes" in b.text())
    assert "3 treatments in the course (1 performed, 2 in this plan);" in count
    # above the warnings: the line is read before "3 treatments"
    layout = panel.progress_label.parentWidget().layout()
    assert layout.indexOf(panel.progress_label) < layout.indexOf(panel.burden_problems)
    # the buttons stay available, and say what they would do
    assert panel.save_draft_button.isEnabled()
    assert panel.approve_button.isEnabled()
    assert f"Plan v{plan.plan_version} stays the approved plan" in panel.save_draft_button.toolTip()
    approve_tip = panel.approve_button.toolTip()
    assert f"replacing session 2 of plan v{plan.plan_version}" in approve_tip
    assert "TACE 1" in approve_tip


def test_no_line_without_a_session_performed(qtbot: Any, planning_case: tuple[Any, int]) -> None:
    planning, case_pk = planning_case
    panel = open_plan_panel(qtbot, planning, case_pk)
    assert panel.progress_label.isHidden()
    approve(planning, case_pk)
    panel.set_case(case_pk)
    assert panel.progress_label.isHidden()  # approved, nothing performed
    assert "stays the approved plan" not in panel.save_draft_button.toolTip()
    assert "replacing" not in panel.approve_button.toolTip()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_the_plan_sheet_prints_the_progress(
    qtbot: Any, services: Any, planning_case: tuple[Any, int], tmp_path: Path
) -> None:
    from tace_planner.ui.plan_sheet import render_plan_pdf

    planning, case_pk = planning_case
    plan = approve(planning, case_pk)
    log_session(services, plan, 1)
    # what ``plan --pdf`` prints: the live proposal, which carries the progress
    pdf = render_plan_pdf(planning.propose(case_pk), tmp_path / "plan.pdf")
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    text = " ".join(out.stdout.split())
    assert "session 1 performed as TACE 1 on 2026-03-16 (100 mg delivered)" in text
    assert f"This sheet is a new plan, not plan v{plan.plan_version}." in text
    assert "Procedure workspace" not in text
    # the approved plan itself, printed from the panel: its progress, not "a new plan"
    panel = open_plan_panel(qtbot, planning, case_pk)
    panel.saved_plan = plan
    out = subprocess.run(
        ["pdftotext", str(panel.print_plan(tmp_path / "v1.pdf")), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = " ".join(out.stdout.split())
    assert "session 2 to perform" in text
    assert "This sheet is a new plan" not in text
