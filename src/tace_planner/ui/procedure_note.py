"""The printable procedure note of one TACE: one A4 PDF page written with Qt's PDF writer.

Like the plan sheet (:mod:`tace_planner.ui.plan_sheet`): patient and case, the key
image, what was delivered (kept apart from what was loaded), differences from the
plan with their reasons, adverse events with their grades, risk factors with
their sources, the signatures and amendments, and the disclaimer.
:func:`procedure_note_html` is the same content as HTML (tests and previews).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QPainter,
    QTextDocument,
)

from tace_planner.domain.person_name import readable_person_name
from tace_planner.domain.procedure import DELIVERED_DOSE_RULE, ENDPOINT_LABELS
from tace_planner.domain.procedure_plan import END_POINT_NOTE, delivery_against_plan
from tace_planner.domain.procedure_risk import CIRSE_SOURCE, CTCAE_SOURCE, grade_text
from tace_planner.services.procedure_dto import DISCLAIMER
from tace_planner.ui.plan_sheet import (
    FONT_SIZES_PT,
    LOGICAL_DPI,
    RESOLUTION_DPI,
    a4_document,
    key_image_qimage,
    key_legend_html,
)

KEY_IMAGE_URL = "procedure://key-image.png"


def _e(value: Any) -> str:
    return html.escape("—" if value in (None, "") else str(value))


NO_BREAK = "\u00a0"
"""Between a number and its unit, so that a line never ends between them."""
_UNIT_SPACE = re.compile(r"(\d) (?=%|mg\b|mL\b|min\b|mGy\b|Gy|days?\b|vials?\b|UTC\b)")


def _unit(number: str, unit: str) -> str:
    """``100`` and ``%`` → ``100 %`` joined by a no-break space."""
    return f"{number}{NO_BREAK}{unit}" if unit else number


def keep_units(text: str) -> str:
    """``text`` with a no-break space between each number and the unit after it."""
    return _UNIT_SPACE.sub(lambda m: m.group(1) + NO_BREAK, text)


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "—"
    return _unit(f"{value:.{digits}f}", unit)


def _joined(*parts: str, sep: str = "; ") -> str:
    """The parts that were entered, joined; "—" when none was."""
    return sep.join(p for p in parts if p) or "—"


def _injected(record: Any) -> str:
    """``2.4 mL; fraction 60 %``, leaving out what was not entered."""
    volume = _num(record.injected_ml, 1, "mL") if record.injected_ml is not None else ""
    fraction = record.delivered_fraction
    share = "" if fraction is None else "fraction " + _unit(f"{fraction * 100:.0f}", "%")
    return _joined(volume, share)


def _lidocaine(record: Any) -> str:
    """``40 mg before embolisation``, leaving out what was not entered."""
    dose = _num(record.lidocaine_mg, 0, "mg") if record.lidocaine_mg is not None else ""
    return _joined(dose, html.escape(record.lidocaine_timing.strip()), sep=" ")


def _signature(revision: Any) -> str:
    """``Revision 1, signed by dr.tour on …`` (the status said once), or ``Revision 2: draft``."""
    text = f"Revision {revision.revision}"
    if revision.signed_at:
        status = "" if revision.status == "signed" else f", {_e(revision.status)}"
        text += (
            f"{status}, signed by {_e(revision.signed_by)} on "
            f"{revision.signed_at:%Y-%m-%d %H:%M} UTC"
        )
    else:
        text += f": {_e(revision.status)}"
    if revision.amendment_reason:
        text += f" — amendment: {_e(revision.amendment_reason)}"
    return f"<li>{text}</li>"


def _rows(pairs: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td width='38%'><b>{_e(k)}</b></td><td>{v}</td></tr>" for k, v in pairs)
    return f"<table width='100%' cellspacing='0' cellpadding='2' border='0'>{cells}</table>"


def _status(item: Any) -> str:
    text = {"draft": "DRAFT — not signed", "signed": "SIGNED", "amended": "AMENDED"}.get(
        item.status, item.status.upper()
    )
    if not item.is_latest:
        text += f" — earlier version (revision {item.revision}), superseded by an amendment"
    return text


def _difference_values(item: Any, difference: Any) -> tuple[str, str]:
    """What was planned and done, a product by its name (the record keeps the code)."""
    if difference.key != "product_code":
        return difference.planned, difference.actual
    planned = item.planned.product_name if item.planned is not None else ""
    return planned or difference.planned, item.record.product_name or difference.actual


MISSING_REASON_COLOUR = "#b00020"
"""An unexplained difference from the plan is a finding: printed bold in this red."""


def _reason_html(item: Any, difference: Any) -> str:
    """The reason given for a difference, or a flagged line saying that none is recorded.

    Signing and amending refuse a difference without a reason, so only a draft (or a
    record signed before that rule) can reach here without one.
    """
    if difference.reason.strip():
        return f"reason: {_e(difference.reason)}"
    draft = item.status == "draft"
    missing = "No reason recorded" + (" yet (needed before signing)" if draft else "")
    return f"<font color='{MISSING_REASON_COLOUR}'><b>{missing}</b></font>"


def _no_difference(against: Any) -> str:
    """The differences list when nothing needs a reason: never "as planned" beside a
    material shortfall (or excess) of the delivered dose."""
    if against is not None and against.material:
        return f"<li>None needing a reason. {_e(against.text)}: {_e(END_POINT_NOTE)}.</li>"
    return "<li>None: done as planned.</li>"


def document_title(item: Any) -> str:
    """The PDF's title, naming the case as people do (patient and case title)."""
    patient = readable_person_name(item.patient_name) or item.patient_id
    return " — ".join(p for p in (f"TACE {item.number}", patient, item.case_title) if p)


