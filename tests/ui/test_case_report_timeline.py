"""The case timeline inside the PDF case report: painted with QtGui, days from day 0."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from followup_seed import add_case, add_measurement, add_study, sign_tace
from tace_planner.services.followup_dto import TimelineData

pytestmark = pytest.mark.db
D = dt.date


@pytest.fixture
def course(services: Any) -> int:
    """A case with two therapy lines, two TACEs, imaging with measurements and a response."""
    factory = services.session_factory
    case = add_case(factory, "TL", baseline_on=D(2026, 3, 2))
    therapy = services.therapy
    therapy.add_line(case, "CAPTEM", D(2025, 11, 1), stop_on=D(2026, 2, 20),
                     progression_on=D(2026, 2, 20), progression_site="liver")  # fmt: skip
    therapy.add_line(case, "octreotide LAR", D(2026, 3, 1))
    sign_tace(factory, case, D(2026, 3, 16), delivered_fraction=0.9)
    services.followups.sync_case(case)
    add_measurement(factory, case, "1.2.TL.0", "F1", 42.0, 48.0)
    for uid, on, volume, diameter in (("1.2.TL.1", D(2026, 5, 12), 30.5, 41.0),
                                      ("1.2.TL.2", D(2026, 8, 14), 26.0, 38.5)):  # fmt: skip
        add_study(factory, "TL", uid, on)
        services.followups.confirm_match(uid)
        add_measurement(factory, case, uid, "F1", volume, diameter)
    sign_tace(factory, case, D(2026, 10, 5))
    services.followups.sync_case(case)
    return case


def _colour_count(image: Any, colour: str) -> int:
    from PySide6.QtGui import QColor

    wanted = QColor(colour).rgb()
    step = 2
    return sum(
        1
        for y in range(0, image.height(), step)
        for x in range(0, image.width(), step)
        if image.pixel(x, y) == wanted
    )


def test_timeline_image_paints_lines_taces_imaging_and_measures(
    qtbot: Any, services: Any, course: int
) -> None:
    from tace_planner.ui import timeline_image as ti

    data: TimelineData = services.therapy.timeline(course)
    image = ti.timeline_qimage(data, D(2026, 3, 16), width=1200)
    assert image.width() == 1200
    for colour in (ti.LINE_COLOUR, ti.TACE_COLOUR, ti.IMAGING_COLOUR, ti.VOLUME_COLOUR,
                   ti.DIAMETER_COLOUR):  # fmt: skip
        assert _colour_count(image, colour) > 20, colour
    empty = ti.timeline_qimage(TimelineData(case_pk=1, title=""), D(2026, 3, 16), width=800)
    assert _colour_count(empty, ti.TACE_COLOUR) < _colour_count(image, ti.TACE_COLOUR)


def test_case_report_pdf_holds_the_timeline(
    qtbot: Any, services: Any, course: int, tmp_path: Path
) -> None:
    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.record import deidentified
    from tace_planner.services.export.records import gather_case
    from tace_planner.ui.case_report import case_report_html, render_case_report_pdf

    record = deidentified(gather_case(services, course), "TP001")
    report = build_case_report(services, record, 1)
    assert report.timeline is not None
    assert [t.delivered_mg for t in report.timeline.taces] == [90.0, 100.0]
    text = case_report_html(report, 300)
    assert "<h3>Timeline</h3>" in text
    assert "report://timeline.png" in text
    path = render_case_report_pdf(report, tmp_path / "report.pdf")
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    if shutil.which("pdfimages") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdfimages, pdftotext) not installed")
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
    images = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    # no contour here, so no key image: the one image is the timeline, page-wide
    assert len(images) == 1
    assert int(images[0][3]) >= 1000  # width in pixels
    plain = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout  # fmt: skip
    assert "Timeline" in plain
    assert "Days from day 0" in plain
    assert "2026-" not in plain  # de-identified: days, never dates


def test_case_report_names_the_product_as_the_catalogue_does(
    qtbot: Any, services: Any, course: int
) -> None:
    from tace_planner.services.export.case_report import build_case_report
    from tace_planner.services.export.records import gather_case
    from tace_planner.ui.case_report import case_report_html

    report = build_case_report(services, gather_case(services, course), 1)
    text = case_report_html(report, 300)
    procedures = text[text.index("<h3>Procedures</h3>") : text.index("<h3>Systemic")]
    assert "DC Bead (LC Bead in the US)" in procedures
    assert "dc_bead" not in procedures
