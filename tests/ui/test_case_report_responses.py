"""The case report's response table (every stored criterion per follow-up), its page breaks,
and the timeline's labels that no longer overprint one another."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from followup_seed import add_response_course, sign_tace

pytestmark = pytest.mark.db
POPPLER = shutil.which("pdftotext") is not None
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")


@pytest.fixture
def assessed(services: Any) -> int:
    """Targets 165 → 63 → 65 → 90 mm (PR, PR, PD with a new focus), every follow-up
    assessed and stored; the first follow-up's label holds its date (an unscheduled one)."""
    from tace_planner.store.models import TimepointRow

    case, _ = add_response_course(services.session_factory, "RR-1")
    sign_tace(services.session_factory, case, dt.date(2026, 5, 20), delivered_fraction=0.6)
    with services.session_factory() as session:
        point = (
            session.query(TimepointRow).filter_by(case_pk=case, label="TACE 1 follow-up 1").one()
        )
        point.label = "unscheduled 2026-05-11"
        point.followup_number = None  # an unscheduled visit has no schedule slot
        session.commit()
    for point in services.contouring.lesions.timepoints(case):
        if point.kind != "baseline" and point.imaged_on is not None:
            services.assessments.assess(case, point.pk)
    return case


def _report(services: Any, case: int, pseudonym: str = "") -> Any:
    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.record import deidentified
    from tace_planner.services.export.records import gather_case

    record = gather_case(services, case)
    if pseudonym:
        record = deidentified(record, pseudonym)
    return build_case_report(services, record, 1)


