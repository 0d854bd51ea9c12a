"""The PDF case report: key image per timepoint, plan, procedures, therapy lines, the case
timeline and time to progression, on as many A4 pages as it needs (Qt's QPdfWriter, like
the plan sheet). The timeline is painted by :mod:`tace_planner.ui.timeline_image` against
days from day 0.

De-identified records print the pseudonym and days from the first TACE, never a name,
an ID or a date.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QSizeF, QUrl
from PySide6.QtGui import QFont, QGuiApplication, QPainter, QTextDocument

from tace_planner.domain.errors import TacePlannerError
from tace_planner.services.export.tables import level_rows
from tace_planner.ui.plan_sheet import (
    LOGICAL_DPI,
    RESOLUTION_DPI,
    a4_document,
    key_image_qimage,
)
from tace_planner.ui.timeline_image import timeline_qimage

DISCLAIMER = (
    "Planning aid: the figures are computed from the recorded contours and procedures; "
    "the physician confirms every value."
)


def _e(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return "<p>None recorded.</p>"
    head = "".join(f"<th align='left'>{html.escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(row.get(key))}</td>" for key, _ in columns) + "</tr>"
        for row in rows
    )
    table = "<table border='1' cellspacing='0' cellpadding='3' width='100%'>"
    return f"{table}<tr>{head}</tr>{body}</table>"


def case_report_html(report: Any, image_width_px: int = 0, timeline_width_px: int = 0) -> str:
    """The report as HTML (key images referenced as ``report://key-<n>.png``, the timeline
    as ``report://timeline.png``)."""
    record = report.record
    number = report.case_number
    _, cases = level_rows([record], "case", first_case_id=number)
    case = cases[0]
    who = (
        record.record_id
        if record.deidentified
        else f"{record.patient_id} — {record.patient_name.replace('^', ' ')}"
    )
    parts = [
        f"<h2>Case report — {html.escape(who)}</h2>",
        f"<p>Day 0 is the {html.escape(record.anchor)}; days count from it.</p>",
        _table(
            [case],
            [
                ("sex", "Sex"),
                ("age_at_anchor_years", "Age, y"),
                ("primary_site", "Primary"),
                ("metastases_timing", "Liver metastases"),
                ("tace_sequence", "TACE"),
                ("n_tace", "TACE, n"),
                ("delivered_total_mg", "Irinotecan delivered, mg"),
            ],
        ),
        "<h3>Key images</h3>",
    ]
    if not report.key_images:
        parts.append("<p>No contoured focus.</p>")
    for k, (label, key) in enumerate(report.key_images):
        caption = html.escape(f"{label}: {getattr(key, 'caption', '')}")
        parts.append(
            f"<p><img src='report://key-{k}.png' width='{image_width_px}'><br>{caption}</p>"
        )
    _, lesions = level_rows([record], "lesion_timepoint", first_case_id=number)
    parts += [
        "<h3>Lesions per timepoint</h3>",
        _table(
            lesions,
            [
                ("timepoint", "Timepoint"),
                ("imaged_day", "Day"),
                ("lesion", "Lesion"),
                ("couinaud_segment", "Segment"),
                ("volume_cm3", "Volume, cm³"),
                ("longest_axial_diameter_mm", "Longest diameter, mm"),
            ],
        ),
        "<h3>Plan</h3>",
    ]
    if report.plan is None:
        parts.append("<p>No saved plan.</p>")
    else:
        status, version, sessions = report.plan
        parts.append(f"<p>Plan version {version}, {html.escape(status)}.</p>")
        parts.append(
            _table(
                list(sessions),
                [
                    ("session", "Session"),
                    ("territory", "Territory"),
                    ("beads_ml", "Beads, mL"),
                    ("vials", "Vials"),
                    ("irinotecan_mg", "Irinotecan loaded, mg"),
                ],
            )
        )
    _, procedures = level_rows([record], "procedure", first_case_id=number)
    procedures = [
        {**row, "product": report.product_name(row.get("product_code"))} for row in procedures
    ]
    _, lines = level_rows([record], "therapy_line", first_case_id=number)
    parts += [
        "<h3>Procedures</h3>",
        _table(
            procedures,
            [
                ("tace_number", "TACE"),
                ("performed_day", "Day"),
                ("product", "Product"),
                ("delivered_mg", "Delivered, mg"),
                ("endpoint", "Endpoint"),
                ("ae_max_ctcae_grade", "Worst AE grade (CTCAE v5.0)"),
            ],
        ),
        "<h3>Systemic therapy lines</h3>",
        _table(
            lines,
            [
                ("line_number", "Line"),
                ("drug", "Drug"),
                ("start_day", "Start day"),
                ("stop_day", "Stop day"),
                ("progression_day", "Progression day"),
            ],
        ),
        "<h3>Timeline</h3>",
        _timeline_html(report, timeline_width_px or 2 * image_width_px),
        "<h3>Follow-up and time to progression</h3>",
        _table(
            [dict(r) for r in record.ttp],
            [
                ("start", "From"),
                ("scope", "Progression"),
                ("days", "Days"),
                ("event", "Event (1) or censored (0)"),
            ],
        ),
        f"<p><small>{html.escape(DISCLAIMER)}</small></p>",
    ]
    return "<html><body>" + "".join(parts) + "</body></html>"


def _timeline_html(report: Any, width_px: int) -> str:
    timeline = getattr(report, "timeline", None)
    if timeline is None or not (timeline.taces or timeline.lines or timeline.points):
        return "<p>Nothing to draw: no TACE, therapy line or imaging recorded.</p>"
    caption = (
        "Days from day 0. Bars: systemic therapy lines (▼ progression); ◆ TACE with the "
        "irinotecan delivered; ● imaging done with its response label when assessed, "
        "○ imaging due; below, the total volume of the contoured foci (cm³) and the RECIST "
        "1.1 sum of the target-lesion diameters (mm; Eisenhauer et al., Eur J Cancer 2009) "
        "at each imaged timepoint."
    )
    return (
        f"<p><img src='report://timeline.png' width='{width_px}'><br>"
        f"<small>{html.escape(caption)}</small></p>"
    )


def render_case_report_pdf(report: Any, path: Path | str) -> Path:
    """Write ``report`` (a CaseReport) as a PDF of as many A4 pages as needed.

    Raises
    ------
    RuntimeError
        No QGuiApplication exists (Qt needs one for fonts).
    TacePlannerError
        The PDF file cannot be opened for writing.
    """
    if QGuiApplication.instance() is None:
        raise RuntimeError("render_case_report_pdf needs a QGuiApplication")
    path = Path(path)
    writer, page, document = a4_document(path, f"Case report {report.case_number}")
    width = int(page.width() * 0.45 * LOGICAL_DPI / RESOLUTION_DPI)
    for k, (_, key) in enumerate(report.key_images):
        document.addResource(
            QTextDocument.ResourceType.ImageResource,
            QUrl(f"report://key-{k}.png"),
            key_image_qimage(key),
        )
    timeline = getattr(report, "timeline", None)
    if timeline is not None:
        document.addResource(
            QTextDocument.ResourceType.ImageResource,
            QUrl("report://timeline.png"),
            timeline_qimage(timeline, report.record.anchor_on),
        )
    document.setDefaultFont(QFont("DejaVu Sans", 9))
    document.setHtml(case_report_html(report, width, int(width * 0.95 / 0.45)))
    document.setPageSize(QSizeF(page.width(), page.height()))
    painter = QPainter()
    if not painter.begin(writer):
        raise TacePlannerError(f"{path}: the PDF writer cannot open the file")
    try:
        for number in range(document.pageCount()):
            if number:
                writer.newPage()
            painter.save()
            painter.translate(0, -number * page.height())
            document.drawContents(
                painter, QRectF(0, number * page.height(), page.width(), page.height())
            )
            painter.restore()
    finally:
        painter.end()
    return path
