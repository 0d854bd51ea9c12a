"""The case timeline painted as an image for the PDF case report (QtGui only, no widget).

The timeline dock (:mod:`tace_planner.ui.panels.timeline_panel`) is a pyqtgraph widget; a
report is printed where only a ``QGuiApplication`` may exist, so this module paints the same
content with a ``QPainter`` on a ``QImage``: a lane per therapy line (bar from start to
stop, ▼ at progression), the TACEs (◆ with the delivered irinotecan), the imaging timepoints
(● done with their response label when one is recorded, ○ due; a label that would
run into another label or marker goes one text row lower, on a white ground that hides
the TACE's dashed line), and below, the total volume
of the contoured foci (cm³) and the RECIST 1.1 sum of the target-lesion diameters (mm) at
each imaged timepoint, each value written beside its point. The time axis counts **days from
day 0** (the report's anchor, the first TACE), never dates, so that a de-identified report
prints no date.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QImage, QPainter, QPen, QPolygonF

from tace_planner.services.followup_dto import TimelineData, TimelinePoint

LINE_COLOUR = "#6d9eeb"
TACE_COLOUR = "#cc0000"
IMAGING_COLOUR = "#38761d"
DUE_COLOUR = "#999999"
VOLUME_COLOUR = "#674ea7"
DIAMETER_COLOUR = "#e69138"
CHART_CAPTIONS = (
    ("Contoured foci:", "total volume", "(cm³)"),
    ("Target lesions:", "sum of", "diameters (mm)"),
)
"""The two charts' names, a line each (the RECIST 1.1 sum of the target diameters, as
the Follow-up page's timeline)."""
LANE_PX = 34
ROW_PX = 22
"""A second (third …) text row of a lane: labels that would overprint go one row lower."""
MARKER_PX = 9
"""Half the width of a marker (◆, ●)."""
LABEL_DX = 12
"""A label starts this far right of its marker."""
CHART_PX = 140
LEFT_PX = 170
RIGHT_PX = 30