def _plain(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _section(text: str) -> str:
    return text[text.index("Response at each follow-up") : text.index("Follow-up and time")]


def test_response_table_gives_each_criterion_with_its_figures(
    qtbot: Any, services: Any, assessed: int
) -> None:
    from tace_planner.ui.case_report import case_report_html

    stored = services.assessments.stored(assessed)
    text = _plain(case_report_html(_report(services, assessed), 300, responses=stored))
    table = _section(text)
    for heading in ("RECIST 1.1", "mRECIST", "EASL", "Choi", "Volumetric"):
        assert heading in table, heading
    # one row per follow-up: its label and its day from the first TACE (2026-03-16)
    assert "unscheduled 2026-05-11 56 PR sum 63 mm −61.8 % from baseline" in table
    assert "TACE 1 follow-up 2 148 PR sum 65 mm −60.6 % from baseline +3.2 %, +2 mm over" in table
    assert "TACE 1 follow-up 3 240 PD sum 90 mm" in table
    assert "+42.9 %, +27 mm over nadir" in table
    assert "unequivocal new lesion" in table
    assert "total volume 5 cm³ −90.4 % from baseline" in table  # volumetric
    assert "size 63 mm" in table  # Choi
    assert table.count("PD") >= 4  # RECIST, EASL, Choi, volumetric at the third
    assert "RECIST 1.1: PR (PR on day 56, confirmed on day 148 (92 days later))" in table
    for citation in (
        "Eisenhauer, Eur J Cancer 2009",
        "Lencioni and Llovet, Semin Liver Dis 2010",
        "Bruix et al., J Hepatol 2001",
        "Choi et al., J Clin Oncol 2007",
        "validated for hepatocellular carcinoma",
        "thresholds PR ≤ −65 % from baseline",
    ):
        assert citation in table, citation


def test_de_identified_response_table_prints_visits_not_labels_or_dates(
    qtbot: Any, services: Any, assessed: int
) -> None:
    from tace_planner.ui.case_report import case_report_html

    stored = [a.to_json() for a in services.assessments.stored(assessed)]  # dicts work too
    text = _plain(case_report_html(_report(services, assessed, "TP009"), 300, responses=stored))
    table = _section(text)
    assert "follow-up 1 56 PR" in table
    assert "follow-up 3 240 PD" in table
    assert "2026-" not in text
    assert "unscheduled" not in text


def test_report_without_assessment_says_so(qtbot: Any, services: Any, assessed: int) -> None:
    from tace_planner.ui.case_report import case_report_html

    text = _plain(case_report_html(_report(services, assessed), 300, responses=[]))
    assert "Response at each follow-up No response assessment stored." in text


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    return text.split("\f")


@needs_poppler
def test_pdf_holds_the_table_and_no_line_twice_across_a_page_break(
    qtbot: Any, services: Any, assessed: int, tmp_path: Path
) -> None:
    """Qt draws a line that touches the page's clip rectangle: the next page's first line
    was also written, out of sight, at the foot of the page before (and read twice)."""
    from tace_planner.ui.case_report import render_case_report_pdf

    report = _report(services, assessed)
    row = report.record.lesions[0]
    many = [{**row, "lesion": f"Q{k:03d}"} for k in range(150)]
    report = dataclasses.replace(report, record=dataclasses.replace(report.record, lesions=many))
    stored = services.assessments.stored(assessed)
    pages = _pages(render_case_report_pdf(report, tmp_path / "long.pdf", responses=stored))
    assert len([p for p in pages if p.strip()]) >= 3
    text = "\f".join(pages)
    assert "Response at each follow-up" in text
    for k in range(150):
        assert text.count(f"Q{k:03d}") == 1, f"Q{k:03d}"
    assert text.count("The current assessment of each follow-up") == 1


@needs_poppler
def test_each_line_is_written_on_one_page_only(qtbot: Any, tmp_path: Path) -> None:
    """The report's pages are drawn by ``draw_pages``: the line that starts a page is not
    also written (clipped away) at the foot of the page before, nor the line that ends a
    page at the head of the next, as ``drawContents`` page by page did."""
    from PySide6.QtGui import QFont

    from tace_planner.ui.case_report import draw_pages
    from tace_planner.ui.plan_sheet import a4_document

    path = tmp_path / "paragraphs.pdf"
    writer, page, document = a4_document(path, "paragraphs")
    document.setDefaultFont(QFont("DejaVu Sans", 9))
    # one long paragraph: the lines that do not fit are moved to the top of the next page
    document.setHtml("<p>" + " ".join(f"W{k:04d}" for k in range(3000)) + "</p>")
    document.setPageSize(page.size())
    draw_pages(writer, document, page.width(), page.height())
    pages = _pages(path)
    assert len([p for p in pages if p.strip()]) >= 3
    text = "\f".join(pages)
    for k in range(3000):
        assert text.count(f"W{k:04d}") == 1, f"W{k:04d}"


def test_close_labels_go_to_another_row() -> None:
    from tace_planner.ui.timeline_image import label_rows

    # two TACEs 20 px apart: the second label would run over the first
    assert label_rows([(100.0, 150.0), (300.0, 150.0)], [100.0, 300.0]) == [0, 0]
    rows = label_rows([(100.0, 150.0), (120.0, 150.0)], [100.0, 120.0])
    assert rows[0] != rows[1]
    # a label that would cover the next marker leaves its row
    assert label_rows([(100.0, 40.0)], [100.0, 130.0]) == [1]


def test_timeline_grows_a_row_instead_of_overprinting(qtbot: Any) -> None:
    from tace_planner.services.followup_dto import TimelineData, TimelinePoint, TimelineTace
    from tace_planner.ui.timeline_image import timeline_qimage

    day = dt.date(2026, 3, 16)

    def data(gap_days: int) -> TimelineData:
        return TimelineData(
            case_pk=1,
            title="",
            taces=(
                TimelineTace(1, day, 100.0),
                TimelineTace(2, day + dt.timedelta(days=gap_days), 60.0),
            ),
            points=(
                TimelinePoint("fu", day + dt.timedelta(days=gap_days + 3), "done", response="SD"),
            ),
        )

    apart = timeline_qimage(data(300), day, width=1200)
    close = timeline_qimage(data(5), day, width=1200)
    assert close.height() > apart.height()


def test_the_gathered_report_carries_the_stored_responses(
    qtbot: Any, services: Any, assessed: int
) -> None:
    """The exported report (build_case_report) holds the table without being handed it."""
    from tace_planner.ui.case_report import case_report_html

    report = _report(services, assessed, "TP010")
    assert len(report.responses) == len(services.assessments.stored(assessed)) > 0
    table = _section(_plain(case_report_html(report, 300)))
    assert "follow-up 3 240 PD" in table


def test_the_case_groups_read_as_words_not_stored_codes(
    qtbot: Any, services: Any, assessed: int
) -> None:
    from tace_planner.ui.case_report import case_report_html

    services.therapy.set_case_attributes(
        assessed, metastases_timing="metachronous", tace_sequence="after_chemotherapy"
    )
    text = _plain(case_report_html(_report(services, assessed), 300, responses=[]))
    head = text[: text.index("Key images")]
    assert "TACE given" in head
    assert "after chemotherapy" in head
    assert "after_chemotherapy" not in text
