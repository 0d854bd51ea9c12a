"""The printable plan sheet: one A4 PDF page written with Qt's PDF writer.

:func:`render_plan_pdf` lays out an HTML page with ``QTextDocument`` on a
``QPdfWriter`` (300 dpi, A4): patient and inputs, the burden table, a key image with
contours, the sessions with beads, vials and irinotecan, the warnings and the
explanation of every number, and the disclaimer. The text shrinks until the page
holds everything, so the sheet is always one page. :func:`plan_sheet_html` is the
same content as HTML (tests and previews).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QMarginsF, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from tace_planner.domain.body import FORMULA_NAMES
from tace_planner.domain.dosing_overrides import field_label
from tace_planner.domain.dosing_sessions import FIRST_SESSION_RULE
from tace_planner.domain.errors import TacePlannerError
from tace_planner.domain.person_name import readable_person_name
from tace_planner.services.planning_dto import DISCLAIMER

RESOLUTION_DPI = 300
LOGICAL_DPI = 96
MARGIN_MM = 10.0
FONT_SIZES_PT = (9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0)
KEY_IMAGE_URL = "plan://key-image.png"
KEY_IMAGE_MIN_PX = 512
"""Key images narrower than this are enlarged before labels are painted on them."""
SEVERITY_STYLE = {
    "block": ("BLOCK", "#ffffff", "#b00020"),
    "contraindication": ("CONTRA&shy;INDICATION", "#ffffff", "#6a1b9a"),
    "strong_warning": ("STRONG", "#ffffff", "#d35400"),
    "warning": ("WARNING", "#3d2c00", "#f5c242"),
    "info": ("INFO", "#0b3d62", "#d6eaf8"),
}
_PATIENT_LABELS = {
    "height_cm": ("Height", "cm"),
    "weight_kg": ("Weight", "kg"),
    "bilirubin_mg_dl": ("Bilirubin", "mg/dL"),
    "ecog": ("ECOG", ""),
    "ugt1a1_status": ("UGT1A1", ""),
    "extrahepatic_disease": ("Extrahepatic disease", ""),
    "ia_lidocaine_planned": ("IA lidocaine planned", ""),
    "measured_on": ("Measured on", ""),
}


MODEL_NAMES: dict[str, str] = {"burden": "burden-scaled", "fixed": "fixed dose"}
"""How a dosing model is named on the sheet (as in the plan dock), by its key."""


def _formula(key: str) -> str:
    """A BSA or SLV formula as people name it ("Mosteller", not ``mosteller``)."""
    return FORMULA_NAMES.get(key, key)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}{(' ' + unit) if unit else ''}"


def vial_loads_text(loads_mg: Any) -> str:
    """``100 + 100``; with a vial that carries no drug, each vial named and that said:
    ``vial 1: 100, vial 2: 0 — unloaded beads`` (mg)."""
    loads = [float(v) for v in loads_mg]
    if len(loads) < 2 or all(v > 0 for v in loads):
        return " + ".join(f"{v:.0f}" for v in loads)
    vials = ", ".join(f"vial {i}: {v:.0f}" for i, v in enumerate(loads, start=1))
    return f"{vials} — unloaded beads"


def _status_line(plan: Any) -> str:
    status = getattr(plan, "status", None)
    if status is None:
        return "PROPOSAL — not saved"
    line = f"{status.upper()} — plan version {plan.plan_version}"
    if getattr(plan, "supersedes_version", None):
        line += f" (supersedes version {plan.supersedes_version})"
    if plan.approved_at:
        when = plan.approved_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        line += f", approved by {plan.approved_by} on {when}"
    return line


def progress_html(plan: Any, progress: Any = None) -> str:
    """The approved plan under way (sessions performed and to perform), and, when the sheet
    prints another plan, that it is a new plan counted after them ("" when none is
    performed). ``progress`` defaults to the one a live proposal carries."""
    proposal = getattr(plan, "proposal", plan)
    progress = progress if progress is not None else getattr(proposal, "progress", None)
    if progress is None:
        return ""
    lines = [progress.summary()]
    if getattr(plan, "plan_version", None) != progress.plan_version:
        lines.append(progress.new_plan_note(plan, subject="This sheet"))
    text = "<br>".join(_e(line) for line in lines if line)
    return f"<p style='background-color: #d6eaf8; color: #0b3d62'>{text}</p>"


def _patient_table(plan: Any) -> str:
    proposal = getattr(plan, "proposal", plan)
    inputs = proposal.patient.to_json()
    cells = []
    for name, (label, unit) in _PATIENT_LABELS.items():
        value = inputs.get(name)
        if value is None or value == "":
            text = "not recorded"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
            text += f" {unit}" if unit else ""
        cells.append(f"<td><b>{_e(label)}</b>: {_e(text)}</td>")
    bsa = plan.figures.get("bsa_m2")
    bsa_name = _formula(proposal.options.bsa_formula)
    cells.append(f"<td><b>BSA ({_e(bsa_name)})</b>: {_num(bsa, 3, 'm²')}</td>")
    rows = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    return (
        "<table width='100%' cellpadding='1'>"
        + "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
        + "</table>"
    )


def _no_dose_reasons(plan: Any) -> str:
    """Why no session is proposed: every block, listed (else the warnings that apply)."""
    reasons = [a for a in plan.advisories if a.severity == "block"]
    if not reasons:
        reasons = [a for a in plan.advisories if a.severity not in ("info",)]
    if not reasons:
        return "<b>No dose proposed.</b>"
    items = "".join(f"<li>{_e(a.message)}</li>" for a in reasons)
    return f"<b>No dose proposed:</b><ul style='margin-top:0'>{items}</ul>"


def _burden_table(plan: Any) -> str:
    figures = plan.figures
    proposal = getattr(plan, "proposal", plan)
    rows = [
        (
            "Liver volume V<sub>liv</sub> (measured)",
            _num(figures.get("liver_volume_cm3"), 0, "cm³"),
        ),
        (
            f"Standard liver volume ({_e(_formula(proposal.options.slv_formula))})",
            _num(figures.get("standard_liver_volume_cm3"), 0, "cm³"),
        ),
        ("Tumour volume V<sub>mts</sub>", _num(figures.get("tumour_volume_cm3"), 1, "cm³")),
        (
            "Tumour burden F = V<sub>mts</sub>/V<sub>liv</sub>",
            _num(figures.get("burden_percent"), 1, "%"),
        ),
        (
            "V<sub>mts</sub> / non-tumour liver",
            _num(figures.get("burden_percent_of_non_tumour_liver"), 1, "%"),
        ),
    ]
    for lobe, label in (
        ("right", "Right lobe (V–VIII)"),
        ("left", "Left lobe (II–IV)"),
        ("caudate", "Caudate lobe (I)"),
        ("unassigned", "No segment"),
    ):
        key = f"tumour_volume_cm3.{lobe}"
        value = figures.get(key)
        if lobe == "unassigned" and not value:
            continue
        if key in figures:  # None: unknown while foci have no segment (the why says which)
            rows.append((f"&nbsp;&nbsp;{label}", _num(value, 1, "cm³")))
    foci = ", ".join(
        [
            f"{_e(f.name)} ({_e(f.couinaud_segment or '?')}) {f.volume_cm3:.1f}"
            + ("" if f.trust in ("", "ok") else f" <b>[geometry {_e(f.trust)}]</b>")
            for f in proposal.burden.foci
        ]
        + [
            f"<b>{_e(u.name)} ({_e(u.couinaud_segment or '?')}) not measured: {_e(u.reason)}</b>"
            for u in proposal.burden.unmeasured
        ]
    )
    body = "".join(
        f"<tr><td>{label}</td><td align='right'>{value}</td></tr>" for label, value in rows
    )
    return (
        "<table width='100%' border='1' cellspacing='0' cellpadding='2' "
        "style='border-collapse: collapse; border-color: #999'>"
        f"<tr><th colspan='2' align='left' bgcolor='#eeeeee'>Tumour burden (baseline)</th></tr>"
        f"{body}<tr><td colspan='2'><small>Foci (segment, cm³): {foci or '—'}</small></td></tr>"
        "</table>"
    )


def _sessions_table(plan: Any) -> str:
    head = (
        "<tr bgcolor='#eeeeee'><th>#</th><th>Day / date</th><th align='left'>Territory</th>"
        "<th>Tumour cm³</th><th>Beads mL</th><th>Vials</th><th>Irinotecan loaded mg</th>"
        "<th>Expected delivered mg</th><th align='left'>Notes</th></tr>"
    )
    rows = []
    for s in plan.sessions:
        when = f"day {s.day}" + (f"<br>{s.on.isoformat()}" if s.on else "")
        notes = {
            "max_beads": "max beads/session",
            "min_beads": "min beads/session",
            "capacity": "product capacity",
            "session_cap": "session limit",
            "whole_vial_step": "whole-vial step",
            "override": "physician override",
        }
        note = ", ".join(notes.get(x, x) for x in s.limited_by)
        loads = vial_loads_text(s.vial_loads_mg)
        rows.append(
            "<tr>"
            f"<td align='center'>{s.number}</td><td align='center'>{when}</td>"
            f"<td>{_e(s.territory_label)}</td>"
            f"<td align='right'>{s.tumour_volume_cm3:.1f}</td>"
            f"<td align='right'><b>{s.beads_ml:.2f}</b></td>"
            f"<td align='right'><b>{s.vials}</b></td>"
            f"<td align='right'><b>{s.irinotecan_loaded_mg:.0f}</b>"
            f"<br><small>({_e(loads)})</small></td>"
            f"<td align='right'><b>{s.irinotecan_expected_delivered_mg:.0f}</b></td>"
            f"<td><small>{_e(note)}</small></td></tr>"
        )
    if not rows:
        rows.append(f"<tr><td colspan='9'>{_no_dose_reasons(plan)}</td></tr>")
    total = (
        f"<tr><td colspan='4' align='right'><b>Total</b></td><td></td><td></td>"
        f"<td align='right'><b>{plan.total_loaded_mg:.0f}</b></td>"
        f"<td align='right'><b>{plan.total_expected_delivered_mg:.0f}</b></td><td></td></tr>"
    )
    return (
        "<table width='100%' border='1' cellspacing='0' cellpadding='2' "
        "style='border-collapse: collapse; border-color: #999'>"
        + head
        + "".join(rows)
        + total
        + "</table>"
    )


SEVERITY_MIN_WIDTH_PERCENT = 13.0


def severity_width_percent(font: QFont, device: Any, page_width_px: float) -> float:
    """Width of the severity column (percent of the page) that holds every label unbroken.

    Each label is measured in bold in ``font`` on ``device`` (the PDF writer); a label
    may break only at its soft hyphen ("CONTRA-INDICATION"), so the widest piece
    between soft hyphens sets the width, plus the cell padding.
    """
    bold = QFont(font)
    bold.setBold(True)
    metrics = QFontMetricsF(bold, device)
    pieces = [
        piece + "-" for label, _, _ in SEVERITY_STYLE.values() for piece in label.split("&shy;")
    ]
    widest = max(metrics.horizontalAdvance(piece) for piece in pieces)
    padding = 4 * metrics.averageCharWidth()
    return max(SEVERITY_MIN_WIDTH_PERCENT, 100.0 * (widest + padding) / page_width_px)


def _advisories(plan: Any, label_width_percent: float = SEVERITY_MIN_WIDTH_PERCENT) -> str:
    acknowledged = set(getattr(plan, "acknowledged", ()))
    reasons = dict(getattr(plan, "contraindications_overridden", {}) or {})
    rows = []
    for advisory in plan.advisories:
        label, fg, bg = SEVERITY_STYLE[advisory.severity]
        ack = " ✓ acknowledged" if advisory.code in acknowledged else ""
        if advisory.code in reasons:
            ack = f" ✓ overridden by the physician: {_e(reasons[advisory.code])}"
        source = f" <i>({_e(advisory.source)})</i>" if advisory.source else ""
        rows.append(
            f"<tr><td bgcolor='{bg}' width='{label_width_percent:.0f}%' align='center' nowrap>"
            f"<font color='{fg}'>"
            f"<b>{label}</b></font></td><td>{_e(advisory.message)}{source}<b>{ack}</b></td></tr>"
        )
    if not rows:
        return "<p>No warnings.</p>"
    return "<table width='100%' cellspacing='1' cellpadding='2'>" + "".join(rows) + "</table>"


def _explanations(plan: Any) -> str:
    """Each number's explanation, numbered sources below.

    A session's day is listed only when its date rests on a treatment performed
    (:data:`~tace_planner.domain.dosing_sessions.FIRST_SESSION_RULE`): otherwise it says
    no more than the sessions table (day = (session − 1) × interval).
    """
    items: list[tuple[str, Any]] = []
    for key in ("bsa_m2", "standard_liver_volume_cm3", "burden_percent"):
        explanation = plan.explanations.get(key)
        if explanation is not None:
            items.append(("", explanation))
    for session in plan.sessions:
        day = session.explanations.get("day")
        if day is not None and FIRST_SESSION_RULE in day.formula:
            items.append((f"S{session.number} ", day))
        for key in (
            "beads_ml",
            "vials",
            "irinotecan_loaded_mg",
            "irinotecan_expected_delivered_mg",
        ):
            explanation = session.explanations.get(key)
            if explanation is not None:
                items.append((f"S{session.number} ", explanation))
    sources: list[str] = []
    lines = []
    for prefix, item in items:
        if item.source not in sources:
            sources.append(item.source)
        reference = sources.index(item.source) + 1
        values = ", ".join(f"{k} = {v}" for k, v in item.inputs.items())
        lines.append(
            f"<li><b>{_e(prefix + item.summary)}</b>: {_e(item.formula)}"
            f"{' with ' + _e(values) if values else ''} → <b>{_e(item.result)}</b>"
            f" [{reference}]</li>"
        )
    cited = "; ".join(f"[{n}] {_e(text)}" for n, text in enumerate(sources, start=1))
    return f"<ul>{''.join(lines)}</ul><p><small><i>Sources: {cited}</i></small></p>"


def _overrides(plan: Any) -> str:
    overrides = getattr(plan, "overrides", ())
    if not overrides:
        return ""
    rows = "".join(
        f"<li>{_e(field_label(o.field))}: {o.value:g} (proposed {o.proposed:g}) — "
        f"{_e(o.reason)}</li>"
        for o in overrides
    )
    return f"<p><b>Overrides by the physician</b></p><ul>{rows}</ul>"


def key_legend_html(labels: Any) -> str:
    """The contours' legend in the lesions' own colours ("■ liver, ■ F1 …"), as HTML."""
    items = [
        f"<font color='{_e(label.colour)}'>■</font> {_e(label.name)}"
        for label in labels
        if str(getattr(label, "colour", "")).startswith("#")
    ]
    return ("contours in each lesion's colour: " + ", ".join(items)) if items else ""


def plan_sheet_html(
    plan: Any,
    *,
    key_image_width_px: int = 0,
    key_caption: str = "",
    key_legend: str = "",
    severity_width: float = SEVERITY_MIN_WIDTH_PERCENT,
    progress: Any = None,
) -> str:
    """The plan sheet as HTML (the key image, if any, is the resource :data:`KEY_IMAGE_URL`;
    ``key_legend`` is HTML from :func:`key_legend_html`; ``severity_width`` is the
    warnings' label column in percent, from :func:`severity_width_percent`; ``progress``
    the approved plan under way, see :func:`progress_html`)."""
    proposal = getattr(plan, "proposal", plan)
    model = MODEL_NAMES.get(proposal.model, proposal.model)
    case = plan.case
    params = proposal.parameters
    planning = params.get("planning", {})
    product = params.get("product", {})
    capacity = product.get("irinotecan_capacity_mg_per_ml", {}).get("value")
    vial = product.get("vial_bead_volume_ml", {}).get("value")
    computed = proposal.computed_at.strftime("%Y-%m-%d %H:%M UTC") if proposal.computed_at else "—"
    tace = case.planned_tace_on.isoformat() if case.planned_tace_on else "not set"
    patient = readable_person_name(case.patient_name)
    if key_image_width_px:
        legend = f" — {key_legend}" if key_legend else ""
        image = (
            f"<img src='{KEY_IMAGE_URL}' width='{key_image_width_px}'><br>"
            f"<small>{_e(key_caption)}{legend}</small>"
        )
    else:
        image = "<small>No key image: no focus is contoured at baseline.</small>"
    return f"""