def _span(data: TimelineData, day0: dt.date) -> tuple[int, int]:
    """First and last day shown (days from ``day0``), with a margin."""
    days = [line.start_on for line in data.lines] + [t.on for t in data.taces]
    days += [line.stop_on for line in data.lines if line.stop_on]
    days += [p.on for p in data.points]
    days += sorted(t.due_on for t in data.due if t.due_on)[:2]
    days += [data.closed_on] if data.closed_on else []
    if not days:
        return -30, 90
    first, last = (min(days) - day0).days, (max(days) - day0).days
    margin = max(10, (last - first) // 20)
    return first - margin, last + margin


def _tick_step(span_days: int) -> int:
    """A round step giving 5–12 ticks."""
    for step in (7, 14, 30, 60, 90, 180, 365, 730):
        if span_days / step <= 12:
            return step
    return 1460


def day0_of(data: TimelineData) -> dt.date:
    """The first TACE, else the first event: day 0 when the report gives none."""
    if data.taces:
        return min(t.on for t in data.taces)
    days = [line.start_on for line in data.lines] + [p.on for p in data.points]
    return min(days) if days else dt.date.today()


def timeline_qimage(data: TimelineData, day0: dt.date | None = None, width: int = 1400) -> QImage:
    """Paint ``data`` on a white image ``width`` pixels wide (the height follows the lanes).

    ``day0`` is day 0 of the axis (default: the first TACE).
    """
    day0 = day0 or day0_of(data)
    first, last = _span(data, day0)
    plot_w = width - LEFT_PX - RIGHT_PX

    def x_of(on: dt.date) -> float:
        return LEFT_PX + ((on - day0).days - first) / max(1, last - first) * plot_w

    font = QFont("DejaVu Sans")
    font.setPixelSize(19)
    metrics = QFontMetrics(font)
    tace_labels = [(x_of(t.on), _tace_label(t.delivered_mg, t.number)) for t in data.taces]
    image_labels = [(x_of(p.on), _response_label(p)) for p in data.points]
    tace_rows = label_rows(
        [(x, metrics.horizontalAdvance(t)) for x, t in tace_labels], [x for x, _ in tace_labels]
    )
    rings = [x_of(t.due_on) for t in data.due if t.due_on is not None]
    image_rows = label_rows(
        [(x, metrics.horizontalAdvance(t)) for x, t in image_labels if t],
        [x for x, _ in image_labels] + rings,
    )
    heights = [LANE_PX] * len(data.lines) + [
        LANE_PX + ROW_PX * max([0, *tace_rows]),
        LANE_PX + ROW_PX * max([0, *image_rows]),
    ]
    top = 16
    events_h = sum(heights) + 24
    height = top + events_h + 2 * (CHART_PX + 24) + 70
    image = QImage(width, height, QImage.Format.Format_RGB888)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        lanes = _Lanes(heights, top, tace_rows, image_rows)
        _events(painter, data, x_of, lanes, width)
        charts_top = top + events_h
        for index, (attribute, caption, colour) in enumerate(
            (
                ("total_volume_cm3", CHART_CAPTIONS[0], VOLUME_COLOUR),
                ("sum_of_diameters_mm", CHART_CAPTIONS[1], DIAMETER_COLOUR),
            )
        ):
            chart_top = charts_top + index * (CHART_PX + 24)
            points = [
                (p.on, getattr(p, attribute))
                for p in data.points
                if getattr(p, attribute) is not None
            ]
            _chart(painter, metrics, points, x_of, chart_top, width, caption, colour)
        axis_y = charts_top + 2 * (CHART_PX + 24)
        _axis(painter, metrics, first, last, axis_y, plot_w)
        _legend(painter, metrics, axis_y + 40)
    finally:
        painter.end()
    return image


def _tace_label(delivered_mg: float | None, number: int) -> str:
    dose = f"{delivered_mg:.0f} mg" if delivered_mg is not None else "dose —"
    return f"TACE {number} · {dose}"


def _response_label(point: TimelinePoint) -> str:
    """The response label of an imaging point ("" when none is recorded)."""
    return point.response or ("PD" if point.progression_site else "")


def label_rows(
    labels: Sequence[tuple[float, float]], markers: Sequence[float] = (), gap: float = 12.0
) -> list[int]:
    """The text row of each label (x of its marker, text width in pixels), in order.

    A label starts right of its marker, on the marker's row (0), and goes one row lower
    when it would run into a label before it on that row or, on row 0, into another
    marker of the lane (``markers``: their x), so that no two labels and no label and
    marker overprint.
    """
    ends: list[float] = []  # the right end of the last label on each row
    rows = []
    for x, text_width in labels:
        left, right = x - MARKER_PX, x + LABEL_DX + text_width
        blocked = any(x < m and m - MARKER_PX < right + gap for m in markers)
        row = next(
            (r for r, end in enumerate(ends) if left >= end + gap and not (r == 0 and blocked)),
            len(ends),
        )
        if row == 0 and blocked:
            row = 1
        ends.extend([-math.inf] * (row + 1 - len(ends)))
        ends[row] = right
        rows.append(row)
    return rows


class _Lanes:
    """Where each lane lies: its marker line and the text rows of its labels."""

    def __init__(
        self, heights: Sequence[int], top: int, tace_rows: list[int], image_rows: list[int]
    ) -> None:
        self.top = top
        starts = list(itertools.accumulate([top, *heights[:-1]]))
        # markers sit on the first text row of their lane
        self.marker_y = [start + LANE_PX / 2 for start in starts]
        self.bottom = top + sum(heights)
        self.tace_rows = tace_rows
        self.image_rows = image_rows


def _events(
    painter: QPainter,
    data: TimelineData,
    x_of: Callable[[dt.date], float],
    lanes: _Lanes,
    width: int,
) -> None:
    place = x_of
    top = lanes.top
    right = width - RIGHT_PX
    lane_y = lanes.marker_y
    painter.setPen(QPen(QColor("#555555")))
    for k, line in enumerate(data.lines):
        painter.drawText(QPointF(8, lane_y[k] + 5), f"Line {line.line_number}")
    painter.drawText(QPointF(8, lane_y[-2] + 5), "TACE")
    painter.drawText(QPointF(8, lane_y[-1] + 5), "Imaging")
    painter.setPen(QPen(QColor("#dddddd")))
    for y in lane_y:
        painter.drawLine(QPointF(LEFT_PX, y), QPointF(right, y))
    for k, line in enumerate(data.lines):
        y = lane_y[k]
        end = line.stop_on or line.progression_on or dt.date.today()
        x0, x1 = place(line.start_on), max(place(end), place(line.start_on) + 3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(LINE_COLOUR)))
        painter.drawRect(QRectF(x0, y - 10, x1 - x0, 20))
        painter.setPen(QPen(QColor("black")))
        painter.drawText(QPointF(x0 + 4, y + 5), line.drug)
        if line.progression_on:
            xp = place(line.progression_on)
            painter.setBrush(QBrush(QColor("black")))
            painter.drawPolygon(
                QPolygonF([QPointF(xp - 7, y - 16), QPointF(xp + 7, y - 16), QPointF(xp, y - 4)])
            )
    y = lane_y[-2]
    for tace, row in zip(data.taces, lanes.tace_rows, strict=True):
        x = place(tace.on)
        painter.setPen(QPen(QColor(TACE_COLOUR), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x, top), QPointF(x, lanes.bottom))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(TACE_COLOUR)))
        painter.drawPolygon(
            QPolygonF([QPointF(x, y - 9), QPointF(x + 9, y), QPointF(x, y + 9), QPointF(x - 9, y)])
        )
        text = _tace_label(tace.delivered_mg, tace.number)
        _label(painter, QPointF(x + LABEL_DX, y + 6 + row * ROW_PX), text, TACE_COLOUR)
    y = lane_y[-1]
    labelled = iter(lanes.image_rows)
    for point in data.points:
        x = place(point.on)
        painter.setPen(QPen(QColor(IMAGING_COLOUR)))
        painter.setBrush(QBrush(QColor(IMAGING_COLOUR)))
        painter.drawEllipse(QPointF(x, y), 7, 7)
        label = _response_label(point)
        if label:  # response labels are filled in by the response assessment
            row = next(labelled)
            _label(painter, QPointF(x + LABEL_DX, y + 6 + row * ROW_PX), label, IMAGING_COLOUR)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(DUE_COLOUR), 2))
    for item in data.due:
        if item.due_on is not None:
            painter.drawEllipse(QPointF(place(item.due_on), y), 7, 7)
    if data.closed_on:
        x = place(data.closed_on)
        painter.setPen(QPen(QColor("black"), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x, top), QPointF(x, lanes.bottom))
        painter.drawText(QPointF(x + 4, top + 12), f"follow-up closed ({data.closure_reason})")


