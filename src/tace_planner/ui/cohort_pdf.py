"""Plots on A4 landscape PDF pages, one plot per page, with a caption (Qt's QPdfWriter).

The Cohort page and ``tace-planner cohort tables --pdf FILE`` use it: each page holds one
image (a widget grabbed at its drawn size) scaled to fit under its caption, and a footer
that says the plots are a research analysis of the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

from tace_planner.domain.errors import TacePlannerError

RESOLUTION_DPI = 200
MARGIN_MM = 12.0
FOOTER = "TACE Planner cohort plots, a research analysis (statistics as R 4.2 computes them)."


def render_plots_pdf(pages: Sequence[tuple[str, QImage]], path: Path | str) -> Path:
    """Write one A4 landscape page per (caption, image) into ``path``.

    Raises
    ------
    TacePlannerError
        No page to write, or the PDF file cannot be opened for writing.
    """
    path = Path(path)
    if not pages:
        raise TacePlannerError(f"{path}: there is no plot to write")
    writer = QPdfWriter(str(path))
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Landscape)
    writer.setPageMargins(
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Unit.Millimeter
    )
    writer.setTitle("Cohort plots")
    writer.setCreator("TACE Planner")
    area = writer.pageLayout().paintRectPixels(RESOLUTION_DPI)
    width, height = float(area.width()), float(area.height())
    line = RESOLUTION_DPI * 0.25  # a caption line, about 6 mm
    painter = QPainter()
    if not painter.begin(writer):
        raise TacePlannerError(f"{path}: the PDF writer cannot open the file")
    try:
        for number, (caption, image) in enumerate(pages, start=1):
            if number > 1:
                writer.newPage()
            painter.setFont(QFont("DejaVu Sans", 11, QFont.Weight.Bold))
            painter.drawText(QRectF(0, 0, width, line), Qt.AlignmentFlag.AlignLeft, caption)
            painter.setFont(QFont("DejaVu Sans", 8))
            painter.drawText(
                QRectF(0, height - line, width, line),
                Qt.AlignmentFlag.AlignLeft,
                f"{FOOTER}  Page {number} of {len(pages)}.",
            )
            box = QRectF(0, 1.5 * line, width, height - 3 * line)
            if image.width() and image.height():
                scale = min(box.width() / image.width(), box.height() / image.height())
                target = QRectF(
                    box.left(), box.top(), image.width() * scale, image.height() * scale
                )
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                painter.drawImage(target, image)
    finally:
        painter.end()
    return path