<html><body>
<table width='100%' cellpadding='0' cellspacing='0'><tr>
<td><font size='+2'><b>DEBIRI treatment plan</b></font><br>
TACE Planner — {_e(_status_line(plan))}</td>
<td align='right'>Computed {_e(computed)}<br>Model: <b>{_e(model)}</b>,
 planning parameters v{_e(planning.get("version", "?"))},
 bead catalogue v{_e(params.get("catalogue_version", "?"))}</td>
</tr></table>
<p style='background-color: #fff4ce; color: #5c4400'><b>{_e(DISCLAIMER)}</b></p>
{progress_html(plan, progress)}
<p><b>Patient</b>: {_e(patient)} [{_e(case.patient_id)}] &nbsp; <b>Case</b>:
 {_e(case.case_title)} &nbsp; <b>Planned TACE</b>: {_e(tace)}</p>
{_patient_table(plan)}
<table width='100%' cellspacing='0' cellpadding='3'><tr>
<td width='62%' valign='top'>{_burden_table(plan)}
<p><b>Product</b>: {_e(product.get("name", "—"))}; vial {_num(vial, 1, "mL")} beads;
 irinotecan capacity {_num(capacity, 0, "mg/mL")}; loading
 {_num(proposal.options.loading_mg_per_ml, 0, "mg/mL")}; interval
 {_e(proposal.options.interval_days)} days; {_e(proposal.options.delivery)} delivery,
 {_e(proposal.options.schedule)} sessions.</p></td>