def procedure_note_html(
    item: Any, *, key_image_width_px: int = 0, key_caption: str = "", key_legend: str = ""
) -> str:
    """The procedure note as HTML (the key image, if any, is :data:`KEY_IMAGE_URL`;
    ``key_legend`` is HTML from :func:`~tace_planner.ui.plan_sheet.key_legend_html`)."""
    record = item.record
    planned = item.planned
    patient = readable_person_name(item.patient_name)  # "DEMO, Phantom", as the plan sheet
    origin = (
        f"Approved plan version {planned.plan_version}, session {planned.number}: "
        f"{planned.territory_label}; planned {planned.loaded_mg:.0f} mg loaded in "
        f"{planned.vials} vial(s)"
        if planned
        else "<b>Unplanned procedure</b> (no approved plan)"
    )
    times = ""
    if record.start_time or record.end_time:
        start, end = (
            t.strftime("%H:%M") if t else None for t in (record.start_time, record.end_time)
        )
        times = f" {_e(start)}–{_e(end)}"
    vessels = "; ".join(f"{v.artery} ({', '.join(v.segments) or '—'})" for v in record.vessels)
    against = delivery_against_plan(item.delivered_mg, planned, record.delivered_fraction)
    delivery = _rows(
        [
            ("Product", _e(f"{record.product_name or record.product_code} {record.size_range}")),
            ("Lot / expiry", f"{_e(record.lot)} / {_e(record.expiry)}"),
            ("Vials prepared", _e(record.vials)),
            (
                "Irinotecan loaded",
                _num(item.loaded_mg, 1, "mg")
                + (
                    " (per vial " + ", ".join(f"{v:g}" for v in record.loaded_per_vial_mg) + " mg)"
                    if record.loaded_per_vial_mg
                    else ""
                ),
            ),
            ("Suspension injected", _injected(record)),
            (
                "Irinotecan DELIVERED",
                f"<b><font size='+1'>{_num(item.delivered_mg, 1, 'mg')}</font></b>",
            ),
            ("Against the plan", _e(against.text if against else None)),
            ("End point", _e(ENDPOINT_LABELS.get(record.endpoint, record.endpoint))),
        ]
    )
    angio = _rows(
        [
            ("Access", _e(f"{record.access_site} {record.access_side}".strip())),
            ("Feeding arteries", _e(", ".join(record.feeding_arteries))),
            ("Findings", _e(record.angiography_note)),
            ("Vessels treated", _e(vessels)),
            ("Microcatheter", _e(record.microcatheter)),
            (
                "Contrast / fluoroscopy",
                f"{_num(record.contrast_ml, 0, 'mL')} / {_num(record.fluoroscopy_min, 1, 'min')}",
            ),
            (
                "DAP / air kerma",
                f"{_num(record.dap_gy_cm2, 1, 'Gy·cm²')} / {_num(record.air_kerma_mgy, 0, 'mGy')}",
            ),
            ("IA lidocaine", _lidocaine(record)),
            (
                "Antiemetics / analgesia / antibiotics",
                f"{_e(record.antiemetics)} / {_e(record.analgesia)} / {_e(record.antibiotics)}",
            ),
        ]
    )
    if key_image_width_px:
        legend = f" — {key_legend}" if key_legend else ""
        image = (
            f"<img src='{KEY_IMAGE_URL}' width='{key_image_width_px}'><br>"
            f"<small>{_e(key_caption)}{legend}</small>"
        )
    else:
        image = "<small>No key image.</small>"
    differences = "".join(
        "<li>{}: planned {}, done {} — {}</li>".format(
            _e(d.label),
            *(_e(v) for v in _difference_values(item, d)),
            _reason_html(item, d),
        )
        for d in item.differences
    ) or _no_difference(against)
    events = (
        "".join(
            f"<li>{_e(e.term)}: {_e(grade_text(e.cirse_grade, e.ctcae_grade))}"
            + (f"; onset day {e.onset_day}" if e.onset_day is not None else "")
            + "</li>"
            for e in record.adverse_events
        )
        or "<li>None recorded.</li>"
    )
    pes = {None: "not recorded", True: "yes", False: "no"}[record.post_embolisation_syndrome]
    risks = (
        "".join(
            f"<li>{_e(r.message)} <small>({_e(r.source)})</small></li>" for r in item.risk_factors
        )
        or "<li>None of the known risk factors applies.</li>"
    )
    signatures = "".join(_signature(r) for r in item.revisions)
    return keep_units(f"""
<html><body>
<table width='100%' cellpadding='0' cellspacing='0'><tr>
<td><font size='+2'><b>TACE {item.number} — procedure note</b></font><br>
TACE Planner — {_e(_status(item))}</td>
<td align='right'>Record revision {item.revision}<br>
procedure checks v{_e(item.parameters_version)}</td>
</tr></table>
<p style='background-color: #fff4ce; color: #5c4400'><b>{_e(DISCLAIMER)}</b></p>
<p><b>Patient</b>: {_e(patient)} [{_e(item.patient_id)}] &nbsp; <b>Case</b>:
 {_e(item.case_title)} &nbsp; <b>Date</b>: {_e(record.performed_on)}{times}</p>
<p><b>Radiosurgeon</b>: {_e(record.operator)} &nbsp; <b>Assistant</b>: {_e(record.assistant)}</p>
<p>{origin}</p>
<table width='100%' cellspacing='0' cellpadding='3'><tr>
<td width='62%' valign='top'><p><b>What was delivered</b></p>{delivery}
<p><small>{_e(DELIVERED_DOSE_RULE)}</small></p></td>
<td width='38%' valign='top' align='center'>{image}</td>
</tr></table>
<p><b>Angiography and treatment</b></p>{angio}
<p><b>Differences from the plan</b></p><ul>{differences}</ul>
<p><b>Adverse events</b> <small>({_e(CTCAE_SOURCE)}; {_e(CIRSE_SOURCE)})</small></p>
<ul>{events}</ul>
<p>Post-embolisation syndrome: {_e(pes)}; length of stay {_num(record.stay_days, 0, "days")};
 bilirubin at the procedure {_num(record.bilirubin_mg_dl, 1, "mg/dL")}</p>
<p><b>Adverse-event risk factors</b></p><ul>{risks}</ul>
<p><b>Note</b>: {_e(record.note)}</p>
<p><b>Signatures</b></p><ul>{signatures}</ul>
<p>Physician: ______________________ &nbsp; Signature: ______________________</p>
<p><small>{_e(DISCLAIMER)}</small></p>
</body></html>
""")


