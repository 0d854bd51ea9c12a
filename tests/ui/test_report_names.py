"""Reports name a case as people know it (patient, Patient ID, case title; the pseudonym
once de-identified), never by its database number."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from planning_seed import approve_plan

pytestmark = pytest.mark.db
needs_poppler = pytest.mark.skipif(
    shutil.which("pdfinfo") is None, reason="poppler-utils not installed"
)


def _title(pdf: Path) -> str:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return next(x for x in info.stdout.splitlines() if x.startswith("Title:")).split(":", 1)[1]


@needs_poppler
def test_plan_sheet_names_the_case_without_its_database_number(
    qapp: object, tmp_path: Path, planning_case: tuple[Any, int]
) -> None:
    from tace_planner.ui.plan_sheet import plan_sheet_html, render_plan_pdf

    _, case_pk, plan = approve_plan(planning_case)
    page = plan_sheet_html(plan)
    assert plan.case.case_title in page
    assert f"#{case_pk}" not in page
    assert not re.search(r"\(#\d+\)", page)
    title = _title(render_plan_pdf(plan, tmp_path / "plan.pdf"))
    assert plan.case.case_title in title
    assert plan.case.patient_id in title
    assert f"case {case_pk}" not in title


@needs_poppler
def test_case_report_title_is_the_patient_or_the_pseudonym(
    qapp: object, tmp_path: Path, services: Any, planning_case: tuple[Any, int]
) -> None:
    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.record import deidentified
    from tace_planner.services.export.records import gather_case
    from tace_planner.ui.case_report import render_case_report_pdf

    _, case_pk, _ = approve_plan(planning_case)
    record = gather_case(services, case_pk)
    plain = _title(
        render_case_report_pdf(build_case_report(services, record, 7), tmp_path / "a.pdf")
    )
    assert record.patient_id in plain
    assert "7" not in plain  # the export's running number is no name
    report = build_case_report(services, deidentified(record, "TP042"), 7)
    title = _title(render_case_report_pdf(report, tmp_path / "b.pdf"))
    assert "TP042" in title
    assert record.patient_id not in title
    text = subprocess.run(["pdftotext", str(tmp_path / "b.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert text.count("Plan version 1, approved.") == 1


def test_plan_sheet_says_which_version_a_plan_supersedes_not_its_row(
    qapp: object, planning_case: tuple[Any, int]
) -> None:
    from tace_planner.ui.plan_sheet import plan_sheet_html

    planning, case_pk = planning_case
    first = planning.save_plan(planning.propose(case_pk))
    second = planning.save_plan(planning.propose(case_pk, options={"interval_days": 35}))
    third = planning.save_plan(
        planning.propose(case_pk, options={"interval_days": 42}), supersedes_pk=second.pk
    )
    assert (first.plan_version, second.plan_version, third.plan_version) == (1, 2, 3)
    assert third.supersedes_version == 2
    text = re.sub(r"<[^>]+>", " ", plan_sheet_html(third))
    assert "plan version 3 (supersedes version 2)" in text
    assert f"supersedes plan {second.pk}" not in text
