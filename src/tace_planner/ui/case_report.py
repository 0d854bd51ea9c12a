"""The PDF case report: key image per timepoint, plan, procedures, therapy lines, the case
timeline, the stored response of each follow-up by every criterion (RECIST 1.1, mRECIST,
EASL, Choi, volumetric: :func:`response_table_html`) and time to progression, on as many
A4 pages as it needs (Qt's QPdfWriter, like the plan sheet). The timeline is painted by
:mod:`tace_planner.ui.timeline_image` against days from day 0.

De-identified records print the pseudonym and days from the first TACE, never a name,
an ID or a date.

The responses are the case's current stored assessments (``StoredAssessment`` of
:mod:`tace_planner.services.assessment_records`, or their ``to_json()`` dicts): the
``responses`` argument, else the report's ``responses`` when it carries them.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QSizeF, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QGuiApplication,
    QPainter,
    QTextCursor,
    QTextDocument,
)

from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.response.best import best_response_wording
from tace_planner.domain.response.mrecist import SOURCE as MRECIST_SOURCE
from tace_planner.domain.response.other import EASL, THRESHOLD_CRITERIA
from tace_planner.domain.response.recist import SOURCE as RECIST_SOURCE
from tace_planner.domain.vocabulary import group_value_label
from tace_planner.services.export.record import day_of
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
    return f"{table}<thead><tr>{head}</tr></thead>{body}</table>"


def _who(record: Any) -> str:
    """The patient as people know them: the pseudonym once de-identified, else the
    Patient ID and name."""
    if record.deidentified:
        return str(record.record_id)
    return f"{record.patient_id} — {record.patient_name.replace('^', ' ')}"


def case_report_html(
    report: Any,
    image_width_px: int = 0,
    timeline_width_px: int = 0,
    responses: Sequence[Any] | None = None,
) -> str:
    """The report as HTML (key images referenced as ``report://key-<n>.png``, the timeline
    as ``report://timeline.png``); ``responses``: the stored assessments (default: the
    report's own; without either, the response section is left out rather than claiming
    that nothing was assessed)."""
    record = report.record
    if responses is None:  # None: not gathered, so the section is left out
        responses = getattr(report, "responses", None)
    number = report.case_number
    _, cases = level_rows([record], "case", first_case_id=number)
    case = {
        **cases[0],  # the groups as the case's groups dialog words them, not as stored
        **{
            key: group_value_label(value) if isinstance(value := cases[0].get(key), str) else value
            for key in ("metastases_timing", "tace_sequence")
        },
    }
    parts = [
        f"<h2>Case report — {html.escape(_who(record))}</h2>",
        f"<p>Day 0 is the {html.escape(record.anchor)}; days count from it.</p>",
        _table(
            [case],
            [
                ("sex", "Sex"),
                ("age_at_anchor_years", "Age, y"),
                ("primary_site", "Primary"),
                ("metastases_timing", "Liver metastases"),
                ("tace_sequence", "TACE given"),
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
        *(
            ()
            if responses is None
            else ("<h3>Response at each follow-up</h3>", response_table_html(record, responses))
        ),
        "<h3>Follow-up and time to progression</h3>",
        _table(
            [dict(r) for r in record.ttp],
            [
                ("start", "From"),
                ("scope", "Progression"),
                ("days", "Days"),
                ("event", "Event (1) or censored (0)"),
                ("note", "Note"),
            ],
        ),
        f"<p><small>{html.escape(DISCLAIMER)}</small></p>",
    ]
    return "<html><body>" + "".join(parts) + "</body></html>"


RESPONSE_CRITERIA = (
    ("recist", "RECIST 1.1", RECIST_SOURCE),
    ("mrecist", "mRECIST", MRECIST_SOURCE),
    ("easl", "EASL", THRESHOLD_CRITERIA[EASL].reference),
    ("choi", "Choi", "Choi et al., J Clin Oncol 2007"),
    (
        "volume",
        "Volumetric",
        "the RECIST 1.1 limits as sphere volumes; Eisenhauer, Eur J Cancer 2009",
    ),
)
"""(stored criterion, column heading, citation) of the response table, in print order."""

_FIGURES = (
    ("change from baseline", "{} from baseline"),
    ("change over nadir", "{} over nadir"),
    ("size change from baseline", "size {} from baseline"),
    ("attenuation change", "attenuation {} from baseline"),
    ("missing targets", "not measured: {}"),
)
"""The inputs of a stored explanation printed beside its category, and how."""


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _verdict(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The verdict that carries the numbers: the target response of RECIST 1.1 and
    mRECIST (when there are targets), else the criterion's own."""
    target = data.get("target")
    return target if isinstance(target, Mapping) else data