def render_procedure_pdf(item: Any, path: Path | str, key_image: Any = None) -> Path:
    """Write the procedure note of ``item`` (a ProcedureItem) as a one-page A4 PDF.

    ``key_image`` is (rows, columns[, 3]) uint8 pixels or a ``KeyImage``
    (``PlanningService.key_image``): drawn as the plan sheet draws it, with its lesion
    labels, orientation letters, scale bar, caption and the contours' legend.

    Raises
    ------
    RuntimeError
        No QGuiApplication exists (Qt needs one for fonts).
    """
    if QGuiApplication.instance() is None:
        raise RuntimeError("render_procedure_pdf needs a QGuiApplication (or QApplication)")
    path = Path(path)
    caption = legend = ""
    if key_image is not None and hasattr(key_image, "pixels"):
        caption = str(getattr(key_image, "caption", ""))
        legend = key_legend_html(getattr(key_image, "labels", ()))
    writer, page, document = a4_document(path, document_title(item))
    width = 0
    if key_image is not None:
        width = int(page.width() * 0.34 * LOGICAL_DPI / RESOLUTION_DPI)
        document.addResource(
            QTextDocument.ResourceType.ImageResource,
            QUrl(KEY_IMAGE_URL),
            key_image_qimage(key_image),
        )
    text = procedure_note_html(
        item, key_image_width_px=width, key_caption=caption, key_legend=legend
    )
    for size in FONT_SIZES_PT:
        document.setDefaultFont(QFont("DejaVu Sans", size))
        document.setHtml(text)
        document.setTextWidth(page.width())
        if document.size().height() <= page.height():
            break
    painter = QPainter(writer)
    try:
        document.drawContents(painter)
    finally:
        painter.end()
    return path