<td width='38%' valign='top' align='center'>{image}</td>
</tr></table>
<p><b>Sessions</b></p>
{_sessions_table(plan)}
{_overrides(plan)}
<p><b>Warnings</b></p>
{_advisories(plan, severity_width)}
<p><b>Why these numbers</b></p>
{_explanations(plan)}
<p>Physician: ______________________ &nbsp; Signature: ______________________ &nbsp;
 Date: ____________</p>
<p><small>{_e(DISCLAIMER)}</small></p>
</body></html>
"""


def _qimage(pixels: np.ndarray) -> QImage:
    array = np.ascontiguousarray(pixels)
    if array.ndim == 2:
        array = array.astype(np.uint8)
        height, width = array.shape
        return QImage(array.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    if array.ndim == 3 and array.shape[2] == 3:
        array = array.astype(np.uint8)
        height, width = array.shape[:2]
        return QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    raise ValueError(f"key image must be (rows, columns) or (rows, columns, 3), got {array.shape}")


def key_image_qimage(key_image: Any) -> QImage:
    """The key image as a QImage with what the sheet writes on it.

    A :class:`~tace_planner.services.plan_key_image.KeyImage` gets its lesion labels
    (in the lesions' colours, outlined for contrast), the orientation letters of its
    four edges and its scale bar painted on; a bare array is shown as it is. Small
    images are enlarged (nearest neighbour) so that the text stays legible.
    """
    pixels = key_image.pixels if hasattr(key_image, "pixels") else key_image
    image = _qimage(pixels)
    labels = tuple(getattr(key_image, "labels", ()))
    edges = dict(getattr(key_image, "edges", {}) or {})
    bar_mm = float(getattr(key_image, "scale_bar_mm", 0.0) or 0.0)
    bar_px = float(getattr(key_image, "scale_bar_px", 0.0) or 0.0)
    if not (labels or edges or bar_px):
        return image
    factor = max(1, -(-KEY_IMAGE_MIN_PX // max(image.width(), 1)))
    if factor > 1:
        image = image.scaled(image.width() * factor, image.height() * factor)
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    font = QFont("DejaVu Sans")
    font.setPixelSize(max(12, width // 30))
    font.setBold(True)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        margin = max(4, width // 100)
        for label in labels:
            x = min(label.column * factor + margin, width - metrics.horizontalAdvance(label.name))
            y = max(label.row * factor - margin // 2, metrics.ascent())
            _outlined_text(painter, x, y, label.name, QColor(label.colour))
        white = QColor(255, 255, 255)
        ascent = metrics.ascent()
        for edge, letters in edges.items():
            advance = metrics.horizontalAdvance(letters)
            x, y = {
                "left": (margin, (height + ascent) // 2),
                "right": (width - advance - margin, (height + ascent) // 2),
                "top": ((width - advance) // 2, ascent + margin),
                "bottom": ((width - advance) // 2, height - margin - metrics.descent()),
            }[edge]
            _outlined_text(painter, x, y, letters, white)
        if bar_px > 0:
            length = round(bar_px * factor)
            x1 = width - margin * 2
            x0 = x1 - length
            y = height - margin * 2 - metrics.height()
            pen = QPen(white)
            pen.setWidth(max(2, width // 200))
            painter.setPen(pen)
            tick = max(4, width // 80)
            painter.drawLine(x0, y, x1, y)
            painter.drawLine(x0, y - tick, x0, y + tick)
            painter.drawLine(x1, y - tick, x1, y + tick)
            text = f"{bar_mm:g} mm"
            tx = x0 + (length - metrics.horizontalAdvance(text)) // 2
            _outlined_text(painter, tx, y + tick + ascent, text, white)
    finally:
        painter.end()
    return image


def _outlined_text(painter: QPainter, x: int, y: int, text: str, colour: QColor) -> None:
    """Text with a dark outline, legible on any grey level."""
    painter.setPen(QColor(0, 0, 0))
    for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)):
        painter.drawText(x + dx * 2, y + dy * 2, text)
    painter.setPen(colour)
    painter.drawText(x, y, text)


def render_plan_pdf(
    plan: Any,
    path: Path | str,
    key_image: Any = None,
    *,
    key_caption: str = "",
    progress: Any = None,
) -> Path:
    """Write the plan sheet of ``plan`` (a PlanProposal or a PlanItem) as a one-page A4 PDF.

    Parameters
    ----------
    plan : PlanProposal or PlanItem
        What to print.
    path : pathlib.Path or str
        The PDF file to write.
    key_image : numpy.ndarray or KeyImage, optional
        (rows, columns) grey or (rows, columns, 3) RGB uint8 pixels, or an object
        with ``pixels`` and ``caption`` (``PlanningService.key_image``).
    key_caption : str
        Caption of a bare array.
    progress : PlanProgress, optional
        The case's approved plan under way (default: the one a live proposal carries),
        printed above the patient.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    RuntimeError
        No QGuiApplication exists (Qt needs one for fonts).
    TacePlannerError
        The sheet cannot be written there (a folder, a missing folder, a file
        that is not a PDF, no permission, a full disk); nothing is left behind.

    Notes
    -----
    The PDF is written under a temporary name beside ``path`` and renamed into
    place once complete.
    """
    if QGuiApplication.instance() is None:
        raise RuntimeError("render_plan_pdf needs a QGuiApplication (or QApplication)")
    path = check_pdf_target(Path(path))
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(handle)
    except OSError as error:
        raise TacePlannerError(
            f"{path.parent}: cannot write the plan sheet there ({error.strerror or error})"
        ) from None
    temporary = Path(name)
    try:
        _render(plan, temporary, key_image, key_caption, progress)
        if temporary.stat().st_size == 0:
            raise TacePlannerError(f"{path}: the plan sheet could not be written (disk full?)")
        os.replace(temporary, path)
    except OSError as error:
        raise TacePlannerError(
            f"{path}: the plan sheet could not be written ({error.strerror or error})"
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return path


def check_pdf_target(path: Path) -> Path:
    """Refuse a plan-sheet target that cannot or must not be written.

    Raises
    ------
    TacePlannerError
        A folder, a missing folder, or an existing file that is not a PDF (a plan
        sheet never replaces another kind of file).
    """
    if path.is_dir():
        raise TacePlannerError(f"{path} is a folder; give a file name, e.g. {path / 'plan.pdf'}")
    if not path.parent.is_dir():
        raise TacePlannerError(f"{path.parent}: no such folder")
    if path.exists():
        try:
            with open(path, "rb") as handle:
                is_pdf = handle.read(5) == b"%PDF-"
        except OSError as error:
            raise TacePlannerError(f"{path}: cannot be replaced ({error.strerror})") from None
        if not is_pdf:
            raise TacePlannerError(f"{path} exists and is not a PDF; it is not replaced")
    return path


def a4_document(path: Path, title: str) -> tuple[QPdfWriter, Any, QTextDocument]:
    """An A4 PDF writer at :data:`RESOLUTION_DPI` with the sheet margins, its printable
    rectangle (pixels) and a text document laid out on it (the plan sheet and the
    procedure note share it)."""
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Unit.Millimeter
    )
    writer.setTitle(title)
    writer.setCreator("TACE Planner")
    page = writer.pageLayout().paintRectPixels(RESOLUTION_DPI)
    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDocumentMargin(0)
    return writer, page, document


def _render(plan: Any, path: Path, key_image: Any, key_caption: str, progress: Any = None) -> None:
    """Paint the sheet into ``path``; raises when Qt cannot open the file."""
    legend = ""
    if key_image is not None and hasattr(key_image, "pixels"):
        key_caption = key_caption or str(getattr(key_image, "caption", ""))
        legend = key_legend_html(getattr(key_image, "labels", ()))
    # the case as people know it: its title and the Patient ID (never a database number)
    title = f"DEBIRI plan — {plan.case.case_title} — {plan.case.patient_id}"
    writer, page, document = a4_document(path, title)
    document.setTextWidth(page.width())
    image_width = 0
    if key_image is not None:
        image = key_image_qimage(key_image)
        # <img width> is in logical pixels at 96 dpi, scaled to the writer's 300 dpi.
        image_width = int(page.width() * 0.36 * LOGICAL_DPI / RESOLUTION_DPI)
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(KEY_IMAGE_URL), image)
    for size in FONT_SIZES_PT:
        font = QFont("DejaVu Sans", size)
        document.setDefaultFont(font)
        html_text = plan_sheet_html(
            plan,
            key_image_width_px=image_width,
            key_caption=key_caption,
            key_legend=legend,
            severity_width=severity_width_percent(font, writer, page.width()),
            progress=progress,
        )
        document.setHtml(html_text)
        document.setTextWidth(page.width())
        if document.size().height() <= page.height():
            break
        if image_width:
            image_width = int(image_width * 0.9)
    painter = QPainter()
    if not painter.begin(writer):
        raise TacePlannerError(f"{path}: the PDF writer cannot open the file")
    try:
        document.drawContents(painter)
    finally:
        painter.end()