def _label(painter: QPainter, at: QPointF, text: str, colour: str) -> None:
    """``text`` with its baseline at ``at`` on a white ground (lines drawn before it stop at
    its edge instead of running through it)."""
    box = QRectF(painter.fontMetrics().boundingRect(text)).translated(at).adjusted(-2, 0, 2, 0)
    painter.fillRect(box, QColor("white"))
    painter.setPen(QPen(QColor(colour)))
    painter.drawText(at, text)


def _chart(
    painter: QPainter,
    metrics: QFontMetrics,
    points: Sequence[tuple[dt.date, float]],
    x_of: Callable[[dt.date], float],
    top: int,
    width: int,
    caption: tuple[str, ...],
    colour: str,
) -> None:
    place = x_of
    right = width - RIGHT_PX
    painter.setPen(QPen(QColor("#555555")))
    for line, text in enumerate(caption):
        painter.drawText(QPointF(8, top + 20 + 24 * line), text)
    painter.setPen(QPen(QColor("#bbbbbb")))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(QRectF(LEFT_PX, top, right - LEFT_PX, CHART_PX))
    if not points:
        painter.setPen(QPen(QColor("#888888")))
        painter.drawText(QPointF(LEFT_PX + 10, top + CHART_PX / 2 + 5), "not measured")
        return
    high = max(v for _, v in points) * 1.15 or 1.0

    def y_of(value: float) -> float:
        return top + CHART_PX - 8 - value / high * (CHART_PX - 24)

    painter.setPen(QPen(QColor("#555555")))
    painter.drawText(QPointF(LEFT_PX - 8 - metrics.horizontalAdvance("0"), y_of(0) + 5), "0")
    path = [QPointF(place(on), y_of(value)) for on, value in points]
    painter.setPen(QPen(QColor(colour), 3))
    for a, b in itertools.pairwise(path):
        painter.drawLine(a, b)
    painter.setBrush(QBrush(QColor(colour)))
    for (_, value), at in zip(points, path, strict=True):
        painter.setPen(QPen(QColor(colour), 1))
        painter.drawEllipse(at, 6, 6)
        painter.setPen(QPen(QColor("black")))
        painter.drawText(QPointF(at.x() + 8, at.y() - 8), f"{value:.1f}")


def _axis(
    painter: QPainter, metrics: QFontMetrics, first: int, last: int, y: int, plot_w: int
) -> None:
    painter.setPen(QPen(QColor("black")))
    painter.drawLine(QPointF(LEFT_PX, y), QPointF(LEFT_PX + plot_w, y))
    step = _tick_step(last - first)
    tick = math.ceil(first / step) * step
    while tick <= last:
        x = LEFT_PX + (tick - first) / max(1, last - first) * plot_w
        painter.drawLine(QPointF(x, y), QPointF(x, y + 6))
        text = str(tick)
        painter.drawText(QPointF(x - metrics.horizontalAdvance(text) / 2, y + 22), text)
        tick += step
    painter.drawText(QPointF(8, y + 22), "Day")


def _legend(painter: QPainter, metrics: QFontMetrics, y: int) -> None:
    x = float(LEFT_PX)
    items = (
        ("bar", LINE_COLOUR, "systemic therapy line"),
        ("triangle", "black", "progression"),
        ("diamond", TACE_COLOUR, "TACE (delivered irinotecan)"),
        ("dot", IMAGING_COLOUR, "imaging done (response)"),
        ("ring", DUE_COLOUR, "imaging due"),
    )
    for shape, colour, text in items:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(colour)))
        if shape == "bar":
            painter.drawRect(QRectF(x, y - 6, 22, 12))
        elif shape == "triangle":
            painter.drawPolygon(
                QPolygonF([QPointF(x + 4, y - 6), QPointF(x + 18, y - 6), QPointF(x + 11, y + 6)])
            )
        elif shape == "diamond":
            painter.drawPolygon(
                QPolygonF(
                    [
                        QPointF(x + 11, y - 8),
                        QPointF(x + 19, y),
                        QPointF(x + 11, y + 8),
                        QPointF(x + 3, y),
                    ]
                )
            )
        elif shape == "dot":
            painter.drawEllipse(QPointF(x + 11, y), 7, 7)
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(colour), 2))
            painter.drawEllipse(QPointF(x + 11, y), 7, 7)
        painter.setPen(QPen(QColor("black")))
        painter.drawText(QPointF(x + 28, y + 5), text)
        x += 28 + metrics.horizontalAdvance(text) + 26