def _signed(text: str) -> str:
    """ "-61.8 %, -102 mm" as "−61.8 %, −102 mm"; "3.2 %" as "+3.2 %"."""
    parts = []
    for part in str(text).split(", "):
        if part[:1] == "-":
            part = "−" + part[1:]
        elif part[:1].isdigit() and not part.startswith(("0 ", "0.0 ")):
            part = "+" + part
        parts.append(part)
    return ", ".join(parts)


def response_figures(data: Mapping[str, Any]) -> list[str]:
    """The key figures of one stored assessment (its explanation JSON): the current value
    of what the criterion measures, its change from baseline and over the nadir, a new
    lesion, as the stored explanation gives them."""
    verdict = _verdict(data)
    inputs = (verdict.get("explanation") or {}).get("inputs") or {}
    figures = [
        f"{key.removeprefix('current ')} {value}"
        for key, value in inputs.items()
        if key.startswith("current ")
    ]
    for key, pattern in _FIGURES:
        if inputs.get(key):
            text = inputs[key] if key == "missing targets" else _signed(inputs[key])
            figures.append(pattern.format(text))
    new = data.get("new_lesions")
    if new in ("unequivocal", "equivocal"):
        figures.append(f"{new} new lesion")
    elif inputs.get("new lesions") == "yes":
        figures.append("new lesion")
    return figures


def _response_cell(item: Any) -> str:
    if item is None:
        return "—"
    data = _field(item, "explanation") or {}
    figures = "".join(f"<br><small>{html.escape(f)}</small>" for f in response_figures(data))
    return f"<b>{html.escape(str(_field(item, 'category') or '—'))}</b>{figures}"


def response_table_html(record: Any, responses: Sequence[Any]) -> str:
    """One row per assessed follow-up (visit, day from day 0, each criterion's category
    with its key figures), the best overall responses at the latest one, the notes the
    assessments carry and the criteria's publications. Each follow-up reads by the name
    the report's record gives it (a visit placed in a schedule slot by the slot's name, as
    in the worklist); de-identified: its visit "follow-up k", never the timepoint's label
    (it may hold a date)."""
    if not responses:
        return "<p>No response assessment stored.</p>"
    intro = (
        f"<p>The current assessment of each follow-up; days count from day 0 "
        f"({html.escape(record.anchor)}).</p>"
    )
    # the report's record names each visit (build_case_report: as the worklist does, or
    # "follow-up k" once de-identified); responses handed in may carry stored labels
    key = "visit" if record.deidentified else "timepoint"
    visits = {row.get("_timepoint_pk"): row.get(key) for row in record.lesions}
    points: dict[Any, dict[str, Any]] = {}
    for item in responses:
        on = _date(_field(item, "imaged_on"))
        point = points.setdefault(_field(item, "timepoint_pk"), {"on": on})
        point["label"] = _field(item, "timepoint")
        point[_field(item, "criterion")] = item
    ordered = sorted(points.items(), key=lambda kv: kv[1]["on"] or dt.date.max)
    head = "<th align='left'>Follow-up</th><th align='left'>Day</th>" + "".join(
        f"<th align='left'>{html.escape(name)}</th>" for _, name, _ in RESPONSE_CRITERIA
    )
    rows = []
    for timepoint_pk, point in ordered:
        fallback = "follow-up" if record.deidentified else point["label"]
        label = visits.get(timepoint_pk) or fallback
        day = day_of(record, _date(point["on"]))
        cells = "".join(
            f"<td valign='top'>{_response_cell(point.get(key))}</td>"
            for key, _, _ in RESPONSE_CRITERIA
        )
        rows.append(
            f"<tr><td valign='top'>{_e(label)}</td><td valign='top'>{_e(day)}</td>{cells}</tr>"
        )
    table = (
        "<table border='1' cellspacing='0' cellpadding='3' width='100%'>"
        f"<thead><tr>{head}</tr></thead>{''.join(rows)}</table>"
    )
    latest = ordered[-1][1]
    latest_day = day_of(record, _date(latest["on"]))
    return intro + table + _best_overall(latest, latest_day) + _response_notes(responses)


def _date(value: Any) -> dt.date | None:
    """An imaging date (a date, or its ISO text in a ``to_json()`` dict)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _best_overall(latest: Mapping[str, Any], latest_day: int | None) -> str:
    """The best overall response (RECIST 1.1 and mRECIST) as of the latest follow-up, its
    days counted from the report's day 0 (``latest_day``: the latest follow-up's day)."""
    lines = []
    for key, name, _ in RESPONSE_CRITERIA:
        data = _field(latest.get(key), "explanation") if latest.get(key) is not None else None
        best = (data or {}).get("best_overall")
        if isinstance(best, Mapping) and best.get("category"):
            rule = best_response_wording(best, latest_day).rule
            lines.append(f"{name}: <b>{_e(best['category'])}</b> ({_e(rule)})")
    if not lines:
        return ""
    frame = (
        "days from day 0"
        if latest_day is not None
        else "the day 0 is unknown, so days count from the baseline imaging"
    )
    return (
        f"<p>Best overall response with confirmation, as of the latest follow-up ({frame}; "
        "the minimum duration of stable disease counts from the baseline imaging): "
        + "; ".join(lines)
        + ".</p>"
    )


def _response_notes(responses: Sequence[Any]) -> str:
    """What each criterion was validated for, how its figures were obtained (the notes
    stored with the assessments) and its publication."""
    stored = {_field(item, "criterion"): _field(item, "explanation") or {} for item in responses}
    lines = []
    for key, name, source in RESPONSE_CRITERIA:
        if key not in stored:
            continue
        verdict = _verdict(stored[key])
        inputs = (verdict.get("explanation") or {}).get("inputs") or {}
        wrapped = source.startswith(f"{name} (") and source.endswith(")")
        details = [source[len(name) + 2 : -1] if wrapped else source]
        validated = str(verdict.get("validated_for") or "")
        if validated:
            details.append(
                validated if validated.startswith("no ") else f"validated for {validated}"
            )
        if inputs.get("thresholds"):
            details.append(f"thresholds {inputs['thresholds']}")
        if inputs.get("note"):
            details.append(str(inputs["note"]))
        lines.append(f"<b>{html.escape(name)}</b>: " + html.escape("; ".join(details)) + ".")
    return "<p><small>" + "<br>".join(lines) + "</small></p>"


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


def draw_pages(writer: Any, document: QTextDocument, width: float, height: float) -> None:
    """Paint the paginated ``document`` (page size ``width`` × ``height``) into ``writer``,
    one page after another, each line of text on one page only.

    Qt draws, besides the lines inside the clip rectangle, a line that only touches it and
    the line just above it within the same paragraph; clipped out of sight, they would
    still be in the PDF's text (read twice by search, copy and screen readers). So a
    paragraph that runs over a page break is first split there, and each page asks the
    layout for what lies strictly inside it (1 device pixel in from each edge).

    Raises
    ------
    TacePlannerError
        The PDF writer cannot be painted on.
    """
    _split_at_page_breaks(document, height)
    painter = QPainter()
    if not painter.begin(writer):
        raise TacePlannerError("the PDF writer cannot open the file")
    try:
        for number in range(document.pageCount()):
            if number:
                writer.newPage()
            top = number * height
            painter.save()
            painter.translate(0, -top)
            painter.setClipRect(QRectF(0, top, width, height))
            context = QAbstractTextDocumentLayout.PaintContext()
            context.clip = QRectF(0, top + 1, width, height - 2)
            document.documentLayout().draw(painter, context)
            painter.restore()
    finally:
        painter.end()


def _split_at_page_breaks(document: QTextDocument, height: float) -> None:
    """End each paragraph whose lines run onto the next page where that page begins (the
    rest is a paragraph of its own, without space above it: the layout does not change)."""
    layout = document.documentLayout()
    block = document.begin()
    while block.isValid():
        lines = block.layout()
        top = layout.blockBoundingRect(block).top()
        pages = [int((top + lines.lineAt(i).y()) // height) for i in range(lines.lineCount())]
        cut = next((i for i in range(1, len(pages)) if pages[i] != pages[i - 1]), None)
        if cut is not None:
            cursor = QTextCursor(block)
            before = block.blockFormat()
            before.setBottomMargin(0)
            cursor.setBlockFormat(before)
            after = block.blockFormat()
            after.setTopMargin(0)
            cursor.setPosition(block.position() + lines.lineAt(cut).textStart())
            cursor.insertBlock(after, cursor.charFormat())
        block = block.next()


def render_case_report_pdf(
    report: Any, path: Path | str, responses: Sequence[Any] | None = None
) -> Path:
    """Write ``report`` (a CaseReport) as a PDF of as many A4 pages as needed
    (``responses``: as :func:`case_report_html` takes them).

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
    writer, page, document = a4_document(path, f"Case report — {_who(report.record)}")
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
    document.setHtml(case_report_html(report, width, int(width * 0.95 / 0.45), responses))
    document.setPageSize(QSizeF(page.width(), page.height()))
    try:
        draw_pages(writer, document, page.width(), page.height())
    except TacePlannerError as error:
        raise TacePlannerError(f"{path}: {error}") from error
    return path
